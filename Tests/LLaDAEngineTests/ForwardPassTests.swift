import Foundation
import LLaDAConvert
import LLaDAEngine
import XCTest

/// The f32 forward pass against the logits of the original PyTorch code.
final class ForwardPassTests: XCTestCase {
    struct GoldenCase {
        let name: String
        let ids: [Int]
        let logits: [Float]
    }

    func goldenCases() throws -> [GoldenCase] {
        let file = try SafeTensorsFile(path: FixturePaths.golden.appendingPathComponent("logits.safetensors").path)
        let json = try FixturePaths.goldenJSON("logits.json")
        return try (json["cases"] as! [[String: Any]]).map { entry in
            let name = entry["name"] as! String
            let info = try XCTUnwrap(file.tensors["logits_\(name)"])
            let raw = file.data(of: info)
            let logits = Array(raw.bindMemory(to: Float.self))
            return GoldenCase(name: name, ids: entry["input_ids"] as! [Int], logits: logits)
        }
    }

    func assertMatchesGolden(_ transformer: Transformer, file: StaticString = #filePath, line: UInt = #line) throws {
        let cases = try goldenCases()
        XCTAssertEqual(cases.count, 4)
        for golden in cases {
            let logits = transformer.logits(tokens: golden.ids)
            XCTAssertEqual(logits.rows * logits.cols, golden.logits.count, golden.name)
            var maxDiff: Float = 0, maxAbs: Float = 0
            for i in 0..<golden.logits.count {
                maxDiff = max(maxDiff, abs(logits.pointer[i] - golden.logits[i]))
                maxAbs = max(maxAbs, abs(golden.logits[i]))
            }
            XCTAssertLessThanOrEqual(maxDiff, 1e-4 * maxAbs, "\(golden.name): max |Δ| \(maxDiff), max |logit| \(maxAbs)", file: file, line: line)
        }
    }

    func testBF16ShardedCheckpointMatchesGoldenLogits() throws {
        try assertMatchesGolden(try FixturePaths.transformer())
    }

    /// Our kernels compute every row on its own: the chosen rows are the full pass's, bit for bit.
    func testLogitsForChosenPositionsEqualFullRows() throws {
        let directory = try PackedTestSupport.temporaryDirectory("chosen-rows")
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try LLaDAModel.load(path: PackedTestSupport.convertFixture(.q4, into: directory).path, compute: ComputeContext(threads: 2))
        let ids = try goldenCases()[0].ids
        let all = model.transformer.logits(tokens: ids)
        let some = model.transformer.logits(tokens: ids, outputPositions: [3, 20, 48])
        for (row, position) in [3, 20, 48].enumerated() {
            XCTAssertEqual(some.rowArray(row), all.rowArray(position))
        }
    }

    /// On the f32 path the LM head is OpenBLAS sgemm, whose kernels may round differently for
    /// 3 rows than for 49 (its Haswell kernels do): the same rows within 16 ulps (of max(|logit|, 1)).
    func testLogitsForChosenPositionsOnOpenBLASAreTheSameRows() throws {
        let transformer = try FixturePaths.transformer()
        let ids = try goldenCases()[0].ids
        let all = transformer.logits(tokens: ids)
        let some = transformer.logits(tokens: ids, outputPositions: [3, 20, 48])
        for (row, position) in [3, 20, 48].enumerated() {
            let chosen = some.rowArray(row), full = all.rowArray(position)
            let worst = zip(chosen, full).map { abs($0 - $1) / max(abs($1), 1) }.max()!
            XCTAssertLessThan(worst, 16 * Float.ulpOfOne, "position \(position)")
            // Neighbouring rows differ by far more: a wrong row cannot pass.
            XCTAssertGreaterThan(zip(chosen, all.rowArray(position - 1)).map { abs($0 - $1) }.max()!, 1e-3)
        }
    }
}

extension ForwardPassTests {
    func testF32SingleFileCheckpointMatchesGoldenLogits() throws {
        let directory = try CheckpointFixtures.f32SingleFileCheckpoint()
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        let checkpoint = try HFCheckpoint(directory: directory)
        XCTAssertEqual(checkpoint.dtypes, [.f32])
        let transformer = Transformer(weights: try ModelWeights(checkpoint: checkpoint))
        try assertMatchesGolden(transformer)
        // The two layouts hold the same values, so the logits are identical, not just close.
        let ids = try goldenCases()[1].ids
        XCTAssertEqual(transformer.logits(tokens: ids).storage.array, try FixturePaths.transformer().logits(tokens: ids).storage.array)
    }
}
