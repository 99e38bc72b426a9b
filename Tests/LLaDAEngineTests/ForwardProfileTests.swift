import Foundation
import LLaDABenchmarks
import LLaDAEngine
import LLaDASynthetic
import XCTest

/// The bench's instrumentation: it must not change a single logit, and its regions must nest.
final class ForwardProfileTests: XCTestCase {
    func testProfilingLeavesTheLogitsIdenticalAndAccountsEveryRegion() throws {
        let transformer = Transformer(weights: try FixturePaths.transformer().weights)
        let (ids, masked) = try PackedTestSupport.goldenInputs()[0]
        let plain = transformer.logits(tokens: ids, outputPositions: masked)
        let profile = ForwardProfile()
        let profiled = transformer.profiled(profile).logits(tokens: ids, outputPositions: masked)
        XCTAssertEqual(plain.storage.array, profiled.storage.array)
        XCTAssertEqual(profile.calls, 1)
        XCTAssertGreaterThan(profile.matmulNanoseconds, 0)
        XCTAssertGreaterThan(profile.lmHeadNanoseconds, 0)
        XCTAssertGreaterThan(profile.attentionNanoseconds, 0)
        XCTAssertLessThanOrEqual(profile.lmHeadNanoseconds, profile.matmulNanoseconds)
        XCTAssertLessThanOrEqual(profile.matmulNanoseconds + profile.attentionNanoseconds, profile.totalNanoseconds)
    }

    func testBenchmarkRunCountsEveryCallInsideTheSteps() throws {
        let model = try LLaDAModel.load(path: FixturePaths.model.path, compute: ComputeContext(threads: 1))
        var settings = GenerationSettings()
        settings.genLength = 16
        settings.steps = 8
        settings.blockLength = 8
        settings.cache = .dual
        let prompt = try GenerationBenchmark.syntheticPrompt(length: 12, tokenizer: model.tokenizer, shape: model.shape)
        let run = try GenerationBenchmark.run(model: model, plan: model.plan(GenerationRequest(prompt: .ids(prompt), settings: settings)))
        XCTAssertNil(model.transformer.profile, "the loaded model is left unprofiled (the benchmark ran a profiled view of it)")
        XCTAssertEqual(run.stepSeconds.count, run.modelCalls)
        XCTAssertGreaterThanOrEqual(run.modelCalls, 2)
        XCTAssertEqual(run.kvCacheBytes, 4 * 2 * (12 + 16) * 192 * 2)
        // Every forward call happens inside a step, and the first one inside the whole.
        XCTAssertGreaterThan(run.prefillSeconds, 0)
        XCTAssertLessThanOrEqual(run.prefillSeconds, run.forwardSeconds)
        XCTAssertLessThanOrEqual(run.forwardSeconds, run.stepSeconds.reduce(0, +))
        XCTAssertLessThanOrEqual(run.stepSeconds.reduce(0, +), run.seconds)
        // samplerSeconds is max(0, steps − forward): ≥ 0 would hold by definition. The sampler does
        // real work each step, so its share is strictly positive and not the clamp's doing.
        XCTAssertGreaterThan(run.samplerSeconds, 0)
        XCTAssertEqual(run.samplerSeconds, run.stepSeconds.reduce(0, +) - run.forwardSeconds, accuracy: 1e-12)
    }

    func testSyntheticPromptIsDeterministicAndOrdinary() throws {
        let tokenizer = try ModelFile.tokenizer(at: FixturePaths.model.path)
        let config = try LLaDAConfig.load(from: FixturePaths.model.appendingPathComponent("config.json"))
        let prompt = try GenerationBenchmark.syntheticPrompt(length: 200, tokenizer: tokenizer, shape: ModelShape(config))
        XCTAssertEqual(prompt.count, 200)
        XCTAssertEqual(prompt, try GenerationBenchmark.syntheticPrompt(length: 200, tokenizer: tokenizer, shape: ModelShape(config)))
        XCTAssertTrue(prompt.allSatisfy { !tokenizer.specialTokenIDs.contains($0) && $0 != config.maskID && $0 < config.paddedVocabSize })
        XCTAssertGreaterThan(Set(prompt).count, 100, "spread over the vocabulary")
    }
}
