import Foundation

/// Which candidates a step commits, given each one's confidence and the count the schedule asks
/// for. A model family supplies its rule (`ModelFamily.commitRule(for:)`).
public protocol CommitRule: Sendable {
    /// Rows of `confidence` (row i is canvas position `candidates[i]`) to commit.
    func chosen(_ confidence: [Double], candidates: [Int], canvasLength: Int, count: Int, random: inout SamplerRandom) -> [Int]
    /// Whether the rule decides how many to commit by itself (a threshold), so a block ends when
    /// its masks run out rather than after a fixed number of steps.
    var decidesCount: Bool { get }
}

/// Dense LLaDA's rule: the schedule's count, chosen as torch.topk would (or by Gumbel-top-k
/// with a position temperature); with a threshold (Fast-dLLM's parallel decoding) every position
/// at or above it, and always the most confident one.
public struct TopKCommitRule: CommitRule {
    public let threshold: Double?
    public let positionTemperature: Double

    public init(settings: GenerationSettings) {
        threshold = settings.threshold
        positionTemperature = settings.positionTemperature
    }

    public var decidesCount: Bool { threshold != nil }

    public func chosen(_ confidence: [Double], candidates: [Int], canvasLength: Int, count: Int, random: inout SamplerRandom) -> [Int] {
        if let threshold { return Self.aboveThreshold(confidence, threshold: threshold) }
        if positionTemperature > 0 {
            return Self.gumbelTopK(confidence, count: count, temperature: positionTemperature, random: &random)
        }
        return Self.referenceTopK(confidence, candidates: candidates, canvas: canvasLength, count: count)
    }

    /// Rows torch.topk keeps, run as the reference runs it: over the whole canvas, −inf outside
    /// the candidates (so ties break as they did in the reference).
    public static func referenceTopK(_ confidence: [Double], candidates: [Int], canvas: Int, count: Int) -> [Int] {
        var full = [Double](repeating: -.infinity, count: canvas)
        for (row, position) in candidates.enumerated() { full[position] = confidence[row] }
        let chosen = Set(ReferenceTopK.select(full, k: min(count, candidates.count)))
        return candidates.indices.filter { chosen.contains(candidates[$0]) }
    }

    /// Fast-dLLM's parallel decoding: every row at or above the threshold, and always the most
    /// confident one (the first on ties).
    public static func aboveThreshold(_ confidence: [Double], threshold: Double) -> [Int] {
        guard let best = confidence.indices.max(by: { confidence[$0] < confidence[$1] || (confidence[$0] == confidence[$1] && $0 > $1) }) else { return [] }
        return confidence.indices.filter { $0 == best || confidence[$0] >= threshold }
    }

    /// Position temperature: the `count` rows with the largest confidence/τ + Gumbel noise, i.e.
    /// `count` draws without replacement from softmax(confidence/τ). τ → 0 is plain top-k.
    public static func gumbelTopK(_ confidence: [Double], count: Int, temperature: Double, random: inout SamplerRandom) -> [Int] {
        let keys = confidence.map { $0 / temperature - log(-log(random.nextUnitOpen())) }
        let order = keys.indices.sorted { keys[$0] != keys[$1] ? keys[$0] > keys[$1] : $0 < $1 }
        return Array(order.prefix(count)).sorted()
    }
}

/// LLaDA 2's rule (`modeling_llada2_moe.py` `generate`): every position whose confidence is
/// above τ when at least the schedule's count pass, else the schedule's top-k.
public struct ThresholdOrTopKCommitRule: CommitRule {
    public let threshold: Double

    public init(threshold: Double) { self.threshold = threshold }

    public var decidesCount: Bool { false }

    public func chosen(_ confidence: [Double], candidates: [Int], canvasLength: Int, count: Int, random: inout SamplerRandom) -> [Int] {
        let above = confidence.indices.filter { confidence[$0] > threshold }
        if above.count >= count { return above }
        return TopKCommitRule.referenceTopK(confidence, candidates: candidates, canvas: canvasLength, count: count)
    }
}
