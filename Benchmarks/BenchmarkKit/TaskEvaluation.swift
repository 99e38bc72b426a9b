import Foundation
import LLaDAEngine

/// Exact-match accuracy on a JSONL task file (fields: id, task, prompt, answer), as `llada eval`
/// reports it: a result per task and a summary.
public enum TaskEvaluation {
    public struct Item: Decodable, Sendable {
        public let id: String
        public let task: String
        public let prompt: String
        public let answer: String
    }

    public struct ItemResult: Encodable, Sendable {
        public let id: String
        public let task: String
        public let text: String
        public let answer: String
        public let correct: Bool
        public let output_ids: [Int]
        public let model_calls: Int

        /// `text` is correct when it equals the answer once trimmed.
        public init(item: Item, text: String, result: GenerationResult) {
            (id, task, self.text, answer) = (item.id, item.task, text, item.answer)
            correct = text.trimmingCharacters(in: .whitespacesAndNewlines) == item.answer
            (output_ids, model_calls) = (result.outputIDs, result.modelCalls)
        }
    }

    public struct Summary: Encodable, Sendable {
        public var summary = true
        public let accuracy: Double
        public let per_task: [String: Double]
        public let count: Int
        public let mean_model_calls: Double
        public let seconds: Double

        public init(_ results: [ItemResult], seconds: Double) {
            per_task = Dictionary(grouping: results, by: \.task).mapValues { group in
                Double(group.filter(\.correct).count) / Double(group.count)
            }
            accuracy = results.isEmpty ? 0 : Double(results.filter(\.correct).count) / Double(results.count)
            count = results.count
            mean_model_calls = results.isEmpty ? 0 : Double(results.reduce(0) { $0 + $1.model_calls }) / Double(results.count)
            self.seconds = seconds
        }

        /// A line per task and one for all.
        public var table: String {
            func padded(_ name: String) -> String { name.padding(toLength: max(10, name.count), withPad: " ", startingAt: 0) }
            let lines = per_task.keys.sorted().map { padded($0) + String(format: " %.3f", per_task[$0]!) }
            return (lines + [padded("all") + String(format: " %.3f  (%d tasks, %.1f model calls each, %.1f s)", accuracy, count,
                                                     mean_model_calls, seconds)]).joined(separator: "\n")
        }
    }

    /// The tasks of a JSONL file; a line that is not a task names its line number.
    public static func readTasks(_ path: String) throws -> [Item] {
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
