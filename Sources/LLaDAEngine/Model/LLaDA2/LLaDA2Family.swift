/// LLaDA 2 (`llada2_moe`): block-causal attention with blocks cut from position 0, an exact block
/// cache, and its `generate`'s rules — whole blocks scheduled and run, every masked position above
/// τ committed when at least the schedule's count pass (else the top-k), the plain argmax with an
/// f32 confidence, and the stop at the first settled end token.
public struct LLaDA2Family: ModelFamily {
    public init() {}

    public var attention: AttentionStructure { .blockCausal }

    /// The exact block cache: finished blocks' keys and values never change.
    public var caches: [CacheMode: CacheExactness] { [.none: .exact, .block: .exact] }

    public func commitRule(for settings: GenerationSettings) -> any CommitRule {
        ThresholdOrTopKCommitRule(threshold: settings.threshold ?? 0.95)
    }

    public func blockSteps(for settings: GenerationSettings) -> BlockSteps { .untilUnmaskedWithinSchedule }

    /// The reference `generate`'s defaults: threshold 0.95, 32 steps per block, at most
    /// gen_length of them (`min(steps, gen_length // minimal_topk)`); the exact cache; the stop at
    /// the first settled end token, as the goldens and the model card run it. The cache holds f32.
    public func resolveDefaults(_ settings: inout GenerationSettings, prompt: GenerationPrompt, packed: Bool) {
        if settings.cache == .automatic { settings.cache = .block }
        if settings.earlyStop == nil { settings.earlyStop = true }
        if settings.threshold == nil { settings.threshold = 0.95 }
        if settings.steps == nil { settings.stepsPerBlock = min(settings.stepsPerBlock ?? 32, settings.genLength) }
        settings.kvStorage = .f32
    }

    /// Refuses by name what the reference `generate` does not have.
    public func validated(_ settings: GenerationSettings) throws -> GenerationSettings {
        func refuse(_ name: String, _ why: String) -> PlanError { PlanError.invalid(name, "\(setting(name)) \(why)") }
        if let steps = settings.steps {
            throw refuse("steps", "(\(steps)) counts dense LLaDA's steps in total; a LLaDA 2 model takes \(setting("steps_per_block")), the reference's steps")
        }
        let missing = "is not in LLaDA 2's reference generate, so this engine does not run it on a LLaDA 2 model"
        if settings.cfgScale > 0 { throw refuse("cfg_scale", missing) }
        if settings.refresh != .everyBlock { throw refuse("refresh", missing) }
        if settings.remaskCommitted != nil { throw refuse("remask_committed", missing) }
        if settings.remasking != .lowConfidence { throw refuse("remasking", "\(settings.remasking.rawValue) \(missing); it takes low-confidence") }
        if settings.schedule != .linear { throw refuse("schedule", "\(settings.schedule.rawValue) \(missing); it takes linear") }
        if settings.positionTemperature > 0 { throw refuse("position_temperature", missing) }
        if settings.logitsEOSInf { throw refuse("logits_eos_inf", missing) }
        if settings.confidenceEOSEOTInf { throw refuse("confidence_eos_eot_inf", missing) }
        return settings
    }

    /// A hole sees its own block and the blocks before it, never a later one: a canvas whose
    /// fixed text follows a hole in a later block would be filled as if that text were not there.
    public func checkInfill(promptLength: Int, canvas: [Int], maskID: Int, settings: GenerationSettings) throws {
        let length = max(settings.blockLength, 1)
        guard let hole = canvas.firstIndex(of: maskID) else { return }
        let holeBlock = (promptLength + hole) / length
        if let fixed = canvas.indices.first(where: { canvas[$0] != maskID && (promptLength + $0) / length > holeBlock }) {
            throw PlanError.invalid("text", "a LLaDA 2 model is block-causal: a hole sees only its own block (\(setting("block_length")) \(length)) and the ones before it, so the text at token \(fixed) after the hole at token \(hole) would be ignored; put every hole in the last block with the text after it (a larger \(setting("block_length"))), or use a dense LLaDA model")
        }
    }

    public func chatTemplate(tokenizer: Tokenizer) throws -> any ChatPromptTemplate { try LLaDA2ChatTemplate(tokenizer: tokenizer) }

    public var endOfTurnToken: String { LLaDA2ChatTemplate.roleEnd }

    public var settingsNotTaken: [String] {
        ["steps (use steps_per_block)", "cache prefix and dual (block is its exact cache)", "cfg_scale", "refresh", "remask_committed", "remasking other than low-confidence",
         "schedule other than linear", "position_temperature", "logits_eos_inf", "confidence_eos_eot_inf", "kv_type (its cache is f32)"]
    }

    /// `generate` runs `ceil((P + gen_length) / B)` whole blocks from position 0.
    public func canvasLength(promptLength: Int, settings: GenerationSettings) -> Int {
        let length = max(settings.blockLength, 1)
        return (promptLength + settings.genLength + length - 1) / length * length - promptLength
    }

    public var schedulesWholeBlocks: Bool { true }

    public func prediction(for settings: GenerationSettings) -> PredictionRule {
        PredictionRule(unrestrictedArgmax: true, confidenceInF64: false)
    }

    public var endRule: EndRule { .firstEndSettled }
}
