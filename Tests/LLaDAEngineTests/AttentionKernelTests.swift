import Foundation
import LLaDAEngine
import LLaDAKernels
import XCTest

/// The fused attention over f16 keys/values (attention.c): every path bit-identical with the
/// scalar twin, the result within its error bound of an f64 computation, and the dual-cache
/// pass with it close to the pass through OpenBLAS.
final class AttentionKernelTests: XCTestCase {
    struct Head {
        let nq, nk, hd, qStride, kvStride: Int
        let q: [Float]
        let k, v: [UInt16]
        var scale: Float { 1 / Float(hd).squareRoot() }

        /// Query rows sit inside wider rows (one head of the pass's queries); key/value rows are
        /// packed (one head of the cache) or inside wider rows too. Values of the sizes a trained
        /// model's heads have, and a few exact zeros and repeated keys.
        init(nq: Int, nk: Int, hd: Int, packed: Bool = true, seed: UInt64) {
            self.nq = nq
            self.nk = nk
            self.hd = hd
            qStride = hd * 3 + 16
            kvStride = packed ? hd : hd * 2 + 16
            var random = SamplerRandom(seed: seed)
            func value(_ spread: Double) -> Float { Float((random.nextUnitOpen() * 2 - 1) * spread) }
            q = (0..<(nq * qStride)).map { $0 % 7 == 0 ? 0 : value(3) }
            var kf = (0..<(nk * kvStride)).map { _ in value(2.5) }
            if nk > 2 { for d in 0..<hd { kf[2 * kvStride + d] = kf[d] } }
            let vf = (0..<(nk * kvStride)).map { _ in value(1) }
            var kh = [UInt16](repeating: 0, count: kf.count), vh = kh
            llada_f32_to_f16(kf, &kh, kf.count)
            llada_f32_to_f16(vf, &vh, vf.count)
            k = kh
            v = vh
        }

        func run(path: Int32) -> [Float] {
            var out = [Float](repeating: .nan, count: nq * hd)
            var work = [Float](repeating: .nan, count: llada_attention_work_floats(nq, nk, hd))
            llada_attention_f16_path(q, qStride, nq, k, v, kvStride, nk, hd, scale, &out, hd, &work, path)
            return out
        }
    }

    func testEveryPathIsBitIdenticalWithTheScalarTwin() throws {
        let paths = try CPUPathExpectations.simdPaths()
        var checks = 0
        for hd in [16, 24, 64, 128] {
            for nq in [1, 2, 3, 4, 5, 32, 33] {
                for nk in [1, 2, 3, 4, 5, 17, 640] {
                    let head = Head(nq: nq, nk: nk, hd: hd, packed: nk % 2 == 1, seed: UInt64(hd * 10_000 + nq * 1000 + nk))
                    let reference = head.run(path: QuantizedMatmul.Path.scalar.rawValue)
                    XCTAssertTrue(reference.allSatisfy(\.isFinite))
                    for path in paths {
                        let out = head.run(path: path)
                        XCTAssertEqual(out.map(\.bitPattern), reference.map(\.bitPattern), "path \(String(cString: llada_gemm_path_name(path))) hd \(hd) nq \(nq) nk \(nk)")
                        checks += 1
                    }
                }
            }
        }
        XCTAssertEqual(checks, 4 * 7 * 7 * paths.count)
    }

    /// Against f64 on the same halves. Scores: two f32 dot products of length hd differ from the
    /// exact one by ≤ hd·u·Σ|q·k| (u = 2⁻²⁴); the softmax adds ≤ 4e-6 relative (exp_rows.c); the
    /// weighted sum ≤ (nk + 1)·u·Σ p|v|. So |Δout| ≤ (2·max|Δs| + 4e-6 + (nk + 1)·u)·Σ_j p_j|v_j|
    /// to first order, with max|Δs| the score bound of the row.
    func testTheResultIsWithinItsErrorBoundOfF64() {
        let u = pow(2.0, -24.0)
        var worst = 0.0
        for (nq, nk, hd) in [(32, 640, 128), (4, 33, 64), (7, 1000, 128)] {
            let head = Head(nq: nq, nk: nk, hd: hd, seed: UInt64(nk))
            let out = head.run(path: KernelLevel.best.rawValue)
            var kd = [Float](repeating: 0, count: head.k.count), vd = kd
            llada_f16_to_f32(head.k, &kd, kd.count)
            llada_f16_to_f32(head.v, &vd, vd.count)
            for i in 0..<nq {
                var scores = [Double](repeating: 0, count: nk), bound = 0.0
                for j in 0..<nk {
                    var dot = 0.0, magnitude = 0.0
                    for d in 0..<hd {
                        let product = Double(head.q[i * head.qStride + d]) * Double(kd[j * head.kvStride + d])
                        dot += product
                        magnitude += abs(product)
                    }
                    scores[j] = dot * Double(head.scale)
                    bound = max(bound, Double(hd) * u * magnitude * Double(head.scale) + u * abs(scores[j]))
                }
                let top = scores.max()!
                let e = scores.map { exp($0 - top) }, total = e.reduce(0, +)
                let p = e.map { $0 / total }
                for d in 0..<hd {
                    var exact = 0.0, weight = 0.0
                    for j in 0..<nk {
                        exact += p[j] * Double(vd[j * head.kvStride + d])
                        weight += p[j] * abs(Double(vd[j * head.kvStride + d]))
                    }
                    let error = abs(Double(out[i * hd + d]) - exact)
                    let allowed = (2 * bound + 4e-6 + Double(nk + 1) * u) * weight
                    XCTAssertLessThanOrEqual(error, allowed, "nq \(nq) nk \(nk) row \(i) dim \(d)")
                    worst = max(worst, error / allowed)
                }
            }
        }
        XCTAssertGreaterThan(worst, 0, "the comparison is not vacuous")
    }

    /// The model with its dual-cache passes on the fused kernel against the same passes through
    /// the f32 buffers and OpenBLAS: same cache contents, logits within 1e-4 of their scale.
    func testTheFusedDualPassMatchesTheOpenBLASPass() throws {
        let transformer = Transformer(weights: try FixturePaths.transformer().weights)
        let (ids, _) = try PackedTestSupport.goldenInputs()[0]
        let cache = try XCTUnwrap(transformer.makeCache(capacity: ids.count, storage: .f16))
        _ = transformer.logits(tokens: ids, rows: 0..<ids.count, context: .full(fill: cache), outputPositions: [0])
        let rows = (ids.count / 2)..<ids.count
        let positions = Array(rows)
        // The dual pass rewrites its rows' keys/values with what it computes; both runs write the same.
        let fused = transformer.logits(tokens: ids, rows: rows, context: .dual(cache, canvasLength: ids.count), outputPositions: positions)
        let unfused = Transformer(weights: transformer.weights, options: TransformerOptions(fusedAttention: false))
        let reference = unfused.logits(tokens: ids, rows: rows, context: .dual(cache, canvasLength: ids.count), outputPositions: positions)
        let comparison = PackedTestSupport.compareLogits(reference, fused)
        let scale = reference.storage.array.map(abs).max()!
        XCTAssertGreaterThan(comparison.maxAbs, 0, "the two passes really differ in their arithmetic")
        XCTAssertLessThan(comparison.maxAbs, 1e-4 * scale)
        XCTAssertEqual(comparison.top1, 1)
    }
}
