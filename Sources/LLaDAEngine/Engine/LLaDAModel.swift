import Foundation

/// A loaded model ready to generate: config, tokenizer and forward pass, from a Hugging Face
/// checkpoint directory. This is the library's entry point; the CLI is a thin layer over it.
public final class LLaDAModel: @unchecked Sendable {
    public let config: LLaDAConfig
    public let tokenizer: Tokenizer
    public let transformer: Transformer
    /// Seconds spent loading and converting the weights.
    public let loadSeconds: Double

    public init(config: LLaDAConfig, tokenizer: Tokenizer, weights: ModelWeights, loadSeconds: Double) {
        self.config = config
        self.tokenizer = tokenizer
        self.transformer = Transformer(weights: weights)
        self.loadSeconds = loadSeconds
    }

    /// Loads `path`: a packed file written by llada-quantize, or a Hugging Face checkpoint
    /// directory (config.json, safetensors, tokenizer.json), whose weights run in f32. To check
    /// prompt and memory before the weights, open a `ModelFile` and load from it.
    public static func load(path: String, threads: Int? = nil, backend: LinearBackend = .kernels) throws -> LLaDAModel {
        try ModelFile.open(path).load(backend: backend, threads: threads)
    }

    public var maskID: Int { config.maskID }
    public var eosID: Int? { tokenizer.eosToken.flatMap { tokenizer.id(forToken: $0) } ?? config.eosTokenID }
    public var endOfTurnID: Int? { tokenizer.id(forToken: ChatTemplate.endOfTurn) }

    /// Token ids of a prompt: the chat template around `text`, or the text alone when `raw`.
    public func promptIDs(for text: String, raw: Bool) throws -> [Int] {
        try Self.promptIDs(for: text, raw: raw, tokenizer: tokenizer)
    }

    /// The same with only a tokenizer, before the weights are loaded (for the memory check).
    /// `generate.py` encodes with `tokenizer(prompt)`, i.e. `add_special_tokens=True`: whatever the
    /// tokenizer's post-processor adds is added here too (LLaDA's adds nothing).
    public static func promptIDs(for text: String, raw: Bool, tokenizer: Tokenizer) throws -> [Int] {
        if raw { return tokenizer.encode(text, addSpecialTokens: true) }
        return tokenizer.encode(try ChatTemplate(tokenizer: tokenizer).render([ChatMessage(role: "user", content: text)]),
                                addSpecialTokens: true)
    }

    public func promptIDs(for messages: [ChatMessage]) throws -> [Int] {
        try promptIDs(for: .messages(messages))
    }

    /// Token ids of a prompt (`.user` and `.messages` through the chat template).
    public func promptIDs(for prompt: GenerationPrompt) throws -> [Int] {
        try Self.promptIDs(for: prompt, tokenizer: tokenizer)
    }

    static func promptIDs(for prompt: GenerationPrompt, tokenizer: Tokenizer) throws -> [Int] {
        switch prompt {
        case .user(let text): return try promptIDs(for: text, raw: false, tokenizer: tokenizer)
        case .raw(let text): return try promptIDs(for: text, raw: true, tokenizer: tokenizer)
        case .messages(let messages):
            return tokenizer.encode(try ChatTemplate(tokenizer: tokenizer).render(messages), addSpecialTokens: true)
        case .ids(let ids): return ids
        }
    }

    /// Runs one generation on the calling thread. `onEvent` hears every step and finished block
    /// (with the answer text it made certain); setting `stop` ends the run within the current
    /// step. The model may run any number of these at once from different threads: the weights
    /// are only read, and each run has its own canvas, cache and buffers.
    public func generate(_ request: GenerationRequest, stop: StopFlag? = nil,
                         onEvent: ((GenerationEvent) -> Void)? = nil) throws -> GenerationOutput {
        let start = Date()
        let ids = try promptIDs(for: request.prompt)
        var answer = AnswerStream(model: self)
        var text = ""
        let blockCount = request.settings.blockCount
        let observer: SamplerObserver = { event in
            switch event {
            case .step(let step):
                onEvent?(.step(step))
            case .blockDone(let block):
                let delta = (try? answer.append(block.ids, final: block.endsGeneration || block.block == blockCount - 1)) ?? ""
                text += delta
                onEvent?(.blockDone(block, text: delta))
            }
            return .proceed
        }
        let result = try generate(promptIDs: ids, canvas: request.canvas ?? Array(repeating: maskID, count: max(0, request.settings.genLength)),
                                  settings: request.settings, observer: observer, stop: stop)
        if !result.stopped { text = try answerText(result.outputIDs) }
        return GenerationOutput(result: result, text: text, seconds: Date().timeIntervalSince(start))
    }

