/// LLaDA 2 (`llada2_moe`): block-causal attention with blocks cut from position 0, an exact block
/// cache, and its `generate`'s rules — whole blocks scheduled and run, every masked position above
/// τ committed when at least the schedule's count pass (else the top-k), the plain argmax with an
/// f32 confidence, and the stop at the first settled end token.
public struct LLaDA2Family: ModelFamily {
    public init() {}

    public var attention: AttentionStructure { .blockCausal }

    /// `prefix` is the exact block cache: finished blocks' keys and values never change.
    public var caches: [CacheMode: CacheExactness] { [.none: .exact, .prefix: .exact] }

    public func commitRule(for settings: GenerationSettings) -> any CommitRule {
        ThresholdOrTopKCommitRule(threshold: settings.threshold ?? 0.95)
    }

    public func blockSteps(for settings: GenerationSettings) -> BlockSteps { .untilUnmaskedWithinSchedule }

    public func resolveDefaults(_ settings: inout GenerationSettings, prompt: GenerationPrompt, packed: Bool) {
        if settings.cache == .automatic { settings.cache = .prefix }
        if settings.earlyStop == nil { settings.earlyStop = true }
        if settings.threshold == nil { settings.threshold = 0.95 }
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
