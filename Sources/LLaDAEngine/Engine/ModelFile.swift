import Foundation

/// A model on disk, opened once: a packed file from llada-quantize or a Hugging Face checkpoint
/// directory, its header parsed and checked once, its tokenizer built once. Everything a frontend
/// needs before committing memory — config, footprint, tokenizer, prompt ids, the default cache —
/// comes from here, and `load` then maps the weights without reading the header again.
public final class ModelFile: @unchecked Sendable {
    enum Contents {
        case packed(PackedModel)
        case checkpoint(HFCheckpoint)
    }

    public let path: String
    let contents: Contents
    public let config: LLaDAConfig
    /// Bytes every tensor takes once loaded, from the header alone.
    public let footprint: WeightFootprint
    public let tokenizer: Tokenizer

    /// Header parses since the process started (packed headers and checkpoint directories), so
    /// tests can hold the frontends to one per run.
    public static var headerParses: Int { HeaderParseCounter.value }

    public static func open(_ path: String) throws -> ModelFile {
        try ModelFile(path: path)
    }

    private init(path: String) throws {
        self.path = path
        if PackedModel.isPackedFile(atPath: path) {
            let packed = try PackedModel(path: path)
            contents = .packed(packed)
            config = packed.config
            footprint = WeightFootprint(packed: packed)
            tokenizer = try Self.embeddedTokenizer(packed)
        } else {
            let checkpoint = try HFCheckpoint(directory: URL(fileURLWithPath: path))
            contents = .checkpoint(checkpoint)
            config = checkpoint.config
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

    /// Packed files are the product path: the dual cache measured 4.6× faster than none end to end
    /// on the 1B shape for at most one or two fixture answers (docs/decoding.md). A checkpoint directory is
    /// the f32 reference path and stays exact; guidance needs full passes.
    public func defaultCache(cfgScale: Double) -> CacheMode {
        Self.defaultCache(packed: isPacked, cfgScale: cfgScale)
    }

    public static func defaultCache(packed: Bool, cfgScale: Double) -> CacheMode {
        packed && cfgScale == 0 ? .dual : .none
    }

    /// Prompt ids for `text`: the chat template around it, or the text alone when `raw`.
    public func promptIDs(for text: String, raw: Bool) throws -> [Int] {
        try LLaDAModel.promptIDs(for: text, raw: raw, tokenizer: tokenizer)
    }

    /// Resolves `request` before any weight is loaded: prompt ids, the canvas, the settings
    /// validated against the prompt and the model, and the memory the run needs (which the
    /// caller checks against what is available, `MemoryEstimate.check(against:)`).
    public func plan(_ request: GenerationRequest) throws -> GenerationPlan {
        let ids = try LLaDAModel.promptIDs(for: request.prompt, tokenizer: tokenizer)
        let settings = request.settings
        try settings.validate(promptLength: ids.count, maxSequenceLength: config.maxSequenceLength)
        let canvas = request.canvas ?? Array(repeating: config.maskID, count: settings.genLength)
        let memory = MemoryEstimate(footprint: footprint, settings: settings, promptLength: ids.count, pageSize: ProcessMemory.pageSize)
        return GenerationPlan(promptIDs: ids, canvas: canvas, settings: settings, memory: memory)
    }

    /// Maps the weights (packed) or widens them to f32 (checkpoint) and returns a model ready to
    /// generate, sharing this file's tokenizer. `backend` only matters for packed files.
    public func load(backend: LinearBackend = .kernels, threads: Int? = nil) throws -> LLaDAModel {
        if let threads { ComputeThreads.configure(threads) }
        let start = Date()
        switch contents {
        case .packed(let packed):
            let weights = try packed.makeWeights(backend: backend)
            let model = LLaDAModel(config: config, tokenizer: tokenizer, weights: weights, loadSeconds: Date().timeIntervalSince(start))
            let linears = weights.layers.flatMap { [$0.query, $0.key, $0.value, $0.attentionOut, $0.gate, $0.up, $0.down] } + [weights.lmHead]
            if linears.allSatisfy(\.runsOnKernels) {
                model.transformer.attentionThreads = ComputeThreads.configureForKernels()
            }
            return model
        case .checkpoint(let checkpoint):
            let weights = try ModelWeights(checkpoint: checkpoint)
            return LLaDAModel(config: config, tokenizer: tokenizer, weights: weights, loadSeconds: Date().timeIntervalSince(start))
        }
    }
}

/// Counts header parses (ModelFile.headerParses).
enum HeaderParseCounter {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var count = 0

    static var value: Int { lock.withLock { count } }
    static func increment() { lock.withLock { count += 1 } }
}
