import LLaDAEngine

/// A request the engine's plan refused, as the API answers it: by the error's case, never its text.
enum PlanRefusal {
    /// `naming` spells a setting as the endpoint's field; `promptField` is where the prompt is.
    static func apiError(_ error: PlanError, naming field: (String) -> String, promptField: String,
                         context: ((Int, Int, Int) -> String)? = nil) -> APIError {
        switch error {
        case .invalid(let setting, let reason):
            return APIError.badRequest(reason.message(naming: field), param: field(setting))
        case .contextExceeded(let prompt, let generation, let limit):
            let message = context?(prompt, generation, limit) ?? error.message.message(naming: field)
            return APIError(status: 400, message, param: promptField, code: "context_length_exceeded")
        case .emptyPrompt, .tokenOutsideVocabulary:
            return APIError.badRequest(error.message.message(naming: field), param: promptField)
        }
    }
}
