import CBLAS

/// Thread settings shared by OpenBLAS and our own kernels, so the two never oversubscribe.
public enum ComputeThreads {
    /// Sets the number of threads OpenBLAS uses for every following call.
    public static func configure(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }
}
