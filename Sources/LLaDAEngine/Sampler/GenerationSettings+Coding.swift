import Foundation

/// The one way settings are read from names and values: the server's JSON bodies, chat's
/// `/settings name=value` and the CLI's flags all decode into `GenerationSettings` here, under
/// one set of snake_case names, over a base (the defaults a frontend starts from). A field that
/// is absent keeps the base's value; `null` clears an optional one (`steps`, `steps_per_block`, `threshold`, `top_k`,
/// `top_p`, `early_stop`) or sets `cache` back to the model's default. A wrong type or name is
/// `PlanError.invalid` naming the field.
extension GenerationSettings: Codable {
    public enum CodingKeys: String, CodingKey, CaseIterable, Sendable {
        case genLength = "gen_length", steps, stepsPerBlock = "steps_per_block", blockLength = "block_length", temperature, cfgScale = "cfg_scale", remasking,
             seed, logitsEOSInf = "logits_eos_inf", confidenceEOSEOTInf = "confidence_eos_eot_inf", cache, refresh, threshold,
             earlyStop = "early_stop", kvType = "kv_type", schedule, topK = "top_k", topP = "top_p",
             positionTemperature = "position_temperature", remaskCommitted = "remask_committed",
             remaskThreshold = "remask_threshold", remaskMax = "remask_max", remaskBudget = "remask_budget"
    }

    /// Every field name, in declaration order.
    public static var fieldNames: [String] { CodingKeys.allCases.map(\.rawValue) }

    /// Decodes `json` (one object) over `base`.
    public static func decode(json: Data, over base: GenerationSettings = GenerationSettings()) throws -> GenerationSettings {
        let decoder = JSONDecoder()
        decoder.userInfo[baseKey] = base
        do {
            return try decoder.decode(GenerationSettings.self, from: json)
        } catch let error as PlanError {
            throw error
        } catch DecodingError.typeMismatch(_, let context), DecodingError.dataCorrupted(let context),
                DecodingError.valueNotFound(_, let context) {
            guard let key = context.codingPath.first?.stringValue else { throw PlanError.invalid("settings", "the settings must be one JSON object") }
            throw PlanError.invalid(key, "\(setting(key)) must be \(Self.expected(key))")
        }
    }

    /// Decodes `fields` (a field name and its JSON value each) over `base`.
    public static func decode(fields: [(name: String, value: Any)], over base: GenerationSettings = GenerationSettings()) throws -> GenerationSettings {
        var object: [String: Any] = [:]
        for (name, value) in fields {
            // JSON has no NaN or infinity: refused here, by name, rather than by the serializer.
            if let number = value as? Double, !number.isFinite {
                throw PlanError.invalid(name, "\(setting(name)) must be a finite number (got \(number))")
            }
            object[name] = value
        }
        return try decode(json: try JSONSerialization.data(withJSONObject: object), over: base)
    }

    static let baseKey = CodingUserInfoKey(rawValue: "llada.settings.base")!

    public init(from decoder: Decoder) throws {
        self = decoder.userInfo[Self.baseKey] as? GenerationSettings ?? GenerationSettings()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, _ type: T.Type) throws -> T? { try c.decodeIfPresent(T.self, forKey: key) }
        func present(_ key: CodingKeys) -> Bool { c.contains(key) }
        func isNull(_ key: CodingKeys) throws -> Bool { try c.contains(key) && c.decodeNil(forKey: key) }
        func named<T>(_ key: CodingKeys, _ parse: (String) -> T?, _ names: [String]) throws -> T? {
            guard let name = try value(key, String.self) else { return nil }
            guard let parsed = parse(name) else {
                throw PlanError.invalid(key.rawValue, "\(setting(key.rawValue)) must be one of \(names.joined(separator: ", ")) (got \(name))")
            }
            return parsed
        }

