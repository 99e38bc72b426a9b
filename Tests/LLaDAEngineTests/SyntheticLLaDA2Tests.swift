import Foundation
import LLaDAEngine
import LLaDASynthetic
import XCTest

/// llada-synth's LLaDA 2 presets: the checkpoint opens as LLaDA 2 (every tensor the config
/// implies, sharded with an index), generates, and its router spreads a block's mask rows over
/// many experts (the point of the synthetic: speed figures need realistic routing).
final class SyntheticLLaDA2Tests: XCTestCase {
    func testTinyLLaDA2CheckpointLoadsGeneratesAndSpreadsItsRouting() throws {
        let destination = try temporaryTestDirectory().appendingPathComponent("llada2")
        let shape = SyntheticLLaDA2Shape.preset(.tiny)
        let options = SyntheticCheckpointOptions(model: .llada2(shape), shards: 3, seed: 5, threads: 2)
        let summary = try SyntheticCheckpointWriter(options: options, destination: destination).write()
        XCTAssertTrue(summary.fileNames.contains("model.safetensors.index.json"))

        let checkpoint = try LLaDA2Checkpoint(directory: destination)
        XCTAssertEqual(checkpoint.entries.count, checkpoint.config.impliedTensorCount)
        XCTAssertEqual(checkpoint.entries.reduce(0) { $0 + $1.shape.reduce(1, *) }, shape.parameterCount)
        let model = try LLaDAModel.load(path: destination.path, compute: ComputeContext(threads: 1))
        XCTAssertEqual(model.shape.architecture, "llada2_moe")
        XCTAssertEqual(model.maskID, shape.bpeCount + 4)

        var settings = GenerationSettings()
        settings.genLength = 16
        settings.blockLength = 8
        settings.stepsPerBlock = 8
        let prompt = try model.promptIDs(for: "What is the answer?", raw: false)
        let result = try model.generate(GenerationRequest(prompt: .ids(prompt), settings: settings))
        XCTAssertFalse(result.outputIDs.isEmpty)
        XCTAssertNoThrow(try model.answerText(result.outputIDs))

        // A block of mask rows after the prompt: the routed experts per MoE layer.
        let weights = try LLaDA2Weights(directory: destination)
        let trace = LLaDA2Network.RouterTrace()
        let tokens = prompt + Array(repeating: model.maskID, count: 8)
        _ = LLaDA2Network(weights: weights).logits(tokens: tokens, blockLength: 8, trace: trace)
        XCTAssertEqual(trace.experts.count, shape.layers - 1)
        for (layer, choices) in trace.experts {
            let distinct = Set(choices.suffix(8).flatMap { $0 }).count
            // 8 rows × top-4 of 16: identical rows would give 4; uniform routing about 14.
            XCTAssertGreaterThanOrEqual(distinct, 8, "layer \(layer): the mask rows' routing is not spread: \(choices.suffix(8))")
        }
    }

    func testDenseOnlyOptionsAreRefusedForLLaDA2Presets() throws {
        let run = try CLIRunner.run(["--preset", "llada2-tiny", "--d-model", "64", "/nonexistent/x"], executable: SyntheticCLITests.executable)
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("--d-model applies to the dense LLaDA presets"), run.stderr)
    }
}
