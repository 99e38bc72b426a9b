import Foundation
import LLaDAConvert
import LLaDAEngine
import XCTest

/// `ModelFile`: one header parse and one tokenizer per run; the plan decides what a request
/// leaves open (the default cache) before the weights.
final class ModelFileTests: XCTestCase {
    /// The sequence `llada generate` runs: open, plan (prompt ids, length and memory checks),
    /// load, run. `spoil` runs between the plan and the load.
    func runGenerateSequence(_ path: String, spoil: () throws -> Void = {}) throws -> [Int] {
        let file = try ModelFile.open(path)
        var settings = GenerationSettings()
        settings.genLength = 8
        settings.steps = 8
        settings.blockLength = 8
        let plan = try file.plan(GenerationRequest(prompt: .user("reverse: abcd"), settings: settings))
        XCTAssertNotNil(plan.memory)
        try spoil()
        let model = try file.load(compute: ComputeContext(threads: 2))
        XCTAssertTrue(model.tokenizer === file.tokenizer, "the model shares the file's tokenizer")
        return try model.run(plan).outputIDs
    }

    /// Loading reads nothing of the header again: with the header files spoiled after `open`
    /// (a checkpoint's config.json and tokenizer.json; a packed file moved away from its path,
    /// its mapping kept), the run still gives the same answer.
    func testGenerateParsesTheHeaderOnce() throws {
        let directory = try temporaryTestDirectory()
        let packed = try PackedTestSupport.convertFixture(.q8, into: directory)
        let checkpoint = directory.appendingPathComponent("checkpoint")
        try FileManager.default.copyItem(at: FixturePaths.model, to: checkpoint)
        let packedOutput = try runGenerateSequence(packed.path)
        let moved = directory.appendingPathComponent("moved.lpk")
        XCTAssertEqual(try runGenerateSequence(packed.path) { try FileManager.default.moveItem(at: packed, to: moved) }, packedOutput)
        let checkpointOutput = try runGenerateSequence(checkpoint.path)
        let spoiled = try runGenerateSequence(checkpoint.path) {
            for name in ["config.json", "tokenizer.json", "tokenizer_config.json"] {
                try Data("{".utf8).write(to: checkpoint.appendingPathComponent(name))
            }
        }
        XCTAssertEqual(spoiled, checkpointOutput)
        XCTAssertEqual(spoiled.count, 8)
    }

    func testDefaultCacheIsDualForPackedFilesOnly() throws {
        let directory = try temporaryTestDirectory()
        let packed = try ModelFile.open(try PackedTestSupport.convertFixture(.q8, into: directory).path)
        let checkpoint = try ModelFile.open(FixturePaths.model.path)
        func plannedCache(_ file: ModelFile, cfgScale: Double) throws -> CacheMode {
            var settings = GenerationSettings()
            (settings.genLength, settings.steps, settings.blockLength, settings.cfgScale) = (8, 8, 8, cfgScale)
            return try file.plan(GenerationRequest(prompt: .user("x"), settings: settings)).settings.cache
        }
        XCTAssertEqual(try plannedCache(packed, cfgScale: 0), CacheMode.dual)
        XCTAssertEqual(try plannedCache(packed, cfgScale: 1), CacheMode.none, "guidance needs full passes")
        XCTAssertEqual(try plannedCache(checkpoint, cfgScale: 0), CacheMode.none, "the f32 reference path stays exact")
        XCTAssertTrue(packed.isPacked)
        XCTAssertFalse(checkpoint.isPacked)
    }

    /// The backend is a value, not an environment variable: dequantize runs f32 activations on the
    /// same q8 weights, so its logits stay close to the kernels' but are computed elsewhere.
    func testTheLinearBackendIsChosenExplicitly() throws {
        let directory = try temporaryTestDirectory()
        let file = try ModelFile.open(try PackedTestSupport.convertFixture(.q8, into: directory).path)
        let kernels = try file.load(backend: .kernels, compute: ComputeContext(threads: 2))
        let dequantized = try file.load(backend: .dequantize, compute: ComputeContext(threads: 2))
        XCTAssertTrue(kernels.transformer.weights.lmHead.runsOnKernels)
        XCTAssertFalse(dequantized.transformer.weights.lmHead.runsOnKernels)
        let ids = try file.promptIDs(for: "sort: 6 5 9 2 8", raw: false) + Array(repeating: file.shape.maskID, count: 8)
        let a = kernels.transformer.logits(tokens: ids), b = dequantized.transformer.logits(tokens: ids)
        let comparison = PackedTestSupport.compareLogits(a, b)
        XCTAssertGreaterThan(comparison.maxAbs, 0, "two different computations")
        XCTAssertLessThan(comparison.meanKL, 1e-2)
    }
}
