import Foundation

/// LLaDA's tokenizer, and byte-level BPE tokenizers like it: reproduces Hugging Face `tokenizers`
/// token for token (added tokens matched before normalisation, the normalizer, the pre-tokenizer's
/// splits, BPE merges by rank, the post-processor's special tokens) and its ByteLevel decoder.
///
/// Immutable after init, so it can be shared between threads.
public final class Tokenizer: Sendable {
    /// Number of ids: one past the highest id of the BPE vocabulary and the added tokens. Ids in gaps
    /// of a vocabulary numbered with holes count, but have no token (`token(forID:)` is nil).
    public let vocabularySize: Int
    /// Ids of added tokens marked `special: true`.
    public let specialTokenIDs: Set<Int>
    /// From tokenizer_config.json, if given.
    public let bosToken: String?
    public let eosToken: String?
    public let padToken: String?

    /// Ids the post-processor puts before and after a sequence encoded with `addSpecialTokens`
    /// (e.g. a BOS token for a TemplateProcessing "<s> $A"); empty when it adds none.
    public let postProcessorPrefixIDs: [Int]
    public let postProcessorSuffixIDs: [Int]

    private let tokens: TokenTable
    private let byteSymbolIDs: [Int32]
    private let merges: MergeTable
    private let ignoreMerges: Bool
    private let normalizer: TextNormalizer
    private let preTokenizer: PreTokenizerPipeline
    private let rawAddedTokens: AddedTokenMatcher
    private let normalizedAddedTokens: AddedTokenMatcher
    /// Ids dropped by `decode(skipSpecialTokens: true)`. `tokenizers` drops every token whose string
    /// is the content of a special added token; strings and ids correspond one to one, so these are
    /// exactly the special ids.
    private let skippedAsSpecial: [Bool]

    /// Whether the normalizer changes text, so that decoding an encoding gives the input back only
    /// up to that normalisation (e.g. canonically equivalent for NFC).
    package var normalizesToNFC: Bool { !normalizer.isIdentity }
    /// Whether decoding an encoding always gives the input back: byte for byte without a normalizer,
    /// canonically equivalent with NFC or NFD. False with NFKC, NFKD or Lowercase, a Split that removes
    /// text, or ByteLevel adding prefix spaces (the fuzz round-trip check holds only when this is true).
    package var roundTripsText: Bool {
        preTokenizer.keepsText && normalizer.steps.allSatisfy { $0 == .nfc || $0 == .nfd }
    }

    public convenience init(tokenizerJSON: Data, tokenizerConfigJSON: Data?) throws {
        try self.init(tokenizerJSON: tokenizerJSON, tokenizerName: "tokenizer.json",
                      configJSON: tokenizerConfigJSON, configName: "tokenizer_config.json")
    }

    /// Reads `tokenizer.json` (required) and `tokenizer_config.json` (optional) from a checkpoint
    /// directory; error messages name the file's path.
    public convenience init(directory: URL) throws {
        let tokenizerURL = directory.appendingPathComponent("tokenizer.json")
        let configURL = directory.appendingPathComponent("tokenizer_config.json")
        guard FileManager.default.fileExists(atPath: tokenizerURL.path) else {
            throw LLaDAError("\(tokenizerURL.path) is missing: a checkpoint directory needs its tokenizer.json")
        }
        let tokenizerData: Data
        do {
            tokenizerData = try Data(contentsOf: tokenizerURL)
        } catch {
            throw LLaDAError("cannot read \(tokenizerURL.path): \(error.localizedDescription)")
        }
        var configData: Data?
        if FileManager.default.fileExists(atPath: configURL.path) {
            do {
                configData = try Data(contentsOf: configURL)
            } catch {
                throw LLaDAError("cannot read \(configURL.path): \(error.localizedDescription)")
            }
        }
        try self.init(tokenizerJSON: tokenizerData, tokenizerName: tokenizerURL.path,
                      configJSON: configData, configName: configURL.path)
    }

