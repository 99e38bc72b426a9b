import Foundation
import LLaDAEngine
import LLaDASynthetic
import XCTest

extension XCTestCase {
    /// A temporary directory removed when the test ends.
    func temporaryTestDirectory() throws -> URL {
        let directory = try CheckpointFixtures.temporaryDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        return directory
    }

    /// A synthetic checkpoint in a temporary directory (the tiny preset is a few hundred KB).
    func syntheticCheckpoint(_ shape: SyntheticModelShape = .preset(.tiny), seed: UInt64 = 7, shards: Int = 2,
                             dtype: TensorDType = .bf16, threads: Int = 2) throws -> URL {
        let destination = try temporaryTestDirectory().appendingPathComponent("synthetic")
        let options = SyntheticCheckpointOptions(shape: shape, dtype: dtype, shards: shards, seed: seed, threads: threads)
        _ = try SyntheticCheckpointWriter(options: options, destination: destination).write()
        return destination
    }
}

enum SyntheticFixtures {
    static func contents(_ directory: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            files[name] = try Data(contentsOf: directory.appendingPathComponent(name))
        }
        return files
    }
}

final class SyntheticCheckpointTests: XCTestCase {
    func testTinyCheckpointLoadsAndGeneratesEndToEnd() throws {
        let directory = try syntheticCheckpoint()
        let checkpoint = try HFCheckpoint(directory: directory)
        XCTAssertEqual(checkpoint.dtypes, [.bf16])
        XCTAssertEqual(checkpoint.config.maskID, 896)  // LLaDA's offset: BPE size 640 + 256

        let model = try LLaDAModel.load(path: directory.path, compute: ComputeContext(threads: 1))
        let prompt = try model.promptIDs(for: "What is the answer?", raw: false)
        var settings = GenerationSettings()
        settings.genLength = 8
        settings.steps = 8
        settings.blockLength = 8
        let result = try model.generate(promptIDs: prompt, settings: settings)
        XCTAssertEqual(result.outputIDs.count, 8)
        XCTAssertTrue(result.outputIDs.allSatisfy { $0 >= 0 && $0 < 1024 && $0 != model.maskID }, "\(result.outputIDs)")
        XCTAssertNoThrow(try model.answerText(result.outputIDs))
    }

