import Foundation

/// A loaded model ready to generate: its shape, tokenizer, family and network. This is the
/// library's entry point; the CLI and the server are thin layers over it. Every generation takes
/// one road: `plan` (the request checked against this model) then `run`; `generate` and
/// `stream` do both.
public final class LLaDAModel: @unchecked Sendable {
    /// What the engine knows of the network besides its weights (limits, special ids, sizes).
    public let shape: ModelShape
    public let tokenizer: Tokenizer
    /// The forward pass: a dense `Transformer` or a `LLaDA2Network`.
    public let network: any ModelNetwork
    public let family: any ModelFamily
    /// The thread pool and kernel level its kernels run on (made at load from a `ComputeContext`).
    public let kernels: KernelContext
    /// Its threads and kernel level.
    public var compute: ComputeContext { ComputeContext(threads: kernels.threads, kernelLevel: kernels.level) }
    /// Seconds spent loading and converting the weights.
    public let loadSeconds: Double
    let planner: GenerationPlanner

    /// A dense LLaDA model from its weights.
    public convenience init(config: LLaDAConfig, tokenizer: Tokenizer, weights: ModelWeights, loadSeconds: Double,
                            footprint: WeightFootprint? = nil, family: any ModelFamily = DenseLLaDAFamily(),
                            kernels: KernelContext = .standard(), options: TransformerOptions = TransformerOptions()) {
        var options = options
        options.kernelLevel = kernels.level
        self.init(shape: ModelShape(config), tokenizer: tokenizer, network: Transformer(weights: weights, options: options),
                  family: family, loadSeconds: loadSeconds, footprint: footprint, kernels: kernels)
    }

    /// Any family's model from its network.
    public init(shape: ModelShape, tokenizer: Tokenizer, network: any ModelNetwork, family: any ModelFamily, loadSeconds: Double,
                footprint: WeightFootprint? = nil, kernels: KernelContext = .standard()) {
        self.shape = shape
        self.tokenizer = tokenizer
        self.network = network
        self.kernels = kernels
        self.family = family
        self.loadSeconds = loadSeconds
        planner = GenerationPlanner(shape: shape, tokenizer: tokenizer, footprint: footprint, family: family)
    }

    private init(_ model: LLaDAModel, network: any ModelNetwork) {
        (shape, tokenizer, family, kernels, loadSeconds, planner) =
            (model.shape, model.tokenizer, model.family, model.kernels, model.loadSeconds, model.planner)
        self.network = network
    }

    /// This model with its forward passes timed into `profile` (benchmarks): the same weights,
    /// tokenizer and plans; this model is not changed, so other generations run unprofiled.
    public func profiled(_ profile: ForwardProfile) -> LLaDAModel {
        LLaDAModel(self, network: network.profiled(profile))
    }

    /// Loads `path`: a packed file written by llada-quantize, or a Hugging Face checkpoint
    /// directory (config.json, safetensors, tokenizer.json) of dense LLaDA or LLaDA 2, whose
    /// weights run in f32. To check
    /// prompt and memory before the weights, open a `ModelFile`, plan, then load from it.
    public static func load(path: String, compute: ComputeContext = ComputeContext(), backend: LinearBackend = .kernels) throws -> LLaDAModel {
        try ModelFile.open(path).load(backend: backend, compute: compute)
    }

    /// The dense network, for tools that reach into dense LLaDA's weights; another family is
    /// refused with one line.
    public func denseTransformer() throws -> Transformer {
        guard let transformer = network as? Transformer else {
            throw LLaDAError("this runs on dense LLaDA models only; the model is \(shape.architecture)")
        }
        return transformer
    }

    public var maskID: Int { shape.maskID }
    public var eosID: Int? { planner.eosID }
    public var endOfTurnID: Int? { planner.endOfTurnID }

    /// Token ids of a prompt (`.user` and `.messages` through the chat template).
    public func promptIDs(for prompt: GenerationPrompt) throws -> [Int] {
        try planner.promptIDs(for: prompt)
    }

    /// Token ids of a prompt: the chat template around `text`, or the text alone when `raw`.
    public func promptIDs(for text: String, raw: Bool) throws -> [Int] {
        try planner.promptIDs(for: raw ? .raw(text) : .user(text))
    }

    /// `settings` with what they leave to the engine (cache, early stop) filled in as a plan for
    /// `prompt` would fill them, for frontends that show the defaults.
    public func resolved(_ settings: GenerationSettings, for prompt: GenerationPrompt) -> GenerationSettings {
        var settings = settings
        family.resolveDefaults(&settings, prompt: prompt, packed: planner.footprint?.isPacked ?? false)
        return settings
    }

