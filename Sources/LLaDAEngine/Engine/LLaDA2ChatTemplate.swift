/// LLaDA 2's chat template (the Ling 2.0 template without tools, as its tokenizer_config.json
/// writes it in Jinja), rendered natively:
///
///     <role>SYSTEM</role>{first system message + "\n", if any}detailed thinking off<|role_end|>
///     per message:  user → <role>HUMAN</role>{content}<|role_end|>
///                   assistant → <role>ASSISTANT</role>{content}<|role_end|>
///                   system (not the first message) → <role>SYSTEM</role>{content}<|role_end|>
///                   any other role → nothing
///     <role>ASSISTANT</role>   (with the generation prompt)
///
/// It always emits a system turn; contents are not trimmed. The text is encoded like any text,
/// special tokens recognised (`apply_chat_template` + `add_special_tokens=False`).
public struct LLaDA2ChatTemplate: ChatPromptTemplate {
    static let roleOpen = "<role>", roleClose = "</role>", roleEnd = "<|role_end|>"
    public var endOfTurn: String { Self.roleEnd }
    /// The template renders a whole conversation (one system turn first), so a session renders
    /// it again each turn.
    public var history: ChatHistory { .messages }

    /// Checks that the tokenizer has every special token the template writes.
    public init(tokenizer: Tokenizer) throws {
        for token in [Self.roleOpen, Self.roleClose, Self.roleEnd] where tokenizer.id(forToken: token) == nil {
            throw LLaDAError("the tokenizer has no \(token) token, so the LLaDA 2 chat template cannot be used; pass \(LLaDAError.setting("raw")) to send the prompt as plain text")
        }
    }

    /// The template without a tokenizer check (rendering only).
    public init() {}

    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) -> String {
        func turn(_ role: String, _ content: String) -> String { Self.roleOpen + role + Self.roleClose + content + Self.roleEnd }
        var text = Self.roleOpen + "SYSTEM" + Self.roleClose
        if let first = messages.first, first.role == "system" { text += first.content + "\n" }
        text += "detailed thinking off" + Self.roleEnd
        for (index, message) in messages.enumerated() {
            switch message.role {
            case "user": text += turn("HUMAN", message.content)
            case "assistant": text += turn("ASSISTANT", message.content)
            case "system" where index > 0: text += turn("SYSTEM", message.content)
            default: break
            }
        }
        if addGenerationPrompt { text += Self.roleOpen + "ASSISTANT" + Self.roleClose }
        return text
    }
}
