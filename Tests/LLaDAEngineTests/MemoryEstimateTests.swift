import Foundation
import LLaDAConvert
import LLaDAEngine
import XCTest

/// The memory estimate's formula on the fixture's shape (d_model 192, mlp 576, vocab 512,
/// 4 layers), every number worked out by hand.
final class MemoryEstimateTests: XCTestCase {
    let config = try! LLaDAConfig.load(from: FixturePaths.model.appendingPathComponent("config.json"))

    /// The fixture's tensors in the given types (norms f32), with their bytes in those types.
    func tensors(embedding: WeightType, qkv: WeightType, other: WeightType, head: WeightType, sparseEmbedding: Bool) -> [TensorFootprint] {
        TensorLayout(config: config).entries.map { entry in
            let type: WeightType = switch entry.role {
            case .embedding: embedding
            case .norm, .router: .f32
            case .attentionQKV: qkv
            case .lmHead: head
            case .attentionOut, .ffGateUp, .ffDown: other
            }
            let bytes = type.byteCount(elements: entry.shape.reduce(1, *))
            return TensorFootprint(name: entry.name, role: entry.role, shape: entry.shape, type: type, storedType: type.description,
                                   storedBytes: bytes, bytes: bytes, sparseRows: sparseEmbedding && entry.role == .embedding)
        }
    }

    func settings(gen: Int = 32, block: Int = 8, cache: CacheMode, kv: KVCache.Storage = .f16, cfg: Double = 0) -> GenerationSettings {
        var settings = GenerationSettings()
        settings.genLength = gen
        settings.steps = gen
        settings.blockLength = block
        settings.cache = cache
        settings.kvStorage = kv
        settings.cfgScale = cfg
        return settings
    }

    func testF32CheckpointWithoutCache() throws {
        // Prompt 20 + gen 32: canvas 52.
        let estimate = MemoryEstimate(shape: ModelShape(config), tensors: tensors(embedding: .f32, qkv: .f32, other: .f32, head: .f32, sparseEmbedding: false),
                                      tokenizerBytes: 1000, settings: settings(cache: .none), promptLength: 20)
        // embedding + LM head 2 × 512·192·4 = 786,432; per layer 2·192·4 (norms) + 4·192·192·4 (q/k/v/out)
        // + 2·576·192·4 (gate/up) + 192·576·4 (down) = 1,918,464, × 4 = 7,673,856; ln_f 768.
        XCTAssertEqual(estimate.weightBytes, 8_461_056)
        XCTAssertEqual(estimate.embeddingBytes, 0)
        XCTAssertEqual(estimate.kvCacheBytes, 0)
        // Full pass of 52 rows: 4·(52·(7·192 + 2·576) + 52·52) = 4·(129,792 + 2,704).
        XCTAssertEqual(estimate.activationBytes, 529_984)
        XCTAssertEqual(estimate.passQueries, 52)
        XCTAssertEqual(estimate.passKeys, 52)
        // (8 + 1) rows × 512 × 4.
        XCTAssertEqual(estimate.logitsBytes, 18_432)
        XCTAssertEqual(estimate.kernelScratchBytes, 0)
        XCTAssertEqual(estimate.overheadBytes, 33_554_432 + 6_000)
        XCTAssertEqual(estimate.totalBytes, 8_461_056 + 529_984 + 18_432 + 33_560_432)
    }

    func testQuantizedDualCache() throws {
        // q8_0 embedding (mapped), q/k/v and head; q4_0 elsewhere. Prompt 20 + gen 32, block 8, pages of 64 bytes.
        let estimate = MemoryEstimate(shape: ModelShape(config), tensors: tensors(embedding: .q8_0, qkv: .q8_0, other: .q4_0, head: .q8_0, sparseEmbedding: true),
                                      tokenizerBytes: 0, settings: settings(cache: .dual), promptLength: 20, pageSize: 64)
        // q/k/v 12 × 192·6·34 = 470,016; attn_out 4 × 192·6·18 = 82,944; gate/up 8 × 576·6·18 = 497,664;
        // down 4 × 192·18·18 = 248,832; head 512·6·34 = 104,448; norms 9 × 768 = 6,912.
        XCTAssertEqual(estimate.weightBytes, 1_410_816)
        // 53 rows of 204 bytes, each over at most ⌈204/64⌉ + 1 = 5 pages of 64 bytes.
        XCTAssertEqual(estimate.embeddingBytes, 53 * 5 * 64)
        // 4 layers × 2 × 52 positions × 192 × 2 bytes.
        XCTAssertEqual(estimate.kvCacheBytes, 159_744)
        // The full pass (529,984) beats the dual step, 4·(8·2,496 + 8·52 + 2·52·192) = 161,408.
        XCTAssertEqual(estimate.activationBytes, 529_984)
        XCTAssertEqual(estimate.passQueries, 52)
        // Largest quantized activations: ff_out, m·k = 52·576 = 29,952 int8 and 2 × 52·18 floats
        // (3,744 bytes, rounded up to 3,776); + 25 %: 37,504 + 9,376.
        XCTAssertEqual(estimate.kernelScratchBytes, 46_880)
        XCTAssertEqual(estimate.overheadBytes, MemoryEstimate.runtimeOverheadBytes)

        // The whole table when it is smaller than the pages the rows would touch.
        let wholeTable = MemoryEstimate(shape: ModelShape(config), tensors: tensors(embedding: .q8_0, qkv: .q8_0, other: .q4_0, head: .q8_0, sparseEmbedding: true),
                                        tokenizerBytes: 0, settings: settings(cache: .dual), promptLength: 20, pageSize: 4096)
        XCTAssertEqual(wholeTable.embeddingBytes, 104_448)
        // f32 cached keys/values take twice the bytes.
        let f32Cache = MemoryEstimate(shape: ModelShape(config), tensors: [], tokenizerBytes: 0, settings: settings(cache: .dual, kv: .f32), promptLength: 20)
        XCTAssertEqual(f32Cache.kvCacheBytes, 2 * 159_744)
    }

