import Foundation
import LLaDAKernels
import XCTest

/// The q4_0 scale search's vectorised twin (quant_avx2.c, run by llada_quantize_q4_0 where the CPU
/// has AVX2) against the scalar reference: the same bytes, statuses and bad indices on data of
/// every kind the converter meets, and on the edges (zero blocks, exact grid values and ties,
/// f16-subnormal and near-overflow scales, a block out of range inside a group of eight).
final class QuantTwinTests: XCTestCase {
    func quantize(_ values: [Float], scalar: Bool) -> (llada_quant_status, [UInt8], Int) {
        var out = [UInt8](repeating: 0xAA, count: values.count / 32 * 18)
        var bad = -1
        let status = scalar ? llada_quantize_q4_0_scalar(values, &out, values.count, LLADA_Q4_SEARCH, &bad)
                            : llada_quantize_q4_0(values, &out, values.count, LLADA_Q4_SEARCH, &bad)
        return (status, out, bad)
    }

    func assertTwinsAgree(_ values: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let (s1, b1, i1) = quantize(values, scalar: true)
        let (s2, b2, i2) = quantize(values, scalar: false)
        XCTAssertEqual(s1, s2, "\(what): status", file: file, line: line)
        XCTAssertEqual(i1, i2, "\(what): bad index", file: file, line: line)
        let differing = zip(b1, b2).enumerated().first { $0.element.0 != $0.element.1 }
        XCTAssertNil(differing, "\(what): first differing byte \(differing.map { "\($0.offset) (block \($0.offset / 18))" } ?? "")",
                     file: file, line: line)
    }

    func testTheVectorisedSearchGivesTheScalarBytes() {
        var noise = QuantFormatTests.Noise(state: 0x9E3779B97F4A7C15)
        let count = 32 * 8 * 512 + 32 * 5   // whole groups of eight blocks and a tail of five
        let kinds: [(String, () -> Float)] = [
            ("weights σ 0.02", { noise.gaussian(0.02) }),
            ("scales 1e-8…1e3", { noise.gaussian(Float(pow(10, Double(Int(noise.uniform() * 12) - 8)))) }),
            ("grid values and ties", { Float(Int(noise.uniform() * 17) - 8) * 0.125 }),
            ("near-grid values", { Float(Int(noise.uniform() * 15) - 7) * (0.5 + 0.001 * Float(Int(noise.uniform() * 3))) }),
            ("sparse", { noise.uniform() < 0.7 ? 0 : noise.gaussian(1) }),
            ("f16-subnormal scales", { noise.gaussian(1e-6) }),
            ("near the f16 range", { noise.gaussian(3e4) }),
            ("outliers", { noise.uniform() < 0.03 ? noise.gaussian(10) : noise.gaussian(0.01) }),
        ]
        for (name, draw) in kinds {
            var values = (0..<count).map { _ in draw() }
            assertTwinsAgree(values, name)
            for i in 0..<(32 * 9) { values[i] = 0 }   // zero blocks, a whole group of them
            assertTwinsAgree(values, name + " with zero blocks")
        }
    }

    func testABlockOutOfRangeInsideAGroupIsReportedAsTheScalarPathReportsIt() {
        var noise = QuantFormatTests.Noise(state: 7)
        for position in [3, 32 * 8 + 5, 32 * 37 + 31, 32 * 64 - 1] {
            var values = noise.values(32 * 64)
            values[position] = 7e5   // max|w| / 7 overflows fp16
            assertTwinsAgree(values, "out of range at \(position)")
            let (status, bytes, bad) = quantize(values, scalar: false)
            XCTAssertEqual(status, LLADA_QUANT_RANGE)
            XCTAssertEqual(bad, position)
            XCTAssertEqual(Array(bytes.prefix(position / 32 * 18)), Array(quantize(values, scalar: true).1.prefix(position / 32 * 18)))
        }
        var values = noise.values(32 * 16)
        values[32 * 9 + 2] = .infinity
        assertTwinsAgree(values, "non-finite")
    }
}
