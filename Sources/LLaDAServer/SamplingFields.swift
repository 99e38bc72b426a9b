import Foundation
import LLaDAEngine

/// The sampler's own body fields, shared by completions and infill: each named as the engine
/// names the setting (temperature, top_p, seed, cfg_scale, position_temperature, threshold,
/// cache, refresh, remasking, schedule). Lengths and steps are each endpoint's own.
enum SamplingFields {
    static func apply(_ fields: RequestFields, to settings: inout GenerationSettings) throws {
        if let temperature = try fields.number("temperature") { settings.temperature = temperature }
        if let topP = try fields.number("top_p") { settings.topP = topP == 1 ? nil : topP }
        if let seed = try fields.integer("seed", in: 0...Int.max) { settings.seed = UInt64(seed) }
        if let cfg = try fields.number("cfg_scale") { settings.cfgScale = cfg }
        if let tau = try fields.number("position_temperature") { settings.positionTemperature = tau }
        // Present and null: no threshold (one token per step), whatever the server's default.
        if fields.value["threshold"] != nil { settings.threshold = try fields.number("threshold") }
        if let name = try fields.string("cache") {
            guard let cache = CacheMode(rawValue: name) else { throw oneOf("cache", CacheMode.allCases.map(\.rawValue), name) }
            settings.cache = cache
        }
        if let name = try fields.string("refresh") {
            guard let refresh = CacheRefresh(name: name) else { throw oneOf("refresh", CacheRefresh.nameForms, name) }
            settings.refresh = refresh
        }
        if let name = try fields.string("remasking") {
            guard let remasking = Remasking(rawValue: name) else { throw oneOf("remasking", Remasking.allCases.map(\.rawValue), name) }
            settings.remasking = remasking
        }
        if let name = try fields.string("schedule") {
            guard let schedule = TransferSchedule(rawValue: name) else {
                throw oneOf("schedule", TransferSchedule.allCases.map(\.rawValue), name)
            }
            settings.schedule = schedule
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

    private static func oneOf(_ field: String, _ names: [String], _ got: String) -> APIError {
        APIError.badRequest("\(field) must be one of \(names.joined(separator: ", ")) (got \(got))", param: field)
    }
}
