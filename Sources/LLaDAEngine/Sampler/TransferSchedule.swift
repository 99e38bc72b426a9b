import Foundation

/// How many masked positions a block commits at each of its steps: the unmask schedule k_t.
public enum TransferSchedule: String, Sendable, CaseIterable {
    /// The reference `get_num_transfer_tokens`: equal counts, the remainder on the first steps
    /// (LLaDA's linear noise schedule).
    case linear
    /// Unmasked fraction (1 − cos(πt))/2: few tokens early and late, dense in the middle.
    case cosine
    /// Unmasked fraction (e^{at} − 1)/(e^a − 1), a = 3: few early, most late.
    case exp

    /// Counts for a block with `masks` masked positions over `steps` steps. They sum to `masks`
    /// and, when masks ≥ steps, every step commits at least one token.
    public func counts(masks: Int, steps: Int) -> [Int] {
        precondition(steps > 0 && masks >= 0)
        switch self {
        case .linear: return Self.linear(masks: masks, steps: steps)
        case .cosine: return Self.fromFraction(masks: masks, steps: steps) { (1 - cos(Double.pi * $0)) / 2 }
        case .exp: return Self.fromFraction(masks: masks, steps: steps) { (Foundation.exp(3 * $0) - 1) / (Foundation.exp(3) - 1) }
        }
    }

    public static func linear(masks: Int, steps: Int) -> [Int] {
        precondition(steps > 0 && masks >= 0)
        let base = masks / steps, remainder = masks % steps
        return (0..<steps).map { $0 < remainder ? base + 1 : base }
    }

    /// Rounds the cumulative unmasked fraction at each step's end, then moves single tokens from
    /// the largest steps to empty ones so every step commits at least one.
    static func fromFraction(masks: Int, steps: Int, _ fraction: (Double) -> Double) -> [Int] {
        var counts: [Int] = []
        var done = 0
        for step in 1...steps {
            let target = step == steps ? masks : Int((Double(masks) * fraction(Double(step) / Double(steps))).rounded())
            counts.append(max(0, target - done))
            done += counts.last!
        }
        guard masks >= steps else { return counts }
        while let empty = counts.firstIndex(of: 0) {
            let largest = counts.indices.max { counts[$0] < counts[$1] }!
            counts[largest] -= 1
            counts[empty] += 1
        }
        return counts
    }
}
