import Foundation

/// The contents of a tokenizer.json, checked against what this engine implements: byte-level BPE with
/// the normalizers, pre-tokenizers, post-processors and decoders Hugging Face byte-level tokenizers
/// use (see TextNormalizer, PreTokenizerPipeline, PostProcessor, `checkDecoder`). Anything else is
/// rejected with an LLaDAError naming the file and the unsupported component, never approximated.
struct TokenizerDefinition {
    /// Ids above this are refused: the id space is allocated densely, and no real vocabulary is near it.
    static let idLimit = 1 << 22

    /// Vocabulary then added tokens, id <-> string (ids may have gaps).
    var tokens: TokenTable
    /// Vocabulary id of the byte-level symbol of each byte value.
    var byteSymbolIDs: [Int32]
    var merges: MergeTable
    /// BPE `ignore_merges`: a word that is itself in the vocabulary is emitted whole.
    var ignoreMerges: Bool
    var normalizer: TextNormalizer
    var preTokenizer: PreTokenizerPipeline
    var postProcessor: PostProcessor
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
        normalizer = try TextNormalizer(json: root["normalizer"], fail: fail)
        preTokenizer = try PreTokenizerPipeline(json: root["pre_tokenizer"], fail: fail)
        postProcessor = try PostProcessor(json: root["post_processor"], fail: fail)
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
        // tokenizers keeps the ids as given: they may have gaps, which decode to nothing.
        let vocabularyCount = vocabulary.count
        var tokens = TokenTable(expectedCount: vocabularyCount + 1024)
        for member in vocabulary {
            guard let id = member.value.integerValue else {
                throw fail("model.vocab entry \(Self.quote(member.key)) has \(member.value.kindName) instead of an integer id")
            }
            guard id >= 0 && id < Self.idLimit else {
                throw fail("model.vocab id \(id) of \(Self.quote(member.key)) is out of range (ids must be 0..<\(Self.idLimit))")
            }
            if id < tokens.count && tokens.isAssigned[id] {
                throw fail("model.vocab gives id \(id) to both \(Self.quote(tokens.strings[id])) and \(Self.quote(member.key))")
            }
            guard tokens.insert(member.key, id: id).inserted else {
                throw fail("model.vocab lists \(Self.quote(member.key)) twice")
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
        // `tokenizers` ignores the stored ids and assigns them in file order: a token already in the
        // vocabulary keeps its vocabulary id, the others get vocabularyCount, vocabularyCount + 1...
        // (the number of vocabulary entries, not the highest id: with gaps they can land on a
        // vocabulary id, leaving tokenizers with two strings for one id). Require the file to agree.
        var nextNewID = vocabularyCount
        var addedIDs = Set<Int>()
        for entry in addedEntries {
            let assignedID: Int
            if let existing = tokens.id(for: entry.content) {
                guard addedIDs.insert(existing).inserted else {
                    throw fail("added_tokens lists \(Self.quote(entry.content)) twice")
                }
                assignedID = existing
            } else {
                assignedID = nextNewID
                nextNewID += 1
                if assignedID < tokens.count && tokens.isAssigned[assignedID] {
                    throw fail("added token \(Self.quote(entry.content)) gets id \(assignedID) from tokenizers (the vocabulary's size), which model.vocab already gives to \(Self.quote(tokens.strings[assignedID]))")
                }
                guard assignedID < Self.idLimit else { throw fail("added token ids must be below \(Self.idLimit)") }
                tokens.insert(entry.content, id: assignedID)
                addedIDs.insert(assignedID)
            }
            guard entry.id == assignedID else {
                throw fail("added token \(Self.quote(entry.content)) has id \(entry.id), but its id must be \(assignedID) (tokenizers gives an added token the vocabulary id of the same string, else the next id from the vocabulary's size on)")
            }
            if entry.special { specialTokenIDs.insert(assignedID) }
            if entry.normalized {
                normalizedAddedTokens.append((normalizer.normalize(entry.content), assignedID))
            } else {
                rawAddedTokens.append((entry.content, assignedID))
            }
        }
        for id in postProcessor.prefixIDs + postProcessor.suffixIDs where id < 0 || id >= tokens.count || !tokens.isAssigned[id] {
            throw fail("post_processor adds id \(id), which is not a token of this tokenizer")
        }
        self.tokens = tokens
        self.rawAddedTokens = rawAddedTokens
        self.normalizedAddedTokens = normalizedAddedTokens
        self.specialTokenIDs = specialTokenIDs
    }

    // MARK: - Decoder

    /// ByteLevel, or a Sequence of ByteLevel followed only by Fuse (which joins the one string
    /// ByteLevel already made). ByteLevel's options only concern offsets, not the decoded text.
    private static func checkDecoder(_ decoder: JSONValue?, fail: (String) -> LLaDAError) throws {
        let supported = "supported: ByteLevel, or a Sequence of ByteLevel then only Fuse"
        var steps: [JSONValue] = []
        func flatten(_ value: JSONValue) throws {
            if value["type"]?.stringValue == "Sequence" {
                guard let inner = value["decoders"]?.arrayValue else {
                    throw fail("decoder Sequence lacks its \"decoders\" array")
                }
                for step in inner { try flatten(step) }
            } else {
                steps.append(value)
            }
        }
        guard let decoder, !decoder.isNull else { throw fail("unsupported decoder (none) (\(supported))") }
        try flatten(decoder)
        guard let first = steps.first, first["type"]?.stringValue == "ByteLevel" else {
            throw fail("unsupported decoder \(describe(steps.first ?? decoder)) (\(supported))")
        }
        if let other = steps.dropFirst().first(where: { $0["type"]?.stringValue != "Fuse" }) {
            throw fail("unsupported decoder \(describe(other)) after ByteLevel (\(supported))")
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
