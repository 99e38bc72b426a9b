import ArgumentParser
import Foundation
import LLaDAEngine
import LLaDATerminal
import LLaDAServer

/// `llada serve`: the OpenAI-compatible HTTP server (LLaDAServer; docs/server.md). The sampling
/// options are the server's defaults, which each request may override.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve the model over the OpenAI HTTP API (chat, completions, SSE streaming).")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var memory: MemoryOptions

    @Option(name: .long, help: "Address to bind (default 127.0.0.1: this machine only).")
    var host = "127.0.0.1"

    @Option(name: .long, help: "Port (0 picks a free one; the line on standard error says which).")
    var port = 8080

    @Option(name: .long, parsing: .unconditional, help: "Require `Authorization: Bearer KEY` on /v1 and /metrics.")
    var apiKey: String?

    @Option(name: .long, help: "Requests that may wait for the model; more get 503 (default 16).")
    var maxQueue = 16

    @Option(name: .long, help: "Largest request body in bytes (default 1 MiB).")
    var maxBodyBytes = 1 << 20

    @Option(name: .long, help: "Seconds a generation may run before it is stopped (default 600).")
    var timeout = 600.0

    @Option(name: .long, help: "The model id clients send and /v1/models lists (default: the file name without extension).")
    var modelID: String?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535 (got \(port))") }
        guard maxQueue >= 0 else { throw ValidationError("--max-queue must be at least 0 (got \(maxQueue))") }
        guard maxBodyBytes >= 1024 else { throw ValidationError("--max-body-bytes must be at least 1024 (got \(maxBodyBytes))") }
        guard timeout > 0, timeout.isFinite else { throw ValidationError("--timeout must be a positive number of seconds (got \(timeout))") }
        if apiKey?.isEmpty == true { throw ValidationError("--api-key must not be empty") }
    }

    /// The prompt length the memory check assumes (as chat's first turn).
    static let typicalPromptTokens = 32

    func run() throws {
        var configuration = ServerConfiguration()
        configuration.defaults = try sampling.settings().validated()
        let file = try modelOptions.open()
        _ = try file.checked(configuration.defaults, for: .messages([]))
        try memory.check(file.memoryEstimate(configuration.defaults, promptLength: Self.typicalPromptTokens))
        let model = try modelOptions.load(file)
        (configuration.host, configuration.port, configuration.apiKey) = (host, port, apiKey)
        (configuration.maxQueue, configuration.maxBodyBytes, configuration.timeLimitSeconds) = (maxQueue, maxBodyBytes, timeout)
        configuration.modelID = modelID ?? URL(fileURLWithPath: modelOptions.model).deletingPathExtension().lastPathComponent
        let server = OpenAIServer(model: model, configuration: configuration)
        let outcome = ServeOutcome()
        let host = self.host, modelName = configuration.modelID
        Task {
            do {
                try await server.run { port in
                    Terminal.err("llada serve: listening on http://\(host):\(port) (model \(modelName))\n")
                }
            } catch {
                outcome.error = error
            }
            outcome.done.signal()
        }
        outcome.done.wait()
        if let error = outcome.error { throw LLaDAError("serve: \(error)") }
        Terminal.err("llada serve: stopped\n")
    }
}

/// How the server task ended, for the waiting main thread.
final class ServeOutcome: @unchecked Sendable {
    let done = DispatchSemaphore(value: 0)
    var error: Error?
}
