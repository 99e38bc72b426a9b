import ArgumentParser
import Foundation
import LLaDABenchmarks
import LLaDAEngine

/// `llada bench --model`: loads once, generates `--repetitions` times with the forward pass
/// profiled, and reports one table or one JSON object. Measures; asserts nothing about time.
struct ModelBench {
    let command: BenchCommand
    let modelPath: String
    /// A bound on the synthetic prompt built before the plan checks it against the model.
    static let promptLengthLimit = 1 << 20

    func run() throws {
        if command.prompt != nil && command.promptLength != nil { throw ValidationError("give --prompt or --prompt-length, not both") }
        if command.raw && command.prompt == nil { throw ValidationError("--raw applies to --prompt") }
        if let length = command.promptLength, !(1...Self.promptLengthLimit).contains(length) {
            throw ValidationError("--prompt-length must be between 1 and \(Self.promptLengthLimit) (got \(length))")
        }
        let threads = command.threads ?? ProcessInfo.processInfo.activeProcessorCount
        let repetitions = command.repetitions ?? 1
        // Every block runs (no early stop), so runs do the same work and tokens/s counts them all.
        var requested = try command.sampling.settings()
        requested.earlyStop = false
        requested = try requested.validated()

        let file = try ModelFile.open(modelPath)
        let plan = try file.plan(GenerationRequest(prompt: .ids(try promptIDs(file)), settings: requested))
        try command.memory.check(plan.memory)

        let report = try GenerationReport.measure(file: file, path: modelPath, plan: plan, repetitions: repetitions,
                                                  compute: ComputeContext(threads: threads, kernelLevel: command.kernelPath.level))
        if command.json {
            try printJSON(report)
        } else {
            print(report.table)
        }
    }

    /// The prompt's ids, from the file's tokenizer (the one the model then uses).
    func promptIDs(_ file: ModelFile) throws -> [Int] {
        if let prompt = command.prompt { return try file.promptIDs(for: prompt, raw: command.raw) }
        return try GenerationBenchmark.syntheticPrompt(length: command.promptLength ?? 64, tokenizer: file.tokenizer, shape: file.shape)
    }
}
