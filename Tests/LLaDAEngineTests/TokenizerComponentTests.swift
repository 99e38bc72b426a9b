import Foundation
@_spi(Testing) import LLaDATokenizer
import XCTest

/// Reads Tests/Fixtures/tokenizer-components (made by Scripts/make-tokenizer-cases.py with
/// tokenizers 0.22.2): tokenizer.json variants and what tokenizers encodes and decodes with them.
enum ComponentFixtures {
    static let directory = TokenizerFixtures.directory.deletingLastPathComponent()
        .appendingPathComponent("tokenizer-components")

    /// Every configuration the script writes.
    static let configurations = ["llada", "nfkc", "bytelevel", "bytelevel-prefix", "cl100k", "template", "id-gaps",
                                 "split-behaviors", "llada-prefix", "o200k"]

    struct Texts: Decodable {
        let texts: [String]
    }

    struct Cases: Decodable {
        struct Encode: Decodable {
            let ids: [Int]
            let decode: String
            let decode_skip: String?
        }

        struct Decode: Decodable {
            let ids: [Int]
            let decode: String
            let decode_skip: String?
        }

        let config: String
        let special_prefix: [Int]
        let special_suffix: [Int]
        let encode: [Encode]
        let decode: [Decode]
    }

    struct NormalizerChecks: Decodable {
        struct Check: Decodable {
            let normalizer: String
            let text: String
            let output: String
        }

        let checks: [Check]
    }

    // JSONDecoder, not JSONSerialization: the latter drops a leading U+FEFF of a string on Linux.
    static func decode<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func texts() throws -> [String] { try decode(Texts.self, "texts.json").texts }
    static func cases(_ config: String) throws -> Cases { try decode(Cases.self, config + ".cases.json") }
    static func tokenizerData(_ config: String) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent(config + ".tokenizer.json"))
    }
    static func tokenizer(_ config: String) throws -> Tokenizer {
        try Tokenizer(tokenizerJSON: tokenizerData(config), tokenizerConfigJSON: nil)
    }
}

final class TokenizerComponentTests: XCTestCase {
    /// Every text of every configuration: ids with and without special tokens, and both decodes, are
    /// identical to tokenizers'; so are the decodes of random id lists.
    func testEveryConfigurationMatchesTokenizers() throws {
        let texts = try ComponentFixtures.texts()
        XCTAssertGreaterThanOrEqual(texts.count, 200)
        var report: [String] = []
        for config in ComponentFixtures.configurations {
            let tokenizer = try ComponentFixtures.tokenizer(config)
            let cases = try ComponentFixtures.cases(config)
            XCTAssertEqual(cases.config, config)
            XCTAssertEqual(cases.encode.count, texts.count, config)
            XCTAssertEqual(tokenizer.postProcessorPrefixIDs, cases.special_prefix, config)
            XCTAssertEqual(tokenizer.postProcessorSuffixIDs, cases.special_suffix, config)
            var identical = 0
            for (index, (text, expected)) in zip(texts, cases.encode).enumerated() {
                let plain = tokenizer.encode(text)
                let special = tokenizer.encode(text, addSpecialTokens: true)
                let withSpecial = cases.special_prefix + expected.ids + cases.special_suffix
                let keep = try tokenizer.decode(withSpecial, skipSpecialTokens: false)
                let skip = try tokenizer.decode(withSpecial, skipSpecialTokens: true)
                let same = plain == expected.ids && special == withSpecial
                    && Array(keep.utf8) == Array(expected.decode.utf8)
                    && Array(skip.utf8) == Array((expected.decode_skip ?? expected.decode).utf8)
                if same {
                    identical += 1
                } else {
                    XCTFail("\(config) text \(index) \(text.debugDescription): ids \(plain) vs \(expected.ids), with special \(special), decode \(keep.debugDescription) vs \(expected.decode.debugDescription), skip \(skip.debugDescription) vs \((expected.decode_skip ?? expected.decode).debugDescription)")
                }
            }
            for (index, expected) in cases.decode.enumerated() {
                XCTAssertSameUTF8(try tokenizer.decode(expected.ids, skipSpecialTokens: false), expected.decode,
                                  "\(config) decode \(index) \(expected.ids)")
                XCTAssertSameUTF8(try tokenizer.decode(expected.ids, skipSpecialTokens: true),
                                  expected.decode_skip ?? expected.decode, "\(config) decode skip \(index) \(expected.ids)")
            }
            report.append("\(config) \(identical)/\(texts.count)")
        }
        print("identical to tokenizers 0.22.2: " + report.joined(separator: ", "))
    }

    func testLLaDAsPipelineKeepsTheScannerAndOthersDoNot() throws {
        XCTAssertTrue(try TokenizerFixtures.loadTokenizer().usesLLaDAScanner)
        XCTAssertTrue(try ComponentFixtures.tokenizer("llada").usesLLaDAScanner)
        XCTAssertTrue(try ComponentFixtures.tokenizer("template").usesLLaDAScanner)  // the post-processor is apart
        for config in ["llada-prefix", "cl100k", "bytelevel"] {
            XCTAssertFalse(try ComponentFixtures.tokenizer(config).usesLLaDAScanner, config)
        }
    }

