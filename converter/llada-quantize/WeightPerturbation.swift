import Foundation
import LLaDAConvert
import LLaDAEngine

/// f32 models with one of q8's two error sources reproduced in isolation, for `flips`: is an
/// answer that q8 changes decided by the int8 rounding itself, or would any perturbation of the
/// same size move it?
enum WeightPerturbation {
    /// Every matrix (embedding and LM head included) plus independent uniform noise in
    /// ±factor·d/2 per weight, d = max|w|/127 of its 32-block: the size and shape of q8_0's
    /// rounding error, without its particular values.
    static func q8SizedNoise(source: String, seed: UInt64, factor: Float) throws -> LLaDAModel {
        let model = try LLaDAModel.load(path: source)
        var random = SplitMix64(state: seed)
        let weights = try model.denseTransformer().weights
        var matrices: [FloatMatrix] = [(weights.embedding as! DenseEmbedding).table, (weights.lmHead as! DenseLinear).weight]
        for layer in weights.layers {
            for linear in [layer.query, layer.key, layer.value, layer.attentionOut, layer.gate, layer.up, layer.down] {
                matrices.append((linear as! DenseLinear).weight)
            }
        }
        for matrix in matrices {
            for start in stride(from: 0, to: matrix.rows * matrix.cols, by: 32) {
                let block = matrix.pointer + start
                var amax: Float = 0
                for i in 0..<32 { amax = max(amax, abs(block[i])) }
                let step = amax / 127 * factor
                for i in 0..<32 { block[i] += step * (Float(random.unit()) - 0.5) }
            }
        }
        return model
    }

    /// f32 weights, but every linear's input rounded per 32-block as the q8_0/q4_0 kernels round
    /// activations (d = max|x|/127, q = clamp(rint(x/d), ±127)), then multiplied in f32.
    static func activationRounding(source: String) throws -> LLaDAModel {
        let model = try LLaDAModel.load(path: source)
        let transformer = try model.denseTransformer(), w = transformer.weights
        let layers = w.layers.map { l in
            LayerWeights(attentionNorm: l.attentionNorm, query: Int8Input(l.query), key: Int8Input(l.key), value: Int8Input(l.value),
                         attentionOut: Int8Input(l.attentionOut), feedForwardNorm: l.feedForwardNorm, gate: Int8Input(l.gate),
                         up: Int8Input(l.up), down: Int8Input(l.down))
        }
        let weights = ModelWeights(config: w.config, embedding: w.embedding, layers: layers, finalNorm: w.finalNorm,
                                   lmHead: Int8Input(w.lmHead))
        return LLaDAModel(config: transformer.config, tokenizer: model.tokenizer, weights: weights, loadSeconds: 0)
    }
}

/// A linear whose input is first rounded to the kernels' int8 activation blocks.
final class Int8Input: LinearLayer, @unchecked Sendable {
    let inner: any LinearLayer
    init(_ inner: any LinearLayer) { self.inner = inner }
    var inFeatures: Int { inner.inFeatures }
    var outFeatures: Int { inner.outFeatures }
    var weightBytes: Int { inner.weightBytes }

    func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        let rounded = FloatBuffer(count: rows * inFeatures, zeroed: false)
        for start in stride(from: 0, to: rows * inFeatures, by: 32) {
            var amax: Float = 0
            for i in 0..<32 { amax = max(amax, abs(x[start + i])) }
            let d = amax / 127, id: Float = amax > 0 ? 127 / amax : 0
            for i in 0..<32 { rounded.pointer[start + i] = min(127, max(-127, (x[start + i] * id).rounded(.toNearestOrEven))) * d }
        }
        inner.apply(rounded.pointer, rows: rows, into: y)
    }
}

/// A small seeded generator (SplitMix64) so every noise variant is reproducible.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
