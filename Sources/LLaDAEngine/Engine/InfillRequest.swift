/// Infilling as a generation: the text with holes is the canvas, filled bidirectionally by the
/// same sampler as generate.
///
/// Without `answering` the text follows `<|startoftext|>` as a document of its own; with it the
/// text is the assistant's whole answer to that message under the chat template, followed by
/// `<|eot_id|>` and `padding` `<|endoftext|>` as Instruct answers are in training (without the
/// padding the fixture model misfills: it has never seen an answer end at the sequence's end).
/// One block spans the whole canvas and one token is committed per step unless `blockLength` /
/// `steps` say otherwise.
public struct InfillRequest: Sendable {
    public var text: InfillText
    public var answering: String?
    public var padding: Int
    public var blockLength: Int?
    public var steps: Int?

    public static let defaultPadding = 32
    public static let paddingRange = 0...4096

    public init(text: InfillText, answering: String? = nil, padding: Int? = nil, blockLength: Int? = nil, steps: Int? = nil) throws {
        if let padding {
            guard answering != nil else { throw PlanError.invalid("padding", "\(setting("padding")) applies only with \(setting("prompt")) (it follows the answer)") }
            guard Self.paddingRange.contains(padding) else {
                throw PlanError.invalid("padding", "\(setting("padding")) must be between 0 and 4096 (got \(padding))")
            }
        }
        self.text = text
        self.answering = answering
        self.padding = padding ?? Self.defaultPadding
        self.blockLength = blockLength
        self.steps = steps
    }

    /// Holes alone beyond the model's length would build a huge canvas for nothing: checked
    /// before the weights are loaded.
    public func check(maxSequenceLength: Int) throws {
        guard text.maskCount < maxSequenceLength else {
            throw PlanError.invalid("text", "\(setting("text")) holds \(text.maskCount) masked tokens; the canvas cannot exceed the model's max_sequence_length \(maxSequenceLength)")
        }
    }

    /// The generation that fills the holes, with the holes' ranges in the generated part.
    /// `base` gives every other setting; gen_length, block_length and steps come from the text.
    public func generation(for model: LLaDAModel, base: GenerationSettings) throws -> (request: GenerationRequest, holes: [Range<Int>]) {
        try check(maxSequenceLength: model.shape.maxSequenceLength)
        var (canvas, holes) = text.canvas(tokenizer: model.tokenizer, maskID: model.maskID)
        let prompt = try promptIDs(model)
        if answering != nil { canvas += try answerEnd(model) }
        var settings = base
        settings.genLength = canvas.count
        settings.blockLength = blockLength ?? canvas.count
        // Dense blocks tile the canvas; block-causal ones are cut from position 0 (any length).
        guard settings.blockLength > 0, model.family.attention == .blockCausal || canvas.count % settings.blockLength == 0 else {
            throw PlanError.invalid("block_length", "\(setting("block_length")) \(settings.blockLength) must divide the canvas length: \(setting("text")) is \(canvas.count) tokens with its holes")
        }
        // As many steps as holes (rounded up to a whole number per block): about one token per step.
        let blocks = (canvas.count + settings.blockLength - 1) / settings.blockLength
        if let steps { settings.steps = steps } else {
            settings.stepsPerBlock = min(settings.blockLength, (text.maskCount + blocks - 1) / blocks)
        }
        // An answer is padded like a chat answer; a document is not.
        settings.earlyStop = settings.earlyStop ?? (answering != nil)
        return (GenerationRequest(prompt: .ids(prompt), settings: settings, canvas: canvas), holes)
    }

    /// The chat-template prompt, or the BOS alone: the sampler needs a prompt, and a document
    /// starts with it.
    func promptIDs(_ model: LLaDAModel) throws -> [Int] {
        if let answering { return try model.promptIDs(for: .user(answering)) }
        guard let bos = model.tokenizer.bosToken.flatMap({ model.tokenizer.id(forToken: $0) }) else {
            throw PlanError.invalid("prompt", "the tokenizer has no BOS token to start the text with; give \(setting("prompt")) to fill an answer instead")
        }
        return [bos]
    }

    /// `<|eot_id|>` and the padding that follow an answer.
    func answerEnd(_ model: LLaDAModel) throws -> [Int] {
        guard let eot = model.endOfTurnID, let eos = model.eosID else {
            throw PlanError.invalid("prompt", "the tokenizer lacks <|eot_id|> or an end-of-text token, which end an answer; leave out \(setting("prompt"))")
        }
        return [eot] + Array(repeating: eos, count: padding)
    }
}
