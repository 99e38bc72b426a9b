import Foundation

/// The contents of a tokenizer.json, checked against what this engine implements: byte-level BPE with
/// an optional NFC normaliser, LLaDA's split pattern and the ByteLevel decoder. Anything else is
/// rejected with an LLaDAError naming the file and the unsupported setting, never approximated.
struct TokenizerDefinition {
    /// Vocabulary then added tokens, id <-> string.
    var tokens: TokenTable
    /// Vocabulary id of the byte-level symbol of each byte value.
    var byteSymbolIDs: [Int32]
    var merges: MergeTable
    /// BPE `ignore_merges`: a word that is itself in the vocabulary is emitted whole.
    var ignoreMerges: Bool
    var normalizesToNFC: Bool
    /// Added tokens with `normalized: false`, matched in the raw text.
    var rawAddedTokens: [(content: String, id: Int)]
    /// Added tokens with `normalized: true`, matched in the normalised text (contents normalised too).
    var normalizedAddedTokens: [(content: String, id: Int)]
    /// Ids of added tokens marked `special: true` (including vocabulary ids re-declared as special
    /// added tokens).
    var specialTokenIDs: Set<Int>

    init(json data: Data, fileName: String) throws {
        func fail(_ message: String) -> LLaDAError { LLaDAError("\(fileName): \(message)") }

        let root: JSONValue
        do {
            root = try TokenizerJSONParser.parse(data)
        } catch {
            throw fail("not a valid tokenizer file (\(error.message))")
        }
        guard root.objectMembers != nil else { throw fail("expected a JSON object at the top level") }

        for setting in ["truncation", "padding"] {
            if let value = root[setting], !value.isNull {
                throw fail("unsupported \(setting) setting (only null is supported)")
            }
        }
        // The post-processor is deliberately ignored: the engine always encodes with
        // add_special_tokens=False, where no post-processor adds or changes token ids.

        normalizesToNFC = try Self.checkNormalizer(root["normalizer"], fail: fail)
        try Self.checkPreTokenizer(root["pre_tokenizer"], fail: fail)
        try Self.checkDecoder(root["decoder"], fail: fail)

        // MARK: model
        guard let model = root["model"], model.objectMembers != nil else {
            throw fail("missing \"model\" object")
        }
        if let type = model["type"], type.stringValue != "BPE" {
            throw fail("unsupported model type \(Self.describe(type)) (only BPE is supported)")
        }
        if let dropout = model["dropout"], !dropout.isNull {
            let isZero = switch dropout {
            case .integer(let value): value == 0
            case .double(let value): value == 0
            default: false
            }
            if !isZero { throw fail("unsupported BPE dropout \(Self.describe(dropout)) (only null is supported)") }
        }
        for affix in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let value = model[affix], !value.isNull, value.stringValue != "" {
                throw fail("unsupported BPE \(affix) \(Self.describe(value)) (only null is supported)")
            }
        }
        ignoreMerges = model["ignore_merges"]?.boolValue ?? false

        guard let vocabulary = model["vocab"]?.objectMembers else {
            throw fail("missing \"model.vocab\" object")
        }
        let vocabularyCount = vocabulary.count
        var stringsByID = [String?](repeating: nil, count: vocabularyCount)
        for member in vocabulary {
            guard let id = member.value.integerValue else {
                throw fail("model.vocab entry \(Self.quote(member.key)) has \(member.value.kindName) instead of an integer id")
            }
            guard id >= 0 && id < vocabularyCount else {
                throw fail("model.vocab id \(id) of \(Self.quote(member.key)) is out of range (ids must be 0..<\(vocabularyCount), one per entry)")
            }
            if let other = stringsByID[id] {
                throw fail("model.vocab gives id \(id) to both \(Self.quote(other)) and \(Self.quote(member.key))")
            }
            stringsByID[id] = member.key
        }
        var tokens = TokenTable(expectedCount: vocabularyCount + 1024)
        for id in 0..<vocabularyCount {
            // Every slot is filled: ids are distinct and in range, and there are `vocabularyCount` of them.
            guard tokens.append(stringsByID[id]!).inserted else {
                throw fail("model.vocab lists \(Self.quote(stringsByID[id]!)) twice")
            }
        }

