/// Why a request cannot run, found when it is planned (before any weight is touched). Frontends
/// map the case, never the text: the CLI prints `message` with its flags' names, the server
/// picks a status, an OpenAI `code` and the field at fault from it.
public enum PlanError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A setting's value, alone or against the other settings or what the model has.
    case invalid(setting: String, reason: LLaDAError)
    /// The prompt and the generated tokens do not fit the model's context.
    case contextExceeded(prompt: Int, generation: Int, limit: Int)
    /// No prompt token to condition on.
    case emptyPrompt
    /// A prompt or canvas id the model has no embedding for.
    case tokenOutsideVocabulary(id: Int, vocabularySize: Int)

    /// `invalid` with its reason written in the library's words (`setting(_:)` marks the names).
    static func invalid(_ setting: String, _ reason: String) -> PlanError {
        .invalid(setting: setting, reason: LLaDAError(reason))
    }

    /// The one-line message, settings named as the library names them (`message.message(naming:)`
    /// renders them as a frontend's flags or fields).
    public var message: LLaDAError {
        switch self {
        case .invalid(_, let reason):
            return reason
        case .contextExceeded(let prompt, let generation, let limit):
            let gen = setting("gen_length")
            if generation >= limit {
                return LLaDAError("\(gen) \(generation) leaves no room for the prompt in the model's max_sequence_length \(limit); lower \(gen)")
            }
            return LLaDAError("prompt (\(prompt) tokens) + \(gen) \(generation) exceeds the model's max_sequence_length \(limit); shorten the prompt to at most \(max(0, limit - generation)) tokens or lower \(gen)")
        case .emptyPrompt:
            return LLaDAError("the prompt is empty: give some text (or use the chat template)")
        case .tokenOutsideVocabulary(let id, let size):
            return LLaDAError("prompt token id \(id) is outside the model's vocabulary (0..<\(size))")
        }
    }

    public var description: String { message.message }
}
