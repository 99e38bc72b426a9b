/// The `normalizer` of a tokenizer.json: none, NFC, NFD, NFKC, NFKD, Lowercase, or a Sequence of
/// these (nested Sequences flattened), applied in order like `tokenizers`' normalizers.
struct TextNormalizer: ByteNormalizer, Sendable {
    enum Step: Sendable, Equatable {
        case nfc, nfd, nfkc, nfkd, lowercase
    }

    let steps: [Step]

    static let supported = "NFC, NFD, NFKC, NFKD, Lowercase, none, Sequence of them"

    init(json: JSONValue?, fail: (String) -> LLaDAError) throws {
        var steps: [Step] = []
        func add(_ value: JSONValue) throws {
            let type = value["type"]?.stringValue
            switch type {
            case "NFC": steps.append(.nfc)
            case "NFD": steps.append(.nfd)
            case "NFKC": steps.append(.nfkc)
            case "NFKD": steps.append(.nfkd)
            case "Lowercase": steps.append(.lowercase)
            case "Sequence":
                guard let inner = value["normalizers"]?.arrayValue else {
                    throw fail("normalizer Sequence lacks its \"normalizers\" array")
                }
                for step in inner { try add(step) }
            default:
                throw fail("unsupported normalizer \(TokenizerDefinition.describe(value)) (supported: \(Self.supported))")
            }
        }
        if let json, !json.isNull { try add(json) }
        self.steps = steps
    }

    var isIdentity: Bool { steps.isEmpty }

    /// The normalised UTF-8 of `text`, or nil when no step changes it.
    func normalize(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var current: [UInt8]?
        for step in steps {
            let next: [UInt8]? = if let current {
                current.withUnsafeBufferPointer { Self.apply(step, to: $0) }
            } else {
                Self.apply(step, to: text)
            }
            if let next { current = next }
        }
        return current
    }


    private static func apply(_ step: Step, to text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        switch step {
        case .nfc: UnicodeNormalizer.nfc.normalize(text)
        case .nfd: UnicodeNormalizer.nfd.normalize(text)
        case .nfkc: UnicodeNormalizer.nfkc.normalize(text)
        case .nfkd: UnicodeNormalizer.nfkd.normalize(text)
        case .lowercase: lowercase(text)
        }
    }

    /// `tokenizers`' Lowercase: each scalar's full lowercase mapping, without context (so no
    /// final-sigma rule; "İ" becomes "i̇"). Swift's mapping agrees with it on every scalar, which
    /// Tests/Fixtures/tokenizer-components/normalizers.json checks.
    static func lowercase(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var output: [UInt8]?
        var i = 0
        while i < text.count {
            let byte = text[i]
            if byte < 0x80 {
                let lower = byte &- 0x41 < 26 ? byte | 0x20 : byte
                if lower != byte && output == nil { output = Array(text[..<i]) }
                output?.append(lower)
                i += 1
                continue
            }
            let (value, length) = UTF8Scalars.decode(text, at: i)
            let scalar = Unicode.Scalar(value)!
            if scalar.properties.changesWhenLowercased {
                if output == nil { output = Array(text[..<i]) }
                output!.append(contentsOf: scalar.properties.lowercaseMapping.utf8)
            } else {
                output?.append(contentsOf: text[i..<(i + length)])
            }
            i += length
        }
        return output
    }
}

/// A normaliser over UTF-8 bytes; nil means the text is already normal.
protocol ByteNormalizer {
    func normalize(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8]?
}

extension ByteNormalizer {
    /// The normal form of a whole string.
    func normalize(_ string: String) -> String {
        var copy = string
        copy.makeContiguousUTF8()
        return copy.utf8.withContiguousStorageIfAvailable { bytes in
            normalize(bytes).map { String(decoding: $0, as: UTF8.self) } ?? string
        } ?? string
    }
}
