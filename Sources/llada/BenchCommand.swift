import ArgumentParser
import Foundation
import LLaDAEngine

/// `llada bench --kernels [--json]`: throughput of the packed-weight kernels against OpenBLAS.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure performance (not a test).")

    @Flag(help: "q4_0 / q8_0 kernels vs OpenBLAS f32 sgemm on the LLaDA-8B shapes (GOP = 2·M·N·K).")
    var kernels = false

    @Flag(help: "One JSON object per line: kernel, m, n, k, gops, ratio_vs_sgemm, median_ms.")
    var json = false

    @Option(help: "Threads for OpenBLAS and the kernels.")
    var threads = 2

    @Flag(help: "Also measure f16 weights.")
    var f16 = false

    @Option(help: "Comma-separated row counts M (default 1,8,32,64,256).")
    var rows: String?

    @Option(help: "Timed calls per kernel and case (the median is reported).")
    var repetitions = 5

    func run() throws {
        guard kernels else { throw ValidationError("choose what to benchmark: --kernels") }
        guard (1...1024).contains(threads) else { throw ValidationError("--threads must be between 1 and 1024 (got \(threads))") }
        guard (1...10_000).contains(repetitions) else { throw ValidationError("--repetitions must be between 1 and 10000 (got \(repetitions))") }
        var rowCounts = KernelBenchmark.rowCounts
        if let rows {
            rowCounts = try rows.split(separator: ",").map {
                guard let m = Int($0.trimmingCharacters(in: .whitespaces)), m > 0 else {
                    throw ValidationError("--rows: expected positive integers, got \(rows)")
                }
                return m
            }
        }
        let formats: [KernelWeightFormat] = f16 ? [.q4_0, .q8_0, .f16] : [.q4_0, .q8_0]
        if !json {
            emit("kernels: \(QuantizedMatmul.currentPath.name) path, \(threads) threads; medians of ≥ \(repetitions) calls")
            emit(KernelBenchmark.Row.tableHeader)
        }
        _ = KernelBenchmark.run(threads: threads, formats: formats, rowCounts: rowCounts, repetitions: repetitions) { row in
            emit(json ? row.json : row.tableLine)
        }
    }
}

/// Unbuffered, so rows show as they are measured even when piped.
private func emit(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
