import Foundation
import LLaDAEngine
import XCTest

/// The sampler as pure functions, driven by a fake model with hand-made logits.
final class SamplerTests: XCTestCase {
    /// Returns fixed logits per position and records every input it is given.
    final class FakeModel: MaskPredictor {
        let vocabulary: Int
        let logitsAt: (_ tokens: [Int], _ position: Int) -> [Float]
        var inputs: [[Int]] = []

        init(vocabulary: Int, logitsAt: @escaping ([Int], Int) -> [Float]) {
            self.vocabulary = vocabulary
            self.logitsAt = logitsAt
        }

        func logits(tokens: [Int], positions: [Int], stop: StopFlag?) -> FloatMatrix {
            inputs.append(tokens)
            let matrix = FloatMatrix(rows: positions.count, cols: vocabulary)
            for (row, position) in positions.enumerated() {
                let values = logitsAt(tokens, position)
                for (column, value) in values.enumerated() { matrix.row(row)[column] = value }
            }
            return matrix
        }

        func logits(tokens: [Int], rows: Range<Int>, context: AttentionContext, positions: [Int], stop: StopFlag?) -> FloatMatrix {
            logits(tokens: tokens, positions: positions, stop: stop)
        }

        func makeCache(capacity: Int, storage: KVCache.Storage) -> KVCache? { nil }
    }

    func testLinearScheduleMatchesGetNumTransferTokens() {
        XCTAssertEqual(TransferSchedule.linear(masks: 8, steps: 3), [3, 3, 2])
        XCTAssertEqual(TransferSchedule.linear(masks: 32, steps: 32), Array(repeating: 1, count: 32))
        XCTAssertEqual(TransferSchedule.linear(masks: 5, steps: 2), [3, 2])
        XCTAssertEqual(TransferSchedule.linear(masks: 0, steps: 2), [0, 0])
        for masks in 0..<40 {
            for steps in 1..<12 {
                let counts = TransferSchedule.linear(masks: masks, steps: steps)
                XCTAssertEqual(counts.reduce(0, +), masks)
                XCTAssertEqual(counts, counts.sorted(by: >), "non-increasing")
            }
        }
    }

    func testReferenceTopKSelectsTheLargestValues() {
        var random = SamplerRandom(seed: 7)
        for trial in 0..<500 {
            let n = 1 + trial % 90
            // Few distinct values so ties are common; the chosen set must still hold the k largest values.
            let values = (0..<n).map { _ in Double(random.next() % 5) }
            let k = 1 + Int(random.next() % UInt64(n))
            let chosen = ReferenceTopK.select(values, k: k)
            XCTAssertEqual(Set(chosen).count, k)
            let threshold = values.sorted(by: >)[k - 1]
            XCTAssertTrue(chosen.allSatisfy { values[$0] >= threshold })
            XCTAssertEqual(chosen.map { values[$0] }.sorted(), values.sorted(by: >).prefix(k).sorted())
        }
    }

    func testReferenceTopKPrefersNaNLikeTorch() {
        XCTAssertEqual(Set(ReferenceTopK.select([1, .nan, 3, -.infinity], k: 2)), [1, 2])
    }

    func testProbabilityIsASoftmaxEntry() {
        let row: [Float] = (0..<100).map { Float($0 % 7) * 0.5 - 1 }
        let maximum = row.max()!
        let sum = row.reduce(0.0) { $0 + exp(Double($1 - maximum)) }
        row.withUnsafeBufferPointer { buffer in
            for token in [0, 6, 13, 99] {
                let expected = exp(Double(row[token] - maximum)) / sum
                XCTAssertEqual(Double(TokenChoice.probability(of: token, in: buffer)), expected, accuracy: 1e-6)
            }
            XCTAssertEqual(TokenChoice.argmax(buffer), 6, "first of the tied maxima")
        }
    }

    func testCommitsTheMostConfidentPositionsPerStep() {
        // Vocabulary of 4; mask id 3. Position p predicts token p % 3 with a confidence that grows with p.
        let model = FakeModel(vocabulary: 4) { _, position in
            var logits: [Float] = [0, 0, 0, -20]
            logits[position % 3] = Float(position)
            return logits
        }
        var settings = GenerationSettings()
        settings.genLength = 4
        settings.steps = 2
        settings.blockLength = 4
        let result = Sampler(settings: settings, maskID: 3).generate(prompt: [0, 1], model: model)
        XCTAssertEqual(result.outputIDs, [2, 0, 1, 2])
        // Positions 4 and 5 (most confident) first, then 2 and 3.
        XCTAssertEqual(result.decodedAtStep, [1, 1, 0, 0])
        XCTAssertEqual(result.modelCalls, 2)
        XCTAssertEqual(model.inputs[1], [0, 1, 3, 3, 1, 2])
    }

    func testBlocksAreDecodedLeftToRight() {
        let model = FakeModel(vocabulary: 4) { _, position in
            var logits: [Float] = [0, 0, 0, -20]
            logits[1] = Float(position)  // later positions are more confident
            return logits
        }
        var settings = GenerationSettings()
        settings.genLength = 4
        settings.steps = 4
        settings.blockLength = 2
        let result = Sampler(settings: settings, maskID: 3).generate(prompt: [0], model: model)
        // Within each block the right position goes first, but block 1 waits for block 0.
        XCTAssertEqual(result.decodedAtStep, [1, 0, 3, 2])
        XCTAssertEqual(model.inputs[0], [0, 3, 3, 3, 3])
    }

