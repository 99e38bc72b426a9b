import ArgumentParser
import Foundation
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

    struct Item: Decodable {
        let id: String
        let task: String
        let prompt: String
        let answer: String
    }

    struct ItemResult: Encodable {
        let id: String
        let task: String
        let text: String
        let answer: String
        let correct: Bool
        let output_ids: [Int]
        let model_calls: Int
    }

    struct Summary: Encodable {
        let summary = true
        let accuracy: Double
        let per_task: [String: Double]
        let count: Int
        let mean_model_calls: Double
        let seconds: Double
    }

    func run() throws {
        var items = try Self.readTasks(tasks)
        if let limit { items = Array(items.prefix(max(0, limit))) }
        // Option errors are reported before a (possibly multi-gigabyte) model is loaded.
        let settings = try sampling.settings().validated()
        let model = try modelOptions.load(try modelOptions.open())
        let start = Date()
        var results: [ItemResult] = []
        for item in items {
            let stop = StopFlag()
            let plan = try model.plan(GenerationRequest(prompt: .user(item.prompt), settings: settings))
            let output = try Interruption.stoppable(watching: stop) { try model.run(plan, stop: stop).result }
            if let signal = Interruption.signal { Llada.interrupted(signal, "after \(results.count) of \(items.count) tasks") }
            let text = try model.tokenizer.decode(output.outputIDs, skipSpecialTokens: true)
            let correct = text.trimmingCharacters(in: .whitespacesAndNewlines) == item.answer
            let result = ItemResult(id: item.id, task: item.task, text: text, answer: item.answer, correct: correct,
                                    output_ids: output.outputIDs, model_calls: output.modelCalls)
            results.append(result)
            if json { try printJSON(result) }
        }
        let byTask = Dictionary(grouping: results, by: \.task).mapValues { group in
            Double(group.filter(\.correct).count) / Double(group.count)
        }
        let summary = Summary(
            accuracy: results.isEmpty ? 0 : Double(results.filter(\.correct).count) / Double(results.count),
            per_task: byTask, count: results.count,
            mean_model_calls: results.isEmpty ? 0 : Double(results.reduce(0) { $0 + $1.model_calls }) / Double(results.count),
            seconds: Date().timeIntervalSince(start))
        if json {
            try printJSON(summary)
        } else {
            func padded(_ name: String) -> String { name.padding(toLength: max(10, name.count), withPad: " ", startingAt: 0) }
            for task in byTask.keys.sorted() { print(padded(task) + String(format: " %.3f", byTask[task]!)) }
            print(padded("all") + String(format: " %.3f  (%d tasks, %.1f model calls each, %.1f s)", summary.accuracy,
                                         summary.count, summary.mean_model_calls, summary.seconds))
        }
    }

    static func readTasks(_ path: String) throws -> [Item] {
        guard let data = FileManager.default.contents(atPath: path) else { throw LLaDAError("cannot read task file \(path)") }
        let decoder = JSONDecoder()
        var items: [Item] = []
        for (number, line) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated()
        where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            do { items.append(try decoder.decode(Item.self, from: Data(line.utf8))) } catch {
                throw LLaDAError("\(path):\(number + 1): not a task object with id, task, prompt and answer")
            }
        }
        return items
    }
}