    /// The same as an `AsyncSequence` of events ending with `.done`, run on a thread of its own;
    /// cancelling the consuming task stops it (GenerationStream.swift), and so does setting
    /// `stop` (a handle the caller keeps, e.g. for a shutdown).
    public func stream(_ request: GenerationRequest, stop: StopFlag = StopFlag()) -> GenerationStream {
        GenerationStream(model: self, request: request, stop: stop)
    }

    /// Runs the sampler after validating the settings against this prompt and model.
    /// `observer` hears every step and finished block and may stop the run (SamplerEvents.swift).
    public func generate(promptIDs: [Int], settings: GenerationSettings,
                         observer: SamplerObserver? = nil, stop: StopFlag? = nil) throws -> GenerationResult {
        try generate(promptIDs: promptIDs, canvas: Array(repeating: maskID, count: max(0, settings.genLength)),
                     settings: settings, observer: observer, stop: stop)
    }

    /// Fills the mask ids of `canvas` (gen_length ids after the prompt) and keeps its other ids:
    /// infilling with the same sampler (`Sampler.generate(prompt:canvas:model:observer:)`).
    public func generate(promptIDs: [Int], canvas: [Int], settings: GenerationSettings,
                         observer: SamplerObserver? = nil, stop: StopFlag? = nil) throws -> GenerationResult {
        try settings.validate(promptLength: promptIDs.count, maxSequenceLength: config.maxSequenceLength)
        guard canvas.count == settings.genLength else {
            throw LLaDAError("the canvas holds \(canvas.count) tokens but \(setting("gen_length")) is \(settings.genLength)")
        }
        if let bad = (promptIDs + canvas).first(where: { $0 < 0 || $0 >= config.paddedVocabSize }) {
            throw LLaDAError("prompt token id \(bad) is outside the model's vocabulary (0..<\(config.paddedVocabSize))")
        }
        try checkSpecialTokens(for: settings)
        // Logit rows past the tokenizer (LLaDA pads the vocabulary) can never be decoded.
        let limit = tokenizer.vocabularySize < config.paddedVocabSize ? tokenizer.vocabularySize : nil
        let sampler = Sampler(settings: settings, maskID: maskID, eosID: eosID, eotID: endOfTurnID, tokenLimit: limit)
        return sampler.generate(prompt: promptIDs, canvas: canvas, model: transformer, observer: observer, stop: stop)
    }

    /// The EOS and end-of-turn ids the options rely on exist, and EOS (which early stop writes
    /// into the canvas) is a token of the model.
    func checkSpecialTokens(for settings: GenerationSettings) throws {
        if settings.logitsEOSInf && eosID == nil {
            throw LLaDAError("\(setting("logits_eos_inf")) needs an end-of-text token, but the tokenizer has no eos_token and config.json no eos_token_id")
        }
        if settings.confidenceEOSEOTInf && endOfTurnID == nil {
            throw LLaDAError("\(setting("confidence_eos_eot_inf")) needs the tokenizer's \(ChatTemplate.endOfTurn) token, which it lacks")
        }
        if settings.earlyStop || settings.logitsEOSInf, let eos = eosID, eos < 0 || eos >= config.paddedVocabSize {
            throw LLaDAError("the end-of-text token id \(eos) (tokenizer eos_token or config.json eos_token_id) is outside the model's vocabulary (0..<\(config.paddedVocabSize)): the tokenizer does not match the model")
        }
    }

    /// The answer: generated ids up to the first EOS or end-of-turn, decoded without specials.
    public func answerText(_ outputIDs: [Int]) throws -> String {
        let stops = Set([eosID, endOfTurnID].compactMap { $0 })
        let end = outputIDs.firstIndex(where: { stops.contains($0) }) ?? outputIDs.count
        return try tokenizer.decode(Array(outputIDs[..<end]), skipSpecialTokens: true)
    }
}
