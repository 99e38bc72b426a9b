import Foundation
import LLaDAEngine
import XCTest

/// LLaDA 2's sampler (`LLaDA2Family` through the shared loop) against the reference `generate`:
/// 12 dev prompts × 5 settings, output ids up to the first EOS and the model calls, without a
/// cache (the reference recomputes the window) and with the exact block cache.
final class LLaDA2GenerationTests: XCTestCase {
    static let network = Result { LLaDA2Network(weights: try LLaDA2Weights(directory: LLaDA2NetworkTests.model)) }

    struct Run: Equatable {
        var ids: [Int]
        var calls: Int
    }

    /// Counts the rows each call computes (the cache's saving), passing the calls on.
    final class RowCounter: MaskPredictor {
        let base: LLaDA2Predictor
        var rows = 0, calls = 0
        init(_ base: LLaDA2Predictor) { self.base = base }
        func logits(tokens: [Int], positions: [Int], stop: StopFlag?) -> FloatMatrix {
            (rows, calls) = (rows + tokens.count, calls + 1)
            return base.logits(tokens: tokens, positions: positions, stop: stop)
        }
        func logits(tokens: [Int], rows range: Range<Int>, context: AttentionContext, positions: [Int], stop: StopFlag?) -> FloatMatrix {
            (rows, calls) = (rows + range.count, calls + 1)
            return base.logits(tokens: tokens, rows: range, context: context, positions: positions, stop: stop)
        }
        func makeCache(capacity: Int, storage: KVCache.Storage) -> KVCache? { base.makeCache(capacity: capacity, storage: storage) }
    }

    static func generate(_ prompt: [Int], setting: [String: Any], cache: CacheMode, counter: ((RowCounter) -> Void)? = nil) throws -> Run {
        let blockLength = setting["block_length"] as! Int, genLength = setting["gen_length"] as! Int
        let stepsPerBlock = min(setting["steps"] as! Int, genLength)
        var settings = GenerationSettings()
        settings.genLength = genLength
        settings.blockLength = blockLength
        settings.steps = stepsPerBlock * (genLength / blockLength)
        settings.threshold = setting["threshold"] as? Double
        settings.cache = cache
        settings.earlyStop = true
        let sampler = Sampler(settings: settings, maskID: 482, eosID: 481, family: LLaDA2Family())
        let predictor = RowCounter(LLaDA2Predictor(network: try Self.network.get(), blockLength: blockLength))
        var blocks: [Int] = []
        let result = sampler.generate(prompt: prompt, model: predictor) { event in
            guard case .blockDone(let block, _) = event else { return }
            // Block events cover the answer only: after the prompt, never past gen_length.
            XCTAssertEqual(block.range.lowerBound, blocks.count)
            XCTAssertLessThanOrEqual(block.range.upperBound, genLength)
            blocks += block.ids
        }
        XCTAssertEqual(blocks, Array(result.outputIDs.prefix(blocks.count)))
        counter?(predictor)
        let ids = result.outputIDs.firstIndex(of: 481).map { Array(result.outputIDs[...$0]) } ?? result.outputIDs
        return Run(ids: ids, calls: result.modelCalls)
    }

    func testEveryGoldenGenerationWithAndWithoutTheBlockCache() throws {
        let data = try Data(contentsOf: LLaDA2NetworkTests.golden.appendingPathComponent("generate.json"))
        let golden = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let settings = try XCTUnwrap(golden["settings"] as? [String: [String: Any]])
        let prompts = try XCTUnwrap(golden["prompts"] as? [[String: Any]])
        XCTAssertEqual(prompts.count, 12)
        var checked = 0, calls = 0
        for prompt in prompts {
            let ids = try XCTUnwrap(prompt["prompt_ids"] as? [Int])
            for (name, setting) in settings.sorted(by: { $0.key < $1.key }) {
                let expected = try XCTUnwrap(prompt[name] as? [String: Any])
                let reference = Run(ids: expected["output_ids"] as! [Int], calls: expected["model_calls"] as! Int)
                for cache in [CacheMode.none, .prefix] {
                    let run = try Self.generate(ids, setting: setting, cache: cache)
                    XCTAssertEqual(run, reference, "\(prompt["id"]!) \(name) cache \(cache)")
                    checked += 1
                }
                calls += reference.calls
            }
        }
        XCTAssertEqual(checked, 12 * 5 * 2)
        print("LLaDA 2 generate: \(checked / 2) golden runs, \(calls) model calls, identical with and without the block cache")
    }
}

/// The 60 dev tasks through the chat template: the bf16 directory's accuracy and mean model
/// calls equal the reference's (dev_accuracy.json) in all five settings, with the exact block
/// cache; and the ids are the same without it (block 8, the setting with the most blocks).
final class LLaDA2DevAccuracyTests: XCTestCase {
    func testDevAccuracyEqualsTheReference() throws {
        let tokenizer = try Tokenizer(directory: LLaDA2NetworkTests.model)
        let template = try LLaDA2ChatTemplate(tokenizer: tokenizer)
        let tasks = try String(contentsOf: FixturePaths.tasks, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        XCTAssertEqual(tasks.count, 60)
        let data = try Data(contentsOf: LLaDA2NetworkTests.golden.appendingPathComponent("dev_accuracy.json"))
        let golden = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let settings = try XCTUnwrap(golden["settings"] as? [String: [String: Any]])
        let results = try XCTUnwrap(golden["results"] as? [String: [String: Any]])
        var lines: [String] = []
        var rowsWith = 0, rowsWithout = 0, cachedCalls = 0
        for (name, setting) in settings.sorted(by: { $0.key < $1.key }) {
            var correct = 0, calls = 0
            for task in tasks {
                let prompt = tokenizer.encode(template.render([ChatMessage(role: "user", content: task["prompt"] as! String)]),
                                              addSpecialTokens: false)
                let run = try LLaDA2GenerationTests.generate(prompt, setting: setting, cache: .prefix)
                if name == "gen32_block8_steps8_thr0.95" {
                    XCTAssertEqual(try LLaDA2GenerationTests.generate(prompt, setting: setting, cache: .none) { rowsWithout += $0.rows },
                                   run, "\(task["id"]!) without the cache")
                    _ = try LLaDA2GenerationTests.generate(prompt, setting: setting, cache: .prefix) { rowsWith += $0.rows; cachedCalls += $0.calls }
                }
                let text = try tokenizer.decode(run.ids, skipSpecialTokens: true).trimmingCharacters(in: .whitespacesAndNewlines)
                if text == task["answer"] as! String { correct += 1 }
                calls += run.calls
            }
            let reference = try XCTUnwrap(results[name])
            let accuracy = Double(correct) / Double(tasks.count), meanCalls = Double(calls) / Double(tasks.count)
            XCTAssertEqual(accuracy, reference["all"] as! Double, accuracy: 1e-12, name)
            XCTAssertEqual(meanCalls, reference["mean_model_calls"] as! Double, accuracy: 1e-12, name)
            lines.append(String(format: "%@ %.3f (%.2f calls)", name, accuracy, meanCalls))
        }
        print("LLaDA 2 dev accuracy (block cache): " + lines.joined(separator: "; "))
        // The cache computes fewer rows for the same calls (block 8: the window grows, the block does not).
        XCTAssertLessThan(rowsWith, rowsWithout)
        print(String(format: "LLaDA 2 block 8, 60 dev tasks: %d model calls; rows computed per call %.1f with the block cache, %.1f without",
                     cachedCalls, Double(rowsWith) / Double(cachedCalls), Double(rowsWithout) / Double(cachedCalls)))
    }
}
