import Foundation
import LLaDAEngine
import XCTest

/// Locates and reads the tokenizer fixtures under Tests/Fixtures/tokenizer.
enum TokenizerFixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // LLaDAEngineTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .appendingPathComponent("Tests/Fixtures/tokenizer")

    static func data(_ name: String) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent(name))
    }

    static func json(_ name: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: data(name)) as? [String: Any], "\(name) is not an object")
    }

    /// tokenizer_cases.json. Read with JSONDecoder: Foundation's JSONSerialization on Linux drops a raw
    /// U+FEFF at the start of a string value (the "bom" case).
    struct GoldenCases: Decodable {
        struct Case: Decodable {
            let name: String
            let utf8_hex: String
            let text_nfc: String
            let ids: [Int]
            let tokens: [String]
            let decode_keep_special: String
            let decode_skip_special: String
            let roundtrip_equals_nfc: Bool

            /// The exact input (`text` cannot always carry it through JSON; utf8_hex does).
            var text: String { TokenizerFixtures.string(hex: utf8_hex) }
        }

        let vocab_size_with_added: Int
        let special_token_ids: [String: Int]
        let cases: [Case]
    }

    /// tokenizer_extra_cases.json (strings as UTF-8 hex).
    struct ExtraCases: Decodable {
        struct Case: Decodable {
            let name: String
            let utf8_hex: String?
            let ids: [Int]
            let decode_keep_special_utf8_hex: String
            let decode_skip_special_utf8_hex: String
        }

        let encode_cases: [Case]
        let decode_cases: [Case]
    }

    static func goldenCases() throws -> GoldenCases {
        try JSONDecoder().decode(GoldenCases.self, from: data("tokenizer_cases.json"))
    }

    /// The fixture tokenizer, loaded once for all tests.
    static let tokenizer: Result<Tokenizer, Error> = Result { try Tokenizer(directory: directory) }

    static func loadTokenizer() throws -> Tokenizer {
        try tokenizer.get()
    }

    static func bytes(hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    static func string(hex: String) -> String {
        String(decoding: bytes(hex: hex), as: UTF8.self)
    }

    /// GPT-2's byte -> character table (the byte-level alphabet), to build token ids from raw bytes.
    static func byteSymbol(_ byte: UInt8) -> String {
        let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
        if printable { return String(Unicode.Scalar(byte)) }
        let shiftedRank = (0..<Int(byte)).filter { b in
            !((0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b))
        }.count
        return String(Unicode.Scalar(UInt32(0x100 + shiftedRank))!)
    }
}

/// Compares UTF-8 bytes: Swift's `==` on String uses canonical equivalence, which would hide a
/// normalisation difference.
func XCTAssertSameUTF8(_ actual: String, _ expected: String, _ message: String, file: StaticString = #filePath,
                       line: UInt = #line) {
    XCTAssertEqual(Array(actual.utf8), Array(expected.utf8),
                   "\(message): got \(actual.debugDescription), expected \(expected.debugDescription)",
                   file: file, line: line)
}

final class TokenizerFixtureTests: XCTestCase {
    func testGoldenCasesEncodeAndDecodeLikeHuggingFace() throws {
        let tokenizer = try TokenizerFixtures.loadTokenizer()
        let cases = try TokenizerFixtures.goldenCases().cases
        XCTAssertEqual(cases.count, 76)
        for testCase in cases {
            let ids = tokenizer.encode(testCase.text)
            XCTAssertEqual(ids, testCase.ids, "encode \(testCase.name)")
            XCTAssertEqual(ids.map { tokenizer.token(forID: $0) ?? "<nil>" }.map { Array($0.utf8) },
                           testCase.tokens.map { Array($0.utf8) }, "tokens \(testCase.name)")
            XCTAssertSameUTF8(try tokenizer.decode(testCase.ids, skipSpecialTokens: false),
                              testCase.decode_keep_special, "decode keep \(testCase.name)")
            XCTAssertSameUTF8(try tokenizer.decode(testCase.ids, skipSpecialTokens: true),
                              testCase.decode_skip_special, "decode skip \(testCase.name)")
        }
    }