    /// The regex path (Oniguruma pattern translated to Swift's Regex) agrees with the hand-written
    /// scanner on LLaDA's own pattern: possessive quantifiers, (?i:...), \p{L}, \p{N}, \s, (?!\S).
    func testRegexPathAgreesWithTheScannerOnLLaDAsPattern() throws {
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: ComponentFixtures.tokenizerData("llada")) as? [String: Any])
        let steps = try XCTUnwrap((root["pre_tokenizer"] as? [String: Any])?["pretokenizers"] as? [[String: Any]])
        let pattern = try XCTUnwrap((steps[0]["pattern"] as? [String: Any])?["Regex"] as? String)
        var texts = try ComponentFixtures.texts()
        texts += try TokenizerFixtures.goldenCases().cases.map(\.text)
        for text in texts {
            XCTAssertEqual(try Tokenizer.splitWithRegex(text, pattern: pattern), Tokenizer.preTokenize(text),
                           text.debugDescription)
        }
    }

    /// Each normalizer on every character it changes, against tokenizers' output.
    func testNormalizersMatchTokenizersOnEveryCharacterTheyChange() throws {
        let checks = try ComponentFixtures.decode(ComponentFixtures.NormalizerChecks.self, "normalizers.json").checks
        XCTAssertEqual(Set(checks.map(\.normalizer)), ["NFD", "NFKC", "Lowercase"])
        for check in checks {
            let output = try XCTUnwrap(Tokenizer.normalize(check.text, normalizer: check.normalizer))
            let got = output.split(separator: " ", omittingEmptySubsequences: false)
            let expected = check.output.split(separator: " ", omittingEmptySubsequences: false)
            let inputs = check.text.split(separator: " ", omittingEmptySubsequences: false)
            if Array(output.utf8) != Array(check.output.utf8) {
                // Name the first characters that differ (outputs align with inputs at the spaces unless
                // a mapping itself contains a space, as for U+00A8).
                let wrong = zip(inputs, zip(got, expected)).filter { Array($1.0.utf8) != Array($1.1.utf8) }.prefix(5)
                XCTFail("\(check.normalizer): \(wrong.map { "\($0.0.unicodeScalars.map { String($0.value, radix: 16) }) -> \($0.1.0.debugDescription) vs \($0.1.1.debugDescription)" })")
            }
        }
    }

    func testAddSpecialTokensDefaultsToFalseAndFollowsThePostProcessor() throws {
        let template = try ComponentFixtures.tokenizer("template")
        let ids = template.encode("hello")
        XCTAssertEqual(template.encode("hello", addSpecialTokens: false), ids)
        XCTAssertEqual(template.encode("hello", addSpecialTokens: true), [480] + ids + [481])
        XCTAssertEqual(template.postProcessorPrefixIDs, [480])
        XCTAssertEqual(template.postProcessorSuffixIDs, [481])
        // No post-processor: nothing to add.
        let llada = try TokenizerFixtures.loadTokenizer()
        XCTAssertEqual(llada.encode("hello", addSpecialTokens: true), llada.encode("hello"))
        XCTAssertEqual(llada.postProcessorPrefixIDs, [])
        XCTAssertEqual(llada.postProcessorSuffixIDs, [])
    }

    /// One Swift Regex shared by threads gives the same words as on one thread.
    func testConcurrentEncodingThroughTheRegexPath() throws {
        let tokenizer = try ComponentFixtures.tokenizer("cl100k")
        let texts = try ComponentFixtures.texts()
        let expected = texts.map { tokenizer.encode($0) }
        let lock = NSLock()
        nonisolated(unsafe) var mismatches = 0  // guarded by `lock`
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for (text, ids) in zip(texts, expected) where tokenizer.encode(text) != ids {
                lock.withLock { mismatches += 1 }
            }
        }
        XCTAssertEqual(mismatches, 0)
    }

    /// Vocabulary ids with holes and tokens far past them, as LLaDA numbers its special tokens.
    func testIDGapsKeepTheGivenIDs() throws {
        let tokenizer = try ComponentFixtures.tokenizer("id-gaps")
        XCTAssertEqual(tokenizer.vocabularySize, 126096)
        XCTAssertEqual(tokenizer.id(forToken: "<|startoftext|>"), 126080)
        XCTAssertEqual(tokenizer.id(forToken: "<|eot_id|>"), 126095)
        XCTAssertEqual(tokenizer.id(forToken: "<|new_token|>"), 496)  // tokenizers: the vocabulary's size
        XCTAssertEqual(tokenizer.specialTokenIDs, Set(126080...126095))
        for gap in [300, 309, 480, 495, 497, 126069] {
            XCTAssertNil(tokenizer.token(forID: gap), "\(gap)")
            XCTAssertEqual(try tokenizer.decode([gap], skipSpecialTokens: false), "", "\(gap)")
        }
        XCTAssertNotNil(tokenizer.token(forID: 126070))
        XCTAssertEqual(tokenizer.encode("hi", addSpecialTokens: true).first, 126080)
        XCTAssertThrowsError(try tokenizer.decode([126096], skipSpecialTokens: false))
    }
}
