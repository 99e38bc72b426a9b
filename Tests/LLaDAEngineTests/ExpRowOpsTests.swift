import Foundation
import LLaDAKernels
import XCTest

/// The softmax and SwiGLU of exp_rows.c: every SIMD path bit-identical to the scalar twin, and
/// the shared exp polynomial within a few ulps of exp in double.
final class ExpRowOpsTests: XCTestCase {
    private func randomRow(_ count: Int, spread: Float, seed: inout UInt64) -> [Float] {
        (0..<count).map { _ in
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return (Float(seed >> 40) / Float(1 << 24) - 0.5) * spread
        }
    }

    func testSoftmaxPathsAreBitIdenticalToTheScalarTwin() throws {
        let simdPaths = try CPUPathExpectations.simdPaths()
        var seed: UInt64 = 7
        // Every tail length around the 8- and 16-wide vectors, and the 8B's 640 keys.
        for count in Array(0...40) + [63, 64, 65, 640, 1031] {
            let row = randomRow(count, spread: 40, seed: &seed)
            var expected = row
            llada_softmax_row_scalar(&expected, count)
            for path in simdPaths {
                var got = row
                llada_softmax_row_path(&got, count, path)
                XCTAssertEqual(got.map(\.bitPattern), expected.map(\.bitPattern), "n \(count), path \(String(cString: llada_gemm_path_name(path)))")
            }
        }
    }

    func testSoftmaxMatchesDoublePrecision() {
        var seed: UInt64 = 11
        for _ in 0..<50 {
            var row = randomRow(640, spread: 30, seed: &seed)
            let maximum = Double(row.max()!)
            let exps = row.map { exp(Double($0) - maximum) }
            let sum = exps.reduce(0, +)
            llada_softmax_row(&row, row.count)
            for (got, e) in zip(row, exps) {
                XCTAssertEqual(Double(got), e / sum, accuracy: e / sum * 4e-6)
            }
            XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-5)
        }
    }

    func testSwiGLUPathsAreBitIdenticalAndWithinThreeUlps() throws {
        let simdPaths = try CPUPathExpectations.simdPaths()
        // A dense grid over the whole range where exp matters, plus the special values.
        let count = 400_003
        var gate = (0..<count).map { -100 + 200 * Float($0) / Float(count) }
        gate += [0, -0, .infinity, .nan, 87.3, -87.3, 88.5, -88.5, 1e-30]
        let up = (0..<gate.count).map { Float($0 % 7) - 3 }
        var expected = gate
        llada_swiglu_scalar(&expected, up, gate.count)
        for path in simdPaths {
            var got = gate
            llada_swiglu_path(&got, up, got.count, path)
            XCTAssertEqual(got.map(\.bitPattern), expected.map(\.bitPattern), "path \(String(cString: llada_gemm_path_name(path)))")
        }
        var worst: Float = 0
        for i in 0..<count where up[i] != 0 && abs(gate[i]) <= 87 {
            let g = Double(gate[i]), reference = Float(g / (1 + exp(-g)) * Double(up[i]))
            guard reference.isNormal else { continue }
            worst = max(worst, abs(expected[i] - reference) / reference.ulp.magnitude)
        }
        XCTAssertLessThanOrEqual(worst, 3, "silu·up error in ulps")
        // Beyond, exp leaves its range: silu of a large negative gate is ~0 either way.
        for i in 0..<count where gate[i] < -87 { XCTAssertLessThan(abs(expected[i]), 1e-35) }
        XCTAssertTrue(expected[count + 3].isNaN)
        XCTAssertEqual(expected[count + 2], .infinity * up[count + 2])
    }
}
