import CBLAS
import LLaDAKernels

/// Thread settings shared by OpenBLAS and our own kernels, so the two never oversubscribe.
///
/// Policy: both get the same count, and they take turns: the forward pass calls OpenBLAS
/// (attention, f32 linears) and the packed-weight kernels (QuantizedMatmul) one after the
/// other, never at the same time, so at most `count` threads compute at any moment. Our pool's
/// threads poll only briefly before parking. OpenBLAS's own threads keep polling (with
/// sched_yield) for a while after each call; OPENBLAS_THREAD_TIMEOUT (read at load time) shortens that.
public enum ComputeThreads {
    /// Sets the number of threads OpenBLAS and the kernels' pool use for every following call;
    /// 0 means one per online CPU.
    public static func configure(_ count: Int) {
        llada_gemm_set_threads(Int32(max(0, count)))
        openblas_set_num_threads(Int32(llada_gemm_threads()))
    }

    /// For a model whose linears all run on our kernels, OpenBLAS only does attention; it then
    /// runs single-threaded inside our own per-head threads (`Transformer.attentionThreads`), so
    /// no OpenBLAS thread polls next to the kernels' pool. Returns the attention thread count.
    @discardableResult
    public static func configureForKernels() -> Int {
        openblas_set_num_threads(1)
        return count
    }

    /// The current count (the kernels' pool; OpenBLAS's too unless `configureForKernels`).
    public static var count: Int { Int(llada_gemm_threads()) }
}