        if let v = try value(.genLength, Int.self) { genLength = v }
        if present(.steps) { steps = try value(.steps, Int.self) }
        if present(.stepsPerBlock) { stepsPerBlock = try value(.stepsPerBlock, Int.self) }
        if let v = try value(.blockLength, Int.self) { blockLength = v }
        if let v = try value(.temperature, Double.self) { temperature = v }
        if let v = try value(.cfgScale, Double.self) { cfgScale = v }
        if let v = try named(.remasking, Remasking.init(rawValue:), Remasking.allCases.map(\.rawValue)) { remasking = v }
        if let v = try value(.seed, UInt64.self) { seed = v }
        if let v = try value(.logitsEOSInf, Bool.self) { logitsEOSInf = v }
        if let v = try value(.confidenceEOSEOTInf, Bool.self) { confidenceEOSEOTInf = v }
        if try isNull(.cache) { cache = .automatic }
        if let v = try named(.cache, { CacheMode(rawValue: $0) }, CacheMode.allCases.map(\.rawValue)) { cache = v }
        if let v = try named(.refresh, CacheRefresh.init(name:), CacheRefresh.nameForms) { refresh = v }
        if present(.threshold) { threshold = try value(.threshold, Double.self) }
        if present(.earlyStop) { earlyStop = try value(.earlyStop, Bool.self) }
        if let v = try named(.kvType, KVCache.Storage.init(rawValue:), ["f16", "f32"]) { kvStorage = v }
        if let v = try named(.schedule, TransferSchedule.init(rawValue:), TransferSchedule.allCases.map(\.rawValue)) { schedule = v }
        if present(.topK) { topK = try value(.topK, Int.self) }
        if present(.topP) { topP = try value(.topP, Double.self) }
        if let v = try value(.positionTemperature, Double.self) { positionTemperature = v }
        if let on = try value(.remaskCommitted, Bool.self) { remaskCommitted = on ? remaskCommitted ?? CommittedRemasking() : nil }
        if var remask = remaskCommitted {
            if let v = try value(.remaskThreshold, Double.self) { remask.threshold = v }
            if let v = try value(.remaskMax, Int.self) { remask.perStep = v }
            if let v = try value(.remaskBudget, Int.self) { remask.budgetPerBlock = v }
            remaskCommitted = remask
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(genLength, forKey: .genLength)
        try c.encode(steps, forKey: .steps)
        try c.encode(stepsPerBlock, forKey: .stepsPerBlock)
        try c.encode(blockLength, forKey: .blockLength)
        try c.encode(temperature, forKey: .temperature)
        try c.encode(cfgScale, forKey: .cfgScale)
        try c.encode(remasking.rawValue, forKey: .remasking)
        try c.encode(seed, forKey: .seed)
        try c.encode(logitsEOSInf, forKey: .logitsEOSInf)
        try c.encode(confidenceEOSEOTInf, forKey: .confidenceEOSEOTInf)
        try c.encode(cache.rawValue, forKey: .cache)
        try c.encode(refresh.description, forKey: .refresh)
        try c.encode(threshold, forKey: .threshold)
        try c.encode(earlyStop, forKey: .earlyStop)
        try c.encode(kvStorage.rawValue, forKey: .kvType)
        try c.encode(schedule.rawValue, forKey: .schedule)
        try c.encode(topK, forKey: .topK)
        try c.encode(topP, forKey: .topP)
        try c.encode(positionTemperature, forKey: .positionTemperature)
        try c.encode(remaskCommitted != nil, forKey: .remaskCommitted)
        if let remask = remaskCommitted {
            try c.encode(remask.threshold, forKey: .remaskThreshold)
            try c.encode(remask.perStep, forKey: .remaskMax)
            try c.encode(remask.budgetPerBlock, forKey: .remaskBudget)
        }
    }

    /// What a field's value must be, for the message on a wrong type.
    static func expected(_ key: String) -> String {
        switch CodingKeys(rawValue: key) {
        case .genLength, .steps, .stepsPerBlock, .blockLength, .topK, .remaskMax, .remaskBudget: "an integer"
        case .seed: "an integer ≥ 0"
        case .temperature, .cfgScale, .threshold, .topP, .positionTemperature, .remaskThreshold: "a number"
        case .logitsEOSInf, .confidenceEOSEOTInf, .earlyStop, .remaskCommitted: "true or false"
        default: "a string"
        }
    }
}
