import ArgumentParser
import Foundation
import LLaDABenchmarks
import LLaDAEngine
import LLaDATerminal

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Generate an answer to a prompt.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var memory: MemoryOptions

    @Option(name: .long, parsing: .unconditional, help: "The prompt text; `-` reads it from standard input.")
    var prompt: String

    @Flag(name: .long, help: "Send the prompt as plain text, without the chat template (Base models).")
    var raw = false

    @Flag(name: .long, help: "Print one JSON object with ids, text and timings.")
    var json = false

    @Flag(name: .long, help: "Print JSON lines as it runs: a `step` event per model call, `block_done` per final block (with its text), then `done`.")
    var jsonStream = false

    @Flag(name: .long, help: "On a terminal, redraw the canvas on standard error as tokens are committed (off when standard error is not a terminal).")
    var visual = false

    func validate() throws {
        if json && jsonStream { throw ValidationError("--json and --json-stream cannot be combined; choose one") }
    }

    struct Output: Encodable {
        /// "done" in the --json-stream output; absent with --json.
        var event: String?
        let prompt_ids: [Int]
        let output_ids: [Int]
        let text: String
        let steps: Int
        let model_calls: Int
        let steps_saved: Int
        let blocks_skipped: Int
        let seconds: Double
        let load_seconds: Double
        let kv_cache_bytes: Int
        let kv_bytes_per_token: Int
        let step_seconds_median: Double
        let step_seconds_p90: Double
        let tokens_per_second: Double
    }

    /// The last --json-stream line when SIGINT/SIGTERM stopped the run (exit 128 + signal follows).
    struct InterruptedEvent: Encodable {
        var event = "interrupted"
        let signal: Int
        let model_calls: Int
        let seconds: Double
    }

    func run() throws {
        // Option errors are reported before the prompt is read or a model opened.
        let settings = try sampling.settings().validated()
        let promptText = try readPrompt()
        // One open: the plan tokenizes the prompt, checks it against the model and sizes the run
        // before any weight is loaded.
        let file = try modelOptions.open()
        let plan = try file.plan(GenerationRequest(prompt: raw ? .raw(promptText) : .user(promptText), settings: settings))
        try memory.check(plan.memory)
        let model = try modelOptions.load(file)
        // Plain output streams each block's text as soon as the block is final.
        let live = LiveGeneration(model: model, settings: plan.settings, output: json ? .none : jsonStream ? .jsonStream : .text,
                                  visual: visual)
        let stop = StopFlag()
        let output = try Interruption.stoppable(watching: stop) {
            try model.run(plan, stop: stop, onEvent: live.handle)
        }
        let result = output, seconds = output.seconds
        live.finish(output)
        if output.stopped, let signal = Interruption.signal {
            // A program reading the stream gets a last event instead of a stream that just stops.
            if jsonStream {
                try Terminal.out(jsonLine(InterruptedEvent(signal: Int(signal), model_calls: result.modelCalls, seconds: seconds)) + "\n")
            }
            Llada.interrupted(signal, "after \(result.modelCalls) model calls" + (live.printedText ? "" : ", nothing printed"))
        }
        let text = output.text
        if json || jsonStream {
            try Terminal.out(jsonLine(Output(
                event: jsonStream ? "done" : nil, prompt_ids: result.promptIDs, output_ids: result.outputIDs, text: text,
                steps: result.modelCalls, model_calls: result.modelCalls, steps_saved: result.stepsSaved, blocks_skipped: result.blocksSkipped,
                seconds: seconds, load_seconds: model.loadSeconds,
                kv_cache_bytes: result.cacheBytes, kv_bytes_per_token: result.cacheBytesPerToken,
                step_seconds_median: percentile(result.stepSeconds, 0.5),
                step_seconds_p90: percentile(result.stepSeconds, 0.9),
                tokens_per_second: Double(result.producedTokens) / max(seconds, 1e-9))) + "\n")
        } else {
            // Informational, so only for a person watching the terminal.
            if result.blocksSkipped > 0 && isatty(2) != 0 {
                let saved = result.stepsSaved > 0 ? "\(result.stepsSaved) of \(plan.settings.steps ?? 0) steps" : "\(result.blocksSkipped) blocks"
                FileHandle.standardError.write(Data("early stop: the answer ended in padding; \(saved) saved\n".utf8))
            }
        }
    }

    func readPrompt() throws -> String {
        guard prompt == "-" else { return prompt }
        let data = FileHandle.standardInput.readDataToEndOfFile()
        guard let text = String(data: data, encoding: .utf8) else {
            throw LLaDAError("the prompt on standard input is not valid UTF-8")
        }
        return text
    }
}
