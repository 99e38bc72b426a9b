import Foundation
import LLaDAEngine
import LLaDASynthetic
import XCTest

/// The metadata files of GSAI-ML/LLaDA-8B-Instruct, -Base and LLaDA-1.5 exactly as published
/// (Tests/Fixtures/llada-8b-configs): the loader accepts them, the synthetic presets reproduce them
/// byte for byte, and the native chat template renders as their Jinja template.
final class PublishedMetadataTests: XCTestCase {
    static let root = FixturePaths.root.appendingPathComponent("llada-8b-configs")
    static let releases: [(directory: String, release: SyntheticRelease)] = [("instruct", .instruct), ("base", .base), ("1.5", .llada15)]

    func file(_ release: String, _ name: String) -> URL {
        Self.root.appendingPathComponent(release).appendingPathComponent(name)
    }

    func text(_ release: String, _ name: String) throws -> String {
        try String(contentsOf: file(release, name), encoding: .utf8)
    }

    func testEachRealConfigIsAcceptedAsIs() throws {
        for (directory, _) in Self.releases {
            let config = try LLaDAConfig.load(from: file(directory, "config.json"))
            XCTAssertEqual(config.dModel, 4096)
            XCTAssertEqual(config.nLayers, 32)
            XCTAssertEqual(config.kvHeads, 32)
            XCTAssertEqual(config.ffHiddenSize, 12288)
            XCTAssertEqual(config.paddedVocabSize, 126464)
            XCTAssertEqual(config.maskID, 126336)
            XCTAssertEqual(config.ropeBase, 500000)
            XCTAssertEqual(config.maxSequenceLength, 4096)
            XCTAssertEqual(config.unknownFields, [:], "every key of the real file is known")
        }
    }

    func testEachRealIndexParsesWithTheLayoutsTensors() throws {
        let config = try LLaDAConfig.load(from: file("instruct", "config.json"))
        let names = Set(TensorLayout(config: config).entries.map(\.name))
        var maps: [String: [String: String]] = [:]
        for (directory, _) in Self.releases {
            let url = file(directory, "model.safetensors.index.json")
            let map = try ShardIndex.parse(Data(contentsOf: url), path: url.path)
            XCTAssertEqual(map.count, 291, directory)
            XCTAssertEqual(Set(map.keys), names, directory)
            XCTAssertEqual(Set(map.values).count, 6, directory)
            maps[directory] = map
        }
        XCTAssertEqual(maps["instruct"], maps["base"])
        let moved = names.filter { maps["instruct"]![$0] != maps["1.5"]![$0] }
        XCTAssertEqual(moved.count, 230, "LLaDA-1.5 assigns tensors to other shards")
    }