    func testPrefixPassCanBeTheLargestAndGuidanceDoublesTheLogits() throws {
        // Prompt 1 + gen 32: the prefix step of the first block computes 32 rows attending to 33
        // and holds separate key/value copies: 4·(32·2,496 + 32·33 + 2·33·192) = 374,400, more than
        // the full pass's 4·(33·2,496 + 33·33) = 333,828.
        let prefix = MemoryEstimate(shape: ModelShape(config), tensors: [], tokenizerBytes: 0, settings: settings(cache: .prefix), promptLength: 1)
        XCTAssertEqual(prefix.activationBytes, 374_400)
        XCTAssertEqual(prefix.passQueries, 32)
        XCTAssertEqual(prefix.passKeys, 33)
        let guided = MemoryEstimate(shape: ModelShape(config), tensors: [], tokenizerBytes: 0, settings: settings(cache: .none, cfg: 1), promptLength: 20)
        XCTAssertEqual(guided.logitsBytes, (2 * 8 + 1) * 512 * 4)
    }

    func testFootprintOfTheCheckpointIsItsF32Copy() throws {
        let footprint = try WeightFootprint(checkpoint: HFCheckpoint(directory: FixturePaths.model))
        XCTAssertFalse(footprint.isPacked)
        XCTAssertEqual(footprint.tensors.count, 39)
        XCTAssertEqual(footprint.tensors.reduce(0) { $0 + $1.bytes }, 8_461_056)
        XCTAssertEqual(footprint.tensors.reduce(0) { $0 + $1.storedBytes }, 8_461_056 / 2)   // bf16
        XCTAssertTrue(footprint.tensors.allSatisfy { $0.storedType == "bf16" && !$0.sparseRows })
        XCTAssertEqual(footprint.tokenizerBytes, 21_993)
    }

    func testFootprintOfAPackedFile() throws {
        let directory = try PackedTestSupport.temporaryDirectory("footprint")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = try PackedTestSupport.convertFixture(.uniform(.q8_0), into: directory)
        let footprint = try ModelFile.open(url.path).footprint
        XCTAssertTrue(footprint.isPacked)
        XCTAssertEqual(footprint.fileBytes, try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int)
        var expected = tensors(embedding: .q8_0, qkv: .q8_0, other: .q8_0, head: .q8_0, sparseEmbedding: true)
        // The fixture's matrices are below 2 MiB and a multiple of 16 rows: repacked, they keep
        // their size; stored in the kernels' layout, they are the file's pages mapped in place.
        for i in expected.indices where expected[i].shape.count == 2 && expected[i].role != .embedding { expected[i].mapped = true }
        XCTAssertEqual(footprint.tensors, expected)
        let estimate = MemoryEstimate(footprint: footprint, settings: GenerationSettings(), promptLength: 8)
        XCTAssertEqual(estimate.mappedWeightBytes, expected.filter(\.mapped).reduce(0) { $0 + $1.bytes })
        XCTAssertGreaterThan(estimate.mappedWeightBytes, 0)
        XCTAssertLessThan(estimate.mappedWeightBytes, estimate.weightBytes)   // the norms are its own
    }

    func testRefusalNamesNeededAvailableAndWhatToDo() throws {
        let estimate = MemoryEstimate(shape: ModelShape(config), tensors: [], tokenizerBytes: 0, settings: settings(cache: .none), promptLength: 20)
        XCTAssertNoThrow(try estimate.check(against: AvailableMemory(bytes: estimate.totalBytes, source: "test")))
        PackedTestSupport.assertError(["needs about", "but only 1.0 MB is available (test)", "gen_length", "--type q4", "force"]) {
            try estimate.check(against: AvailableMemory(bytes: 1_000_000, source: "test"))
        }
    }

    /// A model file's plan sizes the run from the header alone and validates the settings first.
    func testThePlanOfAModelFile() throws {
        let file = try ModelFile.open(FixturePaths.model.path)
        let prompt = GenerationPrompt.ids(Array(repeating: 279, count: 20))
        let plenty = try XCTUnwrap(try file.plan(GenerationRequest(prompt: prompt, settings: settings(cache: .none))).memory)
        XCTAssertEqual(plenty.weightBytes, 8_461_056)
        XCTAssertNoThrow(try plenty.check(against: AvailableMemory(bytes: 1 << 40, source: "test")))
        PackedTestSupport.assertError(["needs about", "(test)"]) {
            try plenty.check(against: AvailableMemory(bytes: 1000, source: "test"))
        }
        // Settings are validated against the model before anything is computed.
        PackedTestSupport.assertError(["max_sequence_length 256"]) {
            _ = try file.plan(GenerationRequest(prompt: prompt, settings: self.settings(gen: 1 << 40, block: 1 << 40, cache: .dual)))
        }
    }

    func testAvailableMemoryOverride() throws {
        XCTAssertEqual(try AvailableMemory.current(environment: [AvailableMemory.limitVariable: "12345"]).bytes, 12345)
        PackedTestSupport.assertError([AvailableMemory.limitVariable, "positive number of bytes", "\"-5\""]) {
            _ = try AvailableMemory.current(environment: [AvailableMemory.limitVariable: "-5"])
        }
        XCTAssertGreaterThan(try AvailableMemory.current(environment: [:]).bytes, 0)
    }
}