    /// `settings` as a plan for `prompt` would resolve and check them (defaults filled in, the
    /// family's rules applied), for a frontend that changes settings between requests (chat's
    /// `/settings`) and wants a bad value refused when it is set. Throws `PlanError`.
    public func checked(_ settings: GenerationSettings, for prompt: GenerationPrompt) throws -> GenerationSettings {
        try planner.checked(settings, for: prompt)
    }

    /// The request checked against this model: prompt ids, canvas, settings with the engine's
    /// defaults filled in, and (for a model loaded from a file) the memory estimate.
    public func plan(_ request: GenerationRequest) throws -> GenerationPlan {
        try planner.plan(request)
    }

    /// Runs a plan on the calling thread. `onEvent` hears every step and finished block (with the
    /// answer text it made certain); setting `stop` ends the run within the current step. The
    /// model may run any number of these at once from different threads: the weights are only
    /// read, and each run has its own canvas, cache and buffers. They share the model's
    /// `KernelContext`: its pool runs one product at a time, so their products interleave.
    public func run(_ plan: GenerationPlan, stop: StopFlag? = nil, onEvent: ((GenerationEvent) -> Void)? = nil) throws -> GenerationResult {
        let start = Date()
        var answer = AnswerStream(model: self, limit: plan.answerLimit)
        var text = ""
        // With an answer limit the run ends once the answer is decided: on the caller's flag
        // (each generation has its own), or on one of its own.
        let flag = plan.answerLimit == nil ? stop : stop ?? StopFlag()
        // Logit rows past the tokenizer (LLaDA pads the vocabulary) can never be decoded.
        let limit = tokenizer.vocabularySize < shape.vocabularySize ? tokenizer.vocabularySize : nil
        let sampler = Sampler(settings: plan.settings, maskID: maskID, eosID: eosID, eotID: endOfTurnID, tokenLimit: limit, family: family)
        let predictor = network.predictor(for: plan.settings)
        var result = sampler.generate(prompt: plan.promptIDs, canvas: plan.canvas, model: predictor, stop: flag) { event in
            guard case .blockDone(let block, _) = event else { onEvent?(event); return }
            let delta = (try? answer.append(block.ids, final: block.isLast)) ?? ""
            text += delta
            onEvent?(.blockDone(block, text: delta))
            if plan.answerLimit != nil && answer.decided { flag?.stop() }
        }
        if !result.stopped && plan.answerLimit == nil { text = try answerText(result.outputIDs) }
        result.text = text
        result.answerTokens = answer.tokens
        result.answerEnd = answer.ended ? .endToken : answer.limitReached ? .limit : .open
        result.stopped = result.stopped && !(plan.answerLimit != nil && answer.decided)
        result.seconds = Date().timeIntervalSince(start)
        return result
    }

    /// Plans and runs one generation on the calling thread (`plan`, then `run`).
    public func generate(_ request: GenerationRequest, stop: StopFlag? = nil,
                         onEvent: ((GenerationEvent) -> Void)? = nil) throws -> GenerationResult {
        try run(plan(request), stop: stop, onEvent: onEvent)
    }

    /// The same as an `AsyncSequence` of events ending with `.done`, run on a thread of its own;
    /// cancelling the consuming task stops it (GenerationStream.swift), and so does setting
    /// `stop` (a handle the caller keeps, e.g. for a shutdown). A request that cannot be planned
    /// ends the stream with its `PlanError`; plan first to refuse it before streaming.
    public func stream(_ request: GenerationRequest, stop: StopFlag = StopFlag()) -> GenerationStream {
        GenerationStream(stop: stop) { stop, onEvent in try self.generate(request, stop: stop, onEvent: onEvent) }
    }

    /// A planned generation as an `AsyncSequence` of events ending with `.done`.
    public func stream(_ plan: GenerationPlan, stop: StopFlag = StopFlag()) -> GenerationStream {
        GenerationStream(stop: stop) { stop, onEvent in try self.run(plan, stop: stop, onEvent: onEvent) }
    }

    /// Plans `.ids(promptIDs)` with `settings` (and `canvas`, gen_length ids with the mask id where
    /// a token is to be filled; nil is all masks) and runs it: the sampler's result alone.
    public func generate(promptIDs: [Int], canvas: [Int]? = nil, settings: GenerationSettings, stop: StopFlag? = nil) throws -> GenerationResult {
        try generate(GenerationRequest(prompt: .ids(promptIDs), settings: settings, canvas: canvas), stop: stop)
    }

    /// The answer: generated ids up to the first EOS or end-of-turn, decoded without specials.
    public func answerText(_ outputIDs: [Int]) throws -> String {
        let stops = Set([eosID, endOfTurnID].compactMap { $0 })
        let end = outputIDs.firstIndex(where: { stops.contains($0) }) ?? outputIDs.count
        return try tokenizer.decode(Array(outputIDs[..<end]), skipSpecialTokens: true)
    }
}
