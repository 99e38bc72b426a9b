import Foundation
import LLaDABenchmarks
import LLaDAEngine
import LLaDAKernels
import XCTest

/// The packed-weight matmul kernels: every SIMD path against the scalar reference (bit-exact:
/// all paths share one operation order, see llada_gemm.h), thread-count independence, and the
/// reference against an f64 product with the dequantized weights within the documented bound.
final class KernelMatmulTests: XCTestCase {
    static let rowCounts = [1, 3, 31, 33, 257]
    static let columnCounts = [1, 7, 33, 100]   // output features: none a multiple of the 16-row group
    static let depths = [32, 64, 96, 4096]

    /// A kernel context at `path` (the best this CPU has by default) with `threads` threads.
    func context(_ path: QuantizedMatmul.Path = .auto, threads: Int = 0) throws -> KernelContext {
        try KernelContext(threads: threads, level: path)
    }

    // MARK: - Fixtures

    /// xorshift64*: reproducible test data without Foundation's generators.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return state &* 2_685_821_657_736_338_717
        }
        /// Uniform in [-1, 1).
        mutating func unit() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
    }

    static func half(_ value: Float) -> UInt16 {
        var input = value, output: UInt16 = 0
        llada_f32_to_f16_scalar(&input, &output, 1)
        return output
    }

    static func float(half bits: UInt16) -> Float {
        var input = bits, output: Float = 0
        llada_f16_to_f32_scalar(&input, &output, 1)
        return output
    }

    /// On-disk bytes of a random [n × k] matrix: random quants (all of q8's [-127, 127], every
    /// nibble) and fp16 scales spanning a few binades; f16 values of mixed magnitude.
    static func weights(_ format: WeightType, n: Int, k: Int, seed: UInt64) -> [UInt8] {
        var random = Random(state: seed)
        var bytes = [UInt8](repeating: 0, count: format.byteCount(elements: n * k))
        switch format {
        case .f32:
            XCTFail("f32 has no kernel")
        case .f16:
            for i in 0..<(n * k) {
                let bits = half(random.unit() * (i % 5 == 0 ? 4 : 0.25))
                bytes[2 * i] = UInt8(bits & 0xFF)
                bytes[2 * i + 1] = UInt8(bits >> 8)
            }
        case .q8_0, .q4_0:
            let blockBytes = format == .q8_0 ? 34 : 18
            for block in 0..<(n * k / 32) {
                let base = block * blockBytes
                let scale = half(Float(1 + (random.next() % 8)) * 0.002 * (1 + random.unit()))
                bytes[base] = UInt8(scale & 0xFF)
                bytes[base + 1] = UInt8(scale >> 8)
                for i in 2..<blockBytes {
                    var value = UInt8(truncatingIfNeeded: random.next() >> 32)
                    if format == .q8_0, value == 0x80 { value = 0x81 }   // q8_0 quants are in [-127, 127]
                    bytes[base + i] = value
                }
            }
        }
        return bytes
    }

    /// Activations with blocks of very different scale, an all-zero block, exact ties and outliers.
    static func activations(rows: Int, k: Int, seed: UInt64) -> [Float] {
        var random = Random(state: seed)
        var x = [Float](repeating: 0, count: rows * k)
        for r in 0..<rows {
            for b in 0..<(k / 32) {
                let scale: Float = [1, 0.01, 30, 0, 1e-3][(r + b) % 5]
                for i in 0..<32 {
                    x[r * k + b * 32 + i] = (i == 7 ? 5 : 1) * scale * random.unit()
                }
                if (r + b) % 7 == 1 {   // values that land exactly on .5 after scaling
                    x[r * k + b * 32] = 127
                    x[r * k + b * 32 + 1] = 0.5
                    x[r * k + b * 32 + 2] = -1.5
                }
            }
        }
        return x
    }

    /// W dequantized to f32 straight from the on-disk bytes (independent of the C code).
    static func dequantize(_ format: WeightType, _ bytes: [UInt8], n: Int, k: Int) -> [Float] {
        var w = [Float](repeating: 0, count: n * k)
        switch format {
        case .f32:
            XCTFail("f32 has no kernel")
        case .f16:
            for i in 0..<(n * k) { w[i] = float(half: UInt16(bytes[2 * i]) | UInt16(bytes[2 * i + 1]) << 8) }
        case .q8_0, .q4_0:
            let blockBytes = format == .q8_0 ? 34 : 18
            for block in 0..<(n * k / 32) {
                let base = block * blockBytes
                let d = float(half: UInt16(bytes[base]) | UInt16(bytes[base + 1]) << 8)
                for i in 0..<32 {
                    let q: Int
                    if format == .q8_0 {
                        q = Int(Int8(bitPattern: bytes[base + 2 + i]))
                    } else {
                        let byte = bytes[base + 2 + i % 16]
                        q = Int(i < 16 ? byte & 0x0F : byte >> 4) - 8
                    }
                    w[block * 32 + i] = d * Float(q)
                }
            }
        }
        return w
    }

    func product(_ weights: PackedWeights, _ x: [Float], rows: Int, on context: KernelContext) -> [Float] {
        var y = [Float](repeating: .nan, count: rows * weights.outFeatures)
        x.withUnsafeBufferPointer { QuantizedMatmul.multiply(weights, $0.baseAddress!, rows: rows, into: &y, on: context) }
        return y
    }

    func reference(_ format: WeightType, _ bytes: [UInt8], n: Int, k: Int, _ x: [Float], rows: Int) -> [Float] {
        var y = [Float](repeating: .nan, count: rows * n)
        bytes.withUnsafeBytes { blocks in
            x.withUnsafeBufferPointer {
                QuantizedMatmul.reference(format: format, blocks: blocks, outFeatures: n, inFeatures: k,
                                          $0.baseAddress!, rows: rows, into: &y)
            }
        }
        return y
    }

    /// Repacked on a pool of two threads (the repack's result does not depend on it).
    func packed(_ format: WeightType, _ bytes: [UInt8], n: Int, k: Int) throws -> PackedWeights {
        let repacker = try context(threads: 2)
        return try bytes.withUnsafeBytes { try PackedWeights(format: format, outFeatures: n, inFeatures: k, blocks: $0, repackingOn: repacker) }
    }

    /// Index of the first element whose bits differ, or nil.
    func firstDifference(_ a: [Float], _ b: [Float]) -> Int? {
        if a.count != b.count { return min(a.count, b.count) }
        return a.indices.first { a[$0].bitPattern != b[$0].bitPattern }
    }

    // MARK: - Tests

    func testThisMachineRunsItsBestPath() throws {
        let paths = QuantizedMatmul.supportedPaths
        XCTAssertEqual(paths.first, .scalar)
        #if arch(x86_64)
        XCTAssertFalse(QuantizedMatmul.Path.neon.isSupported)
        XCTAssertThrowsError(try context(.neon))
        #endif
        print("kernel paths on this CPU: \(paths.map(\.name)); default \(KernelLevel.best.name)")
        for path in paths {
            XCTAssertEqual(try context(path).level, path)
        }
        XCTAssertEqual(try context().level, paths.last)
        XCTAssertEqual(KernelLevel.best, paths.last)
    }

    /// Every path on this CPU (scalar included, so the repack is checked too) equals the scalar
    /// reference computed from the on-disk bytes, bit for bit, over odd shapes.
    func testEveryPathIsBitExactWithTheScalarReference() throws {
        let paths = QuantizedMatmul.supportedPaths
        let contexts = try paths.map { try context($0) }
        var checked = 0
        for format in WeightType.kernelTypes {
            for k in Self.depths {
                for n in Self.columnCounts {
                    let bytes = Self.weights(format, n: n, k: k, seed: UInt64(k * 1000 + n))
                    let weights = try packed(format, bytes, n: n, k: k)
                    for rows in Self.rowCounts {
                        let x = Self.activations(rows: rows, k: k, seed: UInt64(rows * 7 + k))
                        let expected = reference(format, bytes, n: n, k: k, x, rows: rows)
                        for context in contexts {
                            let path = context.level
                            let y = product(weights, x, rows: rows, on: context)
                            if let i = firstDifference(y, expected) {
                                XCTFail("\(format) \(path.name) m=\(rows) n=\(n) k=\(k): y[\(i)] = \(y[i]), reference \(expected[i])")
                            }
                            checked += 1
                        }
                    }
                }
            }
        }
        XCTAssertEqual(checked, 3 * 4 * 4 * 5 * paths.count)
    }

    /// Products sharing one input in one call (q/k/v, ff_proj/up_proj) give each matrix's own
    /// product bit for bit, on every path, with widths that are not whole column groups.
    func testSharedInputProductsEqualTheSeparateProducts() throws {
        for format in WeightType.kernelTypes {
            let k = 96, widths = [48, 37, 16, 5]
            let matrices = try widths.enumerated().map { index, n in
                try packed(format, Self.weights(format, n: n, k: k, seed: UInt64(index * 31 + n)), n: n, k: k)
            }
            for path in QuantizedMatmul.supportedPaths {
                let context = try context(path)
                for rows in [1, 7, 32] {
                    let x = Self.activations(rows: rows, k: k, seed: UInt64(rows))
                    let pointers = widths.map { n in
                        let y = UnsafeMutablePointer<Float>.allocate(capacity: rows * n)
                        y.initialize(repeating: .nan, count: rows * n)
                        return y
                    }
                    defer { pointers.forEach { $0.deallocate() } }
                    x.withUnsafeBufferPointer { QuantizedMatmul.multiply(matrices, $0.baseAddress!, rows: rows, into: pointers, on: context) }
                    let outputs = zip(pointers, widths).map { Array(UnsafeBufferPointer(start: $0, count: rows * $1)) }
                    for (matrix, output) in zip(matrices, outputs) {
                        let alone = product(matrix, x, rows: rows, on: context)
                        if let i = firstDifference(output, alone) {
                            XCTFail("\(format) \(path.name) m=\(rows) n=\(matrix.outFeatures): y[\(i)] = \(output[i]), alone \(alone[i])")
                        }
                    }
                }
            }
        }
    }

    /// The int8 peak probe runs on the paths that have one (avx2, avx512) and reports none elsewhere.
    func testTheInt8PeakProbe() throws {
        for path in QuantizedMatmul.supportedPaths {
            let peak = try context(path).int8PeakOps(seconds: 0.02)
            if path == .avx2 || path == .avx512 {
                XCTAssertGreaterThan(peak, 1e9, path.name)
            } else {
                XCTAssertEqual(peak, 0, path.name)
            }
        }
    }

    /// The memory bandwidth probe reads its buffer on every thread of the pool: a plausible rate
    /// (between 0.5 GB/s and 5 TB/s), and 0 for a buffer smaller than a line per thread.
    func testTheMemoryBandwidthProbe() throws {
        for threads in [1, 2] {
            let context = try KernelContext(threads: threads)
            let rate = context.memoryBandwidth(bytes: 64 << 20, seconds: 0.05)
            XCTAssertGreaterThan(rate, 0.5e9, "\(threads) threads")
            XCTAssertLessThan(rate, 5e12, "\(threads) threads")
            XCTAssertEqual(context.memoryBandwidth(bytes: 16, seconds: 0.01), 0)
        }
    }

    /// The kernel benchmark's rows carry their share of the peak measured in the same run: the
    /// int8 rows only, as GOP/s over that peak, and in the JSON line as peak_share.
    func testKernelBenchmarkRowsReportTheirShareOfThePeak() throws {
        let single = try context(threads: 1)
        let peak = KernelBenchmark.int8Peak(context: single)
        let rows = KernelBenchmark.run(context: single, shapes: [(k: 64, n: 32)], rowCounts: [2], repetitions: 1, minimumSeconds: 0, peak: peak)
        XCTAssertEqual(rows.map(\.kernel), ["sgemm", "q4_0", "q8_0"])
        for row in rows {
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(row.json.utf8)) as? [String: Any], row.json)
            if let peak, row.kernel != "sgemm" {
                XCTAssertEqual(row.peakShare ?? -1, row.gops / peak, accuracy: 1e-12)
                XCTAssertEqual(object["peak_share"] as? Double ?? -1, row.gops / peak, accuracy: 1e-4)
            } else {
                XCTAssertNil(row.peakShare)
                XCTAssertTrue(object["peak_share"] is NSNull, row.json)
            }
        }
    }

    /// A non-finite activation makes its row's outputs non-finite (as in an f32 product) and
    /// leaves the other rows untouched, on every path.
    func testNonFiniteActivationsPropagate() throws {
        let (rows, n, k) = (5, 40, 96)
        for format in WeightType.kernelTypes {
            let bytes = Self.weights(format, n: n, k: k, seed: 17)
            let weights = try packed(format, bytes, n: n, k: k)
            var x = Self.activations(rows: rows, k: k, seed: 4)
            let clean = reference(format, bytes, n: n, k: k, x, rows: rows)
            x[1 * k + 40] = .infinity
            x[3 * k + 95] = .nan
            for path in QuantizedMatmul.supportedPaths {
                let y = product(weights, x, rows: rows, on: try context(path))
                for r in 0..<rows {
                    let row = Array(y[(r * n)..<(r * n + n)])
                    if r == 1 || r == 3 {
                        XCTAssertTrue(row.allSatisfy { !$0.isFinite }, "\(format) \(path.name) row \(r): \(row.prefix(4))")
                    } else {
                        XCTAssertNil(firstDifference(row, Array(clean[(r * n)..<(r * n + n)])), "\(format) \(path.name) row \(r)")
                    }
                }
            }
        }
    }

    /// f16 has no blocks: any K works.
    func testF16TakesAnyDepth() throws {
        for k in [1, 7, 33, 100] {
            let (rows, n) = (13, 19)
            let bytes = Self.weights(.f16, n: n, k: k, seed: UInt64(k))
            let weights = try packed(.f16, bytes, n: n, k: k)
            var random = Random(state: 3)
            let x = (0..<(rows * k)).map { _ in random.unit() }
            let expected = reference(.f16, bytes, n: n, k: k, x, rows: rows)
            for path in QuantizedMatmul.supportedPaths {
                XCTAssertNil(firstDifference(product(weights, x, rows: rows, on: try context(path)), expected), "\(path.name) k=\(k)")
            }
        }
    }

    /// Each output is computed by one thread in a fixed order: 1, 2 and 3 threads agree exactly.
    func testResultsDoNotDependOnTheThreadCount() throws {
        for path in QuantizedMatmul.supportedPaths {
            let contexts = try [1, 2, 3].map { try context(path, threads: $0) }
            for format in WeightType.kernelTypes {
                for (rows, n, k) in [(257, 100, 96), (33, 1000, 64), (3, 33, 4096)] {
                    let bytes = Self.weights(format, n: n, k: k, seed: 99)
                    let weights = try packed(format, bytes, n: n, k: k)
                    let x = Self.activations(rows: rows, k: k, seed: 5)
                    var results: [[Float]] = []
                    for (threads, context) in zip([1, 2, 3], contexts) {
                        XCTAssertEqual(context.threads, threads)
                        results.append(product(weights, x, rows: rows, on: context))
                    }
                    for (i, result) in results.enumerated().dropFirst() {
                        XCTAssertNil(firstDifference(result, results[0]),
                                     "\(format) \(path.name) m=\(rows) n=\(n) k=\(k): \(i + 1) threads differ from 1")
                    }
                }
            }
        }
    }

    /// The reference against an f64 product with the dequantized weights. q8_0 / q4_0: the
    /// activation rounding moves each x by at most max|x_block|/254, so
    /// |Δy| ≤ Σ_b (max|x_b|/254)·Σ_{i∈b}|w_i| (+ f32 accumulation: (blocks + 2)·2⁻²⁴·Σ|w·x̂|).
    /// f16: only f32 accumulation, |Δy| ≤ (k + 1)·2⁻²⁴·Σ|w·x|.
    func testReferenceIsWithinTheDocumentedToleranceOfF32() throws {
        let u = Double(Float.ulpOfOne) / 2
        for format in WeightType.kernelTypes {
            for (rows, n, k) in [(31, 33, 4096), (257, 7, 96), (3, 100, 32)] {
                let bytes = Self.weights(format, n: n, k: k, seed: 3)
                let w = Self.dequantize(format, bytes, n: n, k: k)
                let x = Self.activations(rows: rows, k: k, seed: 11)
                let y = reference(format, bytes, n: n, k: k, x, rows: rows)
                var worst = 0.0
                for r in 0..<rows {
                    for o in 0..<n {
                        var exact = 0.0, magnitude = 0.0, bound = 0.0
                        for b in 0..<(k / 32) {
                            var amax = 0.0, wsum = 0.0
                            for i in (b * 32)..<(b * 32 + 32) {
                                let wi = Double(w[o * k + i]), xi = Double(x[r * k + i])
                                exact += wi * xi
                                magnitude += abs(wi) * abs(xi)
                                amax = max(amax, abs(xi))
                                wsum += abs(wi)
                            }
                            if format != .f16 { bound += amax / 254 * wsum * (1 + 1e-6) }
                        }
                        let terms = format == .f16 ? Double(k + 1) : Double(k / 32 + 2)
                        // Σ|w·x̂| ≤ Σ|w·x| + the activation-rounding bound.
                        bound += terms * u * (magnitude + bound) * 1.01
                        let error = abs(Double(y[r * n + o]) - exact)
                        if error > bound {
                            XCTFail("\(format) m=\(rows) n=\(n) k=\(k) [\(r),\(o)]: |Δ| \(error) > bound \(bound)")
                            return
                        }
                        if bound > 0 { worst = max(worst, error / bound) }
                    }
                }
                // Not vacuous: for q8/q4 the activation rounding shows up at a fair share of the bound.
                if format != .f16 { XCTAssertGreaterThan(worst, 0.001, "\(format) m=\(rows) n=\(n) k=\(k)") }
            }
        }
    }

    func testKernelLinearAppliesThePackedProduct() throws {
        for format in WeightType.kernelTypes {
            let (rows, n, k) = (5, 48, 128)
            let bytes = Self.weights(format, n: n, k: k, seed: 21)
            let layer = try bytes.withUnsafeBytes {
                try KernelLinear(format: format, outFeatures: n, inFeatures: k, blocks: $0, context: try context())
            }
            XCTAssertEqual(layer.inFeatures, k)
            XCTAssertEqual(layer.outFeatures, n)
            XCTAssertEqual(layer.weightBytes, bytes.count)   // 48 rows: no padding, same size as on disk
            let x = Self.activations(rows: rows, k: k, seed: 8)
            var y = [Float](repeating: .nan, count: rows * n)
            x.withUnsafeBufferPointer { layer.apply($0.baseAddress!, rows: rows, into: &y) }
            XCTAssertNil(firstDifference(y, reference(format, bytes, n: n, k: k, x, rows: rows)), "\(format)")
        }
    }

    func testPackedWeightsRejectMalformedInput() throws {
        let bytes = [UInt8](repeating: 0, count: 34 * 4)
        try bytes.withUnsafeBytes { raw in
            XCTAssertThrowsError(try PackedWeights(format: .q8_0, outFeatures: 4, inFeatures: 33, blocks: raw))
            XCTAssertThrowsError(try PackedWeights(format: .q8_0, outFeatures: 5, inFeatures: 32, blocks: raw))
            XCTAssertThrowsError(try PackedWeights(format: .q4_0, outFeatures: 4, inFeatures: 32, blocks: raw))
            XCTAssertNoThrow(try PackedWeights(format: .q8_0, outFeatures: 4, inFeatures: 32, blocks: raw))
        }
    }
}
