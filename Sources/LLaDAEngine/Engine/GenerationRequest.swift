/// What a generation starts from.
public enum GenerationPrompt: Sendable, Equatable {
    /// One user message, through the chat template (Instruct models).
    case user(String)
    /// Text as it is, no template (Base models).
    case raw(String)
    /// A conversation through the chat template, ending with the assistant header.
    case messages([ChatMessage])
    /// Token ids as they are (a chat session's history, an infill prompt).
    case ids([Int])
}

extension GenerationPrompt {
    /// The prompt's token ids (`.user` and `.messages` through the family's chat template).
    public func ids(using tokenizer: Tokenizer, family: any ModelFamily = DenseLLaDAFamily()) throws -> [Int] {
        switch self {
        case .user(let text):
            return try GenerationPrompt.messages([ChatMessage(role: "user", content: text)]).ids(using: tokenizer, family: family)
        case .raw(let text): return tokenizer.encode(text, addSpecialTokens: true)
        case .messages(let messages):
            // generate.py encodes with `tokenizer(prompt)`, i.e. add_special_tokens=True: whatever
            // the post-processor adds is added here too (LLaDA's adds nothing).
            return tokenizer.encode(try family.chatTemplate(tokenizer: tokenizer).render(messages, addGenerationPrompt: true), addSpecialTokens: true)
        case .ids(let ids): return ids
        }
    }
}

/// One generation: the prompt, the sampler's settings and, for infilling, the canvas to start
/// from (gen_length ids, the mask id where a token is to be filled; nil is all masks).
public struct GenerationRequest: Sendable {
    public var prompt: GenerationPrompt
    public var settings: GenerationSettings
    public var canvas: [Int]?
    /// The longest answer in tokens (OpenAI's max_tokens): the answer text is cut there and the
    /// run ends as soon as the answer is decided (its end token, or this many tokens), since the
    /// rest of the canvas cannot change it. nil: the whole canvas runs.
    public var answerLimit: Int?

    public init(prompt: GenerationPrompt, settings: GenerationSettings = GenerationSettings(), canvas: [Int]? = nil,
                answerLimit: Int? = nil) {
        self.prompt = prompt
        self.settings = settings
        self.canvas = canvas
        self.answerLimit = answerLimit
    }
}

/// A request resolved against a model: prompt ids, the canvas, the settings with the engine's
/// defaults filled in and checked, and the memory the run needs (`ModelFile.plan` before any
/// weight is loaded, `LLaDAModel.plan` after; nil for a model built in memory). Run it with
/// `LLaDAModel.run` / `stream`.
public struct GenerationPlan: Sendable {
    public let promptIDs: [Int]
    public let canvas: [Int]
    public let settings: GenerationSettings
    public let memory: MemoryEstimate?
    /// The request's `answerLimit`.
    public let answerLimit: Int?
}

/// What a running generation reports, the one event type of every way to watch a run
/// (`LLaDAModel.run`'s callback, the `stream` AsyncSequence, the sampler itself).
public enum GenerationEvent: Sendable {
    /// After every model call and its commits.
    case step(SamplerStepEvent)
    /// A block became final, with the answer text it made certain ("" after the answer ended;
    /// the sampler leaves it empty and the engine fills it in).
    case blockDone(SamplerBlockEvent, text: String)
    /// The last event: the whole result.
    case done(GenerationResult)
}

/// How an answer ended.
public enum AnswerEnd: Sendable, Equatable {
    /// An end token (`<|endoftext|>`, `<|eot_id|>`) closed it.
    case endToken
    /// It reached the request's answer limit.
    case limit
    /// The canvas ran out first (or the run was stopped before either).
    case open
}
