import Foundation

/// Pure per-position decisions of the sampler, over one row of logits.
public enum TokenChoice {
    /// Index of the largest value; the first one on ties (as torch.argmax).
    public static func argmax(_ row: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        for index in row.indices where row[index] > row[best] { best = index }
        return best
    }

    /// Gumbel-max sampling exactly as the reference writes it, in float64:
    /// argmax(exp(logits) / (-log u)^temperature) with u ~ U(0, 1).
    public static func gumbelArgmax(_ row: UnsafeBufferPointer<Float>, temperature: Double, random: inout SamplerRandom) -> Int {
        var best = 0
        var bestValue = -Double.infinity
        for (index, logit) in row.enumerated() {
            let noise = pow(-log(random.nextUnitOpen()), temperature)
            let value = exp(Double(logit)) / noise
            if value > bestValue || index == 0 { best = index; bestValue = value }
        }
        return best
    }

    /// A draw from softmax(row) (torch.multinomial's distribution), as the Gumbel-max trick in log
    /// space: argmax(l + g), g = −log(−log u), so no exp can overflow whatever the scale of `row`.
    public static func categorical(_ row: UnsafeBufferPointer<Float>, random: inout SamplerRandom) -> Int {
        var best = 0
        var bestValue = -Double.infinity
        for (index, logit) in row.enumerated() {
            let value = Double(logit) - log(-log(random.nextUnitOpen()))
            if value > bestValue { best = index; bestValue = value }
        }
        return best
    }

    /// softmax(row)[token] in f32, rounded as PyTorch's CPU kernel rounds it:
    /// exp(l - max) summed in `lanes` f32 accumulators (one SIMD register: 16 with AVX-512,
    /// 8 with AVX2), the lanes folded by halves, then exp(l[token] - max) · (1 / sum).
    ///
    /// Probabilities near 1 land on a handful of f32 values; reproducing torch's summation
    /// order makes them round, and therefore tie and order, as they did in the reference.
    public static func probability(of token: Int, in row: UnsafeBufferPointer<Float>, lanes: Int = 16) -> Float {
        var maximum = -Float.infinity
        for value in row where value > maximum { maximum = value }
        let sum = laneSum(count: row.count, lanes: lanes) { expf(row[$0] - maximum) }
        return expf(row[token] - maximum) * (1 / sum)
    }

    /// softmax(row)[token] in f64, as Fast-dLLM computes confidence (`F.softmax(logits.to(float64))`),
    /// with torch's summation order for f64 vectors (8 lanes folded by halves).
    public static func probability64(of token: Int, in row: UnsafeBufferPointer<Float>, lanes: Int = 8) -> Double {
        var maximum = -Double.infinity
        for value in row where Double(value) > maximum { maximum = Double(value) }
        let sum = laneSum(count: row.count, lanes: lanes) { exp(Double(row[$0]) - maximum) }
        return exp(Double(row[token]) - maximum) * (1 / sum)
    }

    /// Σ term(i) for i < count, summed as torch's vectorised reduction does: `lanes` accumulators
    /// (one SIMD register), the tail loaded as a partial vector, the lanes folded by halves.
    static func laneSum<T: BinaryFloatingPoint>(count: Int, lanes: Int, _ term: (Int) -> T) -> T {
        var accumulators = [T](repeating: 0, count: lanes)
        var start = 0
        while start + lanes <= count {
            for lane in 0..<lanes { accumulators[lane] += term(start + lane) }
            start += lanes
        }
        for lane in 0..<(count - start) { accumulators[lane] += term(start + lane) }
        var width = lanes
        while width > 1 {
            width /= 2
            for lane in 0..<width { accumulators[lane] += accumulators[lane + width] }
        }
        return accumulators[0]
    }

    /// Softmax statistics of a row in f64: its maximum, Σ exp(l − max), and Σ exp(l − max)·(l − max).
    static func softmaxSums(_ row: UnsafeBufferPointer<Float>) -> (maximum: Double, sum: Double, weighted: Double) {
        var maximum = -Double.infinity
        for value in row where Double(value) > maximum { maximum = Double(value) }
        var sum = 0.0, weighted = 0.0
        for value in row {
            let shifted = Double(value) - maximum
            let e = exp(shifted)
            sum += e
            if e > 0 { weighted += e * shifted }
        }
        return (maximum, sum, weighted)
    }

    /// Top-1 minus top-2 probability of the row's softmax (the `margin` confidence).
    public static func margin(_ row: UnsafeBufferPointer<Float>) -> Double {
        var first = -Float.infinity, second = -Float.infinity
        for value in row {
            if value > first { second = first; first = value } else if value > second { second = value }
        }
        let sums = softmaxSums(row)
        return (exp(Double(first) - sums.maximum) - exp(Double(second) - sums.maximum)) / sums.sum
    }

    /// Σ p·log p of the row's softmax: the negative entropy (the `entropy` confidence; 0 is certain).
    public static func negativeEntropy(_ row: UnsafeBufferPointer<Float>) -> Double {
        let sums = softmaxSums(row)
        return sums.weighted / sums.sum - log(sums.sum)
    }

    /// Keeps the `topK` largest logits and the smallest set whose probabilities (at `temperature`)
    /// reach `topP`; every other logit becomes −inf, so no sampler can pick it.
    public static func filter(_ row: UnsafeMutableBufferPointer<Float>, topK: Int?, topP: Double?, temperature: Double) {
        let useK = topK.map { $0 > 0 && $0 < row.count } ?? false
        let useP = topP.map { $0 > 0 && $0 < 1 } ?? false
        guard useK || useP else { return }
        // Largest first; equal logits keep index order, so the cut is deterministic.
        var order = Array(row.indices)
        order.sort { row[$0] != row[$1] ? row[$0] > row[$1] : $0 < $1 }
        var keep = useK ? topK! : row.count
        if useP {
            let scale = 1 / max(temperature, 1e-6)
            let maximum = Double(row[order[0]])
            let weights = order.map { exp((Double(row[$0]) - maximum) * scale) }
            let total = weights.reduce(0, +)
            var cumulative = 0.0
            var needed = 0
            // The smallest prefix whose mass reaches top-p (always at least the first token).
            while needed < weights.count {
                cumulative += weights[needed] / total
                needed += 1
                if cumulative >= topP! { break }
            }
            keep = min(keep, needed)
        }
        for index in order[keep...] { row[index] = -.infinity }
    }
}
