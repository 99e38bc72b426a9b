import Foundation
import LLaDAEngine
import XCTest

/// A LLaDA 2 config.json or checkpoint the reference would not run as written: one error naming
/// the key or tensor, before any weight is read.
final class LLaDA2ConfigTests: XCTestCase {
    func fixtureConfig() throws -> [String: Any] {
        let data = try Data(contentsOf: LLaDA2NetworkTests.model.appendingPathComponent("config.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func decode(_ object: [String: Any]) throws -> LLaDA2Config {
        try LLaDA2Config.decode(try JSONSerialization.data(withJSONObject: object), source: "config.json")
    }

    func testTheFixtureConfigIsReadWhole() throws {
        let config = try decode(try fixtureConfig())
        XCTAssertEqual(config.ropeDim, 16)
        XCTAssertEqual(config.resolvedHeadDim, 32)
        XCTAssertTrue(config.unknownFields.isEmpty, "\(config.unknownFields)")
        var extra = try fixtureConfig()
        extra["some_new_key"] = 3
        XCTAssertEqual(try decode(extra).unknownFields, ["some_new_key": "3"])
    }

    func testValuesTheReferenceDoesNotRunAreRefusedByName() throws {
        let cases: [(String, Any?, String)] = [
            ("n_group", 5, "\"n_group\" (5) must divide num_experts (16)"),
            ("topk_group", 5, "\"topk_group\" (5) exceeds n_group (4)"),
            ("num_experts_per_tok", 9, "\"num_experts_per_tok\" (9) exceeds the 8 experts"),
            ("score_function", "softmax", "\"score_function\" is \"softmax\""),
            ("rope_scaling", ["rope_type": "yarn", "factor": 4], "\"rope_scaling\" is set (yarn)"),
            ("num_key_value_heads", 3, "\"num_key_value_heads\" (3) must divide num_attention_heads (4)"),
            ("use_qk_norm", false, "\"use_qk_norm\" is false"),
            ("hidden_size", nil, "\"hidden_size\" is missing"),
            ("num_experts", "16", "field \"num_experts\" has the wrong type"),
            ("model_type", "llada", "\"model_type\" is \"llada\", not \"llada2_moe\""),
            ("partial_rotary_factor", 0.03, "\"partial_rotary_factor\" gives 0 rotary features"),
        ]
        for (key, value, fragment) in cases {
            var object = try fixtureConfig()
            object[key] = value
            XCTAssertThrowsError(try decode(object), key) { error in
                let message = (error as? LLaDAError)?.message ?? "\(error)"
                XCTAssertTrue(message.contains(fragment), "\(key): \(message)")
                XCTAssertFalse(message.contains("\n"), message)
            }
        }
    }

    /// A config implying tensors the file lacks, or of other shapes: the tensor is named.
    func testMissingAndMisshapenTensorsAreNamed() throws {
        for (key, value, fragment) in [("num_hidden_layers", 5, "tensor model.layers.4.input_layernorm.weight is missing"),
                                       ("num_experts", 32, "tensor model.layers.1.mlp.gate.weight has shape [16, 128], config.json implies [32, 128]")] {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("llada2-config-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            var object = try fixtureConfig()
            object[key] = value
            try JSONSerialization.data(withJSONObject: object).write(to: directory.appendingPathComponent("config.json"))
            try FileManager.default.createSymbolicLink(at: directory.appendingPathComponent("model.safetensors"),
                                                       withDestinationURL: LLaDA2NetworkTests.model.appendingPathComponent("model.safetensors"))
            XCTAssertThrowsError(try LLaDA2Weights(directory: directory), key) { error in
                let message = (error as? LLaDAError)?.message ?? "\(error)"
                XCTAssertTrue(message.contains(fragment), "\(key): \(message)")
            }
        }
    }
}
