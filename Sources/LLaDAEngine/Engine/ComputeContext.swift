/// What a loaded model computes with, as the caller asks for it: the thread count and the
/// kernels' SIMD level, passed to `ModelFile.load` / `LLaDAModel.load`. Loading makes the model's
/// own `KernelContext` from it (its thread pool, at this level), so models never share a pool or
/// a level: two models' products run side by side. Generations on one model share its pool and
/// interleave their products, each product on every thread.
///
/// The one process-wide piece is OpenBLAS's thread count (`OpenBLASThreads`), set at each load.
public struct ComputeContext: Sendable, Equatable {
    /// Compute threads; 0 means one per online CPU.
    public var threads: Int
    /// The kernels' SIMD level (`.auto`: the best this CPU has).
    public var kernelLevel: QuantizedMatmul.Path

    public init(threads: Int = 0, kernelLevel: QuantizedMatmul.Path = .auto) {
        self.threads = threads
        self.kernelLevel = kernelLevel
    }

    /// The kernel context these describe; throws, naming `kernel_path`, when the CPU lacks the level.
    public func makeKernels() throws -> KernelContext {
        try KernelContext(threads: threads, level: kernelLevel)
    }
}
