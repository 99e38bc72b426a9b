import Foundation
import LLaDAEngine
import XCTest

/// Malformed or unsupported tokenizer files must throw one clear LLaDAError line, never crash.
final class TokenizerLoadingTests: XCTestCase {
    private func fixtureRoot() throws -> [String: Any] {
        try TokenizerFixtures.json("tokenizer.json")
    }

    /// Loads `data` and checks that it fails with a one-line message naming tokenizer.json and
    /// containing `phrase`.
    private func assertRejected(_ data: Data, _ phrase: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Tokenizer(tokenizerJSON: data, tokenizerConfigJSON: nil), file: file, line: line) { error in
            guard let error = error as? LLaDAError else {
                return XCTFail("not an LLaDAError: \(error)", file: file, line: line)
            }
            XCTAssertTrue(error.message.hasPrefix("tokenizer.json: "), error.message, file: file, line: line)
            XCTAssertTrue(error.message.contains(phrase), "\(error.message) lacks \(phrase)", file: file, line: line)
            XCTAssertFalse(error.message.contains("\n"), error.message, file: file, line: line)
        }
    }

    /// The fixture with one change applied.
    private func assertRejected(_ phrase: String, file: StaticString = #filePath, line: UInt = #line,
                                editing edit: (inout [String: Any]) throws -> Void) throws {
        var root = try fixtureRoot()
        try edit(&root)
        assertRejected(try JSONSerialization.data(withJSONObject: root), phrase, file: file, line: line)
    }

    private func editModel(_ root: inout [String: Any], _ edit: (inout [String: Any]) throws -> Void) throws {
        var model = try XCTUnwrap(root["model"] as? [String: Any])
        try edit(&model)
        root["model"] = model
    }

    func testNotJSON() throws {
        assertRejected(Data("not json".utf8), "not a valid tokenizer file")
        assertRejected(Data("[1, 2]".utf8), "expected a JSON object")
        assertRejected(Data(), "not a valid tokenizer file")
        let fixture = try TokenizerFixtures.data("tokenizer.json")
        assertRejected(fixture.prefix(fixture.count / 2), "not a valid tokenizer file")
        assertRejected(Data(#"{"model": "\ud800"}"#.utf8), "lone surrogate")
        assertRejected(Data([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D]), "not valid UTF-8")
        assertRejected(Data(String(repeating: "[", count: 100_000).utf8), "nesting is too deep")
    }

    func testMissingParts() throws {
        try assertRejected("missing \"model\" object") { $0["model"] = nil }
        try assertRejected("missing \"model.vocab\" object") { try self.editModel(&$0) { $0["vocab"] = nil } }
        try assertRejected("missing \"model.merges\" array") { try self.editModel(&$0) { $0["merges"] = nil } }
        try assertRejected("lacks the byte-level symbol \"Ā\" of byte 0") {
            try self.editModel(&$0) { model in
                var vocab = try XCTUnwrap(model["vocab"] as? [String: Int])
                vocab["ZZZ"] = vocab.removeValue(forKey: "\u{100}")
                model["vocab"] = vocab
            }
        }
    }

    func testBadMerges() throws {
        try assertRejected("names \"Ġzzz\", which is not in model.vocab") {
            try self.editModel(&$0) { $0["merges"] = (($0["merges"] as? [[String]]) ?? []) + [["\u{120}zzz", "q"]] }
        }
        try assertRejected("produces \"qz\", which is not in model.vocab") {
            try self.editModel(&$0) { $0["merges"] = (($0["merges"] as? [[String]]) ?? []) + [["q", "z"]] }
        }
        try assertRejected("produces \"qq\", which is not in model.vocab") {
            try self.editModel(&$0) { $0["merges"] = ["q q"] }
        }
        try assertRejected("is not two symbols separated by one space") {
            try self.editModel(&$0) { $0["merges"] = ["e r s"] }
        }
        try assertRejected("is neither a pair of strings nor an \"a b\" string") {
            try self.editModel(&$0) { $0["merges"] = [["e", "r", "s"]] }
        }
    }

    func testBadVocabularyIDs() throws {
        try assertRejected("gives id 65 to both") {
            try self.editModel(&$0) { model in
                var vocab = try XCTUnwrap(model["vocab"] as? [String: Int])
                vocab["a"] = 65  // the id of "b"
                model["vocab"] = vocab
            }
        }
        // Gaps are allowed (tokenizers keeps the ids as given), up to a limit.
        try assertRejected("model.vocab id 4194304 of \"a\" is out of range") {
            try self.editModel(&$0) { model in
                var vocab = try XCTUnwrap(model["vocab"] as? [String: Int])
                vocab["a"] = 4_194_304
                model["vocab"] = vocab
            }
        }
        try assertRejected("model.vocab id -1 of \"a\" is out of range") {
            try self.editModel(&$0) { model in
                var vocab = try XCTUnwrap(model["vocab"] as? [String: Int])
                vocab["a"] = -1
                model["vocab"] = vocab
            }
        }
        try assertRejected("has a string instead of an integer id") {
            try self.editModel(&$0) { model in
                var vocab = try XCTUnwrap(model["vocab"] as? [String: Any])
                vocab["a"] = "64"
                model["vocab"] = vocab
            }
        }
    }

    func testAddedTokenProblems() throws {
        try assertRejected("added token \"<|eot_id|>\" has id 600, but its id must be 495") { root in
            var added = try XCTUnwrap(root["added_tokens"] as? [[String: Any]])
            added[15]["id"] = 600
            root["added_tokens"] = added
        }
        try assertRejected("uses lstrip: true, which is not supported") { root in
            var added = try XCTUnwrap(root["added_tokens"] as? [[String: Any]])
            added[3]["lstrip"] = true
            root["added_tokens"] = added
        }
        try assertRejected("added_tokens lists \"<|endoftext|>\" twice") { root in
            var added = try XCTUnwrap(root["added_tokens"] as? [[String: Any]])
            added.append(added[1].merging(["id": 496]) { $1 })
            root["added_tokens"] = added
        }
    }

    func testUnsupportedPipelines() throws {
        // NFKC, other Split patterns and ByteLevel alone are supported now (TokenizerComponentTests);
        // these are not.
        try assertRejected("unsupported normalizer \"Replace\"") { $0["normalizer"] = ["type": "Replace"] }
        try assertRejected("unsupported Split pattern") { root in
            var preTokenizer = try XCTUnwrap(root["pre_tokenizer"] as? [String: Any])
            var steps = try XCTUnwrap(preTokenizer["pretokenizers"] as? [[String: Any]])
            // Lookbehind, which Swift's Regex lacks.
            steps[0]["pattern"] = ["Regex": #"(?<=\s)\p{L}+"#]
            preTokenizer["pretokenizers"] = steps
            root["pre_tokenizer"] = preTokenizer
        }
        try assertRejected("unsupported pre_tokenizer") { root in
            root["pre_tokenizer"] = ["type": "Metaspace", "replacement": "\u{2581}"]
        }
        try assertRejected("missing pre_tokenizer") { $0["pre_tokenizer"] = NSNull() }
        try assertRejected("unsupported model type \"WordPiece\"") { try self.editModel(&$0) { $0["type"] = "WordPiece" } }
        try assertRejected("unsupported BPE dropout 0.1") { try self.editModel(&$0) { $0["dropout"] = 0.1 } }
        try assertRejected("unsupported BPE continuing_subword_prefix") {
            try self.editModel(&$0) { $0["continuing_subword_prefix"] = "##" }
        }
        try assertRejected("unsupported decoder \"WordPiece\"") { $0["decoder"] = ["type": "WordPiece"] }
        try assertRejected("unsupported truncation setting") { $0["truncation"] = ["max_length": 8] }
    }

    func testDirectoryErrorsNameTheFile() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("tokenizer-loading-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokenizerPath = directory.appendingPathComponent("tokenizer.json").path
        let configPath = directory.appendingPathComponent("tokenizer_config.json").path

        XCTAssertThrowsError(try Tokenizer(directory: directory)) { error in
            let message = (error as? LLaDAError)?.message ?? ""
            XCTAssertTrue(message.contains(tokenizerPath), message)
        }

        // A bad tokenizer.json is reported under its path.
        try Data("{".utf8).write(to: URL(fileURLWithPath: tokenizerPath))
        XCTAssertThrowsError(try Tokenizer(directory: directory)) { error in
            let message = (error as? LLaDAError)?.message ?? ""
            XCTAssertTrue(message.hasPrefix(tokenizerPath + ": "), message)
        }

        // The config is optional; without it the special-token names are nil.
        try TokenizerFixtures.data("tokenizer.json").write(to: URL(fileURLWithPath: tokenizerPath))
        let withoutConfig = try Tokenizer(directory: directory)
        XCTAssertNil(withoutConfig.bosToken)
        XCTAssertEqual(withoutConfig.vocabularySize, 496)

        // Special tokens may be written as {"content": ...} objects.
        try Data(#"{"bos_token": {"content": "<|startoftext|>", "special": true}, "eos_token": "<|endoftext|>", "pad_token": null}"#.utf8)
            .write(to: URL(fileURLWithPath: configPath))
        let withConfig = try Tokenizer(directory: directory)
        XCTAssertEqual(withConfig.bosToken, "<|startoftext|>")
        XCTAssertEqual(withConfig.eosToken, "<|endoftext|>")
        XCTAssertNil(withConfig.padToken)

        try Data("not json".utf8).write(to: URL(fileURLWithPath: configPath))
        XCTAssertThrowsError(try Tokenizer(directory: directory)) { error in
            let message = (error as? LLaDAError)?.message ?? ""
            XCTAssertTrue(message.hasPrefix(configPath + ": "), message)
        }
        try Data(#"{"bos_token": 5}"#.utf8).write(to: URL(fileURLWithPath: configPath))
        XCTAssertThrowsError(try Tokenizer(directory: directory)) { error in
            let message = (error as? LLaDAError)?.message ?? ""
            XCTAssertTrue(message.contains("bos_token must be a string"), message)
        }
    }
}
