import Foundation
import LLaDAConvert
import LLaDAEngine
import XCTest

/// Converting the fixture, loading the packed file and running it against the f32 path.
final class PackedModelTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try PackedTestSupport.temporaryDirectory("packed")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Mean KL and top-1 of a packed model's logits against the f32 checkpoint path on the golden inputs.
    func quality(_ url: URL) throws -> (meanKL: Double, top1: Double, maxAbs: Float) {
        let reference = try FixturePaths.transformer()
        let packed = Transformer(weights: try PackedModel(path: url.path).makeWeights())
        var kl = 0.0, top1 = 0.0, maxAbs: Float = 0, rows = 0
        for input in try PackedTestSupport.goldenInputs() {
            let result = PackedTestSupport.compareLogits(reference.logits(tokens: input.ids), packed.logits(tokens: input.ids))
            kl += result.meanKL * Double(input.ids.count)
            top1 += result.top1 * Double(input.ids.count)
            maxAbs = max(maxAbs, result.maxAbs)
            rows += input.ids.count
        }
        return (kl / Double(rows), top1 / Double(rows), maxAbs)
    }

    func testF32FileGivesTheF32PathsLogits() throws {
        let q = try quality(try PackedTestSupport.convertFixture(.f32, into: directory))
        // Same values, same sgemm: measured bit-identical; allow rounding noise only.
        XCTAssertLessThanOrEqual(q.maxAbs, 1e-5, "max |Δlogit| \(q.maxAbs)")
        XCTAssertEqual(q.top1, 1)
    }

    func testF16FileMatchesTheF32Path() throws {
        let q = try quality(try PackedTestSupport.convertFixture(.f16, into: directory))
        // bf16 values are exact in f16 except below f16's normal range; measured max |Δ| ≈ 2e-5.
        XCTAssertLessThanOrEqual(q.maxAbs, 2e-4, "max |Δlogit| \(q.maxAbs)")
        XCTAssertEqual(q.top1, 1)
    }

    func testQ8FileIsCloseToTheF32Path() throws {
        let q = try quality(try PackedTestSupport.convertFixture(.q8, into: directory))
        // Measured: mean KL 1.7e-4, top-1 1.0 on all 253 positions.
        XCTAssertLessThan(q.meanKL, 1e-3, "mean KL \(q.meanKL)")
        XCTAssertGreaterThanOrEqual(q.top1, 0.99, "top-1 \(q.top1)")
    }

    func testQ4FileIsCloseToTheF32PathAndBeatsMaxAbsScales() throws {
        let search = try quality(try PackedTestSupport.convertFixture(.q4, into: directory))
        // Measured: mean KL 3.1e-3, top-1 0.992.
        XCTAssertLessThan(search.meanKL, 6e-3, "mean KL \(search.meanKL)")
        XCTAssertGreaterThanOrEqual(search.top1, 0.98, "top-1 \(search.top1)")
        var maxabs = QuantizationProfile.q4
        maxabs.q4Method = .maxabs
        let baseline = try quality(try PackedTestSupport.convertFixture(maxabs, into: directory, name: "maxabs.llada"))
        // Measured: 1.24e-2 for plain max-abs/7 scales on the same weights (4× the search's KL).
        XCTAssertLessThan(search.meanKL, baseline.meanKL * 0.5, "search \(search.meanKL) vs max-abs \(baseline.meanKL)")
    }

    func testF32AndF16FilesReproduceTheGoldenGenerations() throws {
        let golden = try FixturePaths.goldenJSON("generate.json")
        let maskID = golden["mask_token_id"] as! Int
        let setting = (golden["settings"] as! [[String: Any]]).first { $0["name"] as? String == "gen32_steps32_block16" }!
        let sampler = Sampler(settings: GoldenGenerationTests.settings(from: setting), maskID: maskID)
        for profile in [QuantizationProfile.f32, .f16] {
            let transformer = Transformer(weights: try PackedModel(path: try PackedTestSupport.convertFixture(profile, into: directory).path).makeWeights())
            for prompt in golden["prompts"] as! [[String: Any]] {
                let expected = ((prompt["outputs"] as! [String: Any])["gen32_steps32_block16"] as! [String: Any])["output_ids"] as! [Int]
                XCTAssertEqual(sampler.generate(prompt: prompt["prompt_ids"] as! [Int], model: transformer).outputIDs, expected,
                               "\(profile.name) \(prompt["id"]!)")
            }
        }
    }

    func testBF16AndF32DirectoriesGiveByteIdenticalFiles() throws {
        let f32Directory = directory.appendingPathComponent("f32-checkpoint")
        try FileManager.default.createDirectory(at: f32Directory, withIntermediateDirectories: true)
        try PackedTestSupport.writeF32Checkpoint(to: f32Directory)
        for profile in [QuantizationProfile.q4, .q8, .f16, .f32] {
            let fromBF16 = try PackedTestSupport.convertFixture(profile, into: directory, name: "bf16-\(profile.name)")
            let fromF32 = try PackedTestSupport.convertFixture(profile, into: directory, name: "f32-\(profile.name)", source: f32Directory)
            XCTAssertEqual(try Data(contentsOf: fromBF16), try Data(contentsOf: fromF32), profile.name)
        }
    }

    func testThreadCountAndChunkingDoNotChangeTheResult() throws {
        let checkpoint = try HFCheckpoint(directory: FixturePaths.model)
        var files: [Data] = []
        for threads in [1, 3] {
            var options = ConversionOptions()
            options.threads = threads
            options.chunkBytes = 4096
            let url = directory.appendingPathComponent("t\(threads).llada")
            _ = try PackedConverter.convert(checkpoint: checkpoint, output: url, profile: .q4, options: options)
            files.append(try Data(contentsOf: url))
        }
        XCTAssertEqual(files[0], files[1])
        // Different chunking changes the layout, not the weights.
        let big = try PackedTestSupport.convertFixture(.q4, into: directory)
        let small = try PackedModel(path: directory.appendingPathComponent("t1.llada").path)
        let large = try PackedModel(path: big.path)
        XCTAssertGreaterThan(small.tensors.reduce(0) { $0 + $1.chunks.count }, large.tensors.count)
        for tensor in large.tensors {
            XCTAssertEqual(try small.tensorData(tensor.name), try large.tensorData(tensor.name), tensor.name)
        }
    }

    func testDirectoryHeaderAndTokenizerContents() throws {
        let url = try PackedTestSupport.convertFixture(.q4, into: directory)
        let model = try PackedModel(path: url.path)
        let checkpoint = try HFCheckpoint(directory: FixturePaths.model)
        XCTAssertTrue(PackedModel.isPackedFile(atPath: url.path))
        XCTAssertFalse(PackedModel.isPackedFile(atPath: FixturePaths.model.appendingPathComponent("config.json").path))
        XCTAssertEqual(model.tokenizerJSON, try Data(contentsOf: FixturePaths.model.appendingPathComponent("tokenizer.json")))
        XCTAssertEqual(model.tokenizerConfigJSON, try Data(contentsOf: FixturePaths.model.appendingPathComponent("tokenizer_config.json")))
        var expected = checkpoint.config
        expected.torchDtype = nil
        XCTAssertEqual(model.denseConfig?.dModel, expected.dModel)
        XCTAssertNil(model.denseConfig?.torchDtype, "the source dtype is not stored")
        XCTAssertEqual(model.denseConfig?.nKVHeads, 3, "derived values are spelled out")
        XCTAssertEqual(model.denseConfig?.maskTokenID, 492)
        XCTAssertEqual(model.tensors.map(\.name), checkpoint.layout.entries.map(\.name))
        for (tensor, entry) in zip(model.tensors, checkpoint.layout.entries) {
            XCTAssertEqual(tensor.shape, entry.shape)
            XCTAssertEqual(tensor.type, QuantizationProfile.q4.type(for: entry.role), entry.name)
            XCTAssertEqual(tensor.byteSize, tensor.type.byteCount(elements: tensor.elementCount))
            for chunk in tensor.chunks {
                XCTAssertEqual(chunk.offset % PackedFormat.alignment, 0)
                // q4/q8 do not compress by ≥ 5%, so they are stored raw (usable in place); f32 norms do.
                XCTAssertEqual(chunk.codec, tensor.type == .f32 ? .lz4 : .raw, entry.name)
            }
        }
        XCTAssertEqual(model.tensors.first { $0.name.hasSuffix("wte.weight") }?.type, .q8_0)
        XCTAssertEqual(model.tensors.first { $0.name.hasSuffix("blocks.0.q_proj.weight") }?.type, .q8_0)
        XCTAssertEqual(model.tensors.first { $0.name.hasSuffix("blocks.0.attn_out.weight") }?.type, .q4_0)
        XCTAssertEqual(model.tensors.first { $0.name.hasSuffix("blocks.3.up_proj.weight") }?.type, .q4_0)
        XCTAssertEqual(model.tensors.first { $0.name.hasSuffix("transformer.ff_out.weight") }?.type, .q8_0)
    }

    func testPackedEmbeddingAndNormsHoldTheCheckpointValues() throws {
        let url = try PackedTestSupport.convertFixture(.f16, into: directory)
        let weights = try PackedModel(path: url.path).makeWeights()
        let checkpoint = try HFCheckpoint(directory: FixturePaths.model)
        let table = try checkpoint.readMatrix("model.transformer.wte.weight")
        var row = [Float](repeating: 0, count: table.cols)
        for token in [0, 220, 492, 511] {
            weights.embedding.copyRow(token, into: &row)
            XCTAssertEqual(row, table.rowArray(token), "bf16 values are exact in f16")
        }
        XCTAssertEqual(weights.finalNorm.array, try checkpoint.readVector("model.transformer.ln_f.weight").array)
        XCTAssertEqual(weights.layers[3].feedForwardNorm.array, try checkpoint.readVector("model.transformer.blocks.3.ff_norm.weight").array)
    }

    func testConversionRefusesNonFiniteWeightsAndLeavesNoFile() throws {
        let source = directory.appendingPathComponent("nan-checkpoint")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        try PackedTestSupport.writeF32Checkpoint(to: source) { name, values in
            if name == "model.transformer.blocks.1.up_proj.weight" { values[5 * 192 + 17] = .nan }
        }
        let output = directory.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        for profile in [QuantizationProfile.q4, .q8, .f16, .f32] {
            PackedTestSupport.assertError(["model.transformer.blocks.1.up_proj.weight", "[5, 17]", "nan"]) {
                _ = try PackedTestSupport.convertFixture(profile, into: output, source: source)
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: output.path), [], "no output and no temporary file")
    }

    func testF16ConversionRefusesValuesBeyondF16() throws {
        let source = directory.appendingPathComponent("big-checkpoint")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        try PackedTestSupport.writeF32Checkpoint(to: source) { name, values in
            if name == "model.transformer.blocks.0.k_proj.weight" { values[3] = 1e5 }
        }
        PackedTestSupport.assertError(["model.transformer.blocks.0.k_proj.weight", "[0, 3]", "does not fit f16"]) {
            _ = try PackedTestSupport.convertFixture(.f16, into: directory, source: source)
        }
        // q8 holds it (scale 787 fits fp16).
        XCTAssertNoThrow(try PackedTestSupport.convertFixture(.q8, into: directory, source: source))
    }

    func testConversionRefusesUnsupportedConfigsAndBadOutputs() throws {
        let source = directory.appendingPathComponent("bad-config")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        try PackedTestSupport.writeF32Checkpoint(to: source, editConfig: { $0["include_qkv_bias"] = true })
        PackedTestSupport.assertError(["config.json", "include_qkv_bias"]) {
            _ = try PackedTestSupport.convertFixture(.q4, into: directory, source: source)
        }
        PackedTestSupport.assertError(["does not exist"]) {
            _ = try PackedConverter.convert(checkpoint: HFCheckpoint(directory: FixturePaths.model),
                                            output: directory.appendingPathComponent("missing/x.llada"), profile: .q4)
        }
        PackedTestSupport.assertError(["is a directory"]) {
            _ = try PackedConverter.convert(checkpoint: HFCheckpoint(directory: FixturePaths.model), output: directory, profile: .q4)
        }
        let noTokenizer = directory.appendingPathComponent("no-tokenizer")
        try FileManager.default.createDirectory(at: noTokenizer, withIntermediateDirectories: true)
        try PackedTestSupport.writeF32Checkpoint(to: noTokenizer)
        for name in ["model.safetensors", "config.json"] {
            PackedTestSupport.assertError(["would replace a file of the checkpoint"]) {
                _ = try PackedConverter.convert(checkpoint: HFCheckpoint(directory: noTokenizer),
                                                output: noTokenizer.appendingPathComponent(name), profile: .q4)
            }
        }
        try FileManager.default.removeItem(at: noTokenizer.appendingPathComponent("tokenizer.json"))
        PackedTestSupport.assertError(["tokenizer.json is missing"]) {
            _ = try PackedTestSupport.convertFixture(.q4, into: directory, source: noTokenizer)
        }
    }
}
