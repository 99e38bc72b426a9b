import Foundation

/// A model on disk, opened once: a packed file from llada-quantize or a Hugging Face checkpoint
/// directory (dense LLaDA, or LLaDA 2 by its config's `model_type`), its header parsed and
/// checked once, its tokenizer built once. Everything a frontend
/// needs before committing memory — config, footprint, tokenizer, prompt ids, the default cache —
/// comes from here, and `load` then maps the weights without reading the header again.
public final class ModelFile: @unchecked Sendable {
    enum Contents {
        case packed(PackedModel)
        case checkpoint(HFCheckpoint)
        case llada2(LLaDA2Checkpoint)
    }

    public let path: String
    let contents: Contents
    /// What the engine knows of the network besides its weights.
    public let shape: ModelShape
    /// The model family the file holds.
    public let family: any ModelFamily
    /// Bytes every tensor takes once loaded, from the header alone.
    public let footprint: WeightFootprint
    public let tokenizer: Tokenizer

    public static func open(_ path: String) throws -> ModelFile {
        try ModelFile(path: path)
    }

    private init(path: String) throws {
        self.path = path
        let directory = URL(fileURLWithPath: path)
        if PackedModel.isPackedFile(atPath: path) {
            let packed = try PackedModel(path: path)
            contents = .packed(packed)
            tokenizer = try Self.embeddedTokenizer(packed)
            switch packed.family {
            case .dense(let config):
                (shape, family) = (ModelShape(config), DenseLLaDAFamily())
            case .llada2(let config):
                (shape, family) = (try ModelShape(config, tokenizer: tokenizer, source: path), LLaDA2Family())
            }
            footprint = WeightFootprint(packed: packed, shape: shape)
        } else if LLaDA2Checkpoint.isLLaDA2(directory: directory) {
            let checkpoint = try LLaDA2Checkpoint(directory: directory)
            contents = .llada2(checkpoint)
            tokenizer = try Tokenizer(directory: directory)
            shape = try ModelShape(checkpoint.config, tokenizer: tokenizer, source: directory.path)
            family = LLaDA2Family()
            footprint = WeightFootprint(checkpoint: checkpoint, shape: shape)
        } else {
            let checkpoint = try HFCheckpoint(directory: directory)
            contents = .checkpoint(checkpoint)
            shape = ModelShape(checkpoint.config)
            family = DenseLLaDAFamily()
            footprint = try WeightFootprint(checkpoint: checkpoint)
            tokenizer = try Tokenizer(directory: checkpoint.directory)
        }
    }

    /// Only the tokenizer of a packed file or checkpoint directory (tokenize / detokenize need no
    /// weights, and a directory may hold only the tokenizer files).
    public static func tokenizer(at path: String) throws -> Tokenizer {
        if PackedModel.isPackedFile(atPath: path) { return try embeddedTokenizer(try PackedModel(path: path)) }
        return try Tokenizer(directory: URL(fileURLWithPath: path))
    }

    private static func embeddedTokenizer(_ packed: PackedModel) throws -> Tokenizer {
        do {
            return try Tokenizer(tokenizerJSON: packed.tokenizerJSON, tokenizerConfigJSON: packed.tokenizerConfigJSON)
        } catch let error as LLaDAError {
            throw LLaDAError("\(packed.path): embedded tokenizer: \(error.message)")
        }
    }

    public var isPacked: Bool {
        if case .packed = contents { return true }
        return false
    }

    /// Prompt ids for `text`: the chat template around it, or the text alone when `raw`.
    public func promptIDs(for text: String, raw: Bool) throws -> [Int] {
        try planner.promptIDs(for: raw ? .raw(text) : .user(text))
    }

    var planner: GenerationPlanner {
        GenerationPlanner(shape: shape, tokenizer: tokenizer, footprint: footprint, family: family)
    }

    /// `settings` resolved and checked against this model's family for `prompt`, before any
    /// weight is loaded (`LLaDAModel.checked`).
    public func checked(_ settings: GenerationSettings, for prompt: GenerationPrompt) throws -> GenerationSettings {
        try planner.checked(settings, for: prompt)
    }

    /// Resolves `request` before any weight is loaded: prompt ids, the canvas, the settings with
    /// the engine's defaults filled in and checked against the prompt and the model, and the
    /// memory the run needs (which the caller checks against what is available,
    /// `MemoryEstimate.check(against:)`). Throws `PlanError`.
    public func plan(_ request: GenerationRequest) throws -> GenerationPlan {
        try planner.plan(request)
    }

    /// The memory a run of `settings` with a prompt of `promptLength` tokens needs, the engine's
    /// defaults filled in as a plan fills them, for a frontend that sizes a typical run before any
    /// prompt exists (chat's first turn, the server). Nothing is checked against the context:
    /// each real request is planned.
    public func memoryEstimate(_ settings: GenerationSettings, promptLength: Int) -> MemoryEstimate {
        var settings = settings
        family.resolveDefaults(&settings, prompt: .messages([]), packed: isPacked)
        return MemoryEstimate(footprint: footprint, settings: settings, promptLength: promptLength,
                              generatedLength: family.canvasLength(promptLength: promptLength, settings: settings),
                              pageSize: ProcessMemory.pageSize)
    }

    /// Maps the weights (packed) or widens them to f32 (checkpoint) and returns a model ready to
    /// generate, sharing this file's tokenizer. `backend` only matters for packed files.
    public func load(backend: LinearBackend = .kernels, compute: ComputeContext = ComputeContext()) throws -> LLaDAModel {
        let kernels = try compute.makeKernels()
        let start = Date()
        switch contents {
        case .packed(let packed):
            guard case .dense(let config) = packed.family else {
                let network = LLaDA2Network(weights: try packed.makeLLaDA2Weights(backend: backend, kernels: kernels))
                // The attention and the f32 router are OpenBLAS products.
                OpenBLASThreads.set(kernels.threads)
                return LLaDAModel(shape: shape, tokenizer: tokenizer, network: network, family: family,
                                  loadSeconds: Date().timeIntervalSince(start), footprint: footprint, kernels: kernels)
            }
            let weights = try packed.makeWeights(backend: backend, kernels: kernels)
            let linears = weights.layers.flatMap { [$0.query, $0.key, $0.value, $0.attentionOut, $0.gate, $0.up, $0.down] } + [weights.lmHead]
            var options = TransformerOptions()
            if linears.allSatisfy(\.runsOnKernels) {
                OpenBLASThreads.set(1)
                options.attentionThreads = kernels.threads
            } else {
                OpenBLASThreads.set(kernels.threads)
            }
            return LLaDAModel(config: config, tokenizer: tokenizer, weights: weights, loadSeconds: Date().timeIntervalSince(start),
                              footprint: footprint, family: family, kernels: kernels, options: options)
        case .checkpoint(let checkpoint):
            let weights = try ModelWeights(checkpoint: checkpoint)
            OpenBLASThreads.set(kernels.threads)
            return LLaDAModel(config: checkpoint.config, tokenizer: tokenizer, weights: weights, loadSeconds: Date().timeIntervalSince(start),
                              footprint: footprint, family: family, kernels: kernels)
        case .llada2(let checkpoint):
            // The f32 reference network: every product in OpenBLAS.
            let network = LLaDA2Network(weights: LLaDA2Weights(checkpoint: checkpoint))
            OpenBLASThreads.set(kernels.threads)
            return LLaDAModel(shape: shape, tokenizer: tokenizer, network: network, family: family,
                              loadSeconds: Date().timeIntervalSince(start), footprint: footprint, kernels: kernels)
        }
    }
}
