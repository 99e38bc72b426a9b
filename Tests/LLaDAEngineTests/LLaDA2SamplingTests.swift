import Foundation
import LLaDAEngine
import XCTest

/// LLaDA 2's sampling at temperature > 0, as its reference `_sample_with_temperature_topk_topp`:
/// a draw from softmax((logits / T) filtered by top-k and top-p), whose probability under that
/// distribution is the confidence the threshold compares.
final class LLaDA2SamplingTests: XCTestCase {
    /// One answer position (block length 1): the first token the sampler draws, per seed.
    func draws(temperature: Double, topK: Int? = nil, logits: [Float], seeds: Range<UInt64>, threshold: Double = 0.95) -> [Int] {
        seeds.map { seed in
            var settings = GenerationSettings()
            (settings.genLength, settings.blockLength, settings.stepsPerBlock) = (1, 1, 1)
            (settings.temperature, settings.topK, settings.seed, settings.threshold) = (temperature, topK, seed, threshold)
            settings.cache = .none
            settings.earlyStop = false
            let model = SamplerTests.FakeModel(vocabulary: logits.count) { _, _ in logits }
            return Sampler(settings: settings, maskID: 9, family: LLaDA2Family()).generate(prompt: [0], model: model).outputIDs[0]
        }
    }

    func testDrawsFollowTheTemperedDistribution() {
        let logits: [Float] = [2, 1, 0, -1]
        let temperature = 2.0
        let draws = draws(temperature: temperature, logits: logits, seeds: 0..<4000)
        let weights = logits.map { exp(Double($0) / temperature) }, total = weights.reduce(0, +)
        for token in 0..<4 {
            let share = Double(draws.count { $0 == token }) / Double(draws.count)
            // 4000 draws: a binomial share's standard deviation is at most 0.008.
            XCTAssertEqual(share, weights[token] / total, accuracy: 0.03, "token \(token)")
        }
        XCTAssertEqual(draws, self.draws(temperature: temperature, logits: logits, seeds: 0..<4000), "seeded: reproducible")
    }

    func testTopKLeavesOnlyTheLargest() {
        XCTAssertEqual(Set(draws(temperature: 5, topK: 1, logits: [0, 3, 1, 2], seeds: 0..<200)), [1])
        XCTAssertEqual(Set(draws(temperature: 5, topK: 2, logits: [0, 3, 1, 2], seeds: 0..<400)), [1, 3])
    }

    /// A huge scale (T = 0.001) cannot overflow the draw: the largest logit wins.
    func testASmallTemperatureIsTheArgmax() {
        XCTAssertEqual(Set(draws(temperature: 0.001, logits: [0, 3, 1, 2.99], seeds: 0..<100)), [1])
    }
}
