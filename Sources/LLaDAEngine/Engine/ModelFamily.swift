/// What a model family supplies besides its network (`MaskPredictor`): how attention sees the
/// canvas, which caches it has and how exact they are, how a step commits, and the defaults a
/// request leaves to the engine. The sampler, the engine and the frontends talk to a family only
/// through this, so a second family is one new conformance, not an `if` on every road.
public protocol ModelFamily: Sendable {
    /// Bidirectional (dense LLaDA), or block-causal with blocks cut from position 0 (LLaDA 2).
    var attention: AttentionStructure { get }
    /// The cache modes the network supports, and whether each is exact.
    var caches: [CacheMode: CacheExactness] { get }
    /// The rule a step applies to the candidates' confidences.
    func commitRule(for settings: GenerationSettings) -> any CommitRule
    /// How long a block runs.
    func blockSteps(for settings: GenerationSettings) -> BlockSteps
    /// Fills in what the request left to the engine (`cache` automatic, `early_stop` unset).
    func resolveDefaults(_ settings: inout GenerationSettings, prompt: GenerationPrompt, packed: Bool)
    /// Positions after the prompt that the sampler runs: gen_length for dense LLaDA; LLaDA 2 runs
    /// whole blocks, so gen_length rounded up to the end of the block it ends in.
    func canvasLength(promptLength: Int, settings: GenerationSettings) -> Int
    /// True when a block's schedule is computed for a whole block even where the block starts
    /// with the prompt's tail (LLaDA 2); false to schedule the block's own masks (dense LLaDA).
    var schedulesWholeBlocks: Bool { get }
    /// How a step picks each position's token and its confidence.
    func prediction(for settings: GenerationSettings) -> PredictionRule
    /// When an answer that produced its end token stops the generation.
    var endRule: EndRule { get }
    /// The settings checked against what this family runs (after `resolveDefaults`), with what
    /// the check fixes filled in (dense: `stepsPerBlock` from `steps`). Throws `PlanError.invalid`
    /// naming the setting.
    func validated(_ settings: GenerationSettings) throws -> GenerationSettings
    /// Refuses an infill canvas (ids after the prompt, the mask id in the holes) the family's
    /// attention cannot fill as asked.
    func checkInfill(promptLength: Int, canvas: [Int], maskID: Int, settings: GenerationSettings) throws
    /// The family's chat template, checked against `tokenizer`.
    func chatTemplate(tokenizer: Tokenizer) throws -> any ChatPromptTemplate
    /// The token that ends an answer's turn in the chat template.
    var endOfTurnToken: String { get }
    /// Settings (their API names, with the values refused) this family does not run, for
    /// `llada info` and the help.
    var settingsNotTaken: [String] { get }
}

/// How a step turns a row of logits into a token and a confidence.
public struct PredictionRule: Sendable, Equatable {
    /// False: the mask id and the rows past the tokenizer never win the argmax (dense LLaDA, so
    /// a loop that runs until no mask is left always ends). True: the plain argmax over every
    /// row, as LLaDA 2's reference takes it.
    public var unrestrictedArgmax: Bool
    /// The softmax confidence in f64 (Fast-dLLM) or f32 (the references of `generate.py` and LLaDA 2).
    public var confidenceInF64: Bool

    public init(unrestrictedArgmax: Bool, confidenceInF64: Bool) {
        self.unrestrictedArgmax = unrestrictedArgmax
        self.confidenceInF64 = confidenceInF64
    }
}

/// When the end token stops a generation early (with `early_stop`).
public enum EndRule: Sendable, Equatable {
    /// After a block, once the answer so far ends in end tokens only: the rest is filled with the
    /// end token (dense LLaDA's early stop).
    case paddingAfterBlock
    /// LLaDA 2's `generate`: after a step that committed an end token, once no mask is left
    /// before the first end token (with early stop); and after every block whose answer so far
    /// holds an end token (always).
    case firstEndSettled
}

extension ModelFamily {
    public func canvasLength(promptLength: Int, settings: GenerationSettings) -> Int { settings.genLength }
    public var schedulesWholeBlocks: Bool { false }
    public func prediction(for settings: GenerationSettings) -> PredictionRule {
        PredictionRule(unrestrictedArgmax: false, confidenceInF64: blockSteps(for: settings) == .untilUnmasked)
    }
    public var endRule: EndRule { .paddingAfterBlock }

