/// A multi-turn conversation. With dense LLaDA's template it is kept as token ids, with the
/// semantics of ML-GSAI/LLaDA `chat.py`:
///
/// - each turn's user message is rendered alone through the chat template (BOS, user header,
///   trimmed content, `<|eot_id|>`, assistant header) and tokenized as `tokenizer(prompt)` does
///   (`add_special_tokens=True`: the post-processor's ids, if it has any, are added);
/// - the first turn's prompt is those ids; a later turn appends them to the history without their
///   first id, the BOS (`torch.cat([prompt, input_ids[:, 1:]])`);
/// - after generating, the history becomes prompt + every generated id with every
///   `<|endoftext|>` removed (`out[out != 126081]`): the padding goes, the answer's `<|eot_id|>`
///   and anything the model wrote after it stay.
///
/// A family whose template renders a whole conversation (LLaDA 2, `ChatHistory.messages`) keeps
/// the messages instead: each turn renders every user message and every answer (its text up to
/// the end of turn, special tokens dropped) as an assistant message, then the new message.
public struct ChatSession: Sendable {
    public let tokenizer: Tokenizer
    /// `<|endoftext|>`, removed from the history after every turn (chat.py hard-codes 126081).
    public let endOfTextID: Int
    private let template: any ChatPromptTemplate
    /// Prompt and answers of the turns so far, as the next turn's prompt starts.
    public private(set) var history: [Int] = []
    /// The conversation as messages (a template that renders whole conversations).
    public private(set) var messages: [ChatMessage] = []
    public private(set) var turns = 0

    public init(tokenizer: Tokenizer, endOfTextID: Int, template: (any ChatPromptTemplate)? = nil) throws {
        self.tokenizer = tokenizer
        self.endOfTextID = endOfTextID
        self.template = try template ?? ChatTemplate(tokenizer: tokenizer)
    }

    /// A session for `model`, whose `<|endoftext|>` is its EOS, with its family's template.
    public init(model: LLaDAModel) throws {
        guard let eos = model.eosID else {
            throw LLaDAError("the model has no end-of-text token (eos_token_id or the tokenizer's eos_token), which chat removes from the history")
        }
        try self.init(tokenizer: model.tokenizer, endOfTextID: eos, template: model.family.chatTemplate(tokenizer: model.tokenizer))
    }

    /// The ids of the next turn's prompt.
    public func promptIDs(for message: String) -> [Int] {
        let user = ChatMessage(role: "user", content: message)
        switch template.history {
        case .tokenIDs:
            let turn = tokenizer.encode(template.render([user], addGenerationPrompt: true), addSpecialTokens: true)
            return turns == 0 ? turn : history + turn.dropFirst()
        case .messages:
            return tokenizer.encode(template.render(messages + [user], addGenerationPrompt: true), addSpecialTokens: true)
        }
    }

    /// The next turn as a request: this message's prompt ids after the history. A chat answer is
    /// an Instruct answer, padded to the end, so early stop is on unless the settings say otherwise.
    public func request(for message: String, settings: GenerationSettings) -> GenerationRequest {
        var settings = settings
        settings.earlyStop = settings.earlyStop ?? true
        return GenerationRequest(prompt: .ids(promptIDs(for: message)), settings: settings)
    }

    /// Records a finished turn: `prompt` as returned by `promptIDs(for:)`, the user's `message`
    /// and every generated id.
    public mutating func record(prompt: [Int], message: String = "", output: [Int]) {
        history = (prompt + output).filter { $0 != endOfTextID }
        if template.history == .messages {
            let endOfTurn = tokenizer.id(forToken: template.endOfTurn)
            let end = output.firstIndex { $0 == endOfTextID || $0 == endOfTurn } ?? output.count
            let answer = (try? tokenizer.decode(Array(output[..<end]), skipSpecialTokens: true)) ?? ""
            messages += [ChatMessage(role: "user", content: message), ChatMessage(role: "assistant", content: answer)]
        }
        turns += 1
    }

    /// Forgets the conversation: the next turn starts with a BOS again.
    public mutating func reset() {
        history = []
        messages = []
        turns = 0
    }
}
