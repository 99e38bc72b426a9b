/// How confidence is assigned to the positions that could be committed at a step
/// (the reference calls this the remasking strategy: the least confident stay masked).
public enum Remasking: String, Sendable, CaseIterable {
    /// Probability of the predicted token (the reference default, `low_confidence`).
    case lowConfidence = "low-confidence"
    /// Top-1 minus top-2 probability.
    case margin
    /// Negative entropy of the predicted distribution.
    case entropy
    /// A uniform random number per position (seeded).
    case random
}

/// Error correction: committed tokens of the current block whose probability under the current
/// prediction fell below `threshold` are masked again (lowest first, at most `perStep` per step
/// and `budgetPerBlock` per block, never at a block's last step), so generation always ends.
public struct CommittedRemasking: Sendable, Equatable {
    public var threshold = 0.3
    public var perStep = 1
    public var budgetPerBlock = 4

    public init(threshold: Double = 0.3, perStep: Int = 1, budgetPerBlock: Int = 4) {
        self.threshold = threshold
        self.perStep = perStep
        self.budgetPerBlock = budgetPerBlock
    }
}

/// The sampler's parameters, with generate.py's names and defaults as the CLI uses them.
public struct GenerationSettings: Sendable, Equatable {
    public var genLength = 128
    /// Refinement steps in all, divided evenly among the blocks (generate.py's `steps`, dense
    /// LLaDA only). nil: from `stepsPerBlock`, else the family's default (dense: 128).
    public var steps: Int?
    /// Refinement steps per block (LLaDA 2's `generate` calls this `steps`); dense LLaDA runs
    /// this × blocks in all. nil: from `steps`, else the family's default (LLaDA 2: 32).
    public var stepsPerBlock: Int?
    public var blockLength = 32
    public var temperature = 0.0
    public var cfgScale = 0.0
    public var remasking = Remasking.lowConfidence
    public var seed: UInt64 = 0
    /// generate.py's `logits_eos_inf`: EOS can never be predicted.
    public var logitsEOSInf = false
    /// generate.py's `confidence_eos_eot_inf`, with the effect HEAD's chained assignment really has:
    /// the end-of-turn logit is set to −inf *after* the token choice, so a predicted end-of-turn
    /// gets confidence 0 and the other tokens' confidences are renormalised without it.
    public var confidenceEOSEOTInf = false
    /// Key/value reuse between the steps of a block (`automatic`: the model's default).
    public var cache = CacheMode.automatic
    /// With the dual cache: which block starts run a full pass (the others a partial one).
    public var refresh = CacheRefresh.everyBlock
    /// Parallel decoding (Fast-dLLM): commit every masked position of the block whose confidence
    /// reaches this (the most confident one always); a block ends when it has no masks left.
    public var threshold: Double?
    /// Once a completed block ends in end-of-text padding, fill the rest of the canvas with it
    /// and stop (Instruct models pad every answer that way). nil: the engine decides, on for
    /// prompts through the chat template and chat sessions, off for raw text and ids.
    public var earlyStop: Bool?
    /// Element type of the cached keys/values.
    public var kvStorage = KVCache.Storage.f16
    /// The unmask schedule within a block.
    public var schedule = TransferSchedule.linear
    /// Token sampling filters, applied when temperature > 0.
    public var topK: Int?
    public var topP: Double?
    /// Position temperature: choose the positions to commit by Gumbel-top-k over the
    /// confidences (keys confidence/τ + Gumbel noise) instead of plain top-k. 0 = off.
    public var positionTemperature = 0.0
    /// Taking committed tokens back; nil = never (the reference).
    public var remaskCommitted: CommittedRemasking?

    public init() {}

    /// The exact generate.py loop: fixed steps per block, f32 softmax confidence. Every other
    /// mode follows Fast-dLLM's loop (a block runs until it has no masks; f64 confidence).
    public var isReferenceLoop: Bool { !usesCache && threshold == nil }

    /// Whether key/values are cached (an unplanned `automatic` runs without, as the reference).
    var usesCache: Bool { cache != .automatic && cache != .none }


    /// Blocks of a dense generation (gen_length / block_length).
    public var blockCount: Int { genLength / max(blockLength, 1) }
    /// The steps a block's schedule spreads its tokens over: as planned, or for settings that
    /// did not go through a plan (tests driving the sampler) from `steps`.
    var scheduleSteps: Int { stepsPerBlock ?? max(1, (steps ?? 128) / max(blockCount, 1)) }

    /// The settings checked against each other and the reference's assertions, without a model
    /// (the prompt and the model's limits are the plan's: `ModelFile.plan`, `LLaDAModel.plan`).
    /// Throws `PlanError.invalid` naming the setting at fault.
    public func validated() throws -> GenerationSettings {
        guard genLength > 0 else { throw PlanError.invalid("gen_length", "\(setting("gen_length")) must be at least 1 (got \(genLength))") }
        guard blockLength > 0 else { throw PlanError.invalid("block_length", "\(setting("block_length")) must be at least 1 (got \(blockLength))") }
        if let steps, steps < 1 { throw PlanError.invalid("steps", "\(setting("steps")) must be at least 1 (got \(steps))") }
        if let stepsPerBlock, stepsPerBlock < 1 {
            throw PlanError.invalid("steps_per_block", "\(setting("steps_per_block")) must be at least 1 (got \(stepsPerBlock))")
        }
        guard temperature >= 0, temperature.isFinite else {
            throw PlanError.invalid("temperature", "\(setting("temperature")) must be a finite number ≥ 0 (got \(temperature))")
        }
        guard cfgScale >= 0, cfgScale.isFinite else {
            throw PlanError.invalid("cfg_scale", "\(setting("cfg_scale")) must be a finite number ≥ 0 (got \(cfgScale))")
        }
        if let topK, topK < 1 { throw PlanError.invalid("top_k", "\(setting("top_k")) must be at least 1 (got \(topK))") }
        if let topP, !(topP > 0 && topP <= 1) { throw PlanError.invalid("top_p", "\(setting("top_p")) must be in (0, 1] (got \(topP))") }
        guard positionTemperature >= 0, positionTemperature.isFinite else {
            throw PlanError.invalid("position_temperature", "\(setting("position_temperature")) must be a finite number ≥ 0 (got \(positionTemperature))")
        }
        if let remask = remaskCommitted {
            guard remask.threshold > 0 && remask.threshold <= 1 else {
                throw PlanError.invalid("remask_threshold", "\(setting("remask_threshold")) must be in (0, 1] (got \(remask.threshold))")
            }
            guard remask.perStep >= 1 else { throw PlanError.invalid("remask_max", "\(setting("remask_max")) must be at least 1 (got \(remask.perStep))") }
            // Every remask can cost a step, so the budget bounds the extra steps of a block.
            guard remask.budgetPerBlock >= 0, remask.budgetPerBlock <= blockLength else {
                throw PlanError.invalid("remask_budget", "\(setting("remask_budget")) must be between 0 and \(setting("block_length")) \(blockLength) (got \(remask.budgetPerBlock))")
            }
        }
        if let threshold, !(threshold > 0 && threshold <= 1) {
            throw PlanError.invalid("threshold", "\(setting("threshold")) must be in (0, 1] (got \(threshold))")
        }
        return self
    }
}
