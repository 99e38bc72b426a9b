import Foundation
import LLaDAEngine
import XCTest

/// Tokenizer + chat template + model + sampler together, against the reference's outputs.
final class EndToEndTests: XCTestCase {
    nonisolated(unsafe) static var cachedModel: LLaDAModel?

    func model() throws -> LLaDAModel {
        if let model = Self.cachedModel { return model }
        let model = try LLaDAModel.load(path: FixturePaths.model.path, compute: ComputeContext(threads: 1))
        Self.cachedModel = model
        return model
    }

    func testChatTemplateGivesTheReferencePromptIDs() throws {
        let model = try model()
        let golden = try FixturePaths.goldenJSON("generate.json")
        for prompt in golden["prompts"] as! [[String: Any]] {
            XCTAssertEqual(try model.promptIDs(for: prompt["prompt"] as! String, raw: false), prompt["prompt_ids"] as! [Int], "\(prompt["id"]!)")
        }
    }

    func testMultiTurnTemplateMatchesTheReference() throws {
        let model = try model()
        let golden = (try FixturePaths.goldenJSON("logits.json")["cases"] as! [[String: Any]]).first { $0["name"] as? String == "long_multiturn" }!
        let messages = [
            ChatMessage(role: "user", content: "reverse dyl"), ChatMessage(role: "assistant", content: "lyd"),
            ChatMessage(role: "user", content: "Add 6 and 25."), ChatMessage(role: "assistant", content: "31"),
            ChatMessage(role: "user", content: "Reverse the string: utpto"),
        ]
        let ids = try model.promptIDs(for: .messages(messages)) + Array(repeating: model.maskID, count: 45)
        XCTAssertEqual(ids, golden["input_ids"] as! [Int])
    }

    func testTemplateTrimsContentAndRawSkipsIt() throws {
        let model = try model()
        XCTAssertEqual(try model.promptIDs(for: " \n reverse: abcd\t ", raw: false), try model.promptIDs(for: "reverse: abcd", raw: false))
        XCTAssertEqual(try model.promptIDs(for: "reverse: abcd", raw: false),
                       [480, 493, 265, 494, 256, 279, 25, 472, 66, 67, 495, 493, 267, 494, 256])
        XCTAssertEqual(try model.promptIDs(for: "reverse: abcd", raw: true), [279, 25, 472, 66, 67])
    }

    /// Exact-match accuracy on all 60 dev tasks equals the reference's, per task, for every setting.
    func testDevAccuracyEqualsTheReference() throws {
        let model = try model()
        let reference = try FixturePaths.goldenJSON("dev_accuracy.json")
        let accuracy = reference["accuracy"] as! [String: [String: Double]]
        let tasks = try String(contentsOf: FixturePaths.tasks, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        XCTAssertEqual(tasks.count, 60)
        for setting in reference["settings"] as! [[String: Any]] {
            let name = setting["name"] as! String
            let settings = GoldenGenerationTests.settings(from: setting)
            var correct: [String: Int] = [:], total: [String: Int] = [:]
            for task in tasks {
                let ids = try model.promptIDs(for: task["prompt"] as! String, raw: false)
                let output = try model.generate(promptIDs: ids, settings: settings)
                let text = try model.tokenizer.decode(output.outputIDs, skipSpecialTokens: true)
                let kind = task["task"] as! String
                total[kind, default: 0] += 1
                if text.trimmingCharacters(in: .whitespacesAndNewlines) == task["answer"] as! String { correct[kind, default: 0] += 1 }
            }
            for (kind, count) in total {
                XCTAssertEqual(Double(correct[kind, default: 0]) / Double(count), accuracy[name]![kind]!, accuracy: 1e-9, "\(name) \(kind)")
            }
        }
    }

    func testAnswerTextStopsAtTheFirstEndToken() throws {
        let model = try model()
        let ids = model.tokenizer.encode("bszcad") + [495, 481, 66, 481]
        XCTAssertEqual(try model.answerText(ids), "bszcad")
    }

    func testPromptLongerThanTheModelAllowsIsRefused() throws {
        let model = try model()
        var settings = GenerationSettings()
        settings.genLength = 32
        settings.steps = 32
        let long = String(repeating: "reverse abcd ", count: 60)
        XCTAssertThrowsError(try model.generate(promptIDs: try model.promptIDs(for: long, raw: false), settings: settings)) { error in
            XCTAssertTrue((error as! PlanError).message.message.contains("max_sequence_length 256"), "\(error)")
        }
    }
}
