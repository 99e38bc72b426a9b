/// The `post_processor` of a tokenizer.json, reduced to what it does to the ids of one sequence
/// encoded with add_special_tokens=True: ids put before and after it. (Offsets and type ids, the rest
/// of what tokenizers' post-processors compute, are not kept by this engine.)
struct PostProcessor: Sendable {
    private(set) var prefixIDs: [Int] = []
    private(set) var suffixIDs: [Int] = []

    static let supported = "TemplateProcessing, RobertaProcessing, BertProcessing, ByteLevel, none, Sequence of them"

    init(json: JSONValue?, fail: (String) -> LLaDAError) throws {
        guard let json, !json.isNull else { return }
        try add(json, fail: fail)
    }

    /// Applies `processor` after those added so far: it wraps their result, as in tokenizers'
    /// Sequence, where each processor gets the encoding the previous one produced.
    private mutating func add(_ processor: JSONValue, fail: (String) -> LLaDAError) throws {
        switch processor["type"]?.stringValue {
        case "ByteLevel":
            return  // trims offsets only
        case "Sequence":
            guard let steps = processor["processors"]?.arrayValue else {
                throw fail("post_processor Sequence lacks its \"processors\" array")
            }
            for step in steps { try add(step, fail: fail) }
        case "TemplateProcessing":
            let (prefix, suffix) = try Self.singleTemplate(processor, fail: fail)
            prefixIDs = prefix + prefixIDs
            suffixIDs += suffix
        case let type? where type == "RobertaProcessing" || type == "BertProcessing":
            // Both put cls before and sep after a single sequence.
            func token(_ key: String) throws -> Int {
                guard let pair = processor[key]?.arrayValue, pair.count == 2, pair[0].stringValue != nil,
                      let id = pair[1].integerValue else {
                    throw fail("post_processor \(type) needs \"\(key)\" as [token, id]")
                }
                return id
            }
            prefixIDs = [try token("cls")] + prefixIDs
            suffixIDs += [try token("sep")]
        default:
            throw fail("unsupported post_processor \(TokenizerDefinition.describe(processor)) (supported: \(Self.supported))")
        }
    }

    /// The ids of the special tokens before and after `$A` in the `single` template.
    private static func singleTemplate(_ processor: JSONValue, fail: (String) -> LLaDAError) throws -> ([Int], [Int]) {
        guard let items = processor["single"]?.arrayValue else {
            throw fail("post_processor TemplateProcessing lacks its \"single\" template")
        }
        var before: [Int] = [], after: [Int] = []
        var sawSequence = false
        for item in items {
            if let sequence = item["Sequence"] {
                guard sequence["id"]?.stringValue == "A", !sawSequence else {
                    throw fail("post_processor TemplateProcessing: the single template must hold Sequence A exactly once")
                }
                sawSequence = true
            } else if let name = item["SpecialToken"]?["id"]?.stringValue {
                guard let ids = processor["special_tokens"]?[name]?["ids"]?.arrayValue,
                      ids.allSatisfy({ $0.integerValue != nil }) else {
                    throw fail("post_processor TemplateProcessing: special token \(TokenizerDefinition.quote(name)) is missing from special_tokens or has no integer ids")
                }
                if sawSequence {
                    after += ids.map { $0.integerValue! }
                } else {
                    before += ids.map { $0.integerValue! }
                }
            } else {
                throw fail("post_processor TemplateProcessing: a single template item is neither a Sequence nor a SpecialToken")
            }
        }
        guard sawSequence else {
            throw fail("post_processor TemplateProcessing: the single template must hold Sequence A exactly once")
        }
        return (before, after)
    }
}
