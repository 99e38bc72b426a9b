import Foundation
import LLaDAEngine
import XCTest

/// Conversation history as ML-GSAI/LLaDA `chat.py` keeps it, checked as token ids per turn on the
/// fixture's tokenizer (ids: 480 <|startoftext|>, 481 <|endoftext|>, 493/494 header, 495 <|eot_id|>).
final class ChatSessionTests: XCTestCase {
    /// The chat-template ids of one user message, as `apply_chat_template` + `tokenizer(...)` give them.
    let reverseTurn = [480, 493, 265, 494, 256, 279, 25, 472, 66, 67, 495, 493, 267, 494, 256]  // "reverse: abcd"
    let sortTurn = [480, 493, 265, 494, 256, 280, 25, 220, 21, 220, 20, 220, 24, 220, 17, 220, 23, 495, 493, 267, 494, 256]  // "sort: 6 5 9 2 8"

    func session() throws -> ChatSession {
        try ChatSession(tokenizer: try Tokenizer(directory: FixturePaths.model), endOfTextID: 481)
    }

    func testFirstTurnIsTheTemplateWithItsBOS() throws {
        let session = try session()
        XCTAssertEqual(session.promptIDs(for: "reverse: abcd"), reverseTurn)
        XCTAssertEqual(session.promptIDs(for: "  reverse: abcd \n"), reverseTurn, "content is trimmed as the template does")
        XCTAssertEqual(session.history, [])
    }

    func testLaterTurnsAppendWithoutASecondBOSAndDropEveryEndOfText() throws {
        var session = try session()
        // Turn 1: the answer "dcba" (ids 67 66 65 64 stand in for it), <|eot_id|>, <|endoftext|> padding.
        let prompt1 = session.promptIDs(for: "reverse: abcd")
        let output1 = [67, 66, 65, 64, 495, 481, 481, 481]
        session.record(prompt: prompt1, output: output1)
        // chat.py: prompt = out[out != 126081] — the padding goes, the eot stays.
        let history1 = reverseTurn + [67, 66, 65, 64, 495]
        XCTAssertEqual(session.history, history1)
        XCTAssertEqual(session.turns, 1)

        // Turn 2: torch.cat([prompt, input_ids[:, 1:]]) — the new turn without its BOS.
        let prompt2 = session.promptIDs(for: "sort: 6 5 9 2 8")
        XCTAssertEqual(prompt2, history1 + sortTurn.dropFirst())
        XCTAssertEqual(prompt2.filter { $0 == 480 }.count, 1, "one BOS in the whole conversation")

        // An end-of-text inside the answer goes too; what follows the eot stays (chat.py filters, it does not cut).
        let output2 = [17, 481, 220, 20, 495, 24, 481, 481]
        session.record(prompt: prompt2, output: output2)
        XCTAssertEqual(session.history, history1 + sortTurn.dropFirst() + [17, 220, 20, 495, 24])

        let prompt3 = session.promptIDs(for: "reverse: abcd")
        XCTAssertEqual(prompt3, session.history + reverseTurn.dropFirst())
    }

    func testAnEndOfTextTypedByTheUserIsRemovedAfterTheTurnAsInChatPy() throws {
        var session = try session()
        let prompt = session.promptIDs(for: "a<|endoftext|>b")
        XCTAssertTrue(prompt.contains(481), "special tokens in the message are recognised")
        session.record(prompt: prompt, output: [495, 481])
        XCTAssertFalse(session.history.contains(481))
        XCTAssertEqual(session.history, prompt.filter { $0 != 481 } + [495])
    }

    func testResetStartsOverWithABOS() throws {
        var session = try session()
        session.record(prompt: session.promptIDs(for: "reverse: abcd"), output: [67, 495, 481])
        session.reset()
        XCTAssertEqual(session.history, [])
        XCTAssertEqual(session.turns, 0)
        XCTAssertEqual(session.promptIDs(for: "sort: 6 5 9 2 8"), sortTurn)
    }

    func testATokenizerWithoutTheTemplateTokensIsRefused() throws {
        let directory = try CheckpointFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: FixturePaths.model.appendingPathComponent("tokenizer.json"))) as! [String: Any]
        json["added_tokens"] = (json["added_tokens"] as! [[String: Any]]).filter { $0["content"] as? String != "<|eot_id|>" }
        try JSONSerialization.data(withJSONObject: json).write(to: directory.appendingPathComponent("tokenizer.json"))
        XCTAssertThrowsError(try ChatSession(tokenizer: try Tokenizer(directory: directory), endOfTextID: 481)) { error in
            XCTAssertTrue("\(error)".contains("<|eot_id|>"), "\(error)")
        }
    }

    /// The model's own <|endoftext|> is what a session removes.
    func testSessionForTheFixtureModelUsesItsEOS() throws {
        let model = try LLaDAModel.load(path: FixturePaths.model.path, compute: ComputeContext(threads: 1))
        let session = try ChatSession(model: model)
        XCTAssertEqual(session.endOfTextID, 481)
        XCTAssertEqual(session.promptIDs(for: "reverse: abcd"), try model.promptIDs(for: "reverse: abcd", raw: false))
    }
}

/// chat.py and generate.py encode with `tokenizer(prompt)` (add_special_tokens=True): a tokenizer
/// whose post-processor adds ids gets them in every prompt, and a later chat turn drops the first
/// id of its own encoding, whatever it is, as `input_ids[:, 1:]` does.
final class PostProcessorPromptTests: XCTestCase {
    func testPromptsCarryThePostProcessorsIDs() throws {
        let directory = FixturePaths.root.appendingPathComponent("tokenizer-components")
        let tokenizer = try Tokenizer(tokenizerJSON: Data(contentsOf: directory.appendingPathComponent("template.tokenizer.json")),
                                      tokenizerConfigJSON: Data(contentsOf: FixturePaths.model.appendingPathComponent("tokenizer_config.json")))
        XCTAssertEqual(tokenizer.postProcessorPrefixIDs, [480])
        XCTAssertEqual(tokenizer.postProcessorSuffixIDs, [481])
        let rendered = ChatTemplate(bosToken: "<|startoftext|>").render([ChatMessage(role: "user", content: "reverse: abcd")])
        let expected = [480] + tokenizer.encode(rendered) + [481]
        XCTAssertEqual(try GenerationPrompt.user("reverse: abcd").ids(using: tokenizer), expected)
        XCTAssertEqual(try GenerationPrompt.raw("abc").ids(using: tokenizer), [480] + tokenizer.encode("abc") + [481])

        var session = try ChatSession(tokenizer: tokenizer, endOfTextID: 481)
        let first = session.promptIDs(for: "reverse: abcd")
        XCTAssertEqual(first, expected)
        session.record(prompt: first, output: [66, 495, 481, 481])
        let second = session.promptIDs(for: "sort: 3 1")
        let turn = [480] + tokenizer.encode(ChatTemplate(bosToken: "<|startoftext|>").render([ChatMessage(role: "user", content: "sort: 3 1")])) + [481]
        XCTAssertEqual(second, first.filter { $0 != 481 } + [66, 495] + turn.dropFirst())
    }
}
