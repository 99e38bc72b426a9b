import LLaDAKernels

/// A weight matrix W [outFeatures × inFeatures] in the kernels' layout: repacked from on-disk
/// blocks into owned memory (64-byte aligned; huge-page backed on Linux when large; the blocks
/// are only read during `init`), or used in place where a packed file already stores it.
public final class PackedWeights: @unchecked Sendable {
    public let format: WeightType
    public let outFeatures: Int
    public let inFeatures: Int
    /// Size of the repacked copy (rows padded to a multiple of 16).
    public let byteCount: Int
    let storage: UnsafeRawPointer
    /// Memory allocated here (freed in deinit); nil when the weights live in `owner`'s memory.
    private let allocated: UnsafeMutableRawPointer?
    private let owner: AnyObject?
    /// True when the weights are used in place (not copied into memory of their own).
    public var isInPlace: Bool { allocated == nil }

    /// Weights already in the kernels' layout (a packed file's layout-1 tensor), used in place:
    /// `owner` keeps the memory (e.g. the file mapping) alive. No copy, so mapped pages stay
    /// pageable and shared with the page cache.
    public init(format: WeightType, outFeatures: Int, inFeatures: Int, repacked: UnsafeRawBufferPointer,
                owner: AnyObject) throws {
        guard format.hasKernel, outFeatures > 0, inFeatures > 0, format == .f16 || inFeatures % 32 == 0 else {
            throw LLaDAError("packed weights: \(format) cannot hold a \(outFeatures)×\(inFeatures) matrix")
        }
        let expected = llada_repack_size(format.kernelCode, outFeatures, inFeatures)
        guard repacked.count == expected, let base = repacked.baseAddress else {
            throw LLaDAError("packed weights: repacked \(format) \(outFeatures)×\(inFeatures) needs \(expected) bytes, got \(repacked.count)")
        }
        self.format = format
        self.outFeatures = outFeatures
        self.inFeatures = inFeatures
        byteCount = expected
        storage = base
        allocated = nil
        self.owner = owner
    }

    /// `blocks`: the matrix as stored on disk, rows one after another (q8_0 / q4_0 blocks along
    /// each row, or halves for f16). For q8_0 / q4_0 `inFeatures` must be a multiple of 32. The
    /// repack runs on `context`'s pool, or on the calling thread alone without one.
    public init(format: WeightType, outFeatures: Int, inFeatures: Int, blocks: UnsafeRawBufferPointer,
                repackingOn context: KernelContext? = nil) throws {
        guard outFeatures > 0, inFeatures > 0 else {
            throw LLaDAError("packed weights: empty matrix \(outFeatures)×\(inFeatures)")
        }
        guard format.hasKernel else { throw LLaDAError("packed weights: f32 has no kernel (it runs through sgemm)") }
        if format != .f16, inFeatures % 32 != 0 {
            throw LLaDAError("packed weights: \(format) needs inFeatures divisible by 32, got \(inFeatures)")
        }
        let expected = format.byteCount(elements: outFeatures * inFeatures)
        guard blocks.count == expected, let source = blocks.baseAddress else {
            throw LLaDAError("packed weights: \(format) \(outFeatures)×\(inFeatures) needs \(expected) bytes, got \(blocks.count)")
        }
        self.format = format
        self.outFeatures = outFeatures
        self.inFeatures = inFeatures
        byteCount = llada_repack_size(format.kernelCode, outFeatures, inFeatures)
        guard let memory = llada_packed_alloc(byteCount) else {
            throw LLaDAError("packed weights: cannot allocate \(byteCount) bytes for \(format) \(outFeatures)×\(inFeatures)")
        }
        storage = UnsafeRawPointer(memory)
        allocated = memory
        owner = nil
        guard let context else {
            llada_repack_serial(format.kernelCode, source, memory, outFeatures, inFeatures)
            return
        }
        switch format {
        case .q8_0: llada_repack_q8_0(context.pointer, source, memory, outFeatures, inFeatures)
        case .q4_0: llada_repack_q4_0(context.pointer, source, memory, outFeatures, inFeatures)
        case .f16: llada_repack_f16(context.pointer, source.assumingMemoryBound(to: UInt16.self), memory, outFeatures, inFeatures)
        case .f32: preconditionFailure("checked above")
        }
    }

    deinit { if let allocated { llada_packed_free(allocated, byteCount) } }
}

