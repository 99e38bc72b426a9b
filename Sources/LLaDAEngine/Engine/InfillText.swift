/// Text with holes for infilling. `[MASK]` is one masked token, `[MASK*N]` is N of them
/// (1 ≤ N ≤ `maxRun`); everything else is literal text. `[MASK` always starts a placeholder, so a
/// malformed one (`[MASK*0]`, `[MASK*x]`, `[MASK`) is an error rather than silently literal.
public struct InfillText: Sendable, Equatable {
    public enum Piece: Sendable, Equatable {
        case text(String)
        case masks(Int)
    }

    public static let maxRun = 65_536
    public let pieces: [Piece]

    public init(parsing text: String) throws {
        var pieces: [Piece] = []
        var literal = ""
        var rest = Substring(text)
        while let start = rest.range(of: "[MASK") {
            literal += rest[..<start.lowerBound]
            let column = text.distance(from: text.startIndex, to: start.lowerBound) + 1
            let after = rest[start.upperBound...]
            let count: Int
            if after.hasPrefix("]") {
                count = 1
                rest = after.dropFirst()
            } else if after.hasPrefix("*"), let close = after.firstIndex(of: "]"),
                      let n = Self.count(after[after.index(after: after.startIndex)..<close]) {
                count = n
                rest = after[after.index(after: close)...]
            } else {
                throw PlanError.invalid("text", "\(setting("text")): malformed mask placeholder \"\(Self.excerpt(rest[start.lowerBound...]))\" at character \(column); write [MASK] for one token or [MASK*N] for N tokens (1 ≤ N ≤ \(Self.maxRun))")
            }
            if !literal.isEmpty { pieces.append(.text(literal)) }
            literal = ""
            // Adjacent placeholders are one hole.
            if case .masks(let previous) = pieces.last {
                pieces[pieces.count - 1] = .masks(previous + count)
            } else {
                pieces.append(.masks(count))
            }
        }
        literal += rest
        if !literal.isEmpty { pieces.append(.text(literal)) }
        guard pieces.contains(where: { if case .masks = $0 { true } else { false } }) else {
            throw PlanError.invalid("text", "\(setting("text")) has no mask placeholder, so there is nothing to fill; mark the holes with [MASK] or [MASK*N]")
        }
        self.pieces = pieces
    }

    /// The bad placeholder for an error message: through its `]` when that is near, else cut.
    private static func excerpt(_ text: Substring) -> String {
        if let close = text.prefix(16).firstIndex(of: "]") { return String(text[...close]) }
        return text.count > 12 ? text.prefix(12) + "…" : String(text)
    }

    /// N of `[MASK*N]`: decimal digits only, within 1...maxRun.
    private static func count(_ digits: Substring) -> Int? {
        guard !digits.isEmpty, digits.count <= 6, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              let n = Int(digits), (1...maxRun).contains(n) else { return nil }
        return n
    }

    public var maskCount: Int {
        pieces.reduce(0) { if case .masks(let n) = $1 { $0 + n } else { $0 } }
    }

    /// The canvas: each literal piece tokenized on its own (as the tokenizer treats text around an
    /// added token such as the mask), each hole as mask ids; and the holes' ranges in it.
    public func canvas(tokenizer: Tokenizer, maskID: Int) -> (ids: [Int], holes: [Range<Int>]) {
        var ids: [Int] = []
        var holes: [Range<Int>] = []
        for piece in pieces {
            switch piece {
            case .text(let text): ids += tokenizer.encode(text)
            case .masks(let n):
                holes.append(ids.count..<(ids.count + n))
                ids += Array(repeating: maskID, count: n)
            }
        }
        return (ids, holes)
    }
}