    /// generate.py's assertions (whole blocks, steps divided evenly among them, at least one
    /// token per step) and Fast-dLLM's caches' limits.
    public func validated(_ settings: GenerationSettings) throws -> GenerationSettings {
        var settings = settings
        let steps = settings.steps ?? settings.genLength, genLength = settings.genLength, blockLength = settings.blockLength
        guard genLength % blockLength == 0 else {
            throw PlanError.invalid("gen_length", "\(setting("gen_length")) \(genLength) must be a multiple of \(setting("block_length")) \(blockLength)")
        }
        let blocks = settings.blockCount
        if let perBlock = settings.stepsPerBlock, perBlock * blocks != steps {
            throw PlanError.invalid("steps_per_block", "\(setting("steps_per_block")) \(perBlock) × \(blocks) blocks is not \(setting("steps")) \(steps); give one of them")
        }
        guard steps % blocks == 0 else {
            throw PlanError.invalid("steps", "\(setting("steps")) \(steps) must be a multiple of the number of blocks (\(genLength)/\(blockLength) = \(blocks))")
        }
        guard steps <= genLength else {
            throw PlanError.invalid("steps", "\(setting("steps")) \(steps) exceeds \(setting("gen_length")) \(genLength): a step must commit at least one token")
        }
        settings.steps = steps
        settings.stepsPerBlock = steps / blocks
        if settings.refresh != .everyBlock && settings.cache != .dual && settings.cache != .automatic {
            throw PlanError.invalid("refresh", "\(setting("refresh")) \(settings.refresh) needs \(setting("cache")) dual (it decides when the dual cache is recomputed)")
        }
        if settings.cfgScale > 0 && settings.usesCache {
            throw PlanError.invalid("cfg_scale", "\(setting("cfg_scale")) cannot be combined with \(setting("cache")) \(settings.cache.rawValue) (Fast-dLLM's caches have no guidance); use \(setting("cache")) none")
        }
        return settings
    }

    /// Bidirectional attention fills any hole from both sides.
    public func checkInfill(promptLength: Int, canvas: [Int], maskID: Int, settings: GenerationSettings) throws {}

    public func chatTemplate(tokenizer: Tokenizer) throws -> any ChatPromptTemplate { try ChatTemplate(tokenizer: tokenizer) }

    public var endOfTurnToken: String { ChatTemplate.endOfTurn }

    public var settingsNotTaken: [String] { [] }
}

/// Which positions a position attends to, and so where the sampler cuts blocks.
public enum AttentionStructure: Sendable, Equatable {
    /// Every position sees every other; blocks are cut from the prompt's end.
    case bidirectional
    /// Blocks of the generation's block length cut from position 0; a block sees itself and the
    /// blocks before it, so finished blocks' keys and values never change.
    case blockCausal
}

/// How long a block runs, and how confidence is computed.
public enum BlockSteps: Sendable, Equatable {
    /// Exactly steps/blocks steps with the schedule's count each, f32 softmax confidence: the
    /// reference `generate.py` loop (no cache, no threshold).
    case fixed
    /// Until the block has no masks, only the block's masks after its first step, f64 softmax
    /// confidence: Fast-dLLM's loops.
    case untilUnmasked
    /// The same, but at most the schedule's steps: LLaDA 2's `generate` (a block whose argmax
    /// kept a mask moves on after its steps, as the reference does).
    case untilUnmaskedWithinSchedule
}

public enum CacheExactness: Sendable, Equatable {
    /// Token-identical to running without a cache.
    case exact
    /// Reuses keys/values that the uncached run would recompute (measured, not assumed).
    case approximate
}

extension ModelFamily {
    /// The block ranges (canvas positions) a generation runs, in order: every block holds at
    /// least one generated position.
    public func blocks(promptLength: Int, settings: GenerationSettings) -> [Range<Int>] {
        let end = promptLength + canvasLength(promptLength: promptLength, settings: settings), length = settings.blockLength
        switch attention {
        case .bidirectional:
            return stride(from: promptLength, to: end, by: length).map { $0..<($0 + length) }
        case .blockCausal:
            return stride(from: promptLength / length * length, to: end, by: length).map { $0..<min($0 + length, end) }
        }
    }
}

/// Dense LLaDA (LLaDA-8B Instruct / Base / 1.5): bidirectional attention, Fast-dLLM's
/// approximate prefix and dual caches, top-k commits (plus every position ≥ τ with a threshold).
public struct DenseLLaDAFamily: ModelFamily {
    public init() {}

    public var attention: AttentionStructure { .bidirectional }

    public var caches: [CacheMode: CacheExactness] { [.none: .exact, .prefix: .approximate, .dual: .approximate] }

    public func commitRule(for settings: GenerationSettings) -> any CommitRule { TopKCommitRule(settings: settings) }

    public func blockSteps(for settings: GenerationSettings) -> BlockSteps { settings.isReferenceLoop ? .fixed : .untilUnmasked }

    /// Packed files are the product path: the dual cache measured 4.6× faster than none end to
    /// end on the 1B shape for at most one or two fixture answers (docs/decoding.md). A checkpoint
    /// directory is the f32 reference path and stays exact; guidance needs full passes. Early
    /// stop is for Instruct answers: prompts through the chat template.
    public func resolveDefaults(_ settings: inout GenerationSettings, prompt: GenerationPrompt, packed: Bool) {
        if settings.cache == .automatic { settings.cache = packed && settings.cfgScale == 0 ? .dual : .none }
        if settings.earlyStop == nil { settings.earlyStop = prompt.usesChatTemplate }
        // generate.py's default is one token per step (steps = gen_length = 128).
        if settings.steps == nil { settings.steps = settings.stepsPerBlock.map { $0 * settings.blockCount } ?? settings.genLength }
    }
}

extension GenerationPrompt {
    /// True for prompts the chat template renders (Instruct turns).
    public var usesChatTemplate: Bool {
        switch self {
        case .user, .messages: true
        case .raw, .ids: false
        }
    }
}
