import LLaDAEngine

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
