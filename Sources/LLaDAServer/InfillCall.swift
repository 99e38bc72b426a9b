import LLaDAEngine

/// A `/v1/infill` body in the engine's terms: `text` with `[MASK]` / `[MASK*N]` holes, `prompt`
/// (the message the text answers, through the chat template) and `padding` as `llada infill`
/// takes them; `block_length` / `steps` default to the whole canvas / the number of holes;
/// every `SamplingFields` setting as in completions.
struct InfillCall: Sendable {
    let infill: InfillRequest
    let base: GenerationSettings
    let stream: Bool
    let diffusionEvents: Bool

    init(_ fields: RequestFields, defaults: GenerationSettings, modelID: String) throws {
        try fields.requireModel(modelID)
        guard let text = try fields.string("text") else {
            throw APIError.badRequest("text is required: the text to fill, with [MASK] or [MASK*N] where tokens go", param: "text")
        }
        let answering = try fields.string("prompt")
        let range = 1...CompletionRequest.maxTokensLimit
        do {
            infill = try InfillRequest(text: try InfillText(parsing: text), answering: answering,
                                       padding: try fields.integer("padding", in: InfillRequest.paddingRange),
                                       blockLength: try fields.integer("block_length", in: range), steps: try fields.integer("steps", in: range))
        } catch let error as PlanError {
            throw Self.refusal(error)
        }
        base = try SamplingFields.decode(fields, over: defaults, naming: Self.field)
        stream = try fields.bool("stream") ?? false
        diffusionEvents = try fields.bool("llada_events") ?? false
    }

    /// The engine's setting names as this endpoint's fields: the canvas's length is the text's
    /// (with its holes), not a field.
    static func field(_ setting: String) -> String { setting == "gen_length" ? "the canvas length (text and holes)" : setting }

    /// A plan refusal as this endpoint answers it.
    static func refusal(_ error: PlanError) -> APIError {
        let refusal = PlanRefusal.apiError(error, naming: field, promptField: "text") { prompt, generation, limit in
            "the prompt (\(prompt) tokens) + the text with its holes (\(generation) tokens) exceed the model's max_sequence_length \(limit); shorten the text or the prompt"
        }
        guard refusal.param == field("gen_length") else { return refusal }
        return APIError(status: refusal.status, refusal.message, param: "text", code: refusal.code)
    }
}
