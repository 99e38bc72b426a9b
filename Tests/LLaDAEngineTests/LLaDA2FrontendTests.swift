import Foundation
import LLaDAEngine
import XCTest

/// The tiny LLaDA 2 through the command-line frontends: every golden generation from
/// `llada generate --json` with the golden settings, the dev accuracy from `llada eval`, `info`,
/// `bench`, `chat` and infill. (The fixture directory holds bf16 weights whose f32 widening is
/// bit-equal to the f32 directory the goldens were computed from.)
final class LLaDA2FrontendTests: XCTestCase {
    let model = LLaDA2NetworkTests.model.path

    static func golden(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: LLaDA2NetworkTests.golden.appendingPathComponent(name))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func json(_ run: CLIRunner.Run, line: Int = 0) throws -> [String: Any] {
        XCTAssertEqual(run.status, 0, run.stderr)
        let text = run.stdoutLines.filter { !$0.isEmpty }[line]
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
    }

    /// The golden settings as options: the reference's `steps` is steps per block.
    static func options(_ setting: [String: Any]) -> [String] {
        ["--gen-length", "\(setting["gen_length"] as! Int)", "--block-length", "\(setting["block_length"] as! Int)",
         "--steps-per-block", "\(setting["steps"] as! Int)", "--threshold", "\(setting["threshold"] as! Double)"]
    }

    func testEveryGoldenGenerationThroughGenerateJSON() throws {
        let golden = try Self.golden("generate.json")
        let settings = try XCTUnwrap(golden["settings"] as? [String: [String: Any]])
        let prompts = try XCTUnwrap(golden["prompts"] as? [[String: Any]])
        var runs = 0
        for (name, setting) in settings.sorted(by: { $0.key < $1.key }) {
            for prompt in prompts {
                let expected = try XCTUnwrap(prompt[name] as? [String: Any])
                // The default cache (the exact block cache), and none for one setting: the same ids and calls.
                for cache in name == "gen32_block8_steps4_thr0.7" ? ["block", "none"] : ["block"] {
                    let object = try json(try CLIRunner.run(["generate", "--model", model, "--prompt", prompt["prompt"] as! String,
                                                             "--json", "--cache", cache] + Self.options(setting)))
                    XCTAssertEqual(object["prompt_ids"] as? [Int], prompt["prompt_ids"] as? [Int], "\(name) \(prompt["id"]!)")
                    let ids = try XCTUnwrap(object["output_ids"] as? [Int])
                    let cut = ids.firstIndex(of: 481).map { Array(ids[...$0]) } ?? ids
                    XCTAssertEqual(cut, expected["output_ids"] as? [Int], "\(name) \(prompt["id"]!) cache \(cache)")
                    XCTAssertEqual(object["model_calls"] as? Int, expected["model_calls"] as? Int, "\(name) \(prompt["id"]!) cache \(cache)")
                    XCTAssertEqual(object["text"] as? String, expected["text"] as? String, "\(name) \(prompt["id"]!)")
                    runs += 1
                }
            }
        }
        XCTAssertEqual(runs, 72)
    }

    func testDevAccuracyThroughEval() throws {
        let golden = try Self.golden("dev_accuracy.json")
        let settings = try XCTUnwrap(golden["settings"] as? [String: [String: Any]])
        let results = try XCTUnwrap(golden["results"] as? [String: [String: Any]])
        for name in ["gen32_block8_steps8_thr0.95", "gen32_block32_steps8_thr0.95"] {
            let run = try CLIRunner.run(["eval", "--model", model, "--tasks", FixturePaths.tasks.path, "--json"] + Self.options(settings[name]!))
            let summary = try json(run, line: 60)
            XCTAssertEqual(summary["count"] as? Int, 60)
            XCTAssertEqual(try XCTUnwrap(summary["accuracy"] as? Double), try XCTUnwrap(results[name]?["all"] as? Double), accuracy: 1e-12, name)
            XCTAssertEqual(try XCTUnwrap(summary["mean_model_calls"] as? Double),
                           try XCTUnwrap(results[name]?["mean_model_calls"] as? Double), accuracy: 1e-12, name)
        }
    }

