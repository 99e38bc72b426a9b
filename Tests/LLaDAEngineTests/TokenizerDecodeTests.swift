import Foundation
import LLaDAEngine
import XCTest

final class TokenizerDecodeTests: XCTestCase {
    /// Token ids of the byte-level symbols of `bytes` (one token per byte).
    private func ids(ofBytes bytes: [UInt8], in tokenizer: Tokenizer) throws -> [Int] {
        try bytes.map { try XCTUnwrap(tokenizer.id(forToken: TokenizerFixtures.byteSymbol($0))) }
    }

    private func decodeBytes(_ bytes: [UInt8]) throws -> String {
        let tokenizer = try TokenizerFixtures.loadTokenizer()
        return try tokenizer.decode(try ids(ofBytes: bytes, in: tokenizer), skipSpecialTokens: false)
    }

    func testInvalidUTF8IsReplacedLikeRustFromUTF8Lossy() throws {
        // Each maximal prefix of a valid sequence becomes one U+FFFD...
        XCTAssertSameUTF8(try decodeBytes([0xE2, 0x82, 0x41]), "\u{FFFD}A", "truncated 3-byte sequence")
        XCTAssertSameUTF8(try decodeBytes([0x41, 0xF0, 0x9F, 0x98]), "A\u{FFFD}", "truncated at the end")
        // ...while a byte that cannot continue the sequence ends it and is looked at afresh.
        XCTAssertSameUTF8(try decodeBytes([0xF0, 0x80]), "\u{FFFD}\u{FFFD}", "80 cannot follow F0")
        XCTAssertSameUTF8(try decodeBytes([0xED, 0xA0, 0x80]), "\u{FFFD}\u{FFFD}\u{FFFD}", "surrogate")
        XCTAssertSameUTF8(try decodeBytes([0xC0, 0xAF]), "\u{FFFD}\u{FFFD}", "overlong")
        XCTAssertSameUTF8(try decodeBytes([0xF4, 0x90, 0x80, 0x80]), String(repeating: "\u{FFFD}", count: 4),
                          "above U+10FFFF")
        XCTAssertSameUTF8(try decodeBytes([0x80, 0xFF, 0x41]), "\u{FFFD}\u{FFFD}A", "stray bytes")
        XCTAssertSameUTF8(try decodeBytes([0xE2, 0x82, 0xAC, 0xC3, 0xA9]), "\u{20AC}\u{E9}", "valid")
    }

    func testBytesAreJoinedAcrossTokensBeforeConversion() throws {
        let tokenizer = try TokenizerFixtures.loadTokenizer()
        let eos = try XCTUnwrap(tokenizer.id(forToken: "<|endoftext|>"))
        let firstHalf = try ids(ofBytes: [0xC3], in: tokenizer), secondHalf = try ids(ofBytes: [0xA9], in: tokenizer)
        XCTAssertSameUTF8(try tokenizer.decode(firstHalf + secondHalf, skipSpecialTokens: false), "\u{E9}", "split é")
        // A special token in between interrupts the sequence; skipping it joins the halves again.
        XCTAssertSameUTF8(try tokenizer.decode(firstHalf + [eos] + secondHalf, skipSpecialTokens: false),
                          "\u{FFFD}<|endoftext|>\u{FFFD}", "kept special")
        XCTAssertSameUTF8(try tokenizer.decode(firstHalf + [eos] + secondHalf, skipSpecialTokens: true),
                          "\u{E9}", "skipped special")
    }

    func testSkipSpecialTokens() throws {
        let tokenizer = try TokenizerFixtures.loadTokenizer()
        let ids = tokenizer.encode("<|startoftext|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|><|mdm_mask|>")
        XCTAssertSameUTF8(try tokenizer.decode(ids, skipSpecialTokens: true), "user\n\nhi", "skip")
        XCTAssertSameUTF8(try tokenizer.decode(ids, skipSpecialTokens: false),
                          "<|startoftext|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|><|mdm_mask|>", "keep")
        XCTAssertSameUTF8(try tokenizer.decode([], skipSpecialTokens: false), "", "empty")
    }

    func testIDsOutsideTheVocabularyThrow() throws {
        let tokenizer = try TokenizerFixtures.loadTokenizer()
        for badID in [tokenizer.vocabularySize, -1, Int.max] {
            XCTAssertThrowsError(try tokenizer.decode([64, badID], skipSpecialTokens: false)) { error in
                XCTAssertEqual((error as? LLaDAError)?.message,
                               "token id \(badID) is outside the tokenizer's vocabulary (size \(tokenizer.vocabularySize))")
            }
        }
    }

    func testAddedTokenSpelledInByteSymbolsIsByteDecoded() throws {
        // tokenizers' ByteLevel decoder maps every token whose characters are all byte symbols,
        // added tokens included; other added tokens come out as written.
        var root = try TokenizerFixtures.json("tokenizer.json")
        var added = try XCTUnwrap(root["added_tokens"] as? [[String: Any]])
        for (offset, content) in ["\u{120}q\u{120}", "\u{65E5}\u{672C}"].enumerated() {
            added.append(["id": 496 + offset, "content": content, "single_word": false, "lstrip": false,
                          "rstrip": false, "normalized": false, "special": false])
        }
        root["added_tokens"] = added
        let tokenizer = try Tokenizer(tokenizerJSON: try JSONSerialization.data(withJSONObject: root),
                                      tokenizerConfigJSON: nil)
        XCTAssertEqual(tokenizer.vocabularySize, 498)
        XCTAssertEqual(tokenizer.encode("a\u{120}q\u{120}b"), [64, 496, 65])
        XCTAssertSameUTF8(try tokenizer.decode([64, 496, 497, 65], skipSpecialTokens: true),
                          "a q \u{65E5}\u{672C}b", "byte symbols decoded, others verbatim")
    }
}