    func testShardsAndIndexDescribeEveryTensor() throws {
        let shape = SyntheticModelShape.preset(.tiny)
        let directory = try syntheticCheckpoint(shards: 3)
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("model.safetensors.index.json"))) as! [String: Any]
        let weightMap = index["weight_map"] as! [String: String]
        let layout = TensorLayout(config: try shape.config())
        XCTAssertEqual(Set(weightMap.keys), Set(layout.entries.map(\.name)))
        let shardNames = ["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors"]
        XCTAssertEqual(Set(weightMap.values), Set(shardNames))

        var dataBytes = 0
        for name in shardNames {
            let file = try SafeTensorsFile(path: directory.appendingPathComponent(name).path)
            for (tensor, info) in file.tensors {
                XCTAssertEqual(weightMap[tensor], name)
                XCTAssertEqual(info.dtype, .bf16)
                dataBytes += info.byteCount
            }
        }
        let metadata = index["metadata"] as! [String: Any]
        XCTAssertEqual(metadata["total_size"] as? Int, dataBytes)
        XCTAssertEqual(dataBytes, shape.parameterCount * 2)
    }

    func testOneShardIsASingleModelFile() throws {
        let directory = try syntheticCheckpoint(shards: 1, dtype: .f32)
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: directory.path))
        XCTAssertEqual(names, ["config.json", "generation_config.json", "model.safetensors", "special_tokens_map.json",
                               "tokenizer.json", "tokenizer_config.json"])
        XCTAssertEqual(try HFCheckpoint(directory: directory).dtypes, [.f32])
    }

    func testEightBShardPlanHasSixBalancedShards() throws {
        let config = try SyntheticModelShape.preset(.llada8B).config()
        let plan = try ShardPlan(entries: TensorLayout(config: config).entries, dtype: .bf16, shards: 6)
        XCTAssertEqual(plan.shards.map(\.fileName).last, "model-00006-of-00006.safetensors")
        XCTAssertEqual(plan.tensorBytes, 16_031_162_368)  // 8,015,581,184 parameters × 2 bytes
        let sizes = plan.shards.map { Double($0.fileSize) / 1e9 }
        XCTAssertLessThan(sizes.max()! - sizes.min()!, 0.5, "\(sizes)")
    }

    /// Same seed: byte-identical whatever the thread count; another seed: other weights, same rest.
    func testOutputIsDeterministicPerSeed() throws {
        let first = try SyntheticFixtures.contents(try syntheticCheckpoint(seed: 1, threads: 1))
        let again = try SyntheticFixtures.contents(try syntheticCheckpoint(seed: 1, threads: 2))
        let other = try SyntheticFixtures.contents(try syntheticCheckpoint(seed: 2, threads: 2))
        XCTAssertEqual(first, again)
        XCTAssertEqual(Set(first.keys), Set(other.keys))
        for (name, data) in first {
            if name.hasSuffix(".safetensors") {
                XCTAssertNotEqual(data, other[name], name)
            } else {
                XCTAssertEqual(data, other[name], name)
            }
        }
    }

    func testConfigIsLLaDA8BInstructs() throws {
        let written = try JSONSerialization.jsonObject(with: Data(SyntheticModelShape.preset(.llada8B).configJSON.utf8)) as! [String: Any]
        let fixture = try JSONSerialization.jsonObject(with: Data(contentsOf: FixturePaths.model.appendingPathComponent("config.json"))) as! [String: Any]
        // The fixture's config adds torch_dtype; the published 8B config has none.
        XCTAssertEqual(Set(written.keys), Set(fixture.keys).subtracting(["torch_dtype"]))
        let expected: [String: Any] = [
            "d_model": 4096, "n_heads": 32, "n_kv_heads": 32, "n_layers": 32, "mlp_hidden_size": 12288, "mlp_ratio": 4,
            "vocab_size": 126464, "embedding_size": 126464, "max_sequence_length": 4096, "rope_theta": 500000.0,
            "rms_norm_eps": 1e-05, "mask_token_id": 126336, "eos_token_id": 126081, "pad_token_id": 126081,
            "block_type": "llama", "activation_type": "silu", "weight_tying": false, "include_bias": false,
            "model_type": "llada", "init_std": 0.02,
        ]
        for (key, value) in expected {
            XCTAssertEqual(written[key] as? NSObject, value as? NSObject, key)
        }
        let config = try SyntheticModelShape.preset(.llada8B).config()
        XCTAssertEqual(config.ffHiddenSize, 12288)
        XCTAssertEqual(SyntheticModelShape.preset(.llada8B).parameterCount, 8_015_581_184)
    }

    func testRefusalsAreOneLineErrors() throws {
        let directory = try syntheticCheckpoint()
        let options = SyntheticCheckpointOptions(shape: .preset(.tiny), shards: 2)
        assertError(try SyntheticCheckpointWriter(options: options, destination: directory), "already exists")

        var small = SyntheticModelShape.preset(.tiny)
        small.vocabSize = 600
        assertError(try SyntheticCheckpointWriter(options: .init(shape: small, shards: 2), destination: directory), "too small")
        var odd = SyntheticModelShape.preset(.tiny)
        odd.nHeads = 5
        assertError(try SyntheticCheckpointWriter(options: .init(shape: odd, shards: 2), destination: directory), "not divisible")
        assertError(try SyntheticCheckpointWriter(options: .init(shape: .preset(.tiny), shards: 100), destination: directory), "--shards")
        assertError(try SyntheticCheckpointWriter(options: .init(shape: .preset(.tiny), dtype: .i8, shards: 2), destination: directory), "not a weight type")
    }

    /// --force replaces a checkpoint only once the new one is complete; nothing temporary is left.
    func testReplaceExistingLeavesOnlyTheNewCheckpoint() throws {
        let directory = try syntheticCheckpoint(seed: 1)
        let before = try SyntheticFixtures.contents(directory)
        let options = SyntheticCheckpointOptions(shape: .preset(.tiny), shards: 2, seed: 2)
        _ = try SyntheticCheckpointWriter(options: options, destination: directory, replaceExisting: true).write()
        XCTAssertNotEqual(try SyntheticFixtures.contents(directory), before)
        let siblings = try FileManager.default.contentsOfDirectory(atPath: directory.deletingLastPathComponent().path)
        XCTAssertEqual(siblings, ["synthetic"])
    }

    private func assertError<T>(_ expression: @autoclosure () throws -> T, _ phrase: String, line: UInt = #line) {
        XCTAssertThrowsError(try expression(), line: line) { error in
            let message = (error as? LLaDAError)?.message ?? "not an LLaDAError: \(error)"
            XCTAssertTrue(message.contains(phrase), message, line: line)
            XCTAssertFalse(message.contains("\n"), message, line: line)
        }
    }
}
