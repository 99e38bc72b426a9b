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
        ["max_tokens": settings.genLength, "steps": settings.steps.map { $0 as Any } ?? NSNull(),
         "steps_per_block": settings.stepsPerBlock.map { $0 as Any } ?? NSNull(), "block_length": settings.blockLength,
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
