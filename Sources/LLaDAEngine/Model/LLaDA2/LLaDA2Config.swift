import Foundation

/// A LLaDA 2 (`model_type: "llada2_moe"`) `config.json`, as the reference `LLaDA2MoeConfig` and
/// `modeling_llada2_moe.py` read it. Every key is decoded, listed as known and irrelevant to
/// inference, or kept as unknown; a value the reference does not implement is refused by name
/// (`validate()`), before any weight is read.
public struct LLaDA2Config: Codable, Equatable, Sendable {
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int
    public var headDim: Int?
    public var intermediateSize: Int
    public var moeIntermediateSize: Int
    public var firstKDenseReplace: Int
    public var numExperts: Int
    public var numExpertsPerTok: Int
    public var numSharedExperts: Int?
    public var nGroup: Int
    public var topkGroup: Int
    public var routedScalingFactor: Double
    public var scoreFunction: String?
    public var normTopkProb: Bool?
    public var moeRouterEnableExpertBias: Bool?
    public var routerDtype: String?
    public var vocabSize: Int
    public var maxPositionEmbeddings: Int
    public var ropeTheta: Double
    public var ropeScaling: RopeScaling?
    public var partialRotaryFactor: Double?
    public var rotaryDim: Int?
    public var rmsNormEps: Double
    public var hiddenAct: String?
    public var useBias: Bool?
    public var useQKVBias: Bool?
    public var useQKNorm: Bool?
    public var tieWordEmbeddings: Bool?
    public var normHead: Bool?
    public var normSoftmax: Bool?
    public var useRMSNorm: Bool?
    public var useSlidingWindow: Bool?
    public var padTokenID: Int?
    public var modelType: String?
    public var architectures: [String]?
    public var torchDtype: String?

    /// `rope_scaling`: only its presence matters (the reference implements none).
    public struct RopeScaling: Codable, Equatable, Sendable {
        public var type: String?
        public var ropeType: String?
        enum CodingKeys: String, CodingKey { case type, ropeType = "rope_type" }
    }

