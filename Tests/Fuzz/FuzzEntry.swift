import Foundation

/// Entry points for the fuzz drivers in Tests/Fuzz (compiled into the engine module by run.sh
/// only, so the library apps link carries none): each feeds arbitrary bytes to one parser the
/// way a file would reach it and checks the failure contract. Accepting or refusing the input is
/// fine; anything but an `LLaDAError` of one non-empty line is a bug and stops the process, so
/// libFuzzer reports it with its input.
@_spi(Fuzzing) public enum FuzzEntry {
    /// A `.safetensors` file: header length, JSON header, dtypes, shapes, offsets.
    public static func safeTensors(_ bytes: UnsafeRawBufferPointer) {
        expectCleanFailure { _ = try SafeTensorsFile(file: MappedFile(path: "fuzz.safetensors", contents: bytes)) }
    }

    /// `model.safetensors.index.json`.
    public static func shardIndex(_ bytes: UnsafeRawBufferPointer) {
        expectCleanFailure { _ = try ShardIndex.parse(Data(bytes), path: "fuzz.index.json") }
    }

    /// `config.json` of either family, then the sizes it implies (Swift traps on an overflow there).
    public static func config(_ bytes: UnsafeRawBufferPointer) {
        expectCleanFailure {
            let config = try LLaDAConfig.decode(Data(bytes), source: "fuzz config.json")
            let block = TensorLayout.blockEntries(0, config: config).reduce(0) { $0 + $1.shape.reduce(1, *) }
            _ = TensorLayout.tensorCount(config) + block * config.nLayers + 2 * config.paddedVocabSize * config.dModel
            _ = config.maxSequenceLength * config.headDim
        }
        expectCleanFailure {
            let config = try LLaDA2Config.decode(Data(bytes), source: "fuzz config.json")
            _ = config.impliedTensorCount
            _ = ModelShape.parameterCounts(config)
            _ = config.maxPositionEmbeddings * config.ropeDim
        }
    }

    /// `tokenizer.json`; an accepted tokenizer must also encode and decode a short text.
    public static func tokenizerJSON(_ bytes: UnsafeRawBufferPointer) {
        expectCleanFailure {
            let tokenizer = try Tokenizer(tokenizerJSON: Data(bytes), tokenizerConfigJSON: nil)
            checkRoundTrip(tokenizer, "héllo <|eot_id|> wörld 123")
        }
    }

    /// Arbitrary text (bytes decoded as lossy UTF-8) through `tokenizer`: plain and in the chat template.
    public static func encode(_ bytes: UnsafeRawBufferPointer, with tokenizer: Tokenizer) {
        let text = String(decoding: bytes, as: UTF8.self)
        checkRoundTrip(tokenizer, text)
        expectCleanFailure {
            let template = try ChatTemplate(tokenizer: tokenizer)
            let ids = tokenizer.encode(template.render([ChatMessage(role: "user", content: text)]))
            _ = try tokenizer.decode(ids, skipSpecialTokens: true)
        }
    }

    /// A packed model file: header, sections, directory; if those pass, every chunk checksum, the
    /// weights, and the embedded tokenizer.
    public static func packedFile(_ bytes: UnsafeRawBufferPointer) {
        expectCleanFailure {
            let packed = try PackedModel(file: MappedFile(path: "fuzz.lpk", contents: bytes))
            try packed.verify()
            if packed.denseConfig == nil { _ = try packed.makeLLaDA2Weights() } else { _ = try packed.makeWeights() }
            _ = try Tokenizer(tokenizerJSON: packed.tokenizerJSON, tokenizerConfigJSON: packed.tokenizerConfigJSON)
        }
    }

    private static func checkRoundTrip(_ tokenizer: Tokenizer, _ text: String) {
        let ids = tokenizer.encode(text)
        guard let decoded = try? tokenizer.decode(ids, skipSpecialTokens: false) else {
            fatalError("encode gave an id outside the vocabulary for \(text.debugDescription): \(ids)")
        }
        // Prefix spaces, removed splits and lossy normalisers change the text by design.
        guard tokenizer.roundTripsText else { return }
        // Byte-level BPE loses nothing but the normalisation: with NFC the result must be canonically
        // equivalent (Swift's String ==), without it byte for byte equal.
        let equal = tokenizer.normalizesToNFC ? decoded == text : Array(decoded.utf8) == Array(text.utf8)
        if !equal { fatalError("decode(encode(\(text.debugDescription))) = \(decoded.debugDescription)") }
    }

    private static func expectCleanFailure(_ body: () throws -> Void) {
        do {
            try body()
        } catch let error as LLaDAError {
            if error.message.isEmpty || error.message.contains(where: \.isNewline) {
                fatalError("error is not one non-empty line: \(error.message.debugDescription)")
            }
        } catch {
            fatalError("not an LLaDAError: \(error)")
        }
    }
}
