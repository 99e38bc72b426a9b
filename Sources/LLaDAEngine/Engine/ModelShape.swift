/// What the engine knows of a model besides its weights, whatever its family: the limits a plan
/// checks, the special ids, and the sizes the memory estimate and `llada info` report. Built from
/// a family's config (`LLaDAConfig`, `LLaDA2Config`) and, where the config holds no ids, its
/// tokenizer.
public struct ModelShape: Sendable, Equatable {
    /// `config.json`'s `model_type`: "llada" or "llada2_moe".
    public var architecture: String
    public var layers: Int
    public var hiddenSize: Int
    public var heads: Int
    public var keyValueHeads: Int
    public var headDim: Int
    /// The hidden width of the widest feed-forward pass a row goes through (the dense MLP, or a
    /// MoE layer's routed experts plus shared one, whichever is wider).
    public var feedForwardWidth: Int
    /// Rows of the embedding and the logits (LLaDA pads the vocabulary past the tokenizer).
    public var vocabularySize: Int
    public var maxSequenceLength: Int
    public var maskID: Int
    /// config.json's EOS id, or the one the family fixes by its token (LLaDA 2).
    public var eosTokenID: Int?
    /// True when `eosTokenID` is the family's by definition, whatever the tokenizer's
    /// `eos_token` says; false when the tokenizer's `eos_token` comes first (dense LLaDA).
    public var eosIsFixed: Bool
    /// The routed experts of a mixture-of-experts model (nil: dense).
    public var experts: Experts?
    /// Parameters in all, and those a token's forward pass uses.
    public var parameters: Int
    public var activeParameters: Int
    /// The cached keys and values are always f32 (an exact cache holds what a full pass computes),
    /// whatever `kv_type` says.
    public var cacheIsAlwaysF32: Bool
    /// config.json keys neither the reference nor this engine knows (kept, never a refusal).
    public var unknownConfigKeys: [String]

    public struct Experts: Sendable, Equatable {
        public var count: Int
        public var perToken: Int
        public var shared: Int
        /// Hidden width of one expert.
        public var width: Int
        /// Layers with a dense MLP before the MoE layers.
        public var denseLayers: Int
        public var groups: Int
        public var groupsPerToken: Int
    }

    /// Features of one position's keys (or values) in one layer.
    public var keyValueWidth: Int { keyValueHeads * headDim }
}

extension ModelShape {
    /// Dense LLaDA: everything is in its config.json.
    public init(_ config: LLaDAConfig) {
        let d = config.dModel, mlp = config.ffHiddenSize, vocab = config.paddedVocabSize
        let perLayer = 4 * d * d + 3 * d * mlp + 2 * d
        self.init(architecture: config.modelType ?? "llada", layers: config.nLayers, hiddenSize: d, heads: config.nHeads,
                  keyValueHeads: config.nHeads, headDim: config.headDim, feedForwardWidth: mlp, vocabularySize: vocab,
                  maxSequenceLength: config.maxSequenceLength, maskID: config.maskID, eosTokenID: config.eosTokenID, eosIsFixed: false,
                  experts: nil, parameters: config.nLayers * perLayer + 2 * vocab * d + d,
                  activeParameters: config.nLayers * perLayer + 2 * vocab * d + d,
                  cacheIsAlwaysF32: false, unknownConfigKeys: config.unknownFields.keys.sorted())
    }

    /// LLaDA 2: its config holds no mask or EOS id; they are the tokenizer's `<|mask|>` and
    /// `<|endoftext|>` (the reference `generate`'s defaults are exactly these ids in the real
    /// tokenizer), and a tokenizer without them is refused.
    public init(_ config: LLaDA2Config, tokenizer: Tokenizer, source: String) throws {
        func id(_ token: String, _ role: String) throws -> Int {
            guard let id = tokenizer.id(forToken: token) else {
                throw LLaDAError("\(source): the tokenizer has no \(token) token, which a LLaDA 2 model uses as its \(role); use the tokenizer published with the model")
            }
            guard id < config.vocabSize else {
                throw LLaDAError("\(source): the tokenizer's \(token) is id \(id), outside the model's vocab_size \(config.vocabSize): the tokenizer does not match the model")
            }
            return id
        }
        let (total, active) = Self.parameterCounts(config)
        let d = config.hiddenSize, hd = config.resolvedHeadDim, vocab = config.vocabSize
        let shared = config.numSharedExperts ?? 0, dense = config.firstKDenseReplace
        self.init(architecture: "llada2_moe", layers: config.numHiddenLayers, hiddenSize: d, heads: config.numAttentionHeads,
                  keyValueHeads: config.numKeyValueHeads, headDim: hd,
                  feedForwardWidth: max(dense > 0 ? config.intermediateSize : 0, config.moeIntermediateSize * max(shared, 1)),
                  vocabularySize: vocab, maxSequenceLength: config.maxPositionEmbeddings,
                  maskID: try id("<|mask|>", "mask token"), eosTokenID: try id("<|endoftext|>", "end-of-text token"), eosIsFixed: true,
                  experts: Experts(count: config.numExperts, perToken: config.numExpertsPerTok, shared: shared,
                                   width: config.moeIntermediateSize, denseLayers: dense, groups: config.nGroup,
                                   groupsPerToken: config.topkGroup),
                  parameters: total, activeParameters: active, cacheIsAlwaysF32: true,
                  unknownConfigKeys: config.unknownFields.keys.sorted())
    }

    /// LLaDA 2's parameters in all, and those one token's pass uses (its top-k experts).
    public static func parameterCounts(_ config: LLaDA2Config) -> (total: Int, active: Int) {
        let d = config.hiddenSize, hd = config.resolvedHeadDim, vocab = config.vocabSize
        let attention = d * (config.numAttentionHeads + 2 * config.numKeyValueHeads) * hd + config.numAttentionHeads * hd * d + 2 * d + 2 * hd
        let expert = 3 * d * config.moeIntermediateSize, shared = config.numSharedExperts ?? 0
        let dense = config.firstKDenseReplace, moe = config.numHiddenLayers - dense
        let moeLayer = attention + config.numExperts * (d + 1) + shared * expert
        let base = dense * (attention + 3 * d * config.intermediateSize) + 2 * vocab * d + d
        return (base + moe * (moeLayer + config.numExperts * expert), base + moe * (moeLayer + config.numExpertsPerTok * expert))
    }
}
