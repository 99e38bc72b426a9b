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

    /// softmax(row)[token] in f32, rounded as PyTorch's CPU kernel rounds it:
    /// exp(l - max) summed in `lanes` f32 accumulators (one SIMD register: 16 with AVX-512,
    /// 8 with AVX2), the lanes folded by halves, then exp(l[token] - max) · (1 / sum).
    ///
    /// Probabilities near 1 land on a handful of f32 values; reproducing torch's summation
    /// order makes them round, and therefore tie and order, as they did in the reference.
    public static func probability(of token: Int, in row: UnsafeBufferPointer<Float>, lanes: Int = 16) -> Float {
        var maximum = -Float.infinity
        for value in row where value > maximum { maximum = value }
        var accumulators = [Float](repeating: 0, count: lanes)
        var start = 0
        while start + lanes <= row.count {
            for lane in 0..<lanes { accumulators[lane] += expf(row[start + lane] - maximum) }
            start += lanes
        }
        // torch loads the tail as a partial vector (zeros elsewhere) and keeps only its lanes.
        for lane in 0..<(row.count - start) { accumulators[lane] += expf(row[start + lane] - maximum) }
        var width = lanes
        while width > 1 {
            width /= 2
            for lane in 0..<width { accumulators[lane] += accumulators[lane + width] }
        }
        let inverse = 1 / accumulators[0]
        return expf(row[token] - maximum) * inverse
    }

    /// softmax(row)[token] in f64, as Fast-dLLM computes confidence (`F.softmax(logits.to(float64))`),
    /// with torch's summation order for f64 vectors (8 lanes folded by halves).
    public static func probability64(of token: Int, in row: UnsafeBufferPointer<Float>, lanes: Int = 8) -> Double {
        var maximum = -Double.infinity
        for value in row where Double(value) > maximum { maximum = Double(value) }
        var accumulators = [Double](repeating: 0, count: lanes)
        var start = 0
        while start + lanes <= row.count {
            for lane in 0..<lanes { accumulators[lane] += exp(Double(row[start + lane]) - maximum) }
            start += lanes
        }
        for lane in 0..<(row.count - start) { accumulators[lane] += exp(Double(row[start + lane]) - maximum) }
        var width = lanes
        while width > 1 {
            width /= 2
            for lane in 0..<width { accumulators[lane] += accumulators[lane + width] }
        }
        return exp(Double(row[token]) - maximum) * (1 / accumulators[0])
    }
}
