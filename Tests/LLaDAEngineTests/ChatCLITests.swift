import Foundation
import LLaDAEngine
import XCTest

/// `llada chat` with piped standard input: answers only on stdout, the history carried between
/// turns as chat.py carries it, commands, and one-line errors that stop a script.
final class ChatCLITests: XCTestCase {
    let modelPath = FixturePaths.model.path
    // A golden setting: the first turn is generate.py's answer.
    let sampling = ["--gen-length", "32", "--steps", "32", "--block-length", "32", "--threads", "1"]

    /// The answers the library gives for these turns, carrying the history with `ChatSession`.
    func expectedAnswers(_ messages: [String], steps: Int = 32, blockLength: Int = 32) throws -> [String] {
        let model = try LLaDAModel.load(path: modelPath, compute: ComputeContext(threads: 1))
        var session = try ChatSession(model: model)
        var settings = GenerationSettings()
        settings.genLength = 32
        settings.steps = steps
        settings.blockLength = blockLength
        settings.earlyStop = true
        return try messages.map { message in
            let prompt = session.promptIDs(for: message)
            let result = try model.generate(promptIDs: prompt, settings: settings)
            session.record(prompt: prompt, output: result.outputIDs)
            return try model.answerText(result.outputIDs)
        }
    }

    func testTwoPipedTurnsPrintTheAnswersAlone() throws {
        let messages = ["reverse: daczsb", "sort: 6 5 9 2 8"]
        let run = try CLIRunner.run(["chat", "--model", modelPath] + sampling, stdin: messages.joined(separator: "\n") + "\n")
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stderr, "", "no banner or prompts when stdin is not a terminal")
        let expected = try expectedAnswers(messages)
        XCTAssertEqual(expected[0], "bszcad", "the first turn is generate.py's answer (generate.json)")
        XCTAssertEqual(run.stdout, expected.map { $0 + "\n" }.joined())
    }

    func testSettingsResetAndQuit() throws {
        let input = "reverse: daczsb\n/reset\n/settings steps=16 block-length=8\nsort: 6 5 9 2 8\n/quit\nadd 47 and 25\n"
        let run = try CLIRunner.run(["chat", "--model", modelPath] + sampling, stdin: input)
        XCTAssertEqual(run.status, 0, run.stderr)
        // After /reset the second message starts a new conversation, with the new settings.
        let first = try expectedAnswers(["reverse: daczsb"])[0]
        let second = try expectedAnswers(["sort: 6 5 9 2 8"], steps: 16, blockLength: 8)[0]
        XCTAssertEqual(run.stdout, first + "\n" + second + "\n", "nothing after /quit")
        XCTAssertTrue(run.stderr.hasPrefix("gen-length 32 · steps 16 · block-length 8"), run.stderr)
        XCTAssertTrue(run.stderr.hasSuffix("conversation 0 tokens, 0 turns\n"), run.stderr)
    }

    /// A script stops at its first bad line: one error line, non-zero exit, earlier answers kept.
    func testBadLinesStopAPipedChatWithOneError() throws {
        let cases: [(input: String, extra: [String], fragment: String, answers: Int)] = [
            ("reverse: abcd\n/bogus\nsort: 6 5 9 2 8\n", sampling, "unknown command /bogus", 1),
            ("/settings steps=40\n", sampling, "--steps 40 exceeds --gen-length 32", 0),
            ("/settings speed=3\n", sampling, "/settings: unknown name speed", 0),
            // 15 + 232 tokens fit the fixture's 256; the second turn's history does not.
            ("reverse: abcd\nsort: 6 5 9 2 8\n", ["--gen-length", "232", "--block-length", "232", "--steps", "8", "--threads", "1"],
             "exceeds the model's max_sequence_length 256", 1),
        ]
        for (input, extra, fragment, answers) in cases {
            let run = try CLIRunner.run(["chat", "--model", modelPath] + extra, stdin: input)
            XCTAssertEqual(run.status, 1, input)
            XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
            XCTAssertTrue(run.stderr.hasPrefix("error: ") && run.stderr.contains(fragment), run.stderr)
            XCTAssertEqual(run.stdout.filter { $0 == "\n" }.count, answers, input)
        }
    }
}
