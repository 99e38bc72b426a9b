import LLaDAEngine
import Foundation

/// One timed generation with the forward pass profiled, for `llada bench --model`.
public struct GenerationBenchmark: Sendable {
    /// Wall time of the whole generation.
    public var seconds: Double
    /// Forward time of the first model call (the first full pass over prompt + masks; both
    /// passes with CFG).
    public var prefillSeconds: Double
    public var stepSeconds: [Double]
    public var modelCalls: Int
    public var kvCacheBytes: Int
    /// Forward time by region (ForwardProfile); `matmul` includes `lmHead`.
    public var forwardSeconds: Double
    public var matmulSeconds: Double
    public var lmHeadSeconds: Double
    public var attentionSeconds: Double
    /// Each timed step's time and its forward pass split, in order.
    public var steps: [StepSplit]
    /// Tokens the model committed (early stop's padding excluded).
    public var producedTokens = 0

    /// One step: its wall time and the forward pass's regions inside it.
    public struct StepSplit: Sendable {
        public var seconds: Double
        public var forwardSeconds: Double
        public var matmulSeconds: Double
        public var lmHeadSeconds: Double
        public var attentionSeconds: Double
        /// The step's linear-product operations (ForwardProfile.matmulOperations).
        public var operations: Double
        public var otherForwardSeconds: Double { max(0, forwardSeconds - matmulSeconds - attentionSeconds) }
        public var samplerSeconds: Double { max(0, seconds - forwardSeconds) }
        /// Bytes of weights its products read (ForwardProfile.weightBytes).
        public var weightBytes: Double = 0
        /// Distinct routed experts run per MoE layer (nil for a dense model).
        public var expertsPerLayer: Double?
        /// Distinct routed experts of each MoE layer, in layer order (empty for a dense model).
        public var expertsByLayer: [Double] = []

        public init(seconds: Double, forwardSeconds: Double, matmulSeconds: Double, lmHeadSeconds: Double, attentionSeconds: Double,
                    operations: Double = 0) {
            self.seconds = seconds
            self.operations = operations
            self.forwardSeconds = forwardSeconds
            self.matmulSeconds = matmulSeconds
            self.lmHeadSeconds = lmHeadSeconds
            self.attentionSeconds = attentionSeconds
        }
    }

    /// Step time outside the forward pass: token choice, confidences, top-k and commits.
    public var samplerSeconds: Double { max(0, stepSeconds.reduce(0, +) - forwardSeconds) }
    public var otherForwardSeconds: Double { max(0, forwardSeconds - matmulSeconds - attentionSeconds) }

    /// Runs `plan` once with a profile attached to the model's forward pass.
    public static func run(model: LLaDAModel, plan: GenerationPlan) throws -> GenerationBenchmark {
        let profile = ForwardProfile()
        let model = model.profiled(profile)
        var prefillNanoseconds: UInt64?
        var steps: [StepSplit] = []
        // The profile's totals at the previous step event: each step's split is the difference.
        var previous = (total: UInt64(0), matmul: UInt64(0), lmHead: UInt64(0), attention: UInt64(0), operations: UInt64(0),
                        bytes: UInt64(0), experts: UInt64(0), moeLayers: UInt64(0), byLayer: [Int: UInt64]())
        let start = DispatchTime.now().uptimeNanoseconds
        let result = try model.run(plan) { event in
            guard case .step(let step) = event else { return }
            if prefillNanoseconds == nil { prefillNanoseconds = profile.totalNanoseconds }
            let now = (total: profile.totalNanoseconds, matmul: profile.matmulNanoseconds,
                       lmHead: profile.lmHeadNanoseconds, attention: profile.attentionNanoseconds, operations: profile.matmulOperations,
                       bytes: profile.weightBytes, experts: profile.expertsRun, moeLayers: profile.moeLayersRun,
                       byLayer: profile.expertsByLayer)
            var split = StepSplit(seconds: step.seconds, forwardSeconds: Double(now.total - previous.total) / 1e9,
                                  matmulSeconds: Double(now.matmul - previous.matmul) / 1e9,
                                  lmHeadSeconds: Double(now.lmHead - previous.lmHead) / 1e9,
                                  attentionSeconds: Double(now.attention - previous.attention) / 1e9,
                                  operations: Double(now.operations - previous.operations))
            split.weightBytes = Double(now.bytes - previous.bytes)
            let layers = now.moeLayers - previous.moeLayers
            split.expertsPerLayer = layers > 0 ? Double(now.experts - previous.experts) / Double(layers) : nil
            // Per layer, averaged over the step's calls (one per step with the block cache).
            let calls = layers > 0 ? Double(layers) / Double(max(now.byLayer.count, 1)) : 1
            split.expertsByLayer = now.byLayer.keys.sorted().map { Double(now.byLayer[$0]! - (previous.byLayer[$0] ?? 0)) / calls }
            steps.append(split)
            previous = now
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var benchmark = GenerationBenchmark(seconds: seconds, prefillSeconds: Double(prefillNanoseconds ?? 0) / 1e9,
                                   stepSeconds: result.stepSeconds, modelCalls: result.modelCalls, kvCacheBytes: result.cacheBytes,
                                   forwardSeconds: Double(profile.totalNanoseconds) / 1e9,
                                   matmulSeconds: Double(profile.matmulNanoseconds) / 1e9,
                                   lmHeadSeconds: Double(profile.lmHeadNanoseconds) / 1e9,
                                   attentionSeconds: Double(profile.attentionNanoseconds) / 1e9, steps: steps)
        benchmark.producedTokens = result.producedTokens
        return benchmark
    }

    /// A deterministic prompt of `length` ordinary tokens (no special tokens, never the mask id),
    /// spread over the vocabulary so the embedding lookups touch different rows.
    public static func syntheticPrompt(length: Int, tokenizer: Tokenizer, shape: ModelShape) throws -> [Int] {
        let limit = min(tokenizer.vocabularySize, shape.vocabularySize)
        let ordinary = (0..<limit).filter { !tokenizer.specialTokenIDs.contains($0) && $0 != shape.maskID }
        guard !ordinary.isEmpty else { throw LLaDAError("the tokenizer has no ordinary tokens to build a synthetic prompt from; use --prompt") }
        return (0..<length).map { ordinary[($0 * 7919) % ordinary.count] }
    }
}
