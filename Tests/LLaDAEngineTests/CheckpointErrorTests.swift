import Foundation
import LLaDAEngine
import LLaDASynthetic
import XCTest

/// Every kind of bad checkpoint gives one clear LLaDAError naming what is wrong.
final class CheckpointErrorTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try CheckpointFixtures.copyOfFixture()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory.deletingLastPathComponent())
    }

    var shard1: URL { directory.appendingPathComponent("model-00001-of-00002.safetensors") }
    var shard2: URL { directory.appendingPathComponent("model-00002-of-00002.safetensors") }

    func assertLoadFails(containing fragments: String..., file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try HFCheckpoint(directory: directory), file: file, line: line) { error in
            guard let error = error as? LLaDAError else { return XCTFail("not an LLaDAError: \(error)", file: file, line: line) }
            XCTAssertFalse(error.message.contains("\n"), "one line: \(error.message)", file: file, line: line)
            for fragment in fragments {
                XCTAssertTrue(error.message.contains(fragment), "\"\(error.message)\" lacks \"\(fragment)\"", file: file, line: line)
            }
        }
    }

    /// Rewrites a shard's JSON header through `edit`, keeping the data as is.
    func editHeader(_ url: URL, _ edit: (String) -> String) throws {
        let bytes = try Data(contentsOf: url)
        let length = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = String(decoding: bytes[8..<(8 + length)], as: UTF8.self)
        var newHeader = Data(edit(header).utf8)
        while newHeader.count % 8 != 0 { newHeader.append(0x20) }
        var newLength = UInt64(newHeader.count)
        try (Data(bytes: &newLength, count: 8) + newHeader + bytes[(8 + length)...]).write(to: url)
    }

    func editConfig(_ edit: (inout [String: Any]) -> Void) throws {
        let url = directory.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: url)
    }

    func testTheIntactCopyLoads() throws {
        XCTAssertNoThrow(try HFCheckpoint(directory: directory))
    }

    func testMissingDirectory() {
        directory = directory.appendingPathComponent("nope")
        assertLoadFails(containing: "nope", "does not exist")
    }

    func testMissingConfig() throws {
        try FileManager.default.removeItem(at: directory.appendingPathComponent("config.json"))
        assertLoadFails(containing: "config.json", "missing")
    }

    func testMalformedConfig() throws {
        try Data("{\"d_model\": 192,".utf8).write(to: directory.appendingPathComponent("config.json"))
        assertLoadFails(containing: "config.json", "not valid JSON")
    }

    func testConfigMissingField() throws {
        try editConfig { $0.removeValue(forKey: "n_layers") }
        assertLoadFails(containing: "config.json", "n_layers")
    }

    func testConfigWrongType() throws {
        try editConfig { $0["d_model"] = "192" }
        assertLoadFails(containing: "config.json", "d_model", "wrong type")
    }

    func testUnsupportedFeaturesAreRefused() throws {
        for (key, value) in [("alibi", true as Any), ("weight_tying", true), ("include_bias", true), ("block_type", "sequential"),
                             ("activation_type", "gelu"), ("n_kv_heads", 1), ("layer_norm_type", "default")] {
            try? FileManager.default.removeItem(at: directory.deletingLastPathComponent())
            directory = try CheckpointFixtures.copyOfFixture()
            try editConfig { $0[key] = value }
            assertLoadFails(containing: "config.json", key.hasPrefix("n_kv") ? "n_kv_heads" : key, "not supported")
        }
    }

    func testMissingShardFile() throws {
        try FileManager.default.removeItem(at: shard2)
        assertLoadFails(containing: "model-00002-of-00002.safetensors", "missing")
    }

    func testTruncatedShard() throws {
        let bytes = try Data(contentsOf: shard2)
        try bytes.prefix(bytes.count / 2).write(to: shard2)
        assertLoadFails(containing: "model-00002-of-00002.safetensors", "outside the data section")
    }

    func testFileShorterThanItsHeaderLength() throws {
        try Data(try Data(contentsOf: shard1).prefix(100)).write(to: shard1)
        assertLoadFails(containing: "model-00001-of-00002.safetensors", "runs past the end")
    }

    func testTinyFile() throws {
        try Data([1, 2, 3]).write(to: shard1)
        assertLoadFails(containing: "model-00001-of-00002.safetensors", "too short")
    }

    func testHeaderNotJSON() throws {
        try editHeader(shard1) { "[" + $0.dropFirst() }
        assertLoadFails(containing: "model-00001-of-00002.safetensors", "not a JSON object")
    }

    func testHeaderOffsetPastEndOfFile() throws {
        // A header that promises 4000 bytes of data in a file that has 16.
        let header = SafeTensorsWriter.header(for: [(name: "x", dtype: .f32, shape: [1000], byteCount: 4000)])
        let url = directory.appendingPathComponent("short.safetensors")
        try (header + Data(count: 16)).write(to: url)
        XCTAssertThrowsError(try SafeTensorsFile(path: url.path)) { error in
            let message = (error as! LLaDAError).message
            XCTAssertTrue(message.contains("short.safetensors") && message.contains("tensor x") && message.contains("outside the data section"), message)
        }
    }

    func testShapeDoesNotMatchByteLength() throws {
        try editHeader(shard1) { $0.replacingOccurrences(of: "\"shape\":[512,192]", with: "\"shape\":[512,191]") }
        assertLoadFails(containing: "model.transformer.wte.weight", "[512, 191]", "data_offsets span")
    }

    func testDtypeDoesNotMatchByteLength() throws {
        try editHeader(shard1) { header in
            let range = header.range(of: "\"model.transformer.wte.weight\":{\"dtype\":\"BF16\"")!
            return header.replacingCharacters(in: range, with: "\"model.transformer.wte.weight\":{\"dtype\":\"F32\"")
        }
        assertLoadFails(containing: "model.transformer.wte.weight", "F32", "data_offsets span")
    }

    func testUnknownDtype() throws {
        try editHeader(shard1) { $0.replacingOccurrences(of: "\"dtype\":\"BF16\"", with: "\"dtype\":\"F8_E4M3\"") }
        assertLoadFails(containing: "unknown dtype F8_E4M3")
    }

    func testIntegerDtypeIsNotAWeight() throws {
        try editHeader(shard1) { $0.replacingOccurrences(of: "\"dtype\":\"BF16\"", with: "\"dtype\":\"I16\"") }
        assertLoadFails(containing: "I16", "weights must be BF16, F16 or F32")
    }

    func testMissingTensor() throws {
        let indexURL = directory.appendingPathComponent("model.safetensors.index.json")
        var index = try JSONSerialization.jsonObject(with: Data(contentsOf: indexURL)) as! [String: Any]
        var map = index["weight_map"] as! [String: String]
        map.removeValue(forKey: "model.transformer.blocks.3.up_proj.weight")
        index["weight_map"] = map
        try JSONSerialization.data(withJSONObject: index).write(to: indexURL)
        assertLoadFails(containing: "model.transformer.blocks.3.up_proj.weight", "missing")
    }

    func testIndexNamesWrongShard() throws {
        let indexURL = directory.appendingPathComponent("model.safetensors.index.json")
        let text = try String(contentsOf: indexURL, encoding: .utf8)
        let edited = text.replacingOccurrences(of: "\"model.transformer.ln_f.weight\": \"model-00002-of-00002.safetensors\"",
                                               with: "\"model.transformer.ln_f.weight\": \"model-00001-of-00002.safetensors\"")
        XCTAssertNotEqual(text, edited)
        try edited.write(to: indexURL, atomically: true, encoding: .utf8)
        assertLoadFails(containing: "model.transformer.ln_f.weight", "missing")
    }

    func testShardNameOutsideDirectoryIsRefused() throws {
        let indexURL = directory.appendingPathComponent("model.safetensors.index.json")
        let text = try String(contentsOf: indexURL, encoding: .utf8)
        try text.replacingOccurrences(of: "\"model-00002-of-00002.safetensors\"", with: "\"../model-00002-of-00002.safetensors\"")
            .write(to: indexURL, atomically: true, encoding: .utf8)
        assertLoadFails(containing: "must be a file name inside the checkpoint directory")
    }

    func testControlCharactersInNamesAreEscapedIntoOneLine() throws {
        let indexURL = directory.appendingPathComponent("model.safetensors.index.json")
        let text = try String(contentsOf: indexURL, encoding: .utf8)
        try text.replacingOccurrences(of: "\"model-00002-of-00002.safetensors\"", with: "\"model-2\\nof-2\\u001b[31m.safetensors\"")
            .write(to: indexURL, atomically: true, encoding: .utf8)
        assertLoadFails(containing: "model-2\\nof-2\\u{1B}[31m.safetensors is missing")
    }

    func testShapeAgainstConfig() throws {
        try editConfig { $0["mlp_hidden_size"] = 512 }
        assertLoadFails(containing: "ff_proj.weight", "[576, 192]", "[512, 192]")
    }

    func testMoreLayersThanTheCheckpointHas() throws {
        try editConfig { $0["n_layers"] = 5 }
        assertLoadFails(containing: "model.transformer.blocks.4.", "missing")
    }

    func testNoWeightsAtAll() throws {
        for name in ["model.safetensors.index.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"] {
            try FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
        assertLoadFails(containing: "neither model.safetensors nor model.safetensors.index.json")
    }
}
