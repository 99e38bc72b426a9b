import Foundation
@_spi(Testing) import LLaDATokenizer
import XCTest

/// Components the engine cannot reproduce exactly are refused with one line that names them.
final class TokenizerComponentRefusalTests: XCTestCase {
    /// The fixture with `edit` applied must fail with one line starting "tokenizer.json: " and
    /// containing every phrase.
    private func assertRefused(_ phrases: String..., file: StaticString = #filePath, line: UInt = #line,
                               editing edit: (inout [String: Any]) throws -> Void) throws {
        var root = try TokenizerFixtures.json("tokenizer.json")
        try edit(&root)
        let data = try JSONSerialization.data(withJSONObject: root)
        XCTAssertThrowsError(try Tokenizer(tokenizerJSON: data, tokenizerConfigJSON: nil), file: file, line: line) { error in
            let message = (error as? LLaDAError)?.message ?? "not an LLaDAError: \(error)"
            XCTAssertTrue(message.hasPrefix("tokenizer.json: "), message, file: file, line: line)
            XCTAssertFalse(message.contains("\n"), message, file: file, line: line)
            for phrase in phrases {
                XCTAssertTrue(message.contains(phrase), "\(message) lacks \(phrase)", file: file, line: line)
            }
        }
    }

    private func split(_ pattern: String, behavior: String = "Isolated") -> [String: Any] {
        ["type": "Split", "pattern": ["Regex": pattern], "behavior": behavior, "invert": false]
    }