    private init(tokenizerJSON: Data, tokenizerName: String, configJSON: Data?, configName: String) throws {
        let definition = try TokenizerDefinition(json: tokenizerJSON, fileName: tokenizerName)
        vocabularySize = definition.tokens.count
        specialTokenIDs = definition.specialTokenIDs
        tokens = definition.tokens
        byteSymbolIDs = definition.byteSymbolIDs
        merges = definition.merges
        ignoreMerges = definition.ignoreMerges
        normalizer = definition.normalizer
        preTokenizer = definition.preTokenizer
        postProcessorPrefixIDs = definition.postProcessor.prefixIDs
        postProcessorSuffixIDs = definition.postProcessor.suffixIDs
        rawAddedTokens = AddedTokenMatcher(tokens: definition.rawAddedTokens)
        normalizedAddedTokens = AddedTokenMatcher(tokens: definition.normalizedAddedTokens)
        skippedAsSpecial = (0..<definition.tokens.count).map { definition.specialTokenIDs.contains($0) }

        let config = try configJSON.map { try Self.parseConfig($0, fileName: configName) }
        bosToken = try Self.specialTokenName("bos_token", in: config, fileName: configName)
        eosToken = try Self.specialTokenName("eos_token", in: config, fileName: configName)
        padToken = try Self.specialTokenName("pad_token", in: config, fileName: configName)
    }

    private static func parseConfig(_ data: Data, fileName: String) throws -> JSONValue {
        let config: JSONValue
        do {
            config = try TokenizerJSONParser.parse(data)
        } catch {
            throw LLaDAError("\(fileName): not a valid tokenizer config (\(error.message))")
        }
        guard config.objectMembers != nil else {
            throw LLaDAError("\(fileName): expected a JSON object at the top level")
        }
        return config
    }

    /// A special token named in tokenizer_config.json, either as a string or as {"content": ...}.
    private static func specialTokenName(_ key: String, in config: JSONValue?, fileName: String) throws -> String? {
        guard let value = config?[key], !value.isNull else { return nil }
        if let name = value.stringValue ?? value["content"]?.stringValue { return name }
        throw LLaDAError("\(fileName): \(key) must be a string or an object with a string \"content\"")
    }

    // MARK: - Lookup

    /// The id of a vocabulary entry or added token, by its exact string (e.g. "Ġthe", "<|eot_id|>").
    public func id(forToken token: String) -> Int? {
        tokens.id(for: token)
    }

    /// The string of a token id, or nil if the id is out of range or in a gap of the vocabulary.
    public func token(forID id: Int) -> String? {
        id >= 0 && id < tokens.count && tokens.isAssigned[id] ? tokens.strings[id] : nil
    }

    // MARK: - Encoding

    /// Encodes like `tokenizers`' `encode(text, add_special_tokens=False)`: special tokens written in
    /// the text are recognised, nothing is added.
    public func encode(_ text: String) -> [Int] {
        encode(text, addSpecialTokens: false)
    }

