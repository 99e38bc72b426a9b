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

/// One generation: the prompt, the sampler's settings and, for infilling, the canvas to start
/// from (gen_length ids, the mask id where a token is to be filled; nil is all masks).
public struct GenerationRequest: Sendable {
    public var prompt: GenerationPrompt
    public var settings: GenerationSettings
    public var canvas: [Int]?

    public init(prompt: GenerationPrompt, settings: GenerationSettings = GenerationSettings(), canvas: [Int]? = nil) {
        self.prompt = prompt
        self.settings = settings
        self.canvas = canvas
    }
}

/// A request resolved against a model file: prompt ids, the canvas, validated settings and the
/// memory the run needs, all before any weight is loaded (`ModelFile.plan`).
public struct GenerationPlan: Sendable {
    public let promptIDs: [Int]
    public let canvas: [Int]
    public let settings: GenerationSettings
    public let memory: MemoryEstimate
}

/// What a running generation reports (`LLaDAModel.generate(_:stop:onEvent:)`, `stream`).
public enum GenerationEvent: Sendable {
    /// After every model call and its commits.
    case step(SamplerStepEvent)
    /// A block became final, with the answer text it made certain ("" after the answer ended).
    case blockDone(SamplerBlockEvent, text: String)
    /// The last event: the whole result.
    case done(GenerationOutput)
}

/// The outcome of a generation with its answer text.
public struct GenerationOutput: Sendable {
    public let result: GenerationResult
    /// The answer: generated ids up to the first end token, decoded without specials (with
    /// `stopped`, the text of the blocks finished before the stop).
    public let text: String
    public let seconds: Double
    /// True when the stop flag (or a cancelled stream) ended it before the canvas was complete.
    public var stopped: Bool { result.stopped }
}