    /// Expected strings from the real templates through Jinja2 (Scripts/make-chat-template-cases.py).
    func testNativeChatTemplateRendersAsTheRealJinjaTemplate() throws {
        let cases = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.root.appendingPathComponent("chat-template-cases.json"))) as! [String: [[String: Any]]]
        for (directory, _) in Self.releases {
            let config = try JSONSerialization.jsonObject(with: Data(contentsOf: file(directory, "tokenizer_config.json"))) as! [String: Any]
            XCTAssertEqual(config["chat_template"] as? String, SyntheticTokenizerFiles.chatTemplate, "the template the native rendering implements")
            let template = ChatTemplate(bosToken: config["bos_token"] as! String)
            let releaseCases = cases[directory]!
            XCTAssertGreaterThan(releaseCases.count, 40)
            XCTAssertTrue(releaseCases.contains { ($0["messages"] as! [Any]).count > 3 }, "multi-turn cases")
            for entry in releaseCases {
                let messages = (entry["messages"] as! [[String: String]]).map { ChatMessage(role: $0["role"]!, content: $0["content"]!) }
                XCTAssertEqual(template.render(messages), entry["rendered"] as? String, "\(directory): \(messages)")
            }
        }
    }

    /// llada-synth's metadata at the 8B shape is the published metadata, byte for byte.
    func testSyntheticMetadataIsThePublishedFiles() throws {
        let shape = SyntheticModelShape.preset(.llada8B)
        for (directory, release) in Self.releases {
            let files = SyntheticTokenizerFiles(vocabularySize: shape.vocabSize, release: release)
            XCTAssertEqual(shape.configJSON, try text(directory, "config.json"), directory)
            XCTAssertEqual(shape.generationConfigJSON(release: release), try text(directory, "generation_config.json"), directory)
            XCTAssertEqual(files.tokenizerConfigJSON, try text(directory, "tokenizer_config.json"), directory)
            XCTAssertEqual(files.specialTokensMapJSON, try text(directory, "special_tokens_map.json"), directory)
            let indexURL = file(directory, "model.safetensors.index.json")
            let plan = try ShardPlan(entries: TensorLayout(config: shape.config()).entries, dtype: .bf16,
                                     weightMap: ShardIndex.parse(Data(contentsOf: indexURL), path: indexURL.path), source: indexURL.path)
            XCTAssertEqual(plan.indexJSON, try text(directory, "model.safetensors.index.json"), directory)
        }
    }

    func testSyntheticTokenizerHasTheRealAddedTokenTable() throws {
        for (directory, release) in Self.releases {
            let files = SyntheticTokenizerFiles(vocabularySize: 126464, release: release)
            let tokenizer = try Tokenizer(tokenizerJSON: Data(files.tokenizerJSON.utf8), tokenizerConfigJSON: Data(files.tokenizerConfigJSON.utf8))
            let decoder = (try JSONSerialization.jsonObject(with: Data(contentsOf: file(directory, "tokenizer_config.json"))) as! [String: Any])["added_tokens_decoder"] as! [String: [String: Any]]
            XCTAssertEqual(decoder.count, release == .base ? 266 : 269)
            for (id, entry) in decoder {
                XCTAssertEqual(tokenizer.id(forToken: entry["content"] as! String), Int(id), "\(directory) \(id)")
            }
            XCTAssertEqual(tokenizer.vocabularySize, release == .base ? 126346 : 126349, "tokenizer ids against 126464 embedding rows")
            XCTAssertEqual(tokenizer.specialTokenIDs, Set(126080..<tokenizer.vocabularySize))
            if release == .base {
                XCTAssertThrowsError(try ChatTemplate(tokenizer: tokenizer)) { error in
                    XCTAssertTrue((error as? LLaDAError)?.message.contains("pass raw") == true, "\(error)")
                }
            } else {
                XCTAssertNoThrow(try ChatTemplate(tokenizer: tokenizer))
            }
        }
    }

    func testConfigStrictnessWhereTheReferenceComputesSomethingElse() throws {
        let real = try JSONSerialization.jsonObject(with: Data(contentsOf: file("instruct", "config.json"))) as! [String: Any]
        func decode(_ edit: (inout [String: Any]) -> Void) throws -> LLaDAConfig {
            var object = real
            edit(&object)
            return try LLaDAConfig.decode(JSONSerialization.data(withJSONObject: object), source: "config.json")
        }
        func assertRefused(_ fragments: [String], _ edit: (inout [String: Any]) -> Void, line: UInt = #line) {
            XCTAssertThrowsError(try decode(edit), line: line) { error in
                let message = (error as? LLaDAError)?.message ?? "\(error)"
                XCTAssertFalse(message.contains("\n"), message, line: line)
                for fragment in fragments { XCTAssertTrue(message.contains(fragment), message, line: line) }
            }
        }
        assertRefused(["activation_type", "swiglu", "not supported"]) { $0["activation_type"] = "swiglu" }
        for key in ["layer_norm_type", "activation_type", "block_type", "rope", "weight_tying", "embedding_size"] {
            assertRefused(["config.json", "\"\(key)\" is missing", "reference"]) { $0[key] = nil }
        }
        assertRefused(["LayerNorm"]) { $0["layer_norm_type"] = nil }
        let extended = try decode {
            $0["rope_scaling"] = ["type": "linear", "factor": 2.0]
            $0["some_future_flag"] = true
        }
        XCTAssertEqual(extended.unknownFields.keys.sorted(), ["rope_scaling", "some_future_flag"])
        XCTAssertEqual(extended.unknownFields["some_future_flag"], "true")
        // Keys the reference knows but that change nothing here are not "unknown".
        XCTAssertEqual(try decode { $0["flash_attention_version"] = "flash_attention_2" }.unknownFields, [:])
    }

    /// Unknown keys survive conversion into the packed config section; without any, its bytes do
    /// not change.
    func testUnknownKeysTravelIntoThePackedConfig() throws {
        var config = try LLaDAConfig.load(from: file("instruct", "config.json"))
        let plain = try PackedFormat.normalizedConfigJSON(config)
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: file("instruct", "config.json"))) as! [String: Any]
        object["rope_scaling"] = ["factor": 2]
        config = try LLaDAConfig.decode(JSONSerialization.data(withJSONObject: object), source: "config.json")
        let packed = try PackedFormat.normalizedConfigJSON(config)
        XCTAssertFalse(String(decoding: plain, as: UTF8.self).contains("rope_scaling"))
        let reread = try LLaDAConfig.decode(packed, source: "packed")
        XCTAssertEqual(reread.unknownFields, ["rope_scaling": "{\"factor\":2}"])
        XCTAssertEqual(try PackedFormat.normalizedConfigJSON(reread), packed)
    }
}
