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

    init(_ fields: RequestFields, chatDefaults: GenerationSettings, textDefaults: GenerationSettings, modelID: String) throws {
        if let model = try fields.string("model"), model != modelID {
            throw APIError(status: 404, "the model \(model) does not exist; this server serves \(modelID) (GET /v1/models)",
                           param: "model", code: "model_not_found")
        }
        guard let text = try fields.string("text") else {
            throw APIError.badRequest("text is required: the text to fill, with [MASK] or [MASK*N] where tokens go", param: "text")
        }
        let answering = try fields.string("prompt")
        let range = 1...CompletionRequest.maxTokensLimit
        do {
            infill = try InfillRequest(text: try InfillText(parsing: text), answering: answering,
                                       padding: try fields.integer("padding", in: InfillRequest.paddingRange),
                                       blockLength: try fields.integer("block_length", in: range), steps: try fields.integer("steps", in: range))
        } catch let error as LLaDAError {
            throw Self.refusal(error)
        }
        var settings = answering == nil ? textDefaults : chatDefaults
        try SamplingFields.apply(fields, to: &settings)
        base = settings
        stream = try fields.bool("stream") ?? false
        diffusionEvents = try fields.bool("llada_events") ?? false
    }

    /// A sampler refusal as a 400: the canvas's length is the text's (with its holes), not a field.
    static func refusal(_ error: LLaDAError) -> APIError {
        let name = { (setting: String) in setting == "gen_length" ? "the canvas length (text and holes)" : setting }
        return APIError.badRequest(error.message(naming: name), param: error.settingNames.first.map { $0 == "gen_length" ? "text" : $0 })
    }
}
