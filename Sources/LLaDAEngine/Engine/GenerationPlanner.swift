/// Resolves a request against one model: the only place where settings meet the prompt and the
/// model's limits. `ModelFile.plan` runs it before any weight is loaded, `LLaDAModel.plan` on a
/// loaded model; every frontend plans, then runs the plan.
struct GenerationPlanner: Sendable {
    let shape: ModelShape
    let tokenizer: Tokenizer
    /// What the weights take, for the memory estimate (nil for a model built in memory).
    let footprint: WeightFootprint?
    let family: any ModelFamily

    func plan(_ request: GenerationRequest) throws -> GenerationPlan {
        let settings = try checked(request.settings, for: request.prompt)
        let ids = try promptIDs(for: request.prompt)
        guard !ids.isEmpty else { throw PlanError.emptyPrompt }
        // The sampler runs the family's canvas (LLaDA 2: whole blocks past gen_length), all of
        // which must fit the model's positions.
        let generated = family.canvasLength(promptLength: ids.count, settings: settings)
        let limit = shape.maxSequenceLength
        guard generated < limit, ids.count <= limit, generated <= limit - ids.count else {
            throw PlanError.contextExceeded(prompt: ids.count, generation: generated, limit: limit)
        }
        var canvas = request.canvas ?? Array(repeating: shape.maskID, count: settings.genLength)
        guard canvas.count == settings.genLength else {
            throw PlanError.invalid("gen_length", "the canvas holds \(canvas.count) tokens but \(setting("gen_length")) is \(settings.genLength)")
        }
        if request.canvas != nil { try family.checkInfill(promptLength: ids.count, canvas: canvas, maskID: shape.maskID, settings: settings) }
        canvas += Array(repeating: shape.maskID, count: generated - settings.genLength)
        if let bad = (ids + canvas).first(where: { $0 < 0 || $0 >= shape.vocabularySize }) {
            throw PlanError.tokenOutsideVocabulary(id: bad, vocabularySize: shape.vocabularySize)
        }
        try checkSpecialTokens(for: settings)
        let memory = footprint.map {
            MemoryEstimate(footprint: $0, settings: settings, promptLength: ids.count, generatedLength: generated,
                           pageSize: ProcessMemory.pageSize)
        }
        if let limit = request.answerLimit, limit < 1 {
            throw PlanError.invalid("max_tokens", "\(setting("max_tokens")) must be at least 1 (got \(limit))")
        }
        return GenerationPlan(promptIDs: ids, canvas: canvas, settings: settings, memory: memory, answerLimit: request.answerLimit)
    }

    /// `settings` with the engine's defaults filled in for `prompt`, checked against each other
    /// and against what the family runs (not yet against a prompt's length).
    func checked(_ settings: GenerationSettings, for prompt: GenerationPrompt) throws -> GenerationSettings {
        var settings = settings
        family.resolveDefaults(&settings, prompt: prompt, packed: footprint?.isPacked ?? false)
        settings = try family.validated(settings.validated())
        guard family.caches[settings.cache] != nil else {
            let names = CacheMode.allCases.filter { family.caches[$0] != nil }.map(\.rawValue)
            throw PlanError.invalid("cache", "\(setting("cache")) \(settings.cache.rawValue) is not one this model has; use one of \(names.joined(separator: ", "))")
        }
        return settings
    }

    func promptIDs(for prompt: GenerationPrompt) throws -> [Int] { try prompt.ids(using: tokenizer, family: family) }

    var eosID: Int? {
        shape.eosIsFixed ? shape.eosTokenID : tokenizer.eosToken.flatMap { tokenizer.id(forToken: $0) } ?? shape.eosTokenID
    }
    /// The chat template's end-of-turn token (nil when the tokenizer lacks the template's tokens).
    var endOfTurnID: Int? { tokenizer.id(forToken: family.endOfTurnToken) }

    /// The EOS and end-of-turn ids the options rely on exist, and EOS (which early stop writes
    /// into the canvas) is a token of the model.
    func checkSpecialTokens(for settings: GenerationSettings) throws {
        if settings.logitsEOSInf && eosID == nil {
            throw PlanError.invalid("logits_eos_inf", "\(setting("logits_eos_inf")) needs an end-of-text token, but the tokenizer has no eos_token and config.json no eos_token_id")
        }
        if settings.confidenceEOSEOTInf && endOfTurnID == nil {
            throw PlanError.invalid("confidence_eos_eot_inf", "\(setting("confidence_eos_eot_inf")) needs the tokenizer's \(family.endOfTurnToken) token, which it lacks")
        }
        if settings.earlyStop == true || settings.logitsEOSInf, let eos = eosID, eos < 0 || eos >= shape.vocabularySize {
            throw PlanError.invalid(settings.logitsEOSInf ? "logits_eos_inf" : "early_stop", "the end-of-text token id \(eos) (tokenizer eos_token or config.json eos_token_id) is outside the model's vocabulary (0..<\(shape.vocabularySize)): the tokenizer does not match the model")
        }
    }
}
