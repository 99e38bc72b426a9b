import Foundation
import LLaDAEngine
import LLaDAKernels
import XCTest

/// The kernels inside the real forward pass: the tiny fixture with every linear layer and the LM
/// head as a KernelLinear, against the same model run with OpenBLAS on the dequantized weights.
/// The only difference is the kernels' int8 rounding of activations (none for f16), so this
/// measures what that rounding does to the logits. The weight quantizer here is a plain
/// test-only max-abs one; the real quantizer lives in the packed-format code.
final class KernelTransformerTests: XCTestCase {
    /// On-disk blocks of W with max-abs scales (q8: d = max|w|/127, q4: d = max|w|/7), or halves.
    static func encode(_ w: FloatMatrix, as format: WeightType) -> [UInt8] {
        let count = w.rows * w.cols
        var bytes: [UInt8] = []
        bytes.reserveCapacity(format.byteCount(elements: w.rows * w.cols))
        func appendHalf(_ value: Float) {
            var input = value, bits: UInt16 = 0
            llada_f32_to_f16_scalar(&input, &bits, 1)
            bytes.append(UInt8(bits & 0xFF))
            bytes.append(UInt8(bits >> 8))
        }
        func halfRounded(_ value: Float) -> Float {
            var input = value, bits: UInt16 = 0, output: Float = 0
            llada_f32_to_f16_scalar(&input, &bits, 1)
            llada_f16_to_f32_scalar(&bits, &output, 1)
            return output
        }
        if format == .f16 {
            for i in 0..<count { appendHalf(w.pointer[i]) }
            return bytes
        }
        let limit: Float = format == .q8_0 ? 127 : 7
        for block in stride(from: 0, to: count, by: 32) {
            var amax: Float = 0
            for i in 0..<32 { amax = max(amax, abs(w.pointer[block + i])) }
            let d = halfRounded(amax / limit)
            appendHalf(d)
            let q = (0..<32).map { i -> Int in
                d == 0 ? 0 : Int(max(-limit, min(limit, (w.pointer[block + i] / d).rounded())))
            }
            if format == .q8_0 {
                for value in q { bytes.append(UInt8(bitPattern: Int8(value))) }
            } else {
                for i in 0..<16 { bytes.append(UInt8(q[i] + 8) | UInt8(q[i + 16] + 8) << 4) }
            }
        }
        return bytes
    }

    /// (kernel layer, dense layer with exactly the weights the kernel layer holds).
    static func pair(_ layer: any LinearLayer, _ format: WeightType) throws -> (any LinearLayer, any LinearLayer) {
        let dense = try XCTUnwrap(layer as? DenseLinear)
        let bytes = encode(dense.weight, as: format)
        let kernel = try bytes.withUnsafeBytes {
            try KernelLinear(format: format, outFeatures: dense.outFeatures, inFeatures: dense.inFeatures, blocks: $0,
                             context: .standard())
        }
        let dequantized = FloatMatrix(rows: dense.outFeatures, cols: dense.inFeatures)
        let values = KernelMatmulTests.dequantize(format, bytes, n: dense.outFeatures, k: dense.inFeatures)
        values.withUnsafeBufferPointer { dequantized.pointer.update(from: $0.baseAddress!, count: values.count) }
        return (kernel, DenseLinear(weight: dequantized))
    }

    func testForwardPassWithKernelLayersMatchesDequantizedWeights() throws {
        let original = try FixturePaths.transformer().weights
        let ids = try (FixturePaths.goldenJSON("logits.json")["cases"] as! [[String: Any]]).map { $0["input_ids"] as! [Int] }
        let f32 = try FixturePaths.transformer()
        // Measured on the fixture: q8_0 1.7 %, q4_0 1.2 % of max |logit|, f16 1e-6; the weight
        // rounding alone (dequantized vs original f32) is printed alongside for scale.
        for (format, tolerance) in [(WeightType.q8_0, Float(0.04)), (.q4_0, 0.04), (.f16, 1e-4)] {
            var kernelLayers: [LayerWeights] = [], denseLayers: [LayerWeights] = []
            for layer in original.layers {
                let q = try Self.pair(layer.query, format), k = try Self.pair(layer.key, format)
                let v = try Self.pair(layer.value, format), o = try Self.pair(layer.attentionOut, format)
                let g = try Self.pair(layer.gate, format), u = try Self.pair(layer.up, format)
                let d = try Self.pair(layer.down, format)
                kernelLayers.append(LayerWeights(
                    attentionNorm: layer.attentionNorm, query: q.0, key: k.0, value: v.0, attentionOut: o.0,
                    feedForwardNorm: layer.feedForwardNorm, gate: g.0, up: u.0, down: d.0))
                denseLayers.append(LayerWeights(
                    attentionNorm: layer.attentionNorm, query: q.1, key: k.1, value: v.1, attentionOut: o.1,
                    feedForwardNorm: layer.feedForwardNorm, gate: g.1, up: u.1, down: d.1))
            }
            let head = try Self.pair(original.lmHead, format)
            let kernel = Transformer(weights: ModelWeights(config: original.config, embedding: original.embedding,
                                                           layers: kernelLayers, finalNorm: original.finalNorm, lmHead: head.0))
            let dense = Transformer(weights: ModelWeights(config: original.config, embedding: original.embedding,
                                                          layers: denseLayers, finalNorm: original.finalNorm, lmHead: head.1))
            var worst: Float = 0, weightRounding: Float = 0, agree = 0, positions = 0
            for sequence in ids {
                let a = kernel.logits(tokens: sequence), b = dense.logits(tokens: sequence)
                let c = f32.logits(tokens: sequence)
                var cDiff: Float = 0, cAbs: Float = 0
                for i in 0..<(c.rows * c.cols) {
                    cDiff = max(cDiff, abs(b.pointer[i] - c.pointer[i]))
                    cAbs = max(cAbs, abs(c.pointer[i]))
                }
                weightRounding = max(weightRounding, cDiff / cAbs)
                var maxDiff: Float = 0, maxAbs: Float = 0
                for i in 0..<(a.rows * a.cols) {
                    maxDiff = max(maxDiff, abs(a.pointer[i] - b.pointer[i]))
                    maxAbs = max(maxAbs, abs(b.pointer[i]))
                }
                worst = max(worst, maxDiff / maxAbs)
                for row in 0..<a.rows {
                    let ra = a.rowArray(row), rb = b.rowArray(row)
                    if ra.indices.max(by: { ra[$0] < ra[$1] }) == rb.indices.max(by: { rb[$0] < rb[$1] }) { agree += 1 }
                    positions += 1
                }
            }
            print("\(format): kernel vs dequantized-f32 logits: max |Δ| = \(worst) · max |logit|, argmax agrees at \(agree)/\(positions); dequantized vs original f32: \(weightRounding)")
            XCTAssertLessThanOrEqual(worst, tolerance, "\(format)")
            XCTAssertGreaterThanOrEqual(Double(agree), 0.95 * Double(positions), "\(format)")
        }
    }
}
