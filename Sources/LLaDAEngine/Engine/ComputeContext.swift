/// What a loaded model computes with: the thread count and the kernels' SIMD level, passed to
/// `ModelFile.load` / `LLaDAModel.load` and kept by the model (`LLaDAModel.compute`), instead of
/// settings read from the environment or set behind the API.
///
/// What is process-wide by nature, and so shared by every model and generation in the process:
/// the kernels' thread pool (one job at a time: concurrent generations interleave their products
/// on it rather than run side by side), OpenBLAS's thread count, and the SIMD level the C
/// dispatch uses. `apply()` is the one place that sets them; loading a second model with another
/// context changes them for the first as well.
public struct ComputeContext: Sendable, Equatable {
    /// Compute threads; 0 means one per online CPU.
    public var threads: Int
    /// The kernels' SIMD level (`.auto`: the best this CPU has).
    public var kernelLevel: QuantizedMatmul.Path

    public init(threads: Int = 0, kernelLevel: QuantizedMatmul.Path = .auto) {
        self.threads = threads
        self.kernelLevel = kernelLevel
    }

    /// Sets the process-wide pieces; throws, changing nothing, when the CPU lacks the level.
    func apply() throws {
        try KernelLevel.use(kernelLevel)
        ComputeThreads.configure(threads)
    }
}
