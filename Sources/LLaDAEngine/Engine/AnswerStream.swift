/// The answer text as blocks become final (semi-autoregressive blocks finish left to right).
///
/// Ids are appended block by block; the answer ends at the first `<|endoftext|>` /
/// `<|eot_id|>` (ids after it are ignored), or after `limit` tokens. Each call returns the text that became certain: the
/// cumulative ids are decoded and the new suffix returned, holding back a UTF-8 sequence a BPE
/// token left incomplete, so the pieces always join to `LLaDAModel.answerText` of the ids.
public struct AnswerStream {
    public let tokenizer: Tokenizer
    public let stopIDs: Set<Int>
    /// The most answer tokens (OpenAI's max_tokens); nil for no limit.
    public let limit: Int?
    private var ids: [Int] = []
    /// UTF-8 bytes of the text returned so far.
    private var emitted = 0
    /// True once an end token closed the answer.
    public private(set) var ended = false

    /// Answer tokens so far (before the end token, at most `limit`).
    public var tokens: Int { ids.count }
    /// True once `limit` tokens are in.
    public var limitReached: Bool { limit.map { ids.count >= $0 } ?? false }
    /// True when no later id can change the answer.
    public var decided: Bool { ended || limitReached }

    public init(tokenizer: Tokenizer, stopIDs: Set<Int>, limit: Int? = nil) {
        self.tokenizer = tokenizer
        self.stopIDs = stopIDs
        self.limit = limit
    }

    public init(model: LLaDAModel, limit: Int? = nil) {
        self.init(tokenizer: model.tokenizer, stopIDs: Set([model.eosID, model.endOfTurnID].compactMap { $0 }), limit: limit)
    }

    /// Appends final ids; returns the text now certain. `final` flushes an incomplete UTF-8
    /// sequence as the lossy decoder would (no more ids will come).
    public mutating func append(_ newIDs: [Int], final: Bool = false) throws -> String {
        if !decided {
            // The limit counts positions: an end token past it is not seen.
            let within = limit.map { newIDs.prefix($0 - ids.count) } ?? newIDs[...]
            if let stop = within.firstIndex(where: { stopIDs.contains($0) }) {
                ids += within[..<stop]
                ended = true
            } else {
                ids += within
            }
        }
        let bytes = try tokenizer.decodeBytes(ids, skipSpecialTokens: true)
        let certain = final || decided ? bytes.count : UTF8Lossy.completePrefixLength(bytes)
        let text = UTF8Lossy.string(from: Array(bytes[..<certain]))
        let new = String(decoding: text.utf8.dropFirst(emitted), as: UTF8.self)
        emitted = text.utf8.count
        return new
    }
}
