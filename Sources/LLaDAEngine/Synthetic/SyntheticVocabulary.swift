/// The id layout of LLaDA-8B's tokenizer, for any vocabulary size: byte-level BPE ids first, then
/// 384 added tokens at LLaDA's offsets from the end of the BPE part. For the real size (126464)
/// this gives exactly LLaDA's ids: BOS 126080, EOS/pad 126081, mask 126336, headers 126346/126347,
/// end of turn 126348; every other added id is a `<|reserved_token_N|>`.
public struct SyntheticVocabulary: Sendable {
    public static let addedCount = 384
    /// 256 byte symbols need at least one BPE slot each.
    public static let minimumSize = 256 + addedCount

    public let size: Int
    public var bpeCount: Int { size - Self.addedCount }
    public var startOfText: Int { bpeCount }
    public var endOfText: Int { bpeCount + 1 }
    public var mask: Int { bpeCount + 256 }
    public var startHeader: Int { bpeCount + 266 }
    public var endHeader: Int { bpeCount + 267 }
    public var endOfTurn: Int { bpeCount + 268 }

    public init(size: Int) {
        self.size = size
    }

    /// The added tokens in id order (all special, none normalised).
    public var addedTokens: [(id: Int, content: String)] {
        let named = [startOfText: "<|startoftext|>", endOfText: "<|endoftext|>", mask: "<|mdm_mask|>",
                     startHeader: "<|start_header_id|>", endHeader: "<|end_header_id|>", endOfTurn: "<|eot_id|>"]
        var reserved = 0
        return (bpeCount..<size).map { id in
            if let name = named[id] { return (id, name) }
            defer { reserved += 1 }
            return (id, "<|reserved_token_\(reserved)|>")
        }
    }
}
