import ArgumentParser
import Foundation
import LLaDABenchmarks
import LLaDAEngine

/// Exact-match accuracy on a task file such as the fixture's tasks-dev.jsonl.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Exact-match accuracy on a JSONL task file (fields: id, task, prompt, answer).")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var sampling: SamplingOptions

    @Option(name: .long, help: "JSONL file of tasks.")
    var tasks: String

    @Option(name: .long, help: "Evaluate only the first N tasks.")
    var limit: Int?

    @Flag(name: .long, help: "Print a JSON line per task and a summary line.")
    var json = false

    func run() throws {
        var items = try TaskEvaluation.readTasks(tasks)
        if let limit { items = Array(items.prefix(max(0, limit))) }
        // Option errors are reported before a (possibly multi-gigabyte) model is loaded.
        let settings = try sampling.settings().validated()
        let file = try modelOptions.open()
        _ = try file.checked(settings, for: .user(""))
        let model = try modelOptions.load(file)
        let start = Date()
        var results: [TaskEvaluation.ItemResult] = []
        for item in items {
            let stop = StopFlag()
            let plan = try model.plan(GenerationRequest(prompt: .user(item.prompt), settings: settings))
            let output = try Interruption.stoppable(watching: stop) { try model.run(plan, stop: stop) }
            if let signal = Interruption.signal { Llada.interrupted(signal, "after \(results.count) of \(items.count) tasks") }
            let result = TaskEvaluation.ItemResult(item: item, text: try model.tokenizer.decode(output.outputIDs, skipSpecialTokens: true),
                                                   result: output)
            results.append(result)
            if json { try printJSON(result) }
        }
        let summary = TaskEvaluation.Summary(results, seconds: Date().timeIntervalSince(start))
        if json { try printJSON(summary) } else { print(summary.table) }
    }
}
