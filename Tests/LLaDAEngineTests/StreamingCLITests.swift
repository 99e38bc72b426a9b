import Foundation
import XCTest

/// `llada generate` output while it runs: plain text streamed per block, `--json-stream` event
/// lines, and `--visual` silently off when standard error is not a terminal.
final class StreamingCLITests: XCTestCase {
    let model = FixturePaths.model.path

    func golden(_ setting: String) throws -> [(prompt: String, output: [String: Any])] {
        let prompts = try FixturePaths.goldenJSON("generate.json")["prompts"] as! [[String: Any]]
        return prompts.map { ($0["prompt"] as! String, ($0["outputs"] as! [String: Any])[setting] as! [String: Any]) }
    }

    /// Four blocks streamed one by one still print exactly the reference answer and one newline.
    func testStreamedPlainOutputIsTheAnswer() throws {
        for (prompt, output) in try golden("gen32_steps16_block8") {
            let run = try CLIRunner.run(["generate", "--model", model, "--prompt", prompt, "--gen-length", "32", "--steps", "16",
                                         "--block-length", "8", "--threads", "1"])
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertEqual(run.stdout, (output["text"] as! String) + "\n", prompt)
            XCTAssertEqual(run.stderr, "", "nothing on a non-terminal stderr")
        }
    }

    func testJSONStreamEvents() throws {
        for (prompt, output) in try golden("gen32_steps16_block8").prefix(6) {
            let run = try CLIRunner.run(["generate", "--model", model, "--prompt", prompt, "--gen-length", "32", "--steps", "16",
                                         "--block-length", "8", "--threads", "1", "--json-stream"])
            XCTAssertEqual(run.status, 0, run.stderr)
            let events = try run.stdout.split(separator: "\n").map {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
            }
            let kinds = events.map { $0["event"] as! String }
            XCTAssertEqual(kinds.last, "done", prompt)
            XCTAssertEqual(kinds.filter { $0 == "done" }.count, 1)
            XCTAssertTrue(Set(kinds).isSubset(of: ["step", "block_done", "done"]))
            let done = events.last!
            let outputIDs = done["output_ids"] as! [Int]
            XCTAssertEqual(outputIDs, output["output_ids"] as! [Int], prompt)
            XCTAssertEqual(done["text"] as? String, output["text"] as? String)

            let steps = events.filter { $0["event"] as? String == "step" }
            XCTAssertEqual(steps.map { $0["call"] as! Int }, Array(1...steps.count), "one event per model call, in order")
            XCTAssertEqual(done["model_calls"] as? Int, steps.count)
            for step in steps {
                // The reference loop never takes a commit back: each committed id is final.
                let committed = step["committed"] as! [Int], ids = step["ids"] as! [Int]
                XCTAssertEqual(committed.map { outputIDs[$0] }, ids)
                XCTAssertNotNil(step["seconds"] as? Double)
            }
            XCTAssertEqual(steps.last?["masks_left"] as? Int, outputIDs.count - steps.reduce(0) { $0 + ($1["committed"] as! [Int]).count })

            let blocks = events.filter { $0["event"] as? String == "block_done" }
            XCTAssertEqual(blocks.map { $0["block"] as! Int }, Array(0..<blocks.count), "blocks finish left to right")
            XCTAssertEqual(blocks.map { $0["text"] as! String }.joined(), done["text"] as! String, "block texts join to the answer")
            for block in blocks {
                XCTAssertEqual(block["ids"] as! [Int], Array(outputIDs[(block["start"] as! Int)..<(block["end"] as! Int)]))
            }
            // Early stop: the block that ended in padding is the last one reported.
            XCTAssertEqual(blocks.last?["ends_generation"] as? Bool, (done["blocks_skipped"] as! Int) > 0)
        }
    }

    func testVisualIsOffWhenStderrIsNotATerminal() throws {
        let arguments = ["generate", "--model", model, "--prompt", "sort: 6 5 9 2 8", "--gen-length", "32", "--steps", "32",
                         "--block-length", "8", "--threads", "1"]
        let plain = try CLIRunner.run(arguments)
        let visual = try CLIRunner.run(arguments + ["--visual"])
        XCTAssertEqual(visual.status, 0, visual.stderr)
        XCTAssertEqual(visual.stdout, plain.stdout)
        XCTAssertEqual(visual.stderr, "", "no frames, no escape sequences")
    }

    func testJSONAndJSONStreamTogetherIsOneError() throws {
        let run = try CLIRunner.run(["generate", "--model", model, "--prompt", "hi", "--json", "--json-stream"])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertEqual(run.stdout, "")
        XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
        XCTAssertTrue(run.stderr.hasPrefix("error: --json and --json-stream cannot be combined"), run.stderr)
    }
}