        byteSymbolIDs = try (0..<256).map { byte in
            let symbol = ByteLevel.symbol(forByte: UInt8(byte))
            guard let id = tokens.id(for: symbol) else {
                throw fail("model.vocab lacks the byte-level symbol \(Self.quote(symbol)) of byte \(byte) (a byte-level BPE vocabulary must contain all 256)")
            }
            return Int32(id)
        }

        guard let mergeList = model["merges"]?.arrayValue else {
            throw fail("missing \"model.merges\" array")
        }
        var merges = MergeTable(expectedCount: mergeList.count)
        var rank: UInt32 = 0
        var joined: [UInt8] = []
        for (index, entry) in mergeList.enumerated() {
            var left: String, right: String
            switch entry {
            case .array(let parts) where parts.count == 2 && parts[0].stringValue != nil && parts[1].stringValue != nil:
                left = parts[0].stringValue!
                right = parts[1].stringValue!
            case .string(let line):
                if line.hasPrefix("#version") { continue }  // header line of merges.txt, skipped by tokenizers
                let parts = line.utf8.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
                guard parts.count == 2 else {
                    throw fail("model.merges entry \(index) \(Self.quote(line)) is not two symbols separated by one space")
                }
                left = String(Substring(parts[0]))
                right = String(Substring(parts[1]))
            default:
                throw fail("model.merges entry \(index) is neither a pair of strings nor an \"a b\" string")
            }
            left.makeContiguousUTF8()
            right.makeContiguousUTF8()
            guard let leftID = tokens.id(for: left), let rightID = tokens.id(for: right) else {
                let unknown = tokens.id(for: left) == nil ? left : right
                throw fail("model.merges entry \(index) names \(Self.quote(unknown)), which is not in model.vocab")
            }
            joined.removeAll(keepingCapacity: true)
            joined.append(contentsOf: left.utf8)
            joined.append(contentsOf: right.utf8)
            guard let mergedID = joined.withUnsafeBufferPointer({ tokens.id(forBytes: $0) }) else {
                throw fail("model.merges entry \(index) produces \(Self.quote(left + right)), which is not in model.vocab")
            }
            merges.insert(left: Int32(leftID), right: Int32(rightID), rank: rank, mergedID: Int32(mergedID))
            rank += 1
        }
        self.merges = merges

