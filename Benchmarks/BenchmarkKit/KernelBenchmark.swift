import LLaDAEngine
import CBLAS
import Foundation
import LLaDAKernels

/// Throughput of the packed-weight kernels against OpenBLAS f32 sgemm on the LLaDA-8B shapes
/// (`llada bench --kernels`, Benchmarks/KernelBenchmark). A benchmark, not a test: it measures.
///
/// For each shape and row count sgemm runs first, then, once OpenBLAS's threads have stopped
/// polling, the kernels in turns (q4_0, q8_0, q4_0, …), each until it has `repetitions` timed calls
/// and at least `minimumSeconds`, so background load hits the kernels alike; each figure is the
/// median call, and the ratio is taken within that run.
/// GOP = 2·M·N·K.
public enum KernelBenchmark {
    public struct Row: Sendable {
        public let kernel: String
        public let m, n, k: Int
        public let medianSeconds: Double
        public let gops: Double
        public let ratioVsSgemm: Double
        /// GOP/s over the int8 peak measured in the same run (q8_0 / q4_0 rows; nil for sgemm,
        /// f16, or a path without a peak probe).
        public var peakShare: Double? = nil
        /// The kernel level the row ran at, and the CPU (every row carries them, so a row read
        /// alone still says where it was measured).
        public var kernelPath: String
        public var cpu = HostCPU.current

        /// One JSON object (one line).
        public var json: String {
            String(format: "{\"kernel\":\"\(kernel)\",\"m\":%d,\"n\":%d,\"k\":%d,\"gops\":%.2f,\"ratio_vs_sgemm\":%.3f,\"median_ms\":%.4f,\"peak_share\":\(peakShare.map { String(format: "%.4f", $0) } ?? "null"),\"kernel_path\":\"\(kernelPath)\",\"cpu\":\(cpu.json)}",
                   m, n, k, gops, ratioVsSgemm, medianSeconds * 1000)
        }

        public var tableLine: String {
            let shape = "\(k)x\(n)"
            return kernel.padding(toLength: 7, withPad: " ", startingAt: 0)
                + shape.padding(toLength: 12, withPad: " ", startingAt: 0)
                + String(format: "%5d %9.1f %8.2f %10.3f", m, gops, ratioVsSgemm, medianSeconds * 1000)
                + (peakShare.map { String(format: " %7.1f", $0 * 100) } ?? "       –")
        }

        public static let tableHeader = "kernel K x N       M     GOP/s  x sgemm  median ms  % peak"
    }

    /// The text output's first lines: the CPU, the kernel level and the run's settings, then the
    /// column names. `peak`: the int8 peak measured in this run (nil: the level has no probe).
    public static func textHeader(context: KernelContext, repetitions: Int, peak: Double?) -> [String] {
        let measured = peak.map { String(format: "; int8 peak %.0f GOP/s measured now", $0) } ?? "; no int8 peak probe on this path"
        return ["cpu: \(HostCPU.current.description)",
                "kernels: \(context.level.name) path, \(context.threads) threads; medians of ≥ \(repetitions) calls" + measured,
                Row.tableHeader]
    }

    /// K × N of the 8B model: attention / FFN in and out, the LM head.
    public static let shapes: [(k: Int, n: Int)] = [(4096, 4096), (4096, 12288), (12288, 4096), (4096, 126464)]
    public static let rowCounts = [1, 8, 32, 64, 256]

    /// The int8 peak on every thread of `context`, in GOP/s; nil without a probe.
    public static func int8Peak(context: KernelContext) -> Double? {
        let peak = context.int8PeakOps(seconds: 0.5)
        return peak > 0 ? peak / 1e9 : nil
    }

