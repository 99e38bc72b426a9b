import Foundation

/// Counters behind `GET /metrics`, in the Prometheus text format.
final class ServerMetrics: @unchecked Sendable {
    private let lock = NSLock()
    private var requests: [Int: Int] = [:]
    private var promptTokens = 0
    private var answerTokens = 0
    private var modelCalls = 0
    private var generationSeconds = 0.0

    func record(status: Int) { lock.withLock { requests[status, default: 0] += 1 } }

    /// Counted as they run, so a generation a client abandoned counts what it did.
    func recordModelCall() { lock.withLock { modelCalls += 1 } }

    func record(promptTokens prompt: Int, answerTokens answer: Int, seconds: Double) {
        lock.withLock {
            promptTokens += prompt
            answerTokens += answer
            generationSeconds += seconds
        }
    }

    func text(queueDepth: Int, running: Int) -> String {
        lock.withLock {
            var lines: [String] = []
            func metric(_ name: String, _ type: String, _ help: String, _ samples: [(String, String)]) {
                lines.append("# HELP \(name) \(help)")
                lines.append("# TYPE \(name) \(type)")
                for (labels, value) in samples { lines.append("\(name)\(labels) \(value)") }
            }
            metric("llada_requests_total", "counter", "Requests answered, by HTTP status.",
                   requests.keys.sorted().map { ("{status=\"\($0)\"}", "\(requests[$0]!)") })
            metric("llada_queue_depth", "gauge", "Requests waiting for the model.", [("", "\(queueDepth)")])
            metric("llada_generations_running", "gauge", "Generations running now.", [("", "\(running)")])
            metric("llada_prompt_tokens_total", "counter", "Prompt tokens of finished generations.", [("", "\(promptTokens)")])
            metric("llada_tokens_generated_total", "counter", "Answer tokens of finished generations.", [("", "\(answerTokens)")])
            metric("llada_model_calls_total", "counter", "Forward passes run.", [("", "\(modelCalls)")])
            metric("llada_generation_seconds_total", "counter", "Seconds spent generating.", [("", "\(generationSeconds)")])
            metric("llada_tokens_per_second", "gauge", "Answer tokens per second of generation, since start.",
                   [("", "\(generationSeconds > 0 ? Double(answerTokens) / generationSeconds : 0)")])
            return lines.joined(separator: "\n") + "\n"
        }
    }
}
