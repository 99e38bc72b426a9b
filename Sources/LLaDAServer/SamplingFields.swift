import Foundation
import LLaDAEngine

/// The sampler's body fields, shared by completions and infill, named as the engine names each
/// setting and decoded the one way settings are decoded (`GenerationSettings.decode`). Lengths
/// and steps are each endpoint's own (max_tokens; the infill text), mapped before.
enum SamplingFields {
    /// `fields` decoded over `base`; a wrong value is a 400 naming its field.
    static func decode(_ fields: RequestFields, over base: GenerationSettings, naming field: (String) -> String) throws -> GenerationSettings {
        do {
            return try GenerationSettings.decode(json: fields.json, over: base)
        } catch let error as PlanError {
            throw PlanRefusal.apiError(error, naming: field, promptField: "messages")
        }
    }

    /// The defaults a client starts from (GET /v1/models), in the fields' names.
    static func defaults(_ settings: GenerationSettings) -> [String: Any] {
        ["max_tokens": settings.genLength, "steps": settings.steps, "block_length": settings.blockLength,
         "cache": settings.cache.rawValue, "refresh": settings.refresh.description, "threshold": settings.threshold.map { $0 as Any } ?? NSNull(),
         "temperature": settings.temperature, "remasking": settings.remasking.rawValue, "schedule": settings.schedule.rawValue,
         "position_temperature": settings.positionTemperature, "cfg_scale": settings.cfgScale]
    }

    /// The values each named setting takes.
    static let choices: [String: [String]] = [
        "cache": CacheMode.allCases.map(\.rawValue), "remasking": Remasking.allCases.map(\.rawValue),
        "schedule": TransferSchedule.allCases.map(\.rawValue),
    ]
}

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

/// OpenAI fields this server does not implement: refused with a 400 naming the field, except the
/// forms clients send by default, which ask for nothing the server does not do.
enum UnsupportedFields {
    static func check(_ fields: RequestFields) throws {
        for (name, harmless) in refused {
            guard let value = fields.field(name), !harmless(value) else { continue }
            throw APIError.badRequest("\(name) is not supported by this server (LLaDA answers with text only); leave it out", param: name)
        }
    }

    static let refused: [(String, @Sendable (JSONValue) -> Bool)] = [
        ("logprobs", { bool($0) == false }),
        ("top_logprobs", { _ in false }),
        ("tools", { if case .array(let items) = $0 { items.isEmpty } else { false } }),
        ("tool_choice", { string($0) == "none" }),
        ("functions", { if case .array(let items) = $0 { items.isEmpty } else { false } }),
        ("function_call", { string($0) == "none" }),
        ("parallel_tool_calls", { _ in true }),
        ("response_format", { $0["type"].flatMap(string) == "text" }),
        ("logit_bias", { if case .object(let members) = $0 { members.isEmpty } else { false } }),
        ("presence_penalty", { isZero($0) }),
        ("frequency_penalty", { isZero($0) }),
        ("audio", { _ in false }),
        ("modalities", { if case .array(let items) = $0 { items.allSatisfy { string($0) == "text" } } else { false } }),
        ("prediction", { _ in false }),
        ("suffix", { _ in false }),
        ("echo", { bool($0) == false }),
        ("best_of", { if case .integer(1) = $0 { true } else { false } }),
    ]

    private static func bool(_ value: JSONValue) -> Bool? { if case .bool(let b) = value { b } else { nil } }
    private static func string(_ value: JSONValue) -> String? { if case .string(let s) = value { s } else { nil } }

    private static func isZero(_ value: JSONValue) -> Bool {
        switch value {
        case .integer(let n): n == 0
        case .double(let x): x == 0
        default: false
        }
    }
}