    private let byteLevel: [String: Any] = ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true,
                                            "use_regex": false]

    private func preTokenizer(_ steps: [String: Any]...) -> [String: Any] {
        ["type": "Sequence", "pretokenizers": steps]
    }

    func testNormalizers() throws {
        try assertRefused("unsupported normalizer \"Replace\"", "supported: NFC, NFD, NFKC, NFKD, Lowercase, none, Sequence") {
            $0["normalizer"] = ["type": "Replace", "pattern": ["String": "a"], "content": "b"]
        }
        try assertRefused("unsupported normalizer \"Strip\"") {
            $0["normalizer"] = ["type": "Sequence", "normalizers": [["type": "NFKC"], ["type": "Strip"]]]
        }
        try assertRefused("unsupported normalizer \"BertNormalizer\"") { $0["normalizer"] = ["type": "BertNormalizer"] }
    }

    func testPreTokenizers() throws {
        try assertRefused("unsupported pre_tokenizer \"Metaspace\"", "supported: Split and ByteLevel") {
            $0["pre_tokenizer"] = ["type": "Metaspace", "replacement": "▁"]
        }
        try assertRefused("unsupported pre_tokenizer \"Digits\"") {
            $0["pre_tokenizer"] = self.preTokenizer(["type": "Digits", "individual_digits": true], self.byteLevel)
        }
        try assertRefused("unsupported pre_tokenizer \"Split\" after ByteLevel") {
            $0["pre_tokenizer"] = self.preTokenizer(self.byteLevel, self.split(#"\s+"#))
        }
        try assertRefused("pre_tokenizer has no ByteLevel step") {
            $0["pre_tokenizer"] = self.preTokenizer(self.split(#"\s+"#))
        }
        try assertRefused("unsupported Split behavior \"Dropped\"") {
            $0["pre_tokenizer"] = self.preTokenizer(self.split(#"\s+"#, behavior: "Dropped"), self.byteLevel)
        }
        try assertRefused("missing pre_tokenizer") { $0["pre_tokenizer"] = NSNull() }
    }

    /// Patterns whose Oniguruma meaning Swift's Regex would not reproduce.
    func testSplitPatterns() throws {
        let refused: [(pattern: String, reason: String)] = [
            (#"(?<=a)b"#, "lookbehind"),
            (#"^\s+"#, "anchor \"^\""),
            (#"\w+$"#, "anchor \"$\""),
            (#"\bword"#, #"escape "\b""#),
            (#"(a)\1"#, #"escape "\1""#),
            (#"(?i:ss)"#, "letters \"ss\""),
            (#"(?i:ß)"#, "non-ASCII character"),
            (#"(?i:\p{L})"#, "case-insensitive group"),
            (#"\p{Han}+"#, #"property \p{Han}"#),
            (#"\p{N}{1,3}+"#, "interval followed by \"+\""),
            (#"(?m:.)"#, "group option \"m\""),
            (#"[[:alpha:]]"#, "POSIX bracket"),
            (#"[a-z&&[^aeiou]]"#, "intersection"),
            (#"(ab"#, "unbalanced \"(\""),
            (#"ab)"#, "unbalanced \")\""),
        ]
        for (pattern, reason) in refused {
            try assertRefused("unsupported Split pattern \(TokenizerDefinitionQuote.quote(pattern))", reason) {
                $0["pre_tokenizer"] = self.preTokenizer(self.split(pattern), self.byteLevel)
            }
        }
        // The same through the SPI, which tests use to compare the regex path.
        XCTAssertThrowsError(try Tokenizer.splitWithRegex("ab", pattern: #"(?<=a)b"#))
    }

    func testDecoders() throws {
        try assertRefused("unsupported decoder \"WordPiece\"", "supported: ByteLevel") { $0["decoder"] = ["type": "WordPiece"] }
        try assertRefused("unsupported decoder \"Fuse\"") {
            $0["decoder"] = ["type": "Sequence", "decoders": [["type": "Fuse"], ["type": "ByteLevel"]]]
        }
        try assertRefused("unsupported decoder \"Strip\" after ByteLevel") {
            $0["decoder"] = ["type": "Sequence", "decoders": [["type": "ByteLevel"], ["type": "Strip", "content": " ", "start": 1, "stop": 0]]]
        }
        try assertRefused("unsupported decoder (none)") { $0["decoder"] = NSNull() }
    }

    func testPostProcessors() throws {
        try assertRefused("unsupported post_processor \"Mystery\"", "supported: TemplateProcessing") {
            $0["post_processor"] = ["type": "Mystery"]
        }
        let sequenceA: [String: Any] = ["Sequence": ["id": "A", "type_id": 0]]
        let sequenceB: [String: Any] = ["Sequence": ["id": "B", "type_id": 0]]
        let bos: [String: Any] = ["SpecialToken": ["id": "<|startoftext|>", "type_id": 0]]
        let specials: [String: Any] = ["<|startoftext|>": ["id": "<|startoftext|>", "ids": [480], "tokens": ["<|startoftext|>"]]]
        try assertRefused("post_processor TemplateProcessing", "Sequence A exactly once") {
            $0["post_processor"] = ["type": "TemplateProcessing", "single": [bos, sequenceB], "pair": [], "special_tokens": specials]
        }
        try assertRefused("post_processor TemplateProcessing", "Sequence A exactly once") {
            $0["post_processor"] = ["type": "TemplateProcessing", "single": [sequenceA, bos, sequenceA], "pair": [], "special_tokens": specials]
        }
        try assertRefused("special token \"<|startoftext|>\" is missing from special_tokens") {
            $0["post_processor"] = ["type": "TemplateProcessing", "single": [bos, sequenceA], "pair": [], "special_tokens": [:]]
        }
        try assertRefused("post_processor adds id 5000, which is not a token") {
            $0["post_processor"] = ["type": "TemplateProcessing", "single": [bos, sequenceA], "pair": [],
                                    "special_tokens": ["<|startoftext|>": ["id": "<|startoftext|>", "ids": [5000], "tokens": ["x"]]]]
        }
        try assertRefused("post_processor RobertaProcessing needs \"cls\"") {
            $0["post_processor"] = ["type": "RobertaProcessing", "sep": ["<|endoftext|>", 481]]
        }
    }

    func testIDLayouts() throws {
        // tokenizers numbers a new added token with the vocabulary's size (480), whatever ids the
        // vocabulary uses: here that is the id of "!" moved there, so two strings would share it.
        try assertRefused("added token \"<|startoftext|>\" gets id 480 from tokenizers", "already gives to \"!\"") { root in
            var model = try XCTUnwrap(root["model"] as? [String: Any])
            var vocab = try XCTUnwrap(model["vocab"] as? [String: Int])
            vocab["!"] = 480
            model["vocab"] = vocab
            root["model"] = model
        }
        try assertRefused("model.vocab id 4194304 of \"a\" is out of range") { root in
            var model = try XCTUnwrap(root["model"] as? [String: Any])
            var vocab = try XCTUnwrap(model["vocab"] as? [String: Int])
            vocab["a"] = 4_194_304
            model["vocab"] = vocab
            root["model"] = model
        }
        // tokenizers ignores the ids written in added_tokens (it only warns): a file whose ids disagree
        // with the ones tokenizers gives is refused rather than silently renumbered.
        try assertRefused("added token \"<|startoftext|>\" has id 126080, but its id must be 480") { root in
            var added = try XCTUnwrap(root["added_tokens"] as? [[String: Any]])
            for index in added.indices { added[index]["id"] = 126_080 + index }
            root["added_tokens"] = added
        }
    }

    /// A vocabulary with a hole loads; the hole decodes to nothing and has no token.
    func testAVocabularyWithAHoleLoads() throws {
        var root = try TokenizerFixtures.json("tokenizer.json")
        var model = try XCTUnwrap(root["model"] as? [String: Any])
        var vocab = try XCTUnwrap(model["vocab"] as? [String: Int])
        vocab["a"] = 100_000  // leaves 64 empty
        model["vocab"] = vocab
        root["model"] = model
        let tokenizer = try Tokenizer(tokenizerJSON: try JSONSerialization.data(withJSONObject: root), tokenizerConfigJSON: nil)
        XCTAssertEqual(tokenizer.vocabularySize, 100_001)
        XCTAssertNil(tokenizer.token(forID: 64))
        XCTAssertEqual(tokenizer.token(forID: 100_000), "a")
        XCTAssertEqual(tokenizer.encode("a"), [100_000])
        XCTAssertEqual(try tokenizer.decode([64, 100_000, 65], skipSpecialTokens: false), "ab")
    }
}

/// The quoting of error messages (Swift string escapes), for building expected phrases.
enum TokenizerDefinitionQuote {
    static func quote(_ string: String) -> String {
        "\"" + string.unicodeScalars.map { $0.escaped(asASCII: false) }.joined() + "\""
    }
}
