import LLaDAEngine
import LLaDAKernels

/// Deterministic synthetic weights. Element i of a tensor is a pure function of (seed, tensor name, i)
/// — a counter-based generator — so any chunk of any tensor can be produced on any thread, in any
/// order, and the bytes never depend on chunking or thread count.
///
/// Scales follow the GPT-2/OLMo initialisation LLaDA's config names (init_std 0.02): every matrix
/// ~ N(0, 0.02²) except the two projections that feed the residual stream (attn_out, the blocks'
/// ff_out), which get 0.02/sqrt(2·n_layers) so the residual grows like sqrt(depth), not linearly;
/// RMSNorm weights are 1. That keeps activations finite and O(1) through all 32 layers.
///
/// A MoE model's attention output projection can be given a larger scale (`attentionOutStd`):
/// at the depth-scaled init, a block's mask rows (the same token) leave attention nearly equal,
/// so every row picks the same experts; a trained model's mask rows differ by position and its
/// router spreads them. Attention's output is mostly row-specific (a softmax-weighted average of
/// values), so raising its share of the residual spreads the routing.
public struct SyntheticWeights: Sendable {
    public let seed: UInt64
    public let layerCount: Int
    public let attentionOutStd: Float

    /// LLaDA 2's per-head query/key norm weights: `queryKeyNormValue` on the first
    /// `queryKeyRotaryDims` features of a head (the ones RoPE rotates), `queryKeyStaticValue` on
    /// the rest (all 1 by default).
    public let queryKeyNormValue: Float
    public let queryKeyStaticValue: Float
    public let queryKeyRotaryDims: Int

    public init(seed: UInt64, layerCount: Int, attentionOutStd: Float? = nil, queryKeyNormValue: Float = 1,
                queryKeyStaticValue: Float = 1, queryKeyRotaryDims: Int = 0) {
        self.seed = seed
        self.layerCount = layerCount
        self.queryKeyNormValue = queryKeyNormValue
        self.queryKeyStaticValue = queryKeyStaticValue
        self.queryKeyRotaryDims = queryKeyRotaryDims
        self.attentionOutStd = attentionOutStd ?? Self.initStd / Float(2 * layerCount).squareRoot()
    }

    public static let initStd: Float = 0.02

    /// Standard deviation of a tensor's elements (0 means the constant 1, for norms).
    public func standardDeviation(_ role: TensorLayout.Role) -> Float {
        switch role {
        case .norm: 0
        case .attentionOut: attentionOutStd
        case .ffDown: Self.initStd / Float(2 * layerCount).squareRoot()
        case .embedding, .attentionQKV, .ffGateUp, .lmHead, .router: Self.initStd
        }
    }

    /// The generator key of a tensor: FNV-1a of its name, mixed with the seed.
    public func key(for name: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return SplitMix64.mix(hash ^ SplitMix64.mix(seed))
    }

    /// Elements [start, start + count) of the tensor `entry`, as f32.
    public func fill(_ entry: TensorLayout.Entry, start: Int, count: Int, into output: UnsafeMutablePointer<Float>) {
        let std = standardDeviation(entry.role)
        guard std > 0 else {
            if entry.name.hasSuffix("query_layernorm.weight") || entry.name.hasSuffix("key_layernorm.weight") {
                for i in 0..<count { output[i] = start + i < queryKeyRotaryDims ? queryKeyNormValue : queryKeyStaticValue }
            } else {
                output.initialize(repeating: 1, count: count)
            }
            return
        }
        Self.fillNormal(key: key(for: entry.name), start: start, count: count, std: std, into: output)
    }

    /// Approximately normal values: the sum of four 16-bit uniforms from one SplitMix64 output
    /// (Irwin–Hall, n = 4), rescaled to mean 0 and the given standard deviation. Its CDF is within
    /// 0.0074 of N(0, σ²) and its tails stop at ±3.46σ; Box–Muller would cost several times more.
    static func fillNormal(key: UInt64, start: Int, count: Int, std: Float, into output: UnsafeMutablePointer<Float>) {
        // Each 16-bit uniform has variance 65536²/12 (to 1 part in 4·10⁹); the sum of four, 65536²/3.
        let scale = std * Float(3).squareRoot() / 65536
        var counter = key &+ UInt64(start) &* SplitMix64.increment
        for i in 0..<count {
            counter &+= SplitMix64.increment
            let r = SplitMix64.mix(counter)
            let sum = (r & 0xFFFF) &+ ((r >> 16) & 0xFFFF) &+ ((r >> 32) & 0xFFFF) &+ (r >> 48)
            output[i] = (Float(UInt32(truncatingIfNeeded: sum)) - 131_070) * scale
        }
    }

    /// Stores `count` f32 values as `dtype` (bf16 rounded to nearest even, like torch's `.to(bfloat16)`).
    public static func encode(_ values: UnsafePointer<Float>, count: Int, as dtype: TensorDType, into output: UnsafeMutableRawPointer) {
        switch dtype {
        case .f32:
            output.copyMemory(from: values, byteCount: count * 4)
        case .f16:
            llada_f32_to_f16(values, output.assumingMemoryBound(to: UInt16.self), count)
        case .bf16:
            let halves = output.assumingMemoryBound(to: UInt16.self)
            for i in 0..<count {
                let bits = values[i].bitPattern
                // Synthetic values are finite, so the NaN case of the rounding rule never arises.
                halves[i] = UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
            }
        default:
            preconditionFailure("synthetic weights are bf16, f16 or f32")
        }
    }
}