    /// Keys neither the reference nor this engine knows, with each value's JSON text (listed by
    /// `llada info`, never a reason to refuse).
    public internal(set) var unknownFields: [String: String] = [:]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", numKeyValueHeads = "num_key_value_heads", headDim = "head_dim"
        case intermediateSize = "intermediate_size", moeIntermediateSize = "moe_intermediate_size"
        case firstKDenseReplace = "first_k_dense_replace", numExperts = "num_experts", numExpertsPerTok = "num_experts_per_tok"
        case numSharedExperts = "num_shared_experts", nGroup = "n_group", topkGroup = "topk_group"
        case routedScalingFactor = "routed_scaling_factor", scoreFunction = "score_function", normTopkProb = "norm_topk_prob"
        case moeRouterEnableExpertBias = "moe_router_enable_expert_bias", routerDtype = "router_dtype"
        case vocabSize = "vocab_size", maxPositionEmbeddings = "max_position_embeddings"
        case ropeTheta = "rope_theta", ropeScaling = "rope_scaling", partialRotaryFactor = "partial_rotary_factor"
        case rotaryDim = "rotary_dim", rmsNormEps = "rms_norm_eps", hiddenAct = "hidden_act"
        case useBias = "use_bias", useQKVBias = "use_qkv_bias", useQKNorm = "use_qk_norm"
        case tieWordEmbeddings = "tie_word_embeddings", normHead = "norm_head", normSoftmax = "norm_softmax"
        case useRMSNorm = "use_rmsnorm", useSlidingWindow = "use_sliding_window", padTokenID = "pad_token_id"
        case modelType = "model_type", architectures, torchDtype = "torch_dtype"
    }

    /// Keys that change nothing at inference here (training-only, caching flags, tooling).
    static let knownIgnored: Set<String> = [
        "attention_dropout", "embedding_dropout", "output_dropout", "auto_map", "initializer_range", "use_cache",
        "output_router_logits", "max_window_layers", "transformers_version", "_name_or_path",
        "using_split_qkv_in_self_attention", "bos_token_id", "eos_token_id", "sliding_window",
    ]

    /// The per-head feature count (`head_dim`, else hidden / heads, as the reference).
    public var resolvedHeadDim: Int { headDim ?? hiddenSize / max(numAttentionHeads, 1) }
    /// Features of each q/k head that RoPE rotates: head_dim · partial_rotary_factor (transformers'
    /// rope init; the reference never reads `rotary_dim`).
    public var ropeDim: Int { Int(Double(resolvedHeadDim) * (partialRotaryFactor ?? 1.0)) }
    /// Tensors a checkpoint of this config holds (one per expert matrix).
    public var impliedTensorCount: Int {
        let moe = numHiddenLayers - firstKDenseReplace, shared = (numSharedExperts ?? 0) > 0 ? 3 : 0
        let bias = moeRouterEnableExpertBias != false ? 1 : 0
        return 3 + numHiddenLayers * 6 + firstKDenseReplace * 3 + moe * (1 + bias + 3 * numExperts + shared)
    }

    /// Layers whose MLP is the router + experts (the others, the first `first_k_dense_replace`, are dense).
    public func isMoE(layer: Int) -> Bool { layer >= firstKDenseReplace }

    public static func load(from url: URL) throws -> LLaDA2Config {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw LLaDAError("cannot read \(url.path): \(error.localizedDescription)") }
        return try decode(data, source: url.path)
    }

    public static func decode(_ data: Data, source: String) throws -> LLaDA2Config {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw LLaDAError("\(source): not a JSON object")
        }
        var config: LLaDA2Config
        do {
            config = try JSONDecoder().decode(LLaDA2Config.self, from: data)
        } catch DecodingError.keyNotFound(let key, _) {
            throw LLaDAError("\(source): \"\(key.stringValue)\" is missing (a LLaDA 2 config.json has it)")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            throw LLaDAError("\(source): field \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type or is null")
        } catch {
            throw LLaDAError("\(source): \(error)")
        }
        let decoded = Set(CodingKeys.allCases.map(\.stringValue))
        for (key, value) in object where !decoded.contains(key) && !knownIgnored.contains(key) {
            let text = (try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]))
                .map { String(decoding: $0, as: UTF8.self) } ?? "null"
            config.unknownFields[key] = text
        }
        try config.validate(source: source)
        return config
    }

    /// Refuses, naming the key, what the reference does not compute or what cannot be a model.
    public func validate(source: String) throws {
        func refuse(_ key: String, _ why: String) -> LLaDAError { LLaDAError("\(source): \"\(key)\" \(why)") }
        if let modelType, modelType != "llada2_moe" { throw refuse("model_type", "is \"\(modelType)\", not \"llada2_moe\"") }
        for (key, value) in [("hidden_size", hiddenSize), ("num_hidden_layers", numHiddenLayers), ("num_attention_heads", numAttentionHeads),
                             ("num_key_value_heads", numKeyValueHeads), ("intermediate_size", intermediateSize),
                             ("moe_intermediate_size", moeIntermediateSize), ("num_experts", numExperts),
                             ("num_experts_per_tok", numExpertsPerTok), ("n_group", nGroup), ("topk_group", topkGroup),
                             ("vocab_size", vocabSize), ("max_position_embeddings", maxPositionEmbeddings)] where value < 1 {
            throw refuse(key, "is \(value); it must be at least 1")
        }
        // Bounds that keep every size computation far from overflow (the mini: hidden 2048, 256 experts).
        let limit = 1 << 20
        for (key, value) in [("hidden_size", hiddenSize), ("num_hidden_layers", numHiddenLayers), ("num_attention_heads", numAttentionHeads),
                             ("num_key_value_heads", numKeyValueHeads), ("head_dim", headDim ?? 1), ("intermediate_size", intermediateSize),
                             ("moe_intermediate_size", moeIntermediateSize), ("num_experts", numExperts),
                             ("num_shared_experts", numSharedExperts ?? 0), ("vocab_size", vocabSize),
                             ("max_position_embeddings", maxPositionEmbeddings)] where value > limit {
            throw refuse(key, "is \(value), implausibly large (limit \(limit))")
        }
        if let factor = partialRotaryFactor, !(factor > 0 && factor <= 1) {
            throw refuse("partial_rotary_factor", "is \(factor); it must be in (0, 1]")
        }
        // One layer's tensor list is built at once: 3 per expert.
        if numExperts > 1 << 16 { throw refuse("num_experts", "is \(numExperts), implausibly large (limit 65536)") }
        if let shared = numSharedExperts, shared < 0 { throw refuse("num_shared_experts", "is \(shared); it must be at least 0") }
        if numAttentionHeads % numKeyValueHeads != 0 {
            throw refuse("num_key_value_heads", "(\(numKeyValueHeads)) must divide num_attention_heads (\(numAttentionHeads))")
        }
        if let headDim, headDim < 1 { throw refuse("head_dim", "is \(headDim); it must be at least 1") }
        if ropeDim < 2 || ropeDim % 2 != 0 || ropeDim > resolvedHeadDim {
            throw refuse("partial_rotary_factor", "gives \(ropeDim) rotary features of a \(resolvedHeadDim)-feature head; they must be even and at most the head")
        }
        if firstKDenseReplace < 0 || firstKDenseReplace > numHiddenLayers {
            throw refuse("first_k_dense_replace", "is \(firstKDenseReplace); it must be between 0 and num_hidden_layers (\(numHiddenLayers))")
        }
        if numExperts % nGroup != 0 { throw refuse("n_group", "(\(nGroup)) must divide num_experts (\(numExperts))") }
        if topkGroup > nGroup { throw refuse("topk_group", "(\(topkGroup)) exceeds n_group (\(nGroup))") }
        if numExperts / nGroup < 2 { throw refuse("n_group", "(\(nGroup)) leaves fewer than 2 experts a group; the group score sums the top 2") }
        if numExpertsPerTok > topkGroup * (numExperts / nGroup) {
            throw refuse("num_experts_per_tok", "(\(numExpertsPerTok)) exceeds the \(topkGroup * (numExperts / nGroup)) experts that topk_group (\(topkGroup)) groups of \(numExperts / nGroup) allow")
        }
        if let scoreFunction, scoreFunction != "sigmoid" {
            throw refuse("score_function", "is \"\(scoreFunction)\"; the reference router always takes the sigmoid, so only \"sigmoid\" is run")
        }
        if let ropeScaling { throw refuse("rope_scaling", "is set (\(ropeScaling.ropeType ?? ropeScaling.type ?? "?")); the reference implements no RoPE scaling") }
        if let hiddenAct, hiddenAct != "silu" { throw refuse("hidden_act", "is \"\(hiddenAct)\"; only \"silu\" is implemented") }
        if useBias == true { throw refuse("use_bias", "is true; the published models have no biases and none are implemented") }
        if useQKVBias == true { throw refuse("use_qkv_bias", "is true; the published models have no biases and none are implemented") }
        if tieWordEmbeddings == true { throw refuse("tie_word_embeddings", "is true; the published models have an untied lm_head") }
        if normHead == true { throw refuse("norm_head", "is true; not implemented") }
        if useSlidingWindow == true { throw refuse("use_sliding_window", "is true; not implemented") }
        if useQKNorm == false { throw refuse("use_qk_norm", "is false, but the reference always normalises q and k; remove it or set it to true") }
        if normTopkProb == false { throw refuse("norm_topk_prob", "is false, but the reference always renormalises the chosen weights; remove it or set it to true") }
        if !(rmsNormEps > 0 && rmsNormEps < 1) { throw refuse("rms_norm_eps", "is \(rmsNormEps); it must be in (0, 1)") }
        if !(ropeTheta > 1 && ropeTheta.isFinite) { throw refuse("rope_theta", "is \(ropeTheta); it must be a finite number > 1") }
        if !routedScalingFactor.isFinite { throw refuse("routed_scaling_factor", "is \(routedScalingFactor); it must be finite") }
        // The RoPE tables hold max_position_embeddings × head_dim floats (twice).
        if maxPositionEmbeddings * resolvedHeadDim > 1 << 27 {
            throw refuse("max_position_embeddings", "(\(maxPositionEmbeddings)) × head_dim \(resolvedHeadDim) is implausibly large (limit 2^27 = 1 GiB of RoPE tables)")
        }
    }
}
