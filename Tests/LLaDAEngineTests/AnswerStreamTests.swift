import Foundation
import LLaDAEngine
import XCTest

/// Streaming the answer block by block: the pieces join to the answer text, a UTF-8 sequence
/// split between blocks is held back, nothing after the first end token is printed.
final class AnswerStreamTests: XCTestCase {
    let tokenizer = try! Tokenizer(directory: FixturePaths.model)

    func stream() -> AnswerStream { AnswerStream(tokenizer: tokenizer, stopIDs: [481, 495]) }

    func testAMultiByteCharacterSplitAcrossBlocksIsHeldBack() throws {
        // The fixture has no merges for "é" / "€": each is one byte-level token per UTF-8 byte.
        let ids = tokenizer.encode("é€")
        XCTAssertEqual(ids.count, 5)
        var stream = stream()
        XCTAssertEqual(try stream.append([ids[0]]), "")
        XCTAssertEqual(try stream.append([ids[1], ids[2]]), "é")
        XCTAssertEqual(try stream.append([ids[3]]), "")
        XCTAssertEqual(try stream.append([ids[4], 495, 481]), "€")
        XCTAssertTrue(stream.ended)
        XCTAssertEqual(try stream.append([66, 67], final: true), "", "nothing after the end token")
    }

    func testAnIncompleteSequenceAtTheEndIsFlushedLossily() throws {
        let ids = tokenizer.encode("€")
        var stream = stream()
        XCTAssertEqual(try stream.append(Array(ids.prefix(2))), "")
        XCTAssertEqual(try stream.append([], final: true), "\u{FFFD}")
        // An invalid continuation is not held back: it can never become valid.
        var other = self.stream()
        let e = tokenizer.encode("é")
        XCTAssertEqual(try other.append([e[0]] + tokenizer.encode("A")), "\u{FFFD}A")
    }

    /// Every split of a mixed text into blocks streams exactly the decoded answer.
    func testPiecesJoinToTheAnswerForEverySplit() throws {
        let ids = tokenizer.encode("añb€ z\n日本") + [495, 481, 481] + tokenizer.encode("after")
        let end = ids.firstIndex(of: 495)!
        let answer = try tokenizer.decode(Array(ids[..<end]), skipSpecialTokens: true)
        for blockLength in 1...7 {
            var stream = stream()
            var text = ""
            for start in stride(from: 0, to: ids.count, by: blockLength) {
                let block = Array(ids[start..<min(ids.count, start + blockLength)])
                let piece = try stream.append(block, final: start + blockLength >= ids.count)
                XCTAssertFalse(piece.contains("\u{FFFD}"), "block length \(blockLength): no replacement from a split")
                text += piece
            }
            XCTAssertEqual(text, answer, "block length \(blockLength)")
        }
    }

    /// A limit (OpenAI's max_tokens) cuts the answer and decides it: later ids add nothing.
    func testALimitCutsTheAnswerAndDecidesIt() throws {
        let ids = tokenizer.encode("reverse abcd")
        XCTAssertGreaterThan(ids.count, 3)
        var limited = AnswerStream(tokenizer: tokenizer, stopIDs: [481, 495], limit: 3)
        XCTAssertEqual(try limited.append(ids), try tokenizer.decode(Array(ids.prefix(3)), skipSpecialTokens: true))
        XCTAssertTrue(limited.decided)
        XCTAssertTrue(limited.limitReached)
        XCTAssertFalse(limited.ended)
        XCTAssertEqual(limited.tokens, 3)
        XCTAssertEqual(try limited.append(ids), "")
        var unlimited = stream()
        _ = try unlimited.append(ids)
        XCTAssertFalse(unlimited.decided)
    }
}
