import Foundation

/// LLaDA 2's router for one token (`LLaDA2MoeGate`): sigmoid scores of the router logits; the
/// selection adds `expert_bias` to them, keeps the `topkGroup` best groups of consecutive experts
/// (a group's score is the sum of its two best biased scores) and takes the `topK` best biased
/// scores among them; the weights are the chosen experts' *unbiased* scores over their sum
/// (+1e-20), times `routedScalingFactor`. All in f32, as the reference.
struct ExpertRouter: Sendable {
    let experts: Int
    let groups: Int
    let topkGroup: Int
    let topK: Int
    let routedScalingFactor: Float

    struct Choice: Equatable {
        /// By descending biased score (torch.topk's order).
        var experts: [Int]
        var weights: [Float]
    }

    func route(logits: UnsafePointer<Float>, bias: UnsafePointer<Float>) -> Choice {
        var scores = [Float](repeating: 0, count: experts)
        var biased = scores
        for e in 0..<experts {
            scores[e] = 1 / (1 + expf(-logits[e]))
            biased[e] = scores[e] + bias[e]
        }
        // Group scores: the two largest biased scores of each group.
        let size = experts / groups
        var groupScores = [Float](repeating: 0, count: groups)
        for g in 0..<groups {
            var first = -Float.infinity, second = -Float.infinity
            for e in (g * size)..<((g + 1) * size) {
                let value = biased[e]
                if value > first { (first, second) = (value, first) } else if value > second { second = value }
            }
            groupScores[g] = first + second
        }
        let keptGroups = Self.topIndices(groupScores, count: topkGroup)
        var masked = [Float](repeating: -.infinity, count: experts)
        for g in keptGroups { for e in (g * size)..<((g + 1) * size) { masked[e] = biased[e] } }
        let chosen = Self.topIndices(masked, count: topK)
        var weights = chosen.map { scores[$0] }
        if topK > 1 {
            var sum: Float = 0
            for w in weights { sum += w }
            let denominator = sum + 1e-20
            weights = weights.map { $0 / denominator }
        }
        return Choice(experts: chosen, weights: weights.map { $0 * routedScalingFactor })
    }

    /// Indices of the `count` largest values, largest first; ties go to the lower index.
    static func topIndices(_ values: [Float], count: Int) -> [Int] {
        Array(values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }.prefix(count))
    }
}
