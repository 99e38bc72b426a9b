import LLaDAEngine

/// A `/v1/chat/completions` or `/v1/completions` body translated into the engine's terms.
///
/// `max_tokens` (chat also `max_completion_tokens`) is the longest answer: gen_length is
/// max_tokens rounded up to a whole number of blocks, block_length is the server's (default 32)
/// or max_tokens when smaller, and steps keep the server's tokens per step (one by default). The
/// answer is cut at max_tokens tokens. LLaDA's own settings are extra body fields named as the
/// engine names them: steps, block_length and `SamplingFields`.
struct CompletionRequest: Sendable {
    enum Endpoint: Sendable { case chat, completion }

    let endpoint: Endpoint
    let prompt: GenerationPrompt
    let settings: GenerationSettings
    let maxTokens: Int
    let stream: Bool
    let includeUsage: Bool
    let stops: [String]
    /// Opt-in `llada.step` SSE events with every step's commits (docs/server.md).
    let diffusionEvents: Bool

    static let maxTokensLimit = 1 << 16

    init(_ fields: RequestFields, endpoint: Endpoint, defaults: GenerationSettings, modelID: String) throws {
        self.endpoint = endpoint
        try UnsupportedFields.check(fields)
        try fields.requireModel(modelID)
        switch endpoint {
        case .chat: prompt = .messages(try Self.messages(fields))
        case .completion:
            guard let text = try fields.string("prompt") else {
                throw APIError.badRequest("prompt is required: the text to continue (a string)", param: "prompt")
            }
            prompt = .raw(text)
        }
        stream = try fields.bool("stream") ?? false
        let streamOptions = try fields.object("stream_options")
        includeUsage = try streamOptions?.bool("include_usage") ?? false
        diffusionEvents = try fields.bool("llada_events") ?? false
        stops = try fields.stopStrings("stop")
        if let n = try fields.integer("n", in: 1...Int.max), n != 1 {
            throw APIError.badRequest("n must be 1: one choice per request", param: "n")
        }

        // The OpenAI fields mapped onto the engine's settings in this one place; every other
        // setting decodes from the body as the engine names it.
        var settings = try SamplingFields.decode(fields, over: defaults, naming: Self.field)
        let range = 1...Self.maxTokensLimit
        maxTokens = try fields.integer("max_completion_tokens", in: range) ?? fields.integer("max_tokens", in: range) ?? defaults.genLength
        let block = try fields.integer("block_length", in: range) ?? min(defaults.blockLength, maxTokens)
        settings.blockLength = block
        settings.genLength = (maxTokens + block - 1) / block * block
        let stepsGiven = try fields.integer("steps", in: range) != nil || fields.integer("steps_per_block", in: range) != nil
        if !stepsGiven, defaults.stepsPerBlock == nil, let total = defaults.steps {
            // The server's --steps as tokens per step, in whole steps per block.
            let blocks = settings.blockCount
            let perBlock = max(1, (settings.genLength * total / max(defaults.genLength, 1) + blocks - 1) / blocks)
            settings.steps = min(settings.genLength, perBlock * blocks)
        }
        self.settings = settings
    }

    /// The prompt's field.
    var promptField: String { endpoint == .chat ? "messages" : "prompt" }

    /// A plan refusal as this API answers it.
    func refusal(_ error: PlanError) -> APIError {
        PlanRefusal.apiError(error, naming: Self.field, promptField: promptField) { prompt, generation, limit in
            let asked = generation == maxTokens ? "max_tokens \(maxTokens)" : "max_tokens \(maxTokens) (\(generation) in whole blocks of \(settings.blockLength))"
            return "the prompt (\(prompt) tokens) + \(asked) exceed the model's context of \(limit) tokens; shorten the prompt or lower max_tokens"
        }
    }

    /// The engine's setting names as this API's fields.
    static func field(_ setting: String) -> String { setting == "gen_length" ? "max_tokens" : setting }

    /// `messages`: system / user / assistant turns, content a string or text parts.
    static func messages(_ fields: RequestFields) throws -> [ChatMessage] {
        guard let items = try fields.array("messages") else {
            throw APIError.badRequest("messages is required: an array of {role, content}", param: "messages")
        }
        guard !items.isEmpty else { throw APIError.badRequest("messages must hold at least one message", param: "messages") }
        return try items.enumerated().map { index, item in
            let name = "messages[\(index)]"
            guard case .object = item else { throw APIError.badRequest("\(name) must be an object", param: name) }
            let message = RequestFields(item)
            guard let role = try? message.string("role"), ["system", "user", "assistant"].contains(role) else {
                throw APIError.badRequest("\(name).role must be system, user or assistant", param: "\(name).role")
            }
            return ChatMessage(role: role, content: try content(message, name: "\(name).content"))
        }
    }

    private static func content(_ message: RequestFields, name: String) throws -> String {
        switch message.field("content") {
        case .string(let text): return text
        case .array(let parts):
            return try parts.map { part in
                guard case .object = part, case .string("text") = part["type"], case .string(let text) = part["text"] else {
                    throw APIError.badRequest("\(name) parts must be {\"type\": \"text\", \"text\": …}", param: name)
                }
                return text
            }.joined()
        default:
            throw APIError.badRequest("\(name) must be a string or an array of text parts", param: name)
        }
    }
}
