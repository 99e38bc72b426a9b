import Foundation
import LLaDAEngine
import LLaDASynthetic
import XCTest

/// The tools on checkpoints laid out as the published ones: the real shard indexes, Base's
/// tokenizer without chat tokens and its malformed special_tokens_map.json, free text that starts
/// with a dash, and config keys nobody knows.
final class PublishedLayoutCLITests: XCTestCase {
    /// 32 layers give the real 291 tensor names; the small widths keep the files at a few MB.
    func checkpoint(release: SyntheticRelease = .instruct, index: String? = nil, layers: Int? = nil) throws -> URL {
        var shape = SyntheticModelShape.preset(.tiny)
        if let layers { shape.nLayers = layers }
        let destination = try temporaryTestDirectory().appendingPathComponent("synthetic")
        let indexURL = index.map { PublishedMetadataTests.root.appendingPathComponent($0).appendingPathComponent("model.safetensors.index.json") }
        let options = SyntheticCheckpointOptions(shape: shape, shards: 2, seed: 3, threads: 2, shardIndex: indexURL, release: release)
        _ = try SyntheticCheckpointWriter(options: options, destination: destination).write()
        return destination
    }

    func quantize(_ arguments: [String]) throws -> CLIRunner.Run {
        try CLIRunner.run(arguments, executable: ConverterCLITests.binary)
    }

    /// A synthetic model sharded as the real Instruct and 1.5 checkpoints converts and generates.
    func testCheckpointsShardedByTheRealIndexesConvertAndGenerate() throws {
        for release in ["instruct", "1.5"] {
            let directory = try checkpoint(index: release, layers: 32)
            let realIndex = PublishedMetadataTests.root.appendingPathComponent(release).appendingPathComponent("model.safetensors.index.json")
            let real = try ShardIndex.parse(Data(contentsOf: realIndex), path: "real")
            let written = directory.appendingPathComponent("model.safetensors.index.json")
            XCTAssertEqual(try ShardIndex.parse(Data(contentsOf: written), path: "written"), real, release)

            let packed = directory.deletingLastPathComponent().appendingPathComponent("model.lpk").path
            let conversion = try quantize([directory.path, "-o", packed, "--type", "q4"])
            XCTAssertEqual(conversion.status, 0, conversion.stderr)
            for model in [directory.path, packed] {
                let run = try CLIRunner.run(["generate", "--model", model, "--prompt", "hello", "--gen-length", "8", "--steps", "4",
                                             "--block-length", "8", "--json"])
                XCTAssertEqual(run.status, 0, run.stderr)
                let output = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
                XCTAssertEqual((output?["output_ids"] as? [Int])?.count, 8, run.stdout)
            }
        }
    }

    func testAnIndexOfAnotherShapeIsRefusedByName() throws {
        XCTAssertThrowsError(try checkpoint(index: "instruct", layers: 2)) { error in
            let message = (error as? LLaDAError)?.message ?? "\(error)"
            XCTAssertTrue(message.contains("model.safetensors.index.json") && message.contains("which this shape does not have"), message)
        }
    }

    /// Base has no chat tokens: the chat template is refused with the --raw hint, --raw works, and
    /// the malformed special_tokens_map.json next to it changes nothing.
    func testBaseGetsTheRawGuidanceAndItsBrokenSpecialTokensMapIsIgnored() throws {
        let directory = try checkpoint(release: .base)
        let map = try Data(contentsOf: directory.appendingPathComponent("special_tokens_map.json"))
        XCTAssertThrowsError(try JSONSerialization.jsonObject(with: map), "the published Base file is not valid JSON")
        let chat = try CLIRunner.run(["generate", "--model", directory.path, "--prompt", "hi", "--gen-length", "8", "--steps", "4", "--block-length", "8"])
        XCTAssertNotEqual(chat.status, 0)
        XCTAssertTrue(chat.stderr.hasPrefix("error: ") && chat.stderr.contains("--raw"), chat.stderr)
        XCTAssertEqual(chat.stderr.split(separator: "\n").count, 1, chat.stderr)
        let raw = try CLIRunner.run(["generate", "--model", directory.path, "--prompt", "hi", "--raw", "--gen-length", "8", "--steps", "4", "--block-length", "8"])
        XCTAssertEqual(raw.status, 0, raw.stderr)
    }

    func testFreeTextOptionsTakeValuesThatBeginWithADash() throws {
        let model = FixturePaths.model.path
        let generate = try CLIRunner.run(["generate", "--model", model, "--prompt", "-5 plus 3", "--gen-length", "8", "--steps", "8",
                                          "--block-length", "8", "--json"])
        XCTAssertEqual(generate.status, 0, generate.stderr)
        let prompt = try JSONSerialization.jsonObject(with: Data(generate.stdout.utf8)) as? [String: Any]
        let tokenize = try CLIRunner.run(["tokenize", "--model", model, "--text", "-5 plus 3", "--json"])
        XCTAssertEqual(tokenize.status, 0, tokenize.stderr)
        let ids = (try JSONSerialization.jsonObject(with: Data(tokenize.stdout.utf8)) as? [String: Any])?["ids"] as? [Int]
        XCTAssertNotNil(ids)
        let promptIDs = prompt?["prompt_ids"] as? [Int] ?? []
        XCTAssertTrue(promptIDs.count > ids!.count && (0...(promptIDs.count - ids!.count)).contains { Array(promptIDs[$0..<($0 + ids!.count)]) == ids! },
                      "the dash text is the prompt")
        let infill = try CLIRunner.run(["infill", "--model", model, "--text", "-x [MASK*4]", "--steps", "4"])
        XCTAssertEqual(infill.status, 0, infill.stderr)
        let detokenize = try CLIRunner.run(["detokenize", "--model", model, "--ids", "-1"])
        XCTAssertNotEqual(detokenize.status, 0)
        XCTAssertTrue(detokenize.stderr.contains("-1"), detokenize.stderr)
    }

    func testInfoAndInspectListUnknownConfigKeys() throws {
        let directory = try CheckpointFixtures.copyOfFixture()
        addTeardownBlock { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        let url = directory.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        config["rope_scaling"] = ["type": "linear", "factor": 2.0]
        try JSONSerialization.data(withJSONObject: config).write(to: url)

        let info = try CLIRunner.run(["info", directory.path, "--json"])
        XCTAssertEqual(info.status, 0, info.stderr)
        let infoJSON = try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(infoJSON?["unknown_config_keys"] as? [String], ["rope_scaling"])

        let packed = directory.deletingLastPathComponent().appendingPathComponent("model.lpk").path
        let conversion = try quantize([directory.path, "-o", packed, "--type", "q8"])
        XCTAssertEqual(conversion.status, 0, conversion.stderr)
        let inspect = try quantize(["inspect", packed])
        XCTAssertEqual(inspect.status, 0, inspect.stderr)
        XCTAssertTrue(inspect.stdout.contains("does not know (ignored): rope_scaling"), inspect.stdout)
        let packedInfo = try CLIRunner.run(["info", packed])
        XCTAssertTrue(packedInfo.stdout.contains("does not know (ignored): rope_scaling"), packedInfo.stdout)
    }
}
