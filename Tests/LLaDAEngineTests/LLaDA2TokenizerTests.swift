import Foundation
import LLaDAEngine
import XCTest

/// The LLaDA 2 fixture's tokenizer through our tokenizer (39 encode / decode cases of the
/// original `tokenizers`), and its chat template against Jinja2's renderings (text and ids).
final class LLaDA2TokenizerTests: XCTestCase {
    func cases() throws -> [String: Any] {
        let data = try Data(contentsOf: LLaDA2NetworkTests.golden.appendingPathComponent("tokenizer_cases.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func testEncodeAndDecodeMatchTheReference() throws {
        let tokenizer = try Tokenizer(directory: LLaDA2NetworkTests.model)
        let all = try cases()
        for (token, id) in try XCTUnwrap(all["special_tokens"] as? [String: Int]) {
            XCTAssertEqual(tokenizer.id(forToken: token), id, token)
        }
        let entries = try XCTUnwrap(all["cases"] as? [[String: Any]])
        XCTAssertEqual(entries.count, 39)
        for entry in entries {
            let text = entry["text"] as! String, ids = entry["ids"] as! [Int]
            XCTAssertEqual(tokenizer.encode(text, addSpecialTokens: false), ids, text.debugDescription)
            XCTAssertEqual(try tokenizer.decode(ids, skipSpecialTokens: false), entry["decode_keep_special"] as? String, text.debugDescription)
            XCTAssertEqual(try tokenizer.decode(ids, skipSpecialTokens: true), entry["decode_skip_special"] as? String, text.debugDescription)
        }
    }

    func testTheChatTemplateRendersAsJinja2() throws {
        let tokenizer = try Tokenizer(directory: LLaDA2NetworkTests.model)
        let template = try LLaDA2ChatTemplate(tokenizer: tokenizer)
        let entries = try XCTUnwrap(try cases()["chat_template_cases"] as? [[String: Any]])
        XCTAssertEqual(entries.count, 8)
        for entry in entries {
            let messages = (entry["messages"] as! [[String: String]]).map { ChatMessage(role: $0["role"]!, content: $0["content"]!) }
            let text = template.render(messages, addGenerationPrompt: entry["add_generation_prompt"] as! Bool)
            XCTAssertEqual(text, entry["text"] as? String, "\(entry["name"]!)")
            XCTAssertEqual(tokenizer.encode(text, addSpecialTokens: false), entry["ids"] as? [Int], "\(entry["name"]!)")
        }
    }

    /// The dense tokenizer lacks the role tokens: refused by name, with what to do.
    func testATokenizerWithoutTheRoleTokensIsRefused() throws {
        let dense = try Tokenizer(directory: FixturePaths.model)
        XCTAssertThrowsError(try LLaDA2ChatTemplate(tokenizer: dense)) { error in
            let message = (error as? LLaDAError)?.message(naming: { "--" + $0 }) ?? ""
            XCTAssertTrue(message.contains("no <role> token") && message.contains("--raw"), message)
        }
    }
}