    func testInfoNamesTheExpertsActiveParametersAndSettingsNotTaken() throws {
        let object = try json(try CLIRunner.run(["info", model, "--json"]))
        let config = try XCTUnwrap(object["config"] as? [String: Any])
        XCTAssertEqual(config["architecture"] as? String, "llada2_moe")
        XCTAssertEqual(config["kv_heads"] as? Int, 2)
        XCTAssertEqual(config["mask_id"] as? Int, 482)
        XCTAssertEqual(config["eos_id"] as? Int, 481)
        let experts = try XCTUnwrap(config["experts"] as? [String: Int])
        XCTAssertEqual(experts, ["count": 16, "per_token": 4, "shared": 1, "width": 64, "dense_layers": 1, "groups": 4, "groups_per_token": 2])
        // Every tensor is widened to f32: the parameters are the memory's bytes / 4.
        let groups = try XCTUnwrap(object["tensor_types"] as? [[String: Any]])
        let elements = groups.reduce(0) { $0 + ($1["memory_bytes"] as! Int) } / 4
        XCTAssertEqual(config["parameters"] as? Int, elements)
        // 3 of 4 layers route 4 of 16 experts: 12 experts' worth of matrices (3 × 128 × 64 each) unused per token.
        XCTAssertEqual(config["active_parameters"] as? Int, elements - 3 * 12 * 3 * 128 * 64)
        XCTAssertTrue(groups.contains { $0["role"] as? String == "experts gate/up" && $0["tensors"] as? Int == 3 * 16 * 2 })
        XCTAssertTrue((object["settings_not_taken"] as? [String] ?? []).contains("steps (use steps_per_block)"))
        let estimate = try XCTUnwrap(object["memory_estimate"] as? [String: Any])
        XCTAssertEqual(estimate["cache"] as? String, "block")
        XCTAssertEqual(estimate["kv_type"] as? String, "f32")
        // Whole blocks: the default prompt and gen_length 128 run up to the next multiple of 32.
        XCTAssertEqual((estimate["canvas_length"] as! Int) % 32, 0)
        let text = try CLIRunner.run(["info", model])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("experts: 16 routed of width 64, 4 per token from 2 of 4 groups, 1 shared"), text.stdout)
        XCTAssertTrue(text.stdout.contains("settings this model does not take: steps (use steps_per_block)"), text.stdout)
    }

    func testBenchRunsTheFamily() throws {
        let object = try json(try CLIRunner.run(["bench", "--model", model, "--json", "--prompt-length", "20", "--gen-length", "32",
                                                 "--block-length", "8", "--threads", "1"]))
        XCTAssertEqual(object["cache"] as? String, "block")
        XCTAssertEqual(object["steps_per_block"] as? Int, 32)
        XCTAssertTrue(object["steps"] is NSNull)
        XCTAssertGreaterThan(object["model_calls"] as? Int ?? 0, 0)
        XCTAssertGreaterThan(object["tokens_per_second"] as? Double ?? 0, 0)
        // What a step streams: the routed experts of a block's rows (of 16 per MoE layer), their
        // bytes under the 6.7 MB of f32 weights, and those bytes at the measured bandwidth.
        let median = try XCTUnwrap(object["median_step"] as? [String: Any])
        let experts = try XCTUnwrap(median["distinct_experts_per_layer"] as? Double)
        XCTAssertTrue((1...16).contains(experts), "\(experts)")
        let bytes = try XCTUnwrap(median["weight_bytes"] as? Double)
        XCTAssertTrue(bytes > 1e6 && bytes < 6.8e6, "\(bytes)")
        let bandwidth = try XCTUnwrap(object["memory_bandwidth_gbs"] as? Double)
        XCTAssertEqual(try XCTUnwrap(median["streaming_floor_seconds"] as? Double), bytes / (bandwidth * 1e9), accuracy: 1e-12)
        // A dense model has no experts.
        let dense = try json(try CLIRunner.run(["bench", "--model", FixturePaths.model.path, "--json", "--prompt-length", "8",
                                                "--gen-length", "8", "--block-length", "8", "--threads", "1"]))
        XCTAssertTrue((dense["median_step"] as? [String: Any])?["distinct_experts_per_layer"] is NSNull)
    }

    /// Two turns: the first answer equals `generate`'s; the second prompt is the whole
    /// conversation through the template (the answer as an assistant message).
    func testChatKeepsTheConversationAsTheTemplateDefinesIt() throws {
        let options = ["--gen-length", "32", "--block-length", "8", "--steps-per-block", "8"]
        let chat = try CLIRunner.run(["chat", "--model", model] + options, stdin: "reverse: abcd\nsort: 6 5 9 2 8\n")
        XCTAssertEqual(chat.status, 0, chat.stderr)
        let first = try CLIRunner.run(["generate", "--model", model, "--prompt", "reverse: abcd"] + options)
        let answers = chat.stdoutLines.filter { !$0.isEmpty }
        XCTAssertEqual(answers.count, 2, chat.stdout)
        XCTAssertEqual(answers.first, first.stdoutLines.first)

        let loaded = try LLaDAModel.load(path: model)
        var session = try ChatSession(model: loaded)
        let prompt1 = session.promptIDs(for: "reverse: abcd")
        XCTAssertEqual(prompt1, try loaded.promptIDs(for: .user("reverse: abcd")))
        let answerIDs = loaded.tokenizer.encode("dcba", addSpecialTokens: false)
        session.record(prompt: prompt1, message: "reverse: abcd", output: answerIDs + [485, 481, 481])
        let template = LLaDA2ChatTemplate()
        let conversation = [ChatMessage(role: "user", content: "reverse: abcd"), ChatMessage(role: "assistant", content: "dcba"),
                            ChatMessage(role: "user", content: "sort: 6 5 9 2 8")]
        XCTAssertEqual(session.promptIDs(for: "sort: 6 5 9 2 8"), loaded.tokenizer.encode(template.render(conversation), addSpecialTokens: false))
        session.reset()
        XCTAssertEqual(session.promptIDs(for: "reverse: abcd"), prompt1)
    }

    /// Holes in the last block, the text after them inside it, can be filled; text after a hole in
    /// a later block cannot, and is refused (bad-inputs.py has the message).
    func testInfillFillsWhatTheBlockSees() throws {
        let refused = try CLIRunner.run(["infill", "--model", model, "--text", "ab [MASK*3] cd"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertEqual(refused.stdout, "")
        XCTAssertTrue(refused.stderr.contains("block-causal"), refused.stderr)
        let filled = try CLIRunner.run(["infill", "--model", model, "--text", "ab [MASK*3] cd", "--block-length", "64", "--json"])
        let object = try json(filled)
        let text = try XCTUnwrap(object["text"] as? String)
        XCTAssertTrue(text.hasPrefix("ab") && text.hasSuffix(" cd"), text)
    }
}