    func testClassifierFreeGuidance() {
        // Conditional logits favour token 1, unconditional token 2; with scale s the combination
        // is un + (s+1)(cond − un).
        let model = FakeModel(vocabulary: 4) { tokens, _ in
            tokens[0] == 3 ? [0, 1, 3, -20] : [0, 2, 1, -20]
        }
        var settings = GenerationSettings()
        settings.genLength = 1
        settings.steps = 1
        settings.blockLength = 1
        settings.cfgScale = 1
        let result = Sampler(settings: settings, maskID: 3).generate(prompt: [0, 1], model: model)
        // Token 1: 1 + 2·(2 − 1) = 3; token 2: 3 + 2·(1 − 3) = −1.
        XCTAssertEqual(result.outputIDs, [1])
        XCTAssertEqual(model.inputs.count, 2)
        XCTAssertEqual(model.inputs[1], [3, 3, 3], "the unconditional input masks every prompt position")
    }

    func testSeededSamplingIsReproducible() {
        let model = FakeModel(vocabulary: 8) { _, position in (0..<8).map { Float(($0 * 7 + position) % 5) } + [] }
        var settings = GenerationSettings()
        settings.genLength = 8
        settings.steps = 4
        settings.blockLength = 8
        settings.temperature = 1
        settings.remasking = .random
        func run(_ seed: UInt64) -> [Int] {
            settings.seed = seed
            return Sampler(settings: settings, maskID: 99).generate(prompt: [0], model: model).outputIDs
        }
        XCTAssertEqual(run(1), run(1))
        XCTAssertNotEqual((1...5).map(run), Array(repeating: run(1), count: 5), "different seeds sample differently")
    }

    func testSettingsValidationNamesTheOption() {
        func message(_ edit: (inout GenerationSettings) -> Void, prompt: Int = 10, max: Int = 256) -> String {
            var settings = GenerationSettings()
            edit(&settings)
            // The fixture's model file plans against its max_sequence_length.
            XCTAssertEqual(max, 256)
            do {
                _ = try ModelFile.open(FixturePaths.model.path).plan(GenerationRequest(prompt: .ids(Array(repeating: 279, count: prompt)), settings: settings))
                return ""
            } catch {
                // As the CLI prints it (the library names the setting gen_length).
                return (error as! PlanError).message.message { "--" + $0.replacingOccurrences(of: "_", with: "-") }
            }
        }
        XCTAssertEqual(message { _ in }, "")
        XCTAssertTrue(message { $0.blockLength = 24 }.contains("--gen-length 128 must be a multiple of --block-length 24"))
        XCTAssertTrue(message { $0.steps = 6 }.contains("--steps 6 must be a multiple of the number of blocks"))
        XCTAssertTrue(message { $0.genLength = 0 }.contains("--gen-length"))
        XCTAssertTrue(message { $0.steps = 256 }.contains("--steps 256 exceeds --gen-length 128"))
        XCTAssertTrue(message { $0.temperature = -1 }.contains("--temperature"))
        XCTAssertTrue(message { $0.cfgScale = .nan }.contains("--cfg-scale"))
        XCTAssertTrue(message({ _ in }, prompt: 200).contains("exceeds the model's max_sequence_length 256"))
        XCTAssertTrue(message({ _ in }, prompt: 0).contains("prompt is empty"))
    }
}

extension SamplerTests {
    /// A model whose favourite token is the mask id must still finish every loop: the mask id
    /// (and any id past the token limit) is never predicted.
    func testTheMaskIDAndPaddingRowsAreNeverPredicted() {
        let model = FakeModel(vocabulary: 6) { _, position in
            [0, Float(position % 3), 0.5, 9, 1, 8]  // mask id 3 best, then padding id 5
        }
        for cache in [CacheMode.none, .dual] {
            for threshold in [nil, 0.5] {
                var settings = GenerationSettings()
                settings.genLength = 8
                settings.steps = 8
                settings.blockLength = 4
                settings.cache = cache
                settings.threshold = threshold
                let result = Sampler(settings: settings, maskID: 3, tokenLimit: 5).generate(prompt: [0], model: model)
                XCTAssertFalse(result.outputIDs.contains(3), "\(result.outputIDs)")
                XCTAssertFalse(result.outputIDs.contains(5), "\(result.outputIDs)")
            }
        }
    }

    func testCFGAppliesToEveryStepOfTheThresholdLoop() {
        // Conditional logits favour token 2, guided ones (un + 2·(cond − un)) token 1: any step
        // that lost the guidance would commit a 2.
        let model = FakeModel(vocabulary: 4) { tokens, _ in tokens[0] == 3 ? [0, 0, 3, -20] : [0, 1, 1.5, -20] }
        var settings = GenerationSettings()
        settings.genLength = 4
        settings.steps = 4
        settings.blockLength = 4
        settings.cfgScale = 1
        settings.threshold = 0.99
        let result = Sampler(settings: settings, maskID: 3).generate(prompt: [0, 1], model: model)
        XCTAssertEqual(result.outputIDs, [1, 1, 1, 1])
    }

    func testHugeLengthsAreRefusedNotOverflowed() {
        var settings = GenerationSettings()
        settings.genLength = Int.max
        settings.blockLength = Int.max
        settings.steps = 1
        XCTAssertNoThrow(try settings.validated(), "consistent among themselves")
        XCTAssertThrowsError(try ModelFile.open(FixturePaths.model.path).plan(GenerationRequest(prompt: .ids(Array(repeating: 279, count: 10)),
                                                                                                settings: settings))) { error in
            XCTAssertEqual(error as? PlanError, .contextExceeded(prompt: 10, generation: Int.max, limit: 256))
        }
    }
}
