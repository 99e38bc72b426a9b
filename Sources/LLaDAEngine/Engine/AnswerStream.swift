/// The answer text as blocks become final (semi-autoregressive blocks finish left to right).
///
/// Ids are appended block by block; the answer ends at the first `<|endoftext|>` /
/// `<|eot_id|>` (ids after it are ignored). Each call returns the text that became certain: the
/// cumulative ids are decoded and the new suffix returned, holding back a UTF-8 sequence a BPE
/// token left incomplete, so the pieces always join to `LLaDAModel.answerText` of the ids.
public struct AnswerStream {
    public let tokenizer: Tokenizer
    public let stopIDs: Set<Int>
    private var ids: [Int] = []
    /// UTF-8 bytes of the text returned so far.
    private var emitted = 0
    public private(set) var ended = false

    public init(tokenizer: Tokenizer, stopIDs: Set<Int>) {
        self.tokenizer = tokenizer
        self.stopIDs = stopIDs
    }

    public init(model: LLaDAModel) {
        self.init(tokenizer: model.tokenizer, stopIDs: Set([model.eosID, model.endOfTurnID].compactMap { $0 }))
    }

    /// Appends final ids; returns the text now certain. `final` flushes an incomplete UTF-8
    /// sequence as the lossy decoder would (no more ids will come).
    public mutating func append(_ newIDs: [Int], final: Bool = false) throws -> String {
        if !ended {
            if let stop = newIDs.firstIndex(where: { stopIDs.contains($0) }) {
                ids += newIDs[..<stop]
                ended = true
            } else {
                ids += newIDs
            }
        }
        let bytes = try tokenizer.decodeBytes(ids, skipSpecialTokens: true)
        let certain = final || ended ? bytes.count : UTF8Lossy.completePrefixLength(bytes)
        let text = UTF8Lossy.string(from: Array(bytes[..<certain]))
        let new = String(decoding: text.utf8.dropFirst(emitted), as: UTF8.self)
        emitted = text.utf8.count
        return new
    }
}
