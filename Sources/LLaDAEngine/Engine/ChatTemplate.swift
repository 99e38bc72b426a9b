import Foundation

/// One turn of a conversation.
public struct ChatMessage: Sendable, Equatable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// A family's chat template, rendered natively (no Jinja).
public protocol ChatPromptTemplate: Sendable {
    func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String
    /// The token that ends a turn (an answer's end besides end-of-text).
    var endOfTurn: String { get }
    /// How a multi-turn session carries its history (`ChatSession`).
    var history: ChatHistory { get }
}

/// How a chat session builds the next turn's prompt.
public enum ChatHistory: Sendable, Equatable {
    /// ML-GSAI/LLaDA `chat.py`: the ids so far (prompt and generated ids, end-of-text removed)
    /// followed by the new message rendered alone, without its BOS.
    case tokenIDs
    /// The whole conversation rendered again: every user message and every answer's text as an
    /// assistant message, as the template defines a conversation.
    case messages
}

/// LLaDA-8B-Instruct's chat template, rendered natively (no Jinja):
///
///     {bos}<|start_header_id|>{role}<|end_header_id|>\n\n{content | trim}<|eot_id|> … 
///     <|start_header_id|>assistant<|end_header_id|>\n\n
///
/// The rendered text is encoded like any text, special tokens recognised, which is what
/// `apply_chat_template` + `tokenizer(..., add_special_tokens=False)` does.
public struct ChatTemplate: ChatPromptTemplate {
    public static let startHeader = "<|start_header_id|>"
    public static let endHeader = "<|end_header_id|>"
    public static let endOfTurn = "<|eot_id|>"

    public let bosToken: String
    public var endOfTurn: String { Self.endOfTurn }
    public var history: ChatHistory { .tokenIDs }

    /// Checks that the tokenizer has every special token the template writes.
    public init(tokenizer: Tokenizer) throws {
        let bos = tokenizer.bosToken ?? "<|startoftext|>"
        for token in [bos, Self.startHeader, Self.endHeader, Self.endOfTurn] where tokenizer.id(forToken: token) == nil {
            throw LLaDAError("the tokenizer has no \(token) token, so the LLaDA chat template cannot be used; pass \(setting("raw")) to send the prompt as plain text")
        }
        bosToken = bos
    }

    /// The template with a given BOS string, for rendering without a tokenizer.
    public init(bosToken: String) {
        self.bosToken = bosToken
    }

    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) -> String {
        var text = ""
        for (index, message) in messages.enumerated() {
            if index == 0 { text += bosToken }
            text += Self.startHeader + message.role + Self.endHeader + "\n\n" + Self.trim(message.content) + Self.endOfTurn
        }
        // The official template always appends the assistant header.
        if addGenerationPrompt { text += Self.startHeader + "assistant" + Self.endHeader + "\n\n" }
        return text
    }

    /// Jinja's `trim` is Python's `str.strip()`: every Unicode whitespace character at both ends.
    static func trim(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isPythonWhitespace($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isPythonWhitespace($0) })!
        return String(scalars[first...last])
    }

    /// Python's str.isspace: bidirectional class WS/B/S or category Zs, plus the ASCII separators.
    static func isPythonWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }
}
