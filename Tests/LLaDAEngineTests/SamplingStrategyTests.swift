import Foundation
import LLaDAEngine
import XCTest

/// Schedules, confidence measures, position temperature and remasking as pure functions.
final class SamplingStrategyTests: XCTestCase {
    func testEverySchedulesCountsSumToTheMasksWithAtLeastOnePerStep() {
        for schedule in TransferSchedule.allCases {
            for steps in 1...16 {
                for masks in steps...40 {
                    let counts = schedule.counts(masks: masks, steps: steps)
                    XCTAssertEqual(counts.count, steps)
                    XCTAssertEqual(counts.reduce(0, +), masks, "\(schedule) \(masks)/\(steps)")
                    XCTAssertTrue(counts.allSatisfy { $0 >= 1 }, "\(schedule) \(masks)/\(steps): \(counts)")
                }
            }
        }
    }

    func testScheduleShapes() {
        // linear: non-increasing, the remainder first.
        XCTAssertEqual(TransferSchedule.linear.counts(masks: 10, steps: 4), [3, 3, 2, 2])
        // exp: non-decreasing, most late.
        let exp = TransferSchedule.exp.counts(masks: 64, steps: 8)
        XCTAssertEqual(exp, exp.sorted(), "\(exp)")
        XCTAssertGreaterThan(exp.last!, 3 * exp.first!)
        // cosine: rises then falls, densest in the middle.
        let cosine = TransferSchedule.cosine.counts(masks: 64, steps: 8)
        let peak = cosine.firstIndex(of: cosine.max()!)!
        XCTAssertEqual(Array(cosine[...peak]), cosine[...peak].sorted(), "\(cosine)")
        XCTAssertEqual(Array(cosine[peak...]), cosine[peak...].sorted(by: >), "\(cosine)")
        XCTAssertTrue((2...5).contains(peak), "\(cosine)")
        XCTAssertLessThan(cosine.first!, cosine[peak])
        XCTAssertLessThan(cosine.last!, cosine[peak])
        // Fewer masks than steps: the rest of the steps commit nothing, the sum still holds.
        XCTAssertEqual(TransferSchedule.cosine.counts(masks: 2, steps: 4).reduce(0, +), 2)
    }

    func testConfidenceMeasuresOnHandComputedLogits() {
        // logits ln 4, ln 2, ln 1, ln 1: probabilities 0.5, 0.25, 0.125, 0.125.
        let row: [Float] = [log(4), log(2), 0, 0]
        row.withUnsafeBufferPointer { values in
            XCTAssertEqual(TokenChoice.probability64(of: 0, in: values), 0.5, accuracy: 1e-7)
            XCTAssertEqual(Double(TokenChoice.probability(of: 1, in: values)), 0.25, accuracy: 1e-7)
            XCTAssertEqual(TokenChoice.margin(values), 0.25, accuracy: 1e-7)
            let entropy = -(0.5 * log(0.5) + 0.25 * log(0.25) + 2 * 0.125 * log(0.125))
            XCTAssertEqual(TokenChoice.negativeEntropy(values), -entropy, accuracy: 1e-7)
        }
        // A certain prediction: margin 1, entropy 0.
        let certain: [Float] = [100, 0, 0]
        certain.withUnsafeBufferPointer { values in
            XCTAssertEqual(TokenChoice.margin(values), 1, accuracy: 1e-12)
            XCTAssertEqual(TokenChoice.negativeEntropy(values), 0, accuracy: 1e-12)
        }
    }

    func testTopKAndTopPFilters() {
        var row: [Float] = [3, 1, 2, 0, 2]
        row.withUnsafeMutableBufferPointer { TokenChoice.filter($0, topK: 2, topP: nil, temperature: 1) }
        XCTAssertEqual(row, [3, -.infinity, 2, -.infinity, -.infinity], "ties keep the lower index")
        // Probabilities 0.5, 0.25, 0.125, 0.125: top-p 0.7 keeps the first two.
        var probabilities: [Float] = [log(4), log(2), 0, 0]
        probabilities.withUnsafeMutableBufferPointer { TokenChoice.filter($0, topK: nil, topP: 0.7, temperature: 1) }
        XCTAssertEqual(probabilities.map { $0.isFinite }, [true, true, false, false])
    }

