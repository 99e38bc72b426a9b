import Foundation
import LLaDAEngine
import LLaDASynthetic
import XCTest

final class SyntheticTokenizerTests: XCTestCase {
    nonisolated(unsafe) static var cachedRealSize: (tokenizer: Tokenizer, loadSeconds: Double)?

    /// The tokenizer at LLaDA-8B's size, built in memory (as llada-synth writes it) and loaded once.
    func realSizeTokenizer() throws -> (tokenizer: Tokenizer, loadSeconds: Double) {
        if let cached = Self.cachedRealSize { return cached }
        let files = SyntheticTokenizerFiles(vocabularySize: 126464)
        let json = Data(files.tokenizerJSON.utf8), config = Data(files.tokenizerConfigJSON.utf8)
        let start = Date()
        let tokenizer = try Tokenizer(tokenizerJSON: json, tokenizerConfigJSON: config)
        Self.cachedRealSize = (tokenizer, Date().timeIntervalSince(start))
        return Self.cachedRealSize!
    }

    func testRealSizeTokenizerHasLLaDAsIdsAndLoadsFast() throws {
        let (tokenizer, seconds) = try realSizeTokenizer()
        XCTAssertEqual(tokenizer.vocabularySize, 126349)
        let expected = ["<|startoftext|>": 126080, "<|endoftext|>": 126081, "<|mdm_mask|>": 126336,
                        "<|start_header_id|>": 126346, "<|end_header_id|>": 126347, "<|eot_id|>": 126348,
                        "<|reserved_token_0|>": 126084, "[CLS]": 126082]
        for (token, id) in expected { XCTAssertEqual(tokenizer.id(forToken: token), id, token) }
        XCTAssertEqual(tokenizer.token(forID: 126339), "<|reserved_token_255|>")
        XCTAssertEqual(tokenizer.specialTokenIDs, Set(126080..<126349))
        XCTAssertEqual(tokenizer.token(forID: 220), "Ġ")
        XCTAssertEqual(tokenizer.bosToken, "<|startoftext|>")
        XCTAssertEqual(tokenizer.eosToken, "<|endoftext|>")
        // Measured ~0.2 s; the bound leaves room for a loaded 2-core machine.
        XCTAssertLessThan(seconds, 1.5)
    }

    func testEncodeDecodeRoundTripsToNFC() throws {
        let (tokenizer, _) = try realSizeTokenizer()
        let texts = ["The quick brown fox jumps over the lazy dog.", "  indented\n\n\tcode();\r\n", "Cafe\u{301} déjà vu 中文 🙂👍🏽",
                     "what's 12 + 30? It'll be 42!!!", "", "reasoning therefore solution"]
        for text in texts {
            let ids = tokenizer.encode(text)
            XCTAssertEqual(try tokenizer.decode(ids, skipSpecialTokens: false), text.precomposedStringWithCanonicalMapping, text)
        }
        // Words of the training list are single tokens, as in a trained vocabulary.
        XCTAssertEqual(tokenizer.encode(" the development of language model").count, 5)
    }

    func testChatTemplateRendersWithTheSpecialIds() throws {
        let directory = try syntheticCheckpoint()
        let model = try LLaDAModel.load(path: directory.path, compute: ComputeContext(threads: 1))
        let vocabulary = SyntheticVocabulary(size: 1024)
        let ids = try model.promptIDs(for: "  hello  ", raw: false)
        let user = model.tokenizer.encode("user"), assistant = model.tokenizer.encode("assistant")
        let newlines = model.tokenizer.encode("\n\n"), hello = model.tokenizer.encode("hello")
        XCTAssertEqual(ids, [vocabulary.startOfText, vocabulary.startHeader] + user + [vocabulary.endHeader] + newlines + hello
                       + [vocabulary.endOfTurn, vocabulary.startHeader] + assistant + [vocabulary.endHeader] + newlines)
        XCTAssertEqual(model.endOfTurnID, vocabulary.endOfTurn)
        XCTAssertEqual(model.eosID, vocabulary.endOfText)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("tokenizer_config.json"))) as! [String: Any]
        let fixture = try JSONSerialization.jsonObject(with: Data(contentsOf: PublishedMetadataTests.root.appendingPathComponent("instruct/tokenizer_config.json"))) as! [String: Any]
        XCTAssertEqual(config["chat_template"] as? String, fixture["chat_template"] as? String)
        XCTAssertEqual(Set(config.keys), Set(fixture.keys))
    }

    func testMergesAreUniqueAndCreateNewTokens() throws {
        let root = try JSONSerialization.jsonObject(with: Data(SyntheticTokenizerFiles(vocabularySize: 4096).tokenizerJSON.utf8)) as! [String: Any]
        let model = root["model"] as! [String: Any]
        let vocab = model["vocab"] as! [String: Int], merges = model["merges"] as! [[String]]
        XCTAssertEqual(vocab.count, 4096 - SyntheticVocabulary.reservedRows)
        XCTAssertEqual(merges.count, vocab.count - 256)
        for (rank, merge) in merges.enumerated() {
            XCTAssertEqual(vocab[merge[0] + merge[1]], 256 + rank, "\(merge)")
            XCTAssertLessThan(vocab[merge[0]]!, 256 + rank)
            XCTAssertLessThan(vocab[merge[1]]!, 256 + rank)
        }
        XCTAssertEqual((root["added_tokens"] as! [[String: Any]]).map { $0["id"] as! Int }, Array(3712..<(3712 + 269)), "LLaDA's 269 added tokens; the last 115 rows have none")
    }
}
