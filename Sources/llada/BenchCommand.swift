import ArgumentParser
import Foundation
import LLaDABenchmarks
import LLaDAEngine

/// `llada bench --kernels [--json]`: throughput of the packed-weight kernels against OpenBLAS.
/// `llada bench --model FILE [--json]`: a timed generation with its time split and memory.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure performance (not a test).")

    @Flag(help: "q4_0 / q8_0 kernels vs OpenBLAS f32 sgemm on the LLaDA-8B shapes (GOP = 2·M·N·K).")
    var kernels = false

    @Option(help: "Benchmark generation with this model (a packed file or a checkpoint directory): load, prefill, steps, tokens/s, time split, peak memory.")
    var model: String?

    @Flag(help: "With --kernels: one JSON object per line (kernel, m, n, k, gops, ratio_vs_sgemm, median_ms, peak_share, kernel_path, cpu). With --model: one JSON object (fields in Benchmarks/README.md).")
    var json = false

    @Option(help: "Threads (default: 2 with --kernels, all cores with --model).")
    var threads: Int?

    @Flag(help: "Also measure f16 weights (--kernels).")
    var f16 = false

    @Option(help: "Comma-separated row counts M (--kernels; default 1,8,32,64,256).")
    var rows: String?

    @Option(help: "Timed calls per kernel and case, the median is reported (--kernels, default 5); generations (--model, default 1).")
    var repetitions: Int?

    @Option(name: .long, help: "With --model: a synthetic prompt of this many ordinary token ids (default 64 unless --prompt is given).")
    var promptLength: Int?

    @Option(name: .long, parsing: .unconditional, help: "With --model: this prompt text instead, through the chat template unless --raw.")
    var prompt: String?

    @Flag(name: .long, help: "With --prompt: no chat template.")
    var raw = false

    @OptionGroup var kernelPath: KernelPathOption
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var memory: MemoryOptions

    func run() throws {
        if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads must be between 1 and 1024 (got \(threads))") }
        if let repetitions, !(1...10_000).contains(repetitions) {
            throw ValidationError("--repetitions must be between 1 and 10000 (got \(repetitions))")
        }
        switch (kernels, model) {
        case (true, nil): try runKernels()
        case (false, let model?): try ModelBench(command: self, modelPath: model).run()
        case (true, _?): throw ValidationError("choose one of --kernels and --model")
        case (false, nil): throw ValidationError("choose what to benchmark: --kernels, or --model FILE")
        }
    }

    func runKernels() throws {
        let threads = threads ?? 2
        let repetitions = repetitions ?? 5
        var rowCounts = KernelBenchmark.rowCounts
        if let rows {
            rowCounts = try rows.split(separator: ",").map {
                guard let m = Int($0.trimmingCharacters(in: .whitespaces)), m > 0 else {
                    throw ValidationError("--rows: expected positive integers, got \(rows)")
                }
                return m
            }
        }
        let formats: [WeightType] = f16 ? [.q4_0, .q8_0, .f16] : [.q4_0, .q8_0]
        let context = try KernelContext(threads: threads, level: kernelPath.level)
        let peak = KernelBenchmark.int8Peak(context: context)
        if !json { KernelBenchmark.textHeader(context: context, repetitions: repetitions, peak: peak).forEach(emit) }
        _ = KernelBenchmark.run(context: context, formats: formats, rowCounts: rowCounts, repetitions: repetitions, peak: peak) { row in
            emit(json ? row.json : row.tableLine)
        }
    }
}

/// Unbuffered, so rows show as they are measured even when piped.
func emit(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
