import ArgumentParser
import Foundation
import LLaDAEngine

/// `llada infill`: fill the `[MASK]` / `[MASK*N]` holes of a text (`InfillRequest`: `--prompt`
/// is the message the text answers, `--padding` the end-of-text padding after it).
struct InfillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infill",
        abstract: "Fill the [MASK] / [MASK*N] placeholders of a text.",
        discussion: """
            [MASK] is one masked token, [MASK*N] N of them (1 ≤ N ≤ 65536); `[MASK` always starts a \
            placeholder. The text is the canvas (after <|startoftext|>, or with --prompt the answer to that \
            message, followed by <|eot_id|> and --padding <|endoftext|>). Here --block-length defaults to \
            the whole canvas and --steps to the number of masked tokens; --gen-length does not apply.
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var sampling: SamplingOptions

    @Option(name: .long, parsing: .unconditional, help: "Text with holes: [MASK] is one token, [MASK*N] is N tokens; `-` reads standard input.")
    var text: String

    @Option(name: .long, parsing: .unconditional, help: "A user message; the text is then the assistant's answer to it (chat template).")
    var prompt: String?

    @Option(name: .long, help: "With --prompt: <|endoftext|> padding after the answer's <|eot_id|> (default: 32).")
    var padding: Int?

    @Flag(name: .long, help: "Print one JSON object: prompt_ids, canvas_ids, output_ids, fills, text, model_calls, seconds.")
    var json = false

    @Flag(name: .long, help: "On a terminal, redraw the canvas on standard error as the holes are filled.")
    var visual = false

    struct Output: Encodable {
        let prompt_ids: [Int]
        let canvas_ids: [Int]
        let output_ids: [Int]
        let fills: [String]
        let text: String
        let model_calls: Int
        let seconds: Double
    }

    func run() throws {
        if sampling.genLength != nil {
            throw LLaDAError("--gen-length does not apply to infill: the canvas is as long as --text with its holes")
        }
        let infill = try InfillRequest(text: try InfillText(parsing: try readText()), answering: prompt, padding: padding,
                                       blockLength: sampling.blockLength, steps: sampling.steps)
        // Option errors before the model loads; the lengths are checked once the text is tokenized.
        let base = try sampling.settings()
        let file = try modelOptions.open()
        try infill.check(maxSequenceLength: file.shape.maxSequenceLength)
        let model = try modelOptions.load(file)
        let (request, holes) = try infill.generation(for: model, base: base)
        let plan = try model.plan(request)
        let live = LiveGeneration(model: model, settings: plan.settings, output: .none, visual: visual)
        let stop = StopFlag()
        let output = try Interruption.stoppable(watching: stop) {
            try model.run(plan, stop: stop, onEvent: live.handle)
        }
        let result = output
        live.finish(output)
        if output.stopped, let signal = Interruption.signal {
            Llada.interrupted(signal, "after \(result.modelCalls) model calls, nothing printed")
        }
        let filled = try model.tokenizer.decode(result.outputIDs, skipSpecialTokens: true)
        if json {
            let fills = try holes.map { try model.tokenizer.decode(Array(result.outputIDs[$0]), skipSpecialTokens: true) }
            try printJSON(Output(prompt_ids: result.promptIDs, canvas_ids: plan.canvas, output_ids: result.outputIDs, fills: fills,
                                 text: filled, model_calls: result.modelCalls, seconds: output.seconds))
        } else {
            print(filled)
        }
    }

    func readText() throws -> String {
        guard text == "-" else { return text }
        guard let text = String(data: FileHandle.standardInput.readDataToEndOfFile(), encoding: .utf8) else {
            throw LLaDAError("the text on standard input is not valid UTF-8")
        }
        return text
    }
}
