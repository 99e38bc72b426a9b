import Foundation
@_spi(Testing) import LLaDATokenizer
import XCTest

/// The split pattern and NFC on their own. Expected splits follow Oniguruma's semantics for
/// `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+`
/// (first matching branch wins; `\s` = White_Space) and were cross-checked against `tokenizers`.
final class TokenizerPreTokenizerTests: XCTestCase {
    private func assertSplit(_ text: String, _ expected: [String], file: StaticString = #filePath, line: UInt = #line) {
        let pieces = Tokenizer.preTokenize(text)
        XCTAssertEqual(pieces.map { Array($0.utf8) }, expected.map { Array($0.utf8) },
                       "split of \(text.debugDescription): \(pieces)", file: file, line: line)
    }

    func testWordsPunctuationAndNumbers() {
        assertSplit("Hello, World!", ["Hello", ",", " World", "!"])
        assertSplit("123abc", ["1", "2", "3", "abc"])  // \p{N} takes one character at a time
        assertSplit("x\u{B2}", ["x", "\u{B2}"])  // superscript two is No, a number
        assertSplit("\u{1F680}!", ["\u{1F680}!"])  // emoji and punctuation are one "other" run
        assertSplit(";\n\nx", [";\n\n", "x"])  // an "other" run takes the line breaks after it
        assertSplit("", [])
    }

    func testContractions() {
        assertSplit("don't I'll WE'RE they've", ["don", "'t", " I", "'ll", " WE", "'RE", " they", "'ve"])
        assertSplit("'S'D'M'T'Ll'vE'Re", ["'S", "'D", "'M", "'T", "'Ll", "'vE", "'Re"])
        // Oniguruma's case folding maps U+017F LONG S to "s" (as a letter it would join the "t").
        assertSplit("it'\u{17F}t", ["it", "'\u{17F}", "t"])
        // Not contractions: the apostrophe is then an optional prefix of letters or an "other" run.
        assertSplit("'x", ["'x"])
        assertSplit("''s", ["''", "s"])
        assertSplit(" 'sx", [" '", "sx"])
        assertSplit("x '", ["x", " '"])
        assertSplit("1'2", ["1", "'", "2"])
        assertSplit("' ", ["'", " "])
    }

    func testWhitespaceBacktracking() {
        // \s+(?!\S) gives back the last space so that it can prefix the next word.
        assertSplit("  a", [" ", " a"])
        assertSplit(" a", [" a"])
        assertSplit("a  ", ["a", "  "])  // at the end the whole run matches
        assertSplit("  ", ["  "])
        assertSplit("trailing   ", ["trailing", "   "])
        // \s*[\r\n] ends after the last line break of the run.
        assertSplit("a  \n  b", ["a", "  \n", " ", " b"])
        assertSplit("a \t\n\r\n \tb", ["a", " \t\n\r\n", " ", "\tb"])
        assertSplit("\t\t\n\t", ["\t\t\n", "\t"])
        assertSplit("  !!\n\nx", [" ", " !!\n\n", "x"])
        assertSplit("\r\n", ["\r\n"])
        assertSplit(" \n", [" \n"])
        assertSplit("a\rb", ["a", "\r", "b"])
    }

    func testUnicodeWhitespaceAndLetters() {
        // White_Space includes NBSP, U+3000 and NEL; ZWSP and BOM are not spaces (nor letters).
        assertSplit("x\u{A0}\u{A0}y", ["x", "\u{A0}", "\u{A0}y"])
        assertSplit("\u{3000}\u{3000}a", ["\u{3000}", "\u{3000}a"])
        assertSplit("a\u{85}\u{85}b", ["a", "\u{85}", "\u{85}b"])
        assertSplit("a\u{200B}b", ["a", "\u{200B}b"])
        assertSplit("\u{FEFF}BOM", ["\u{FEFF}BOM"])
        // U+329E9 (CJK Extension J, Unicode 17.0) is unassigned for tokenizers' Oniguruma (Unicode 16.0).
        assertSplit("x\u{329E9}", ["x", "\u{329E9}"])
        assertSplit("\u{4F60}\u{597D}\u{FF0C}\u{4E16}\u{754C}", ["\u{4F60}\u{597D}", "\u{FF0C}\u{4E16}\u{754C}"])
    }

    func testNFCMatchesTheFixture() throws {
        for testCase in try TokenizerFixtures.goldenCases().cases {
            XCTAssertSameUTF8(Tokenizer.normalizeNFC(testCase.text), testCase.text_nfc, "NFC of \(testCase.name)")
        }
    }

    func testNFCEdgeCases() {
        XCTAssertSameUTF8(Tokenizer.normalizeNFC("cafe\u{301}"), "caf\u{E9}", "compose")
        // Horn (class 216) sorts before dot below (220); u + horn composes, then the dot joins it.
        XCTAssertSameUTF8(Tokenizer.normalizeNFC("u\u{323}\u{31B}"), "\u{1EF1}", "reorder, then compose both marks")
        // Cedilla sorts first and composes; no precomposed character has the acute as well.
        XCTAssertSameUTF8(Tokenizer.normalizeNFC("e\u{301}\u{327}"), "\u{229}\u{301}", "partial composition")
        XCTAssertSameUTF8(Tokenizer.normalizeNFC("\u{1100}\u{1161}\u{11A8}"), "\u{AC01}", "Hangul L V T")
        XCTAssertSameUTF8(Tokenizer.normalizeNFC("\u{212B}\u{2126}"), "\u{C5}\u{3A9}", "singletons")
        XCTAssertSameUTF8(Tokenizer.normalizeNFC("\u{958}"), "\u{915}\u{93C}", "composition exclusion")
        // U+0F73 decomposes to two marks that must be sorted with their neighbours (Foundation and
        // the standard library both get this wrong).
        XCTAssertSameUTF8(Tokenizer.normalizeNFC("_\u{31B}\u{F73}"), "_\u{F71}\u{F72}\u{31B}", "Tibetan reorder")
        // tokenizers uses Unicode 9.0 data: U+1DF6 (Unicode 10.0) is a starter to it, so U+0334 stays.
        XCTAssertSameUTF8(Tokenizer.normalizeNFC("a\u{1DF6}\u{334}"), "a\u{1DF6}\u{334}", "post-9.0 mark")
        XCTAssertSameUTF8(Tokenizer.normalizeNFC("a\u{301}\u{334}"), "\u{E1}\u{334}", "pre-9.0 marks reorder")
        let ascii = String(repeating: "plain ASCII text ", count: 100)
        XCTAssertSameUTF8(Tokenizer.normalizeNFC(ascii), ascii, "ASCII is untouched")
    }

    func testSpecialTokensAreMatchedBeforeNormalization() throws {
        let tokenizer = try TokenizerFixtures.loadTokenizer()
        let eot = try XCTUnwrap(tokenizer.id(forToken: "<|eot_id|>"))
        // The combining mark after the special token must not compose with its ">".
        let ids = tokenizer.encode("<|eot_id|>\u{301}")
        XCTAssertEqual(ids.first, eot)
        XCTAssertSameUTF8(try tokenizer.decode(Array(ids.dropFirst()), skipSpecialTokens: false), "\u{301}", "rest")
        // Longest match first: "<|endoftext|>" also starts with "<|end".
        XCTAssertEqual(tokenizer.encode("<|endoftext|><|end_header_id|>"),
                       [try XCTUnwrap(tokenizer.id(forToken: "<|endoftext|>")),
                        try XCTUnwrap(tokenizer.id(forToken: "<|end_header_id|>"))])
    }
}
