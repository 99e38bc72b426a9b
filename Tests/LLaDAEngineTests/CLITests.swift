import Foundation
import XCTest

/// The `llada` executable as users run it: output contracts and one-line errors.
final class CLITests: XCTestCase {
    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// The llada binary sits next to the test bundle in the build directory.
    static var executable: URL {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [directory, directory.deletingLastPathComponent()]
        return candidates.map { $0.appendingPathComponent("llada") }.first { FileManager.default.isExecutableFile(atPath: $0.path) }
            ?? directory.appendingPathComponent("llada")
    }

    func run(_ arguments: [String], stdin: String? = nil) throws -> Run {
        let result = try CLIRunner.run(arguments, stdin: stdin)
        return Run(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }

    let model = FixturePaths.model.path

    func testGenerateJSONMatchesTheReference() throws {
        let golden = try FixturePaths.goldenJSON("generate.json")
        let prompt = (golden["prompts"] as! [[String: Any]])[4]
        let expected = (prompt["outputs"] as! [String: Any])["gen32_steps16_block8"] as! [String: Any]
        let result = try run(["generate", "--model", model, "--prompt", prompt["prompt"] as! String, "--gen-length", "32",
                              "--steps", "16", "--block-length", "8", "--json", "--threads", "1"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(json["prompt_ids"] as? [Int], prompt["prompt_ids"] as? [Int])
        XCTAssertEqual(json["output_ids"] as? [Int], expected["output_ids"] as? [Int])
        XCTAssertEqual(json["text"] as? String, expected["text"] as? String)
        // Early stop (on for chat prompts) skips the steps after the answer ended in padding.
        XCTAssertEqual((json["steps"] as! Int) + (json["steps_saved"] as! Int), 16)
        XCTAssertNotNil(json["seconds"] as? Double)
    }

    func testGeneratePlainTextFromStandardInputWithCFG() throws {
        let golden = try FixturePaths.goldenJSON("generate.json")
        let prompt = (golden["prompts"] as! [[String: Any]])[2]
        let expected = (prompt["outputs"] as! [String: Any])["gen32_steps32_block32_cfg1"] as! [String: Any]
        let result = try run(["generate", "--model", model, "--prompt", "-", "--gen-length", "32", "--steps", "32",
                              "--cfg-scale", "1"], stdin: prompt["prompt"] as? String)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, (expected["text"] as! String) + "\n")
    }

    func testTokenizeAndDetokenize() throws {
        let tokenized = try run(["tokenize", "--model", model, "--text", "<|startoftext|>reverse: abcd", "--json"])
        XCTAssertEqual(tokenized.stdout, "{\"ids\":[480,279,25,472,66,67]}\n")
        let keep = try run(["detokenize", "--model", model, "--ids", "480,279,25,472,66,67"])
        XCTAssertEqual(keep.stdout, "<|startoftext|>reverse: abcd\n")
        let skip = try run(["detokenize", "--model", model, "--ids", "480,279,25,472,66,67", "--skip-special"])
        XCTAssertEqual(skip.stdout, "reverse: abcd\n")
    }

    /// Each bad input: non-zero exit, nothing on stdout, one `error:` line naming the problem.
    func testBadInputsGiveOneClearErrorLine() throws {
        let cases: [([String], String)] = [
            (["generate", "--model", "/nonexistent/model", "--prompt", "hi"], "/nonexistent/model does not exist"),
            (["generate", "--model", model, "--prompt", String(repeating: "reverse abcd ", count: 60), "--gen-length", "32", "--steps", "32"],
             "max_sequence_length"),
            (["generate", "--model", model, "--prompt", "hi", "--gen-length", "30", "--block-length", "8"], "--gen-length 30 must be a multiple of --block-length 8"),
            (["generate", "--model", model, "--prompt", "hi", "--gen-length", "32", "--steps", "6", "--block-length", "8"], "--steps 6 must be a multiple"),
            (["generate", "--model", model, "--prompt", "hi", "--gen-length", "32", "--steps", "64"], "--steps 64 exceeds --gen-length 32"),
            (["generate", "--model", model, "--prompt", "hi", "--remasking", "sideways"], "--remasking must be one of"),
            (["generate", "--model", model, "--prompt", "hi", "--temperature", "-1"], "--temperature"),
            (["generate", "--model", model, "--prompt", "hi", "--threads", "0"], "--threads"),
            (["generate", "--model", model, "--prompt", "hi", "--threads", "100000"], "--threads must be between 1 and 1024 (got 100000)"),
            (["generate", "--model", model, "--prompt", "hi", "--gen-length", "0"], "--gen-length must be at least 1 (got 0)"),
            (["generate", "--model", model, "--prompt", "hi", "--gen-length", "300", "--steps", "300", "--block-length", "300"],
             "--gen-length 300 leaves no room for the prompt in the model's max_sequence_length 256"),
            (["generate", "--model", model, "--prompt", "hi", "--gen-length", "-8"], "--gen-length must be at least 1 (got -8)"),
            (["generate", "--model", model, "--prompt", "hi", "--temperature", "-1"], "--temperature must be a finite number ≥ 0 (got -1.0)"),
            (["generate", "--model", model, "--prompt", "hi", "--block-length", "0"], "--block-length must be at least 1 (got 0)"),
            (["generate", "--model", model, "--prompt", "hi", "--threshold", "0"], "--threshold must be in (0, 1] (got 0.0)"),
            (["generate", "--model", model, "--prompt", "hi", "--threshold", "1.5"], "--threshold must be in (0, 1] (got 1.5)"),
            (["generate", "--model", model, "--prompt", "hi", "--top-p", "0"], "--top-p must be in (0, 1]"),
            (["generate", "--model", model, "--prompt", "hi", "--cache", "bogus"], "--cache must be one of none, prefix, dual, block (got bogus)"),
            (["generate", "--model", model, "--prompt", "hi", "--refresh", "often"], "--refresh must be one of every-block, keep-prompt, every-K-blocks (K ≥ 2) (got often)"),
            (["generate", "--model", model, "--prompt", "hi", "--cache", "prefix", "--refresh", "keep-prompt"], "--refresh keep-prompt needs --cache dual"),
            (["generate", "--model", model, "--prompt", "", "--raw"], "the prompt is empty"),
            (["generate", "--model", model, "--prompt", "hi", "--steps", "many"], "steps"),
            (["generate", "--model", model], "--prompt"),
            (["detokenize", "--model", model, "--ids", "1,x"], "\"x\" is not a token id"),
            (["detokenize", "--model", model, "--ids", "100000"], "100000"),
            (["bogus"], "bogus"),
        ]
        for (arguments, fragment) in cases {
            let result = try run(arguments)
            XCTAssertNotEqual(result.status, 0, "\(arguments)")
            XCTAssertEqual(result.stdout, "", "\(arguments)")
            let lines = result.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.hasPrefix("error: "), "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(fragment), "\(arguments): \(result.stderr) lacks \(fragment)")
        }
    }

    /// A tokenizer without the end-of-turn token, and a model without any end-of-text token.
    func testMissingSpecialTokensAreClearErrors() throws {
        let directory = try CheckpointFixtures.copyOfFixture()
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        for name in ["tokenizer.json", "tokenizer_config.json"] {
            let url = directory.appendingPathComponent(name)
            try String(contentsOf: url, encoding: .utf8).replacingOccurrences(of: "<|eot_id|>", with: "<|eot_xx|>")
                .replacingOccurrences(of: "\"eos_token\": \"<|endoftext|>\",", with: "")
                .write(to: url, atomically: true, encoding: .utf8)
        }
        let configURL = directory.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as! [String: Any]
        config["eos_token_id"] = nil
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        let base = ["generate", "--model", directory.path, "--prompt", "reverse: abcd", "--gen-length", "8", "--steps", "8", "--block-length", "8"]
        let cases: [([String], String)] = [
            (base, "the tokenizer has no <|eot_id|> token, so the LLaDA chat template cannot be used; pass --raw"),
            (base + ["--raw", "--confidence-eos-eot-inf"], "--confidence-eos-eot-inf needs the tokenizer's <|eot_id|> token"),
            (base + ["--raw", "--logits-eos-inf"], "--logits-eos-inf needs an end-of-text token, but the tokenizer has no eos_token and config.json no eos_token_id"),
        ]
        for (arguments, fragment) in cases {
            let result = try run(arguments)
            XCTAssertEqual(result.status, 1, "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
            XCTAssertTrue(result.stderr.hasPrefix("error: ") && result.stderr.contains(fragment), "\(result.stderr) lacks \(fragment)")
        }
        XCTAssertEqual(try run(base + ["--raw"]).status, 0, "plain text needs none of them")
        // An EOS id the model cannot hold would be written into the canvas: refused.
        config["eos_token_id"] = 9999
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        let outside = try run(base + ["--raw", "--logits-eos-inf"])
        XCTAssertEqual(outside.status, 1)
        XCTAssertTrue(outside.stderr.hasPrefix("error: the end-of-text token id 9999 (tokenizer eos_token or config.json eos_token_id) is outside the model's vocabulary (0..<512)"), outside.stderr)
    }

    func testAFileThatIsNotAPackedModelGivesOneErrorLine() throws {
        let directory = try CheckpointFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("model.lpk")
        try Data("not a model".utf8).write(to: file)
        let result = try run(["generate", "--model", file.path, "--prompt", "hi"])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("is neither a packed model file"), result.stderr)
    }

    func testBrokenCheckpointGivesOneErrorLine() throws {
        let directory = try CheckpointFixtures.copyOfFixture()
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        let shard = directory.appendingPathComponent("model-00002-of-00002.safetensors")
        try Data(try Data(contentsOf: shard).prefix(5000)).write(to: shard)
        let result = try run(["generate", "--model", directory.path, "--prompt", "hi"])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("model-00002-of-00002.safetensors"), result.stderr)
    }
}
