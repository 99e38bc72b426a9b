import ArgumentParser
import Foundation
import LLaDAEngine

/// `llada infill`: fill the `[MASK]` / `[MASK*N]` holes of a text, bidirectionally, with the same
/// sampler as generate (`InfillText`, `LLaDAModel.generate(promptIDs:canvas:settings:observer:)`).
///
/// The text is the canvas: each literal piece tokenized, each hole as mask tokens. Without
/// `--prompt` it follows `<|startoftext|>` as a document of its own; with `--prompt` it is the
/// assistant's whole answer to that message under the chat template, followed by `<|eot_id|>`
/// and `--padding` `<|endoftext|>` as Instruct answers are in training (without the padding the
/// fixture model misfills: it has never seen an answer end at the sequence's end). One block
/// spans the whole canvas and one token is committed per step, unless --block-length / --steps
/// say otherwise.
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
        if let padding {
            guard prompt != nil else { throw LLaDAError("--padding applies only with --prompt (it follows the answer)") }
            guard (0...4096).contains(padding) else { throw LLaDAError("--padding must be between 0 and 4096 (got \(padding))") }
        }
        let infill = try InfillText(parsing: try readText())
        // Option errors before the model loads; the lengths are checked once the text is tokenized.
        _ = try sampling.settings(modelPath: modelOptions.model, chatTemplate: prompt != nil)
        // Holes alone beyond the model's length would build a huge canvas for nothing.
        let file = try modelOptions.open()
        let maxLength = file.config.maxSequenceLength
        guard infill.maskCount < maxLength else {
            throw LLaDAError("--text holds \(infill.maskCount) masked tokens; the canvas cannot exceed the model's max_sequence_length \(maxLength)")
        }
        let model = try modelOptions.load(file)
        var (canvas, holes) = infill.canvas(tokenizer: model.tokenizer, maskID: model.maskID)
        let promptIDs = try self.promptIDs(model)
        if prompt != nil { canvas += try answerEnd(model) }
        let settings = try self.settings(canvasLength: canvas.count, masks: infill.maskCount)
        let start = Date()
        let live = LiveGeneration(model: model, settings: settings, output: .none, visual: visual)
        let result = try Interruption.stoppable {
            try model.generate(promptIDs: promptIDs, canvas: canvas, settings: settings, observer: live.observer)
        }
        let seconds = Date().timeIntervalSince(start)
        live.finish()
        if live.interrupted, let signal = Interruption.signal {
            Llada.interrupted(signal, "after \(result.modelCalls) model calls, nothing printed")
        }
        let filled = try model.tokenizer.decode(result.outputIDs, skipSpecialTokens: true)
        if json {
            let fills = try holes.map { try model.tokenizer.decode(Array(result.outputIDs[$0]), skipSpecialTokens: true) }
            try printJSON(Output(prompt_ids: promptIDs, canvas_ids: canvas, output_ids: result.outputIDs, fills: fills,
                                 text: filled, model_calls: result.modelCalls, seconds: seconds))
        } else {
            print(filled)
        }
    }

    /// The chat-template prompt, or the BOS alone: the sampler needs a prompt, and a document
    /// starts with it.
    func promptIDs(_ model: LLaDAModel) throws -> [Int] {
        if let prompt { return try model.promptIDs(for: prompt, raw: false) }
        guard let bos = model.tokenizer.bosToken.flatMap({ model.tokenizer.id(forToken: $0) }) else {
            throw LLaDAError("the tokenizer has no BOS token to start the text with; give --prompt to fill an answer instead")
        }
        return [bos]
    }

    /// `<|eot_id|>` and the padding that follow an answer.
    func answerEnd(_ model: LLaDAModel) throws -> [Int] {
        guard let eot = model.endOfTurnID, let eos = model.eosID else {
            throw LLaDAError("the tokenizer lacks <|eot_id|> or an end-of-text token, which end an answer; leave out --prompt")
        }
        return [eot] + Array(repeating: eos, count: padding ?? 32)
    }

    /// One block over the whole canvas by default, and as many steps as holes (rounded up to a
    /// multiple of the block count) so each step commits about one token.
    func settings(canvasLength: Int, masks: Int) throws -> GenerationSettings {
        var settings = try sampling.settings(modelPath: modelOptions.model, chatTemplate: false)
        settings.genLength = canvasLength
        settings.blockLength = sampling.blockLength ?? canvasLength
        guard settings.blockLength > 0, canvasLength % settings.blockLength == 0 else {
            throw LLaDAError("--block-length \(settings.blockLength) must divide the canvas length: --text is \(canvasLength) tokens with its holes")
        }
        let blocks = canvasLength / settings.blockLength
        settings.steps = sampling.steps ?? min(canvasLength, (masks + blocks - 1) / blocks * blocks)
        return settings
    }

    func readText() throws -> String {
        guard text == "-" else { return text }
        guard let text = String(data: FileHandle.standardInput.readDataToEndOfFile(), encoding: .utf8) else {
            throw LLaDAError("the text on standard input is not valid UTF-8")
        }
        return text
    }
}