    func testExtraReferenceCasesFromHuggingFace() throws {
        let tokenizer = try TokenizerFixtures.loadTokenizer()
        let extra = try JSONDecoder().decode(TokenizerFixtures.ExtraCases.self,
                                             from: TokenizerFixtures.data("tokenizer_extra_cases.json"))
        XCTAssertFalse(extra.encode_cases.isEmpty)
        XCTAssertFalse(extra.decode_cases.isEmpty)
        for testCase in extra.encode_cases {
            let text = TokenizerFixtures.string(hex: try XCTUnwrap(testCase.utf8_hex))
            XCTAssertEqual(tokenizer.encode(text), testCase.ids, "encode \(testCase.name)")
        }
        for testCase in extra.encode_cases + extra.decode_cases {
            XCTAssertEqual(Array(try tokenizer.decode(testCase.ids, skipSpecialTokens: false).utf8),
                           TokenizerFixtures.bytes(hex: testCase.decode_keep_special_utf8_hex), "decode keep \(testCase.name)")
            XCTAssertEqual(Array(try tokenizer.decode(testCase.ids, skipSpecialTokens: true).utf8),
                           TokenizerFixtures.bytes(hex: testCase.decode_skip_special_utf8_hex), "decode skip \(testCase.name)")
        }
    }

    func testDecodingAnEncodingGivesTheNFCText() throws {
        let tokenizer = try TokenizerFixtures.loadTokenizer()
        for testCase in try TokenizerFixtures.goldenCases().cases where testCase.roundtrip_equals_nfc {
            XCTAssertSameUTF8(try tokenizer.decode(tokenizer.encode(testCase.text), skipSpecialTokens: false),
                              testCase.text_nfc, "round trip \(testCase.name)")
        }
    }

    func testVocabularyAndSpecialTokens() throws {
        let tokenizer = try TokenizerFixtures.loadTokenizer()
        let golden = try TokenizerFixtures.goldenCases()
        XCTAssertEqual(tokenizer.vocabularySize, golden.vocab_size_with_added)
        XCTAssertEqual(tokenizer.specialTokenIDs, Set(golden.special_token_ids.values))
        for (token, id) in golden.special_token_ids {
            XCTAssertEqual(tokenizer.id(forToken: token), id, token)
            XCTAssertEqual(tokenizer.token(forID: id), token)
        }
        XCTAssertEqual(tokenizer.id(forToken: "\u{120}"), 220)  // "Ġ", the space byte
        XCTAssertEqual(tokenizer.id(forToken: "\u{10A}\u{10A}"), 256)  // "ĊĊ", the first merge
        XCTAssertEqual(tokenizer.token(forID: 0), "!")
        XCTAssertNil(tokenizer.token(forID: tokenizer.vocabularySize))
        XCTAssertNil(tokenizer.token(forID: -1))
        XCTAssertNil(tokenizer.id(forToken: "<|not_a_token|>"))
        // Lookups are byte-exact: "é" as e + U+0301 is not the byte symbol "é".
        XCTAssertNotNil(tokenizer.id(forToken: "\u{E9}"))
        XCTAssertNil(tokenizer.id(forToken: "e\u{301}"))

        XCTAssertEqual(tokenizer.bosToken, "<|startoftext|>")
        XCTAssertEqual(tokenizer.eosToken, "<|endoftext|>")
        XCTAssertEqual(tokenizer.padToken, "<|endoftext|>")
    }

    func testMergesWrittenAsStringsGiveTheSameTokenizer() throws {
        var root = try TokenizerFixtures.json("tokenizer.json")
        var model = try XCTUnwrap(root["model"] as? [String: Any])
        let pairs = try XCTUnwrap(model["merges"] as? [[String]])
        model["merges"] = pairs.map { $0.joined(separator: " ") }
        root["model"] = model
        let tokenizer = try Tokenizer(tokenizerJSON: try JSONSerialization.data(withJSONObject: root),
                                      tokenizerConfigJSON: nil)
        for testCase in try TokenizerFixtures.goldenCases().cases {
            XCTAssertEqual(tokenizer.encode(testCase.text), testCase.ids, testCase.name)
        }
        XCTAssertNil(tokenizer.bosToken)
    }

    func testConcurrentEncodingIsConsistent() throws {
        let tokenizer = try TokenizerFixtures.loadTokenizer()
        let texts = try TokenizerFixtures.goldenCases().cases.map(\.text)
        let expected = texts.map(tokenizer.encode)
        let lock = NSLock()
        nonisolated(unsafe) var mismatches = 0  // guarded by `lock`
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for (text, ids) in zip(texts, expected) where tokenizer.encode(text) != ids {
                lock.withLock { mismatches += 1 }
            }
        }
        XCTAssertEqual(mismatches, 0)
    }
}
