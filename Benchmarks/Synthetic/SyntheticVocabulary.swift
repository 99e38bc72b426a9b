import LLaDAEngine
/// The id layout of LLaDA-8B's tokenizer, for any vocabulary size: byte-level BPE ids first, then
/// LLaDA's 269 added tokens at their offsets from the end of the BPE part, then embedding rows
/// that no token uses. For the real size (126464) this is exactly the published table
/// (tokenizer_config.json of GSAI-ML/LLaDA-8B-Instruct): BOS 126080, EOS/pad 126081, [CLS] 126082,
/// [gMASK] 126083, mask 126336, `<role>` … `<|number_end|>` 126340–126345, headers 126346/126347,
/// end of turn 126348, `<|reserved_token_N|>` at 126084 + N for the rest; the tokenizer has 126349
/// ids against 126464 embedding rows. Base's table stops before the chat tokens (266 added).
public struct SyntheticVocabulary: Sendable {
    /// Rows from the first added token to the end of the embedding (126464 − 126080).
    public static let reservedRows = 384
    /// 256 byte symbols need at least one BPE slot each.
    public static let minimumSize = 256 + reservedRows

    public let size: Int
    public let release: SyntheticRelease
    public var bpeCount: Int { size - Self.reservedRows }
    /// Ids the tokenizer knows (BPE + added); the embedding rows after them are padding.
    public var tokenizerCount: Int { bpeCount + release.addedCount }
    public var startOfText: Int { bpeCount }
    public var endOfText: Int { bpeCount + 1 }
    public var mask: Int { bpeCount + 256 }
    public var startHeader: Int { bpeCount + 266 }
    public var endHeader: Int { bpeCount + 267 }
    public var endOfTurn: Int { bpeCount + 268 }

    public init(size: Int, release: SyntheticRelease = .instruct) {
        self.size = size
        self.release = release
    }

    /// Offset from the first added id → content, for the tokens that are not `<|reserved_token_N|>`.
    private static let named: [Int: String] = [
        0: "<|startoftext|>", 1: "<|endoftext|>", 2: "[CLS]", 3: "[gMASK]", 256: "<|mdm_mask|>",
        260: "<role>", 261: "</role>", 262: "<|arithmetic_start|>", 263: "<|arithmetic_end|>",
        264: "<|number_start|>", 265: "<|number_end|>",
        266: "<|start_header_id|>", 267: "<|end_header_id|>", 268: "<|eot_id|>",
    ]

    /// The added tokens in id order (all special, none normalised). The reserved tokens are
    /// numbered by their offset from 126084, so the number under the mask token (252) is unused.
    public var addedTokens: [(id: Int, content: String)] {
        (0..<release.addedCount).map { offset in
            (bpeCount + offset, Self.named[offset] ?? "<|reserved_token_\(offset - 4)|>")
        }
    }
}