    /// Encodes like `tokenizers`' `encode(text, add_special_tokens:)`: with `addSpecialTokens` the
    /// post-processor's ids for a single sequence go around the text's (as `tokenizer(prompt)` does in
    /// transformers), without it nothing is added.
    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        var text = text
        text.makeContiguousUTF8()
        var state = EncodingState()
        if addSpecialTokens { state.ids = postProcessorPrefixIDs }
        text.utf8.withContiguousStorageIfAvailable { bytes in
            rawAddedTokens.forEachSegment(
                in: bytes,
                plainText: { range in encodeUnnormalized(UnsafeBufferPointer(rebasing: bytes[range]), into: &state) },
                token: { id in state.ids.append(id) })
        }
        if addSpecialTokens { state.ids += postProcessorSuffixIDs }
        return state.ids
    }

    /// Per-call scratch space; keeping it out of the instance keeps `Tokenizer` immutable.
    private struct EncodingState {
        var ids: [Int] = []
        var cache = WordCache()
        var symbols: [Int32] = []
    }

    /// Text between raw added tokens: normalise, then look for normalised added tokens.
    private func encodeUnnormalized(_ text: UnsafeBufferPointer<UInt8>, into state: inout EncodingState) {
        guard let normalized = normalizer.normalize(text) else {
            encodeNormalized(text, into: &state)
            return
        }
        normalized.withUnsafeBufferPointer { encodeNormalized($0, into: &state) }
    }

    private func encodeNormalized(_ text: UnsafeBufferPointer<UInt8>, into state: inout EncodingState) {
        if normalizedAddedTokens.isEmpty {
            encodePlain(text, into: &state)
            return
        }
        normalizedAddedTokens.forEachSegment(
            in: text,
            plainText: { range in encodePlain(UnsafeBufferPointer(rebasing: text[range]), into: &state) },
            token: { id in state.ids.append(id) })
    }

    /// Pre-tokenizes and BPE-encodes text that contains no added tokens.
    private func encodePlain(_ text: UnsafeBufferPointer<UInt8>, into state: inout EncodingState) {
        preTokenizer.forEachWord(in: text) { word in encodeWord(word, into: &state) }
    }

    private func encodeWord(_ word: UnsafeBufferPointer<UInt8>, into state: inout EncodingState) {
        if word.count == 1 {
            state.ids.append(Int(byteSymbolIDs[Int(word[0])]))
            return
        }
        let cacheable = word.count <= WordCache.maximumWordLength
        let hash = cacheable ? WordCache.hash(word) : 0
        if cacheable && state.cache.appendIDs(of: word, hash: hash, to: &state.ids) { return }

        state.symbols.removeAll(keepingCapacity: true)
        if ignoreMerges, let id = tokens.id(for: ByteLevel.symbols(forBytes: word)) {
            state.symbols.append(Int32(id))
        } else {
            for byte in word { state.symbols.append(byteSymbolIDs[Int(byte)]) }
            BPE.merge(&state.symbols, using: merges)
        }
        let firstNew = state.ids.count
        for id in state.symbols { state.ids.append(Int(id)) }
        if cacheable { state.cache.insert(word, hash: hash, ids: state.ids[firstNew...]) }
    }

    // MARK: - Decoding

    /// Decodes like `tokenizers`' `decode(ids, skip_special_tokens:)` with the ByteLevel decoder:
    /// every token (added tokens included) becomes bytes, the bytes of all tokens are joined, and the
    /// result is converted with Rust's lossy UTF-8 rule. An id in a gap of the vocabulary decodes to
    /// nothing, as in `tokenizers`; unlike `tokenizers`, which also skips them silently, an id outside
    /// 0..<vocabularySize is an error.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool) throws -> String {
        UTF8Lossy.string(from: try decodeBytes(ids, skipSpecialTokens: skipSpecialTokens))
    }

    /// The bytes `decode` converts to text (a token may end inside a UTF-8 sequence).
    public func decodeBytes(_ ids: [Int], skipSpecialTokens: Bool) throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for id in ids {
            guard id >= 0 && id < vocabularySize else {
                throw LLaDAError("token id \(id) is outside the tokenizer's vocabulary (size \(vocabularySize))")
            }
            if !tokens.isAssigned[id] || skipSpecialTokens && skippedAsSpecial[id] { continue }
            ByteLevel.appendDecodedBytes(of: tokens.strings[id], to: &bytes)
        }
        return bytes
    }
}

extension Tokenizer {
    /// The pieces LLaDA's split pattern cuts `text` into (no normalisation, no added tokens), exposed
    /// to tests through SPI so the regex semantics can be checked directly.
    @_spi(Testing) public static func preTokenize(_ text: String) -> [String] {
        PreTokenizer.split(text)
    }

    /// Whether encoding uses the hand-written scanner for LLaDA's exact pre-tokenizer (the fast path).
    @_spi(Testing) public var usesLLaDAScanner: Bool { preTokenizer.isLLaDA }

    /// The NFC normaliser on its own (Unicode 9.0 tables, as `tokenizers`), exposed to tests via SPI.
    @_spi(Testing) public static func normalizeNFC(_ text: String) -> String {
        UnicodeNormalizer.nfc.normalize(text)
    }

    /// One of tokenizers' normalizers by its tokenizer.json type ("NFD", "NFKC", "Lowercase"...), for
    /// tests; nil for an unsupported type.
    @_spi(Testing) public static func normalize(_ text: String, normalizer type: String) -> String? {
        let json = JSONValue.object([JSONMember(key: "type", value: .string(type))])
        guard let normalizer = try? TextNormalizer(json: json, fail: { LLaDAError($0) }) else { return nil }
        return normalizer.normalize(text)
    }

    /// The pieces a Split(pattern, Isolated) cuts `text` into through the general regex path, even for
    /// LLaDA's pattern (whose scanner tests compare with it); throws the refusal for a pattern the engine
    /// cannot reproduce.
    @_spi(Testing) public static func splitWithRegex(_ text: String, pattern: String) throws -> [String] {
        let splitter = try RegexSplitter(onigurumaPattern: pattern, fail: { LLaDAError("tokenizer.json: " + $0) })
        let split = PreTokenizerPipeline.Split(matcher: .regex(splitter), behavior: .isolated, invert: false)
        var copy = text
        copy.makeContiguousUTF8()
        return copy.utf8.withContiguousStorageIfAvailable { bytes in
            var pieces: [String] = []
            split.forEachPiece(of: bytes) { pieces.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[$0]), as: UTF8.self)) }
            return pieces
        } ?? []
    }
}
