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
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
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
