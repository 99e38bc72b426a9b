import Foundation
import LLaDAEngine

/// Typed access to a JSON request body, with one 400 naming the field for every wrong type or
/// value (the OpenAI API's `param`). Unknown fields are ignored, as OpenAI-compatible servers do.
/// Parsed by the engine's strict JSON parser (depth-limited, fuzzed with the tokenizer files).
struct RequestFields {
    let value: JSONValue
    /// The body as received (the settings decode from it: `GenerationSettings.decode`).
    let json: Data

    init(json data: Data) throws {
        let parsed: JSONValue
        do {
            parsed = try TokenizerJSONParser.parse(data)
        } catch {
            throw APIError.badRequest("the request body is not valid JSON (\(error.message)): send one JSON object")
        }
        guard case .object = parsed else { throw APIError.badRequest("the request body must be a JSON object, not \(parsed.kindName)") }
        value = parsed
        json = data
    }

    init(_ value: JSONValue) {
        self.value = value
        json = Data()
    }

    /// The field, or nil when absent or null.
    func field(_ key: String) -> JSONValue? {
        guard let field = value[key] else { return nil }
        if case .null = field { return nil }
        return field
    }

    /// `model`, when given, must be the one this server serves (a 404 otherwise).
    func requireModel(_ modelID: String) throws {
        if let model = try string("model"), model != modelID {
            throw APIError(status: 404, "the model \(model) does not exist; this server serves \(modelID) (GET /v1/models)",
                           param: "model", code: "model_not_found")
        }
    }

    func string(_ key: String) throws -> String? {
        guard let field = field(key) else { return nil }
        guard case .string(let text) = field else { throw wrongType(key, "a string", field) }
        return text
    }

    func bool(_ key: String) throws -> Bool? {
        guard let field = field(key) else { return nil }
        guard case .bool(let flag) = field else { throw wrongType(key, "true or false", field) }
        return flag
    }

    func number(_ key: String) throws -> Double? {
        guard let field = field(key) else { return nil }
        switch field {
        case .integer(let n): return Double(n)
        case .double(let x) where x.isFinite: return x
        default: throw wrongType(key, "a number", field)
        }
    }

    func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let field = field(key) else { return nil }
        guard case .integer(let n) = field else { throw wrongType(key, "an integer", field) }
        guard range.contains(n) else {
            throw APIError.badRequest("\(key) must be between \(range.lowerBound) and \(range.upperBound) (got \(n))", param: key)
        }
        return n
    }

    /// `stop`: a string or an array of up to 4 strings, as OpenAI takes it.
    func stopStrings(_ key: String) throws -> [String] {
        guard let field = field(key) else { return [] }
        switch field {
        case .string(let single): return single.isEmpty ? [] : [single]
        case .array(let items) where items.count <= 4:
            return try items.map { item in
                guard case .string(let text) = item else { throw wrongType(key, "a string or an array of at most 4 strings", field) }
                return text
            }.filter { !$0.isEmpty }
        default: throw wrongType(key, "a string or an array of at most 4 strings", field)
        }
    }

    func object(_ key: String) throws -> RequestFields? {
        guard let field = field(key) else { return nil }
        guard case .object = field else { throw wrongType(key, "an object", field) }
        return RequestFields(field)
    }

    func array(_ key: String) throws -> [JSONValue]? {
        guard let field = field(key) else { return nil }
        guard case .array(let items) = field else { throw wrongType(key, "an array", field) }
        return items
    }

    private func wrongType(_ key: String, _ expected: String, _ got: JSONValue) -> APIError {
        APIError.badRequest("\(key) must be \(expected), not \(got.kindName)", param: key)
    }
}