        // MARK: added tokens
        var rawAddedTokens: [(content: String, id: Int)] = []
        var normalizedAddedTokens: [(content: String, id: Int)] = []
        var specialTokenIDs = Set<Int>()
        var addedEntries: [(content: String, id: Int, special: Bool, normalized: Bool)] = []
        for (index, entry) in (root["added_tokens"]?.arrayValue ?? []).enumerated() {
            guard entry.objectMembers != nil, let content = entry["content"]?.stringValue,
                  let id = entry["id"]?.integerValue else {
                throw fail("added_tokens entry \(index) lacks a string \"content\" or an integer \"id\"")
            }
            guard !content.isEmpty else { throw fail("added_tokens entry \(index) has an empty content") }
            for flag in ["lstrip", "rstrip", "single_word"] where entry[flag]?.boolValue == true {
                throw fail("added token \(Self.quote(content)) uses \(flag): true, which is not supported")
            }
            // Defaults as in tokenizers' AddedToken: special false, normalized true.
            addedEntries.append((content, id, entry["special"]?.boolValue ?? false, entry["normalized"]?.boolValue ?? true))
        }
        // `tokenizers` ignores the stored ids and re-assigns them in id order: a token already in the
        // vocabulary keeps its vocabulary id, any other gets the next id after the vocabulary and the
        // previous added tokens. Require the file to agree, so ids are dense and unambiguous.
        addedEntries.sort { $0.id < $1.id }
        for entry in addedEntries {
            let (assignedID, isNew) = tokens.append(entry.content)
            guard isNew || assignedID < vocabularyCount else {
                throw fail("added_tokens lists \(Self.quote(entry.content)) twice")
            }
            guard entry.id == assignedID else {
                throw fail("added token \(Self.quote(entry.content)) has id \(entry.id), but its id must be \(assignedID) (the vocabulary id of the same string, or the next id after the vocabulary and earlier added tokens)")
            }
            if entry.special { specialTokenIDs.insert(assignedID) }
            if entry.normalized {
                let content = normalizesToNFC ? NFCNormalizer.shared.normalize(entry.content) : entry.content
                normalizedAddedTokens.append((content, assignedID))
            } else {
                rawAddedTokens.append((entry.content, assignedID))
            }
        }
        self.tokens = tokens
        self.rawAddedTokens = rawAddedTokens
        self.normalizedAddedTokens = normalizedAddedTokens
        self.specialTokenIDs = specialTokenIDs
    }

    // MARK: - Pipeline checks (the one place that decides what is supported)

    private static func checkNormalizer(_ normalizer: JSONValue?, fail: (String) -> LLaDAError) throws -> Bool {
        guard let normalizer, !normalizer.isNull else { return false }
        let type = normalizer["type"]
        guard type?.stringValue == "NFC" else {
            throw fail("unsupported normalizer \(describe(type)) (only NFC or none is supported)")
        }
        return true
    }

    /// Accepts exactly Sequence[Split(LLaDA's pattern, Isolated, invert false),
    /// ByteLevel(add_prefix_space false, use_regex false)].
    private static func checkPreTokenizer(_ preTokenizer: JSONValue?, fail: (String) -> LLaDAError) throws {
        let expected = "pre_tokenizer Sequence[Split(LLaDA's pattern, Isolated), ByteLevel(add_prefix_space false, use_regex false)]"
        guard let preTokenizer, !preTokenizer.isNull else {
            throw fail("missing pre_tokenizer (only \(expected) is supported)")
        }
        guard preTokenizer["type"]?.stringValue == "Sequence",
              let steps = preTokenizer["pretokenizers"]?.arrayValue, steps.count == 2,
              steps[0]["type"]?.stringValue == "Split", steps[1]["type"]?.stringValue == "ByteLevel" else {
            throw fail("unsupported pre_tokenizer (only \(expected) is supported)")
        }
        let split = steps[0]
        guard let pattern = split["pattern"]?["Regex"]?.stringValue, pattern == PreTokenizer.supportedPattern else {
            let found = split["pattern"]?["Regex"]?.stringValue ?? split["pattern"]?["String"]?.stringValue
            throw fail("unsupported Split pattern \(found.map(quote) ?? "(missing)"); only LLaDA's pattern \(quote(PreTokenizer.supportedPattern)) is implemented")
        }
        guard split["behavior"]?.stringValue == "Isolated", split["invert"]?.boolValue ?? false == false else {
            throw fail("unsupported Split behavior \(describe(split["behavior"])) or invert (only Isolated, invert false is supported)")
        }
        let byteLevel = steps[1]
        guard byteLevel["add_prefix_space"]?.boolValue ?? false == false,
              byteLevel["use_regex"]?.boolValue ?? true == false else {
            throw fail("unsupported ByteLevel pre-tokenizer options (only add_prefix_space false, use_regex false is supported)")
        }
    }

    private static func checkDecoder(_ decoder: JSONValue?, fail: (String) -> LLaDAError) throws {
        // The ByteLevel decoder's options only concern offsets, not the decoded text.
        guard decoder?["type"]?.stringValue == "ByteLevel" else {
            throw fail("unsupported decoder \(describe(decoder?["type"])) (only ByteLevel is supported)")
        }
    }

    static func quote(_ string: String) -> String {
        "\"" + string.unicodeScalars.map { $0.escaped(asASCII: false) }.joined() + "\""
    }

    static func describe(_ value: JSONValue?) -> String {
        switch value {
        case nil, .null?: return "(none)"
        case .string(let string)?: return quote(string)
        case .integer(let number)?: return String(number)
        case .double(let number)?: return String(number)
        case .bool(let flag)?: return String(flag)
        case let value?: return value["type"]?.stringValue.map(quote) ?? value.kindName
        }
    }
}