    func testPositionTemperatureIsReproduciblePerSeedAndTendsToTopK() {
        let confidence = (0..<20).map { Double($0) / 20 }
        func draw(_ seed: UInt64, _ temperature: Double) -> [Int] {
            var random = SamplerRandom(seed: seed)
            return TopKCommitRule.gumbelTopK(confidence, count: 4, temperature: temperature, random: &random)
        }
        XCTAssertEqual(draw(3, 1), draw(3, 1))
        XCTAssertEqual(Set((0..<20).map { draw($0, 1) }).count > 1, true, "different seeds choose differently")
        XCTAssertEqual(draw(5, 1e-4), [16, 17, 18, 19], "a tiny temperature is plain top-k")
    }

    /// Remasking takes tokens back but always finishes: every position is committed in the end,
    /// within the budget.
    func testRemaskingCommittedTokensTerminates() {
        // A model that keeps changing its mind: the committed token is never the current argmax.
        final class FickleModel: MaskPredictor {
            var calls = 0
            func logits(tokens: [Int], positions: [Int], stop: StopFlag?) -> FloatMatrix {
                calls += 1
                let matrix = FloatMatrix(rows: positions.count, cols: 6)
                for (row, position) in positions.enumerated() {
                    matrix.row(row)[(position + calls) % 5] = 10
                }
                return matrix
            }
            func logits(tokens: [Int], rows: Range<Int>, context: AttentionContext, positions: [Int], stop: StopFlag?) -> FloatMatrix {
                logits(tokens: tokens, positions: positions, stop: stop)
            }
            func makeCache(capacity: Int, storage: KVCache.Storage) -> KVCache? { nil }
        }
        for cache in [CacheMode.none, .prefix] {
            for threshold in [nil, 0.9] {
                var settings = GenerationSettings()
                settings.genLength = 16
                settings.steps = 8
                settings.blockLength = 8
                settings.cache = cache
                settings.threshold = threshold
                settings.remaskCommitted = CommittedRemasking(threshold: 0.5, perStep: 2, budgetPerBlock: 3)
                let result = Sampler(settings: settings, maskID: 5).generate(prompt: [0], model: FickleModel())
                XCTAssertFalse(result.outputIDs.contains(5), "\(cache) \(String(describing: threshold)): \(result.outputIDs)")
                // With the threshold every prediction is confident and a block fills in one step.
                if threshold == nil { XCTAssertGreaterThan(result.remasked, 0) }
                XCTAssertLessThanOrEqual(result.remasked, 2 * 3, "budget per block × blocks")
            }
        }
    }

    func testNewSettingsAreValidated() {
        func message(_ edit: (inout GenerationSettings) -> Void) -> String {
            var settings = GenerationSettings()
            edit(&settings)
            do { _ = try DenseLLaDAFamily().validated(settings.validated()); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(message { $0.topK = 0 }.contains("top_k"))
        XCTAssertTrue(message { $0.topP = 1.5 }.contains("top_p"))
        XCTAssertTrue(message { $0.positionTemperature = -1 }.contains("position_temperature"))
        XCTAssertTrue(message { $0.remaskCommitted = CommittedRemasking(threshold: 0) }.contains("remask_threshold"))
        XCTAssertTrue(message { $0.threshold = 0 }.contains("threshold"))
        XCTAssertTrue(message { $0.threshold = 1.5 }.contains("threshold"))
        XCTAssertTrue(message { $0.cache = .dual; $0.cfgScale = 1 }.contains("cfg_scale"))
    }
}
