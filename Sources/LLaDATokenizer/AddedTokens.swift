/// Finds added tokens (such as "<|eot_id|>") in text the way `tokenizers` does with its
/// leftmost-longest Aho-Corasick automaton: scanning left to right, the first position where any token
/// starts wins, and among the tokens starting there the longest; the scan resumes after the match.
struct AddedTokenMatcher: Sendable {
    /// Trie over the UTF-8 bytes of the token contents; node 0 is the root.
    private var children: [Int: Int32] = [:]
    /// Token id ending at each node, or -1.
    private var tokenIDAtNode: [Int32] = [-1]
    /// Bytes that start some token: lets the scan skip every other position with one load.
    private var startsToken = [Bool](repeating: false, count: 256)

    var isEmpty: Bool { tokenIDAtNode.count == 1 }

    init(tokens: [(content: String, id: Int)]) {
        for (content, id) in tokens where !content.isEmpty {
            var node = 0
            for byte in content.utf8 {
                let key = node << 8 | Int(byte)
                if let child = children[key] {
                    node = Int(child)
                } else {
                    tokenIDAtNode.append(-1)
                    let child = tokenIDAtNode.count - 1
                    children[key] = Int32(child)
                    node = child
                }
            }
            tokenIDAtNode[node] = Int32(id)
            startsToken[Int(content.utf8.first!)] = true
        }
    }

    /// The longest token starting at `start`, as (id, end offset).
    private func longestMatch(in text: UnsafeBufferPointer<UInt8>, at start: Int) -> (id: Int, end: Int)? {
        var node = 0
        var best: (id: Int, end: Int)?
        var i = start
        while i < text.count, let child = children[node << 8 | Int(text[i])] {
            node = Int(child)
            i += 1
            if tokenIDAtNode[node] >= 0 { best = (Int(tokenIDAtNode[node]), i) }
        }
        return best
    }

    /// Walks `text` in order, reporting the stretches between tokens to `plainText` (never empty)
    /// and each matched token's id to `token`.
    func forEachSegment(in text: UnsafeBufferPointer<UInt8>,
                        plainText: (Range<Int>) -> Void, token: (Int) -> Void) {
        var plainStart = 0
        var i = 0
        if !isEmpty {
            while i < text.count {
                if startsToken[Int(text[i])], let match = longestMatch(in: text, at: i) {
                    if plainStart < i { plainText(plainStart..<i) }
                    token(match.id)
                    i = match.end
                    plainStart = i
                } else {
                    i += 1
                }
            }
        }
        if plainStart < text.count { plainText(plainStart..<text.count) }
    }
}
