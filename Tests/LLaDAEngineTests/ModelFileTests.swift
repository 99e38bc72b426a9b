import Foundation
import LLaDAConvert
import LLaDAEngine
import XCTest

/// `ModelFile`: one header parse and one tokenizer per run, whatever the frontend asks before the
/// weights (config, footprint, prompt ids, default cache).
final class ModelFileTests: XCTestCase {
    /// The sequence `llada generate` runs: open, prompt ids, length and memory checks, load, generate.
    func runGenerateSequence(_ path: String) throws -> [Int] {
        let file = try ModelFile.open(path)
        let ids = try file.promptIDs(for: "reverse: abcd", raw: false)
        var settings = GenerationSettings()
        settings.genLength = 8
        settings.steps = 8
        settings.blockLength = 8
        settings.cache = file.defaultCache(cfgScale: 0)
        try settings.validate(promptLength: ids.count, maxSequenceLength: file.config.maxSequenceLength)
        _ = MemoryEstimate(footprint: file.footprint, settings: settings, promptLength: ids.count, pageSize: ProcessMemory.pageSize)
        let model = try file.load(threads: 2)
        XCTAssertTrue(model.tokenizer === file.tokenizer, "the model shares the file's tokenizer")
        return try model.generate(promptIDs: ids, settings: settings).outputIDs
    }

    func testGenerateParsesTheHeaderOnce() throws {
        let directory = try temporaryTestDirectory()
        let packed = try PackedTestSupport.convertFixture(.q8, into: directory)
        for path in [packed.path, FixturePaths.model.path] {
            let before = ModelFile.headerParses
            let output = try runGenerateSequence(path)
            XCTAssertEqual(ModelFile.headerParses - before, 1, path)
            XCTAssertEqual(output.count, 8)
        }
    }

    func testDefaultCacheIsDualForPackedFilesOnly() throws {
        let directory = try temporaryTestDirectory()
        let packed = try ModelFile.open(try PackedTestSupport.convertFixture(.q8, into: directory).path)
        let checkpoint = try ModelFile.open(FixturePaths.model.path)
        XCTAssertEqual(packed.defaultCache(cfgScale: 0), .dual)
        XCTAssertEqual(packed.defaultCache(cfgScale: 1), .none, "guidance needs full passes")
        XCTAssertEqual(checkpoint.defaultCache(cfgScale: 0), .none, "the f32 reference path stays exact")
        XCTAssertTrue(packed.isPacked)
        XCTAssertFalse(checkpoint.isPacked)
    }

    /// The backend is a value, not an environment variable: dequantize runs f32 activations on the
    /// same q8 weights, so its logits stay close to the kernels' but are computed elsewhere.
    func testTheLinearBackendIsChosenExplicitly() throws {
        let directory = try temporaryTestDirectory()
        let file = try ModelFile.open(try PackedTestSupport.convertFixture(.q8, into: directory).path)
        let kernels = try file.load(backend: .kernels, threads: 2)
        let dequantized = try file.load(backend: .dequantize, threads: 2)
        XCTAssertTrue(kernels.transformer.weights.lmHead.runsOnKernels)
        XCTAssertFalse(dequantized.transformer.weights.lmHead.runsOnKernels)
        let ids = try file.promptIDs(for: "sort: 6 5 9 2 8", raw: false) + Array(repeating: file.config.maskID, count: 8)
        let a = kernels.transformer.logits(tokens: ids), b = dequantized.transformer.logits(tokens: ids)
        let comparison = PackedTestSupport.compareLogits(a, b)
        XCTAssertGreaterThan(comparison.maxAbs, 0, "two different computations")
        XCTAssertLessThan(comparison.meanKL, 1e-2)
    }
}
