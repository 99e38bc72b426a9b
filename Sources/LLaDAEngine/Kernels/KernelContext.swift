import LLaDAKernels

/// What the SIMD kernels run on: a thread pool and a kernel level (the C `llada_compute`). A
/// loaded model holds one (made from its `ComputeContext`) and every product, attention, softmax
/// and SwiGLU of the model runs on it.
///
/// Contexts share nothing: two models' products run side by side. One context runs one product
/// at a time, so generations sharing a model share its pool and interleave their products (each
/// product uses every thread of the pool). Every level and thread count gives bit-identical
/// results; only speed changes.
public final class KernelContext: @unchecked Sendable {
    // Sendable: the C context is immutable after creation and locks around each call.
    let pointer: OpaquePointer
    /// Threads of the pool (the calling thread counts as one).
    public let threads: Int
    /// The level it runs at (never `.auto`).
    public let level: QuantizedMatmul.Path

    /// `threads` 0 means one per online CPU; `.auto` the best level this CPU has. Throws, naming
    /// `kernel_path`, when this CPU cannot run `level`.
    public init(threads: Int = 0, level: QuantizedMatmul.Path = .auto) throws {
        try KernelLevel.check(level)
        guard let pointer = llada_compute_create(Int32(max(0, threads)), level.rawValue) else {
            throw LLaDAError("cannot start a kernel thread pool of \(threads) threads: out of memory")
        }
        self.pointer = pointer
        self.threads = Int(llada_compute_threads(pointer))
        self.level = QuantizedMatmul.Path(rawValue: llada_compute_level(pointer)) ?? .scalar
    }

    deinit { llada_compute_free(pointer) }

    /// A context at the best level, one thread per online CPU (tests, tools).
    public static func standard() -> KernelContext {
        // .auto is always supported, so this fails only when the pool cannot be allocated.
        do { return try KernelContext() } catch { fatalError("\(error)") }
    }

    /// Operations per second of this level's int8 instruction on every thread of the pool at
    /// once, over about `seconds` (the ceiling a step's floor is measured against); 0 where the
    /// level has no probe (scalar, neon).
    public func int8PeakOps(seconds: Double) -> Double { llada_int8_peak_ops(pointer, seconds) }
    /// Bytes per second its threads read from memory at once (a 512 MiB buffer, far past the caches).
    public func memoryBandwidth(bytes: Int = 512 << 20, seconds: Double) -> Double {
        llada_memory_bandwidth(pointer, bytes, seconds)
    }
}