/// y = x · Wᵀ on packed weights with the SIMD kernels, on a `KernelContext`.
///
/// q8_0 / q4_0 quantize each 32-block of an activation row to int8 with d = max|x|/127 (round to
/// nearest even), multiply in integers and accumulate the block results in f32; relative to an
/// f32 product with the dequantized weights, each output moves by at most
/// Σ_blocks (max|x_block| / 254) · Σ_block |w| plus f32 rounding. f16 multiplies in f32 (fma).
/// Every path gives bit-identical results, for any thread count.
public enum QuantizedMatmul {
    /// y[rows × outFeatures] = x[rows × inFeatures] · Wᵀ; rows of x and y are contiguous.
    public static func multiply(_ weights: PackedWeights, _ x: UnsafePointer<Float>, rows: Int,
                                into y: UnsafeMutablePointer<Float>, on context: KernelContext) {
        guard rows > 0 else { return }
        llada_gemm(context.pointer, weights.format.kernelCode, weights.storage, weights.outFeatures, weights.inFeatures, x, rows, y)
    }

    /// Products of one input with several matrices of one format and input width, as one call:
    /// the input is quantized once and all their columns share the schedule (llada_gemm_many).
    /// Each output is bit-identical to `multiply` with that matrix alone.
    public static func multiply(_ weights: [PackedWeights], _ x: UnsafePointer<Float>, rows: Int,
                                into outputs: [UnsafeMutablePointer<Float>], on context: KernelContext) {
        guard rows > 0, let first = weights.first else { return }
        precondition(weights.count == outputs.count && weights.count <= Int(LLADA_GEMM_MANY_MAX)
                     && weights.allSatisfy { $0.format == first.format && $0.inFeatures == first.inFeatures })
        let packed: [UnsafeRawPointer?] = weights.map(\.storage)
        let widths = weights.map(\.outFeatures)
        let ys: [UnsafeMutablePointer<Float>?] = outputs
        llada_gemm_many(context.pointer, first.format.kernelCode, weights.count, packed, widths, first.inFeatures, x, rows, ys)
    }

    /// Kernel implementations; `.auto` is the best this CPU has (`KernelLevel.best`).
    public enum Path: Int32, Sendable, CaseIterable {
        case auto = -1, scalar = 0, neon = 1, avx2 = 2, avx512 = 3

        public var isSupported: Bool { self == .auto || llada_gemm_path_supported(rawValue) != 0 }
        public var name: String { self == .auto ? "auto" : String(cString: llada_gemm_path_name(rawValue)) }
    }

    /// Paths this CPU can run, scalar first.
    public static var supportedPaths: [Path] { Path.allCases.filter { $0 != .auto && $0.isSupported } }

    /// The same product computed by the scalar reference straight from on-disk bytes
    /// (single-threaded; for tests).
    public static func reference(format: WeightType, blocks: UnsafeRawBufferPointer, outFeatures: Int,
                                 inFeatures: Int, _ x: UnsafePointer<Float>, rows: Int,
                                 into y: UnsafeMutablePointer<Float>) {
        precondition(blocks.count == format.byteCount(elements: outFeatures * inFeatures))
        llada_gemm_reference(format.kernelCode, blocks.baseAddress!, outFeatures, inFeatures, x, rows, y)
    }
}

/// A linear layer on packed weights: what the packed-model loader builds for q8_0 / q4_0 / f16
/// tensors (all linears and the LM head). It runs on the model's `KernelContext`.
public final class KernelLinear: LinearLayer, @unchecked Sendable {
    public var runsOnKernels: Bool { true }

    public let weights: PackedWeights
    public let context: KernelContext

    public init(weights: PackedWeights, context: KernelContext) {
        self.weights = weights
        self.context = context
    }

    /// Repacks `blocks` (the on-disk bytes of W [outFeatures × inFeatures]) into owned memory.
    public convenience init(format: WeightType, outFeatures: Int, inFeatures: Int,
                            blocks: UnsafeRawBufferPointer, context: KernelContext) throws {
        self.init(weights: try PackedWeights(format: format, outFeatures: outFeatures, inFeatures: inFeatures,
                                             blocks: blocks, repackingOn: context), context: context)
    }

    public var format: WeightType { weights.format }
    public var inFeatures: Int { weights.inFeatures }
    public var outFeatures: Int { weights.outFeatures }
    public var weightBytes: Int { weights.byteCount }

    public func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        QuantizedMatmul.multiply(weights, x, rows: rows, into: y, on: context)
    }
}
