import Foundation
import LLaDAEngine
import LLaDAKernels
import XCTest

/// The kernel paths this machine must offer, worked out from the operating system's view of the
/// CPU rather than from the C detector, so a detector that wrongly drops a path fails a test
/// instead of silently shrinking every "each SIMD path equals its scalar twin" loop.
enum CPUPathExpectations {
    /// nil where there is no independent source (only Linux x86_64 reads /proc/cpuinfo).
    static let expected: [QuantizedMatmul.Path]? = {
        #if os(Linux) && arch(x86_64)
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        let flags = Set(line.split(separator: " ").map(String.init))
        // The same feature sets as the C detector (llada_cpu_detect in dispatch.c).
        var paths: [QuantizedMatmul.Path] = [.scalar]
        guard flags.isSuperset(of: ["avx2", "fma", "f16c"]) else { return paths }
        paths.append(.avx2)
        if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512_vnni"]) { paths.append(.avx512) }
        return paths
        #else
        return nil
        #endif
    }()

    /// The SIMD paths to compare with their scalar twins; skips (naming what is missing) when there are none,
    /// so an empty loop never passes as a test.
    static func simdPaths() throws -> [Int32] {
        let paths = [QuantizedMatmul.Path.avx2, .avx512].filter(\.isSupported)
        if paths.isEmpty { throw XCTSkip("neither the avx2 nor the avx512 path runs on this CPU: no SIMD twin to compare") }
        return paths.map(\.rawValue)
    }
}

final class CPUPathExpectationTests: XCTestCase {
    func testTheDetectorFindsEveryPathTheCPUHas() throws {
        guard let expected = CPUPathExpectations.expected else {
            throw XCTSkip("no independent CPU feature source here (only Linux x86_64 reads /proc/cpuinfo)")
        }
        XCTAssertEqual(QuantizedMatmul.supportedPaths, expected, "kernel paths vs /proc/cpuinfo flags")
        XCTAssertEqual(KernelLevel.best, expected.last)
    }
}

/// The dispatched element conversions (convert.c: AVX2 / F16C on x86_64) against their scalar
/// twins, bit for bit, over every 16-bit input and every tail length of the 8-wide vectors.
final class ConversionTwinTests: XCTestCase {
    private func requireSIMDConversions() throws {
        // convert.c's SIMD code is the avx2 level; without it both sides would be the scalar code.
        let level = KernelLevel.best.name
        if !["avx2", "avx512"].contains(level) {
            throw XCTSkip("the conversions run the scalar code at kernel path \(level): no SIMD twin to compare")
        }
    }

    /// "input 0x…: simd 0x…, scalar 0x…" for the first mismatch (a whole-array message is unreadable).
    private func firstDifference<T: BinaryInteger, I: BinaryInteger>(_ fast: [T], _ slow: [T], _ input: [I]) -> String? {
        guard let i = fast.indices.first(where: { fast[$0] != slow[$0] }) else { return nil }
        return String(format: "input 0x%llx: simd 0x%llx, scalar 0x%llx", UInt64(input[i]), UInt64(fast[i]), UInt64(slow[i]))
    }

    func testHalfAndBFloatWideningMatchesTheScalarTwins() throws {
        try requireSIMDConversions()
        let all = (0...UInt16.max).map { $0 }
        for count in Array(0...17) + [all.count] {
            let input = Array(all[(all.count - count)...])   // short runs end at NaNs, the long one has all
            var fast = [Float](repeating: 0, count: count), slow = fast
            llada_f16_to_f32(input, &fast, count)
            llada_f16_to_f32_scalar(input, &slow, count)
            XCTAssertNil(firstDifference(fast.map(\.bitPattern), slow.map(\.bitPattern), input), "f16 → f32, \(count) values")
            llada_bf16_to_f32(input, &fast, count)
            llada_bf16_to_f32_scalar(input, &slow, count)
            XCTAssertNil(firstDifference(fast.map(\.bitPattern), slow.map(\.bitPattern), input), "bf16 → f32, \(count) values")
        }
    }

    func testHalfNarrowingMatchesTheScalarTwin() throws {
        try requireSIMDConversions()
        // Every f32 whose low 13 bits are one of the rounding cases, over all signs and exponents.
        var input: [Float] = []
        for high in stride(from: UInt32(0), to: 1 << 19, by: 7) {
            for low: UInt32 in [0, 1, 0xFFF, 0x1000, 0x1001, 0x1FFF] { input.append(Float(bitPattern: high << 13 | low)) }
        }
        input += [.infinity, -.infinity, .nan, -.nan, .signalingNaN, 65504, 65520, 65519.996, 6e-8, 3e-8, 0, -0]
        for count in Array(0...17) + [input.count] {
            let slice = Array(input[(input.count - count)...])
            var fast = [UInt16](repeating: 0, count: count), slow = fast
            llada_f32_to_f16(slice, &fast, count)
            llada_f32_to_f16_scalar(slice, &slow, count)
            XCTAssertNil(firstDifference(fast, slow, slice.map(\.bitPattern)), "f32 → f16, \(count) values")
        }
    }
}