    /// Runs the benchmark and returns its rows (sgemm's rows have ratio 1). `report` sees each
    /// row as soon as it is measured. The kernels run on `context`; OpenBLAS gets as many threads.
    /// With `peak` (GOP/s, measured in the same run) the int8 rows carry their share of it.
    public static func run(context: KernelContext, formats: [WeightType] = [.q4_0, .q8_0],
                           shapes: [(k: Int, n: Int)] = shapes, rowCounts: [Int] = rowCounts,
                           repetitions: Int = 5, minimumSeconds: Double = 0.3, peak: Double? = nil,
                           report: (Row) -> Void = { _ in }) -> [Row] {
        openblas_set_num_threads(Int32(context.threads))
        var rows: [Row] = []
        for (k, n) in shapes {
            let dense = FloatBuffer(count: n * k, zeroed: false)
            fill(dense.pointer, count: n * k, seed: UInt64(n &* 31 &+ k))
            let packed = formats.map { randomPacked($0, n: n, k: k, context: context) }
            let maxRows = rowCounts.max() ?? 1
            let x = FloatBuffer(count: maxRows * k, zeroed: false)
            fill(x.pointer, count: maxRows * k, seed: 7)
            let y = FloatBuffer(count: maxRows * n)
            for m in rowCounts {
                let sgemm = {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                                1, x.pointer, Int32(k), dense.pointer, Int32(k), 0, y.pointer, Int32(n))
                }
                let kernels = packed.map { weights in
                    { QuantizedMatmul.multiply(weights, x.pointer, rows: m, into: y.pointer, on: context) }
                }
                let sgemmMedian = measure([sgemm], repetitions: repetitions, minimumSeconds: minimumSeconds)
                waitForOpenBLASWorkersToPark()
                let medians = sgemmMedian + measure(kernels, repetitions: repetitions, minimumSeconds: minimumSeconds)
                let names = ["sgemm"] + formats.map(\.description)
                let operations = 2.0 * Double(m) * Double(n) * Double(k)
                for (name, seconds) in zip(names, medians) {
                    var row = Row(kernel: name, m: m, n: n, k: k, medianSeconds: seconds, gops: operations / seconds / 1e9,
                                  ratioVsSgemm: medians[0] / seconds, kernelPath: context.level.name)
                    if let peak, name == "q4_0" || name == "q8_0" { row.peakShare = row.gops / peak }
                    rows.append(row)
                    report(row)
                }
            }
        }
        return rows
    }

    /// OpenBLAS's workers keep polling for a while after each call (2^28 cycles by default,
    /// about 0.1 s); timed next to them, our pool's threads share their cores, and runs that timed
    /// sgemm in turns with the kernels showed short products at about half speed. The engine never
    /// overlaps the two (OpenBLASThreads); nor does this.
    static func waitForOpenBLASWorkersToPark() {
        usleep(250_000)
    }

    /// Median seconds of each call, timed in turns after one untimed warm-up round.
    static func measure(_ calls: [() -> Void], repetitions: Int, minimumSeconds: Double) -> [Double] {
        for call in calls { call() }
        var times = [[Double]](repeating: [], count: calls.count)
        let start = DispatchTime.now().uptimeNanoseconds
        while times[0].count < repetitions
            || Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 < minimumSeconds * Double(calls.count) {
            for (i, call) in calls.enumerated() {
                let t0 = DispatchTime.now().uptimeNanoseconds
                call()
                times[i].append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            }
            if times[0].count >= 1000 { break }
        }
        return times.map { $0.sorted()[$0.count / 2] }
    }

    /// Random weights in the on-disk format (uniform quants, fp16 scales around 0.01), packed.
    static func randomPacked(_ format: WeightType, n: Int, k: Int, context: KernelContext) -> PackedWeights {
        let bytes = format.byteCount(elements: n * k)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes + 8, alignment: 64)
        defer { raw.deallocate() }
        var state = UInt64(bytes) | 1
        let words = raw.bindMemory(to: UInt64.self, capacity: (bytes + 8) / 8)
        for i in 0..<((bytes + 7) / 8) { words[i] = next(&state) }
        let base = raw.assumingMemoryBound(to: UInt8.self)
        switch format {
        case .q8_0, .q4_0:
            let blockBytes = format == .q8_0 ? 34 : 18
            for block in 0..<(bytes / blockBytes) {
                // fp16 0x2000 … 0x23ff: 0.0078 … 0.0156
                base[block * blockBytes] = UInt8(truncatingIfNeeded: block)
                base[block * blockBytes + 1] = 0x20 | UInt8(truncatingIfNeeded: block >> 8) & 0x03
            }
        case .f16:
            for i in stride(from: 1, to: bytes, by: 2) { base[i] = 0x2C | (base[i] & 0x83) }   // |w| < 0.125, finite
        case .f32:
            preconditionFailure("f32 has no kernel")
        }
        // Cannot fail: the byte count is the format's own.
        return try! PackedWeights(format: format, outFeatures: n, inFeatures: k,
                                  blocks: UnsafeRawBufferPointer(start: raw, count: bytes), repackingOn: context)
    }

    static func next(_ state: inout UInt64) -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 2_685_821_657_736_338_717
    }

    static func fill(_ pointer: UnsafeMutablePointer<Float>, count: Int, seed: UInt64) {
        var state = seed | 1
        for i in 0..<count { pointer[i] = Float(next(&state) >> 40) / Float(1 << 23) - 1 }
    }
}
