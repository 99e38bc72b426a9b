import Foundation

/// The model configuration as written in a Hugging Face LLaDA `config.json`.
///
/// Every field the original `LLaDAConfig` reads is decoded; the ones that change the computation
/// are checked by `validate()` so a checkpoint we cannot run faithfully is refused, never run
/// with a feature silently ignored.
public struct LLaDAConfig: Codable, Equatable, Sendable {
    public var dModel: Int
    public var nHeads: Int
    public var nKVHeads: Int?
    public var nLayers: Int
    public var mlpHiddenSize: Int?
    public var mlpRatio: Int?
    public var vocabSize: Int
    public var embeddingSize: Int?
    public var maxSequenceLength: Int
    public var ropeTheta: Double?
    public var rmsNormEps: Double?
    public var maskTokenID: Int?
    public var eosTokenID: Int?
    public var padTokenID: Int?
    public var bosTokenID: Int?

    public var blockType: String?
    public var activationType: String?
    public var layerNormType: String?
    public var layerNormWithAffine: Bool?
    public var biasForLayerNorm: Bool?
    public var weightTying: Bool?
    public var includeBias: Bool?
    public var includeQKVBias: Bool?
    public var rope: Bool?
    public var ropeFullPrecision: Bool?
    public var alibi: Bool?
    public var flashAttention: Bool?
    public var scaleLogits: Bool?
    public var inputEmbNorm: Bool?
    public var attentionLayerNorm: Bool?
    public var multiQueryAttention: Bool?
    public var blockGroupSize: Int?
    public var clipQKV: Double?
    public var embeddingDropout: Double?
    public var attentionDropout: Double?
    public var residualDropout: Double?
    public var modelType: String?
    public var architectures: [String]?
    public var torchDtype: String?

    /// Keys of the source config.json that neither the reference nor this engine knows, with each
    /// value's JSON text: never a reason to refuse, listed by `llada info` and `llada-quantize
    /// inspect`, and kept in packed files.
    public internal(set) var unknownFields: [String: String] = [:]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case dModel = "d_model", nHeads = "n_heads", nKVHeads = "n_kv_heads", nLayers = "n_layers"
        case mlpHiddenSize = "mlp_hidden_size", mlpRatio = "mlp_ratio"
        case vocabSize = "vocab_size", embeddingSize = "embedding_size"
        case maxSequenceLength = "max_sequence_length"
        case ropeTheta = "rope_theta", rmsNormEps = "rms_norm_eps"
        case maskTokenID = "mask_token_id", eosTokenID = "eos_token_id", padTokenID = "pad_token_id"
        case bosTokenID = "bos_token_id"
        case blockType = "block_type", activationType = "activation_type"
        case layerNormType = "layer_norm_type", layerNormWithAffine = "layer_norm_with_affine"
        case biasForLayerNorm = "bias_for_layer_norm", weightTying = "weight_tying"
        case includeBias = "include_bias", includeQKVBias = "include_qkv_bias"
        case rope, ropeFullPrecision = "rope_full_precision", alibi
        case flashAttention = "flash_attention", scaleLogits = "scale_logits"
        case inputEmbNorm = "input_emb_norm", attentionLayerNorm = "attention_layer_norm"
        case multiQueryAttention = "multi_query_attention", blockGroupSize = "block_group_size"
        case clipQKV = "clip_qkv"
        case embeddingDropout = "embedding_dropout", attentionDropout = "attention_dropout"
        case residualDropout = "residual_dropout"
        case modelType = "model_type", architectures, torchDtype = "torch_dtype"
    }

    // MARK: Derived values (after validate() these are all well defined)

    public var headDim: Int { dModel / nHeads }
    public var kvHeads: Int { nKVHeads ?? nHeads }
    /// Rows of the embedding and LM head; the reference pads the vocabulary up to this.
    public var paddedVocabSize: Int { embeddingSize ?? vocabSize }
    /// SwiGLU hidden width; LLaDA-8B spells it out (12288), older configs give only the ratio.
    public var ffHiddenSize: Int { mlpHiddenSize ?? (mlpRatio ?? 4) * dModel }
    public var ropeBase: Double { ropeTheta ?? 10000 }
    public var normEps: Float { Float(rmsNormEps ?? 1e-5) }
    /// LLaDA-8B's mask id when a config omits it.
    public var maskID: Int { maskTokenID ?? 126336 }

    public static func load(from url: URL) throws -> LLaDAConfig {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw LLaDAError("cannot read \(url.path): \(error.localizedDescription)")
        }
        return try decode(data, source: url.path)
    }

    public static func decode(_ data: Data, source: String) throws -> LLaDAConfig {
        // A LLaDA 2 config would fail below on a dense key it lacks; say what it is instead.
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], object["model_type"] as? String == "llada2_moe" {
            throw LLaDAError("\(source): a LLaDA 2 (llada2_moe) config, not a dense LLaDA one: open the model with ModelFile (or LLaDA2Checkpoint), which picks the family by model_type")
        }
        var config: LLaDAConfig
        do {
            config = try JSONDecoder().decode(LLaDAConfig.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw LLaDAError("\(source): required field \"\(key.stringValue)\" is missing (is this a LLaDA config.json?)")
        } catch let DecodingError.typeMismatch(_, context) {
            throw LLaDAError("\(source): field \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type")
        } catch let DecodingError.valueNotFound(_, context) {
            throw LLaDAError("\(source): field \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" is null")
        } catch {
            throw LLaDAError("\(source) is not valid JSON: fix or re-download the file")
        }
        // Decoding succeeded, so this is a JSON object.
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        try ConfigKeys.checkRequired(in: object, source: source)
        config.unknownFields = ConfigKeys.unknownFields(in: object)
        try config.validate(source: source)
        return config
    }

    /// Refuses every configuration whose computation differs from the one implemented here.
    public func validate(source: String = "config.json") throws {
        func refuse(_ what: String) -> LLaDAError {
            LLaDAError("\(source): \(what) is not supported by this engine")
        }
        func positive(_ value: Int, _ name: String) throws {
            guard value > 0 else { throw LLaDAError("\(source): \(name) must be positive (got \(value))") }
        }
        try positive(dModel, "d_model")
        try positive(nHeads, "n_heads")
        try positive(nLayers, "n_layers")
        try positive(vocabSize, "vocab_size")
        try positive(maxSequenceLength, "max_sequence_length")
        try positive(ffHiddenSize, "mlp_hidden_size")
        try positive(paddedVocabSize, "embedding_size")
        // Bounds that keep every size computation far from overflow; the real 8B is well inside.
        let limit = 1 << 20
        for (value, name) in [(dModel, "d_model"), (nHeads, "n_heads"), (nLayers, "n_layers"), (ffHiddenSize, "mlp_hidden_size"),
                              (paddedVocabSize, "embedding_size"), (maxSequenceLength, "max_sequence_length")] where value > limit {
            throw LLaDAError("\(source): \(name) = \(value) is implausibly large (limit \(limit))")
        }
        guard dModel % nHeads == 0 else { throw LLaDAError("\(source): d_model \(dModel) is not divisible by n_heads \(nHeads)") }
        guard headDim % 2 == 0 else { throw LLaDAError("\(source): head dimension \(headDim) must be even for RoPE") }
        // The RoPE tables hold max_sequence_length × head_dim floats (twice); LLaDA-8B needs 2^19.
        let ropeLimit = 1 << 27
        guard maxSequenceLength * headDim <= ropeLimit else {
            throw LLaDAError("\(source): max_sequence_length \(maxSequenceLength) × head dimension \(headDim) is implausibly large (limit \(ropeLimit) = 1 GiB of RoPE tables)")
        }
        guard kvHeads == nHeads, multiQueryAttention != true else {
            throw refuse("grouped/multi-query attention (n_kv_heads \(kvHeads) != n_heads \(nHeads))")
        }
        guard paddedVocabSize >= vocabSize else {
            throw LLaDAError("\(source): embedding_size \(paddedVocabSize) is smaller than vocab_size \(vocabSize)")
        }
        if let blockType, blockType != "llama" { throw refuse("block_type \"\(blockType)\" (only \"llama\")") }
        if activationType == "swiglu" {
            // The reference's SwiGLU chunks ff_proj's output in halves (silu(second) * first) and
            // halves ff_out's input: another network than LLaDA's silu(ff_proj) * up_proj.
            throw refuse("activation_type \"swiglu\" (the reference's chunked SwiGLU; LLaDA checkpoints use \"silu\")")
        }
        if let activationType, activationType != "silu" {
            throw refuse("activation_type \"\(activationType)\" (only \"silu\")")
        }
        if let layerNormType, layerNormType != "rms" { throw refuse("layer_norm_type \"\(layerNormType)\" (only \"rms\")") }
        if layerNormWithAffine == false { throw refuse("layer_norm_with_affine = false") }
        if biasForLayerNorm == true { throw refuse("bias_for_layer_norm = true") }
        if weightTying == true { throw refuse("weight_tying = true (LLaDA checkpoints have a separate LM head)") }
        if includeBias == true { throw refuse("include_bias = true") }
        if includeQKVBias == true { throw refuse("include_qkv_bias = true") }
        if rope == false { throw refuse("rope = false (learned/absolute positions)") }
        if alibi == true { throw refuse("alibi = true") }
        if scaleLogits == true { throw refuse("scale_logits = true") }
        if inputEmbNorm == true { throw refuse("input_emb_norm = true") }
        if attentionLayerNorm == true { throw refuse("attention_layer_norm = true") }
        if let clipQKV { throw refuse("clip_qkv = \(clipQKV)") }
        if let blockGroupSize, blockGroupSize != 1 { throw refuse("block_group_size \(blockGroupSize)") }
        if let eps = rmsNormEps, !(eps > 0 && eps < 1) { throw LLaDAError("\(source): rms_norm_eps \(eps) must be in (0, 1)") }
        if let theta = ropeTheta, !(theta > 1 && theta.isFinite) { throw LLaDAError("\(source): rope_theta \(theta) must be > 1") }
        if maskID < 0 || maskID >= paddedVocabSize {
            throw LLaDAError("\(source): mask_token_id \(maskID) is outside the vocabulary (\(paddedVocabSize))")
        }
        if let modelType, modelType != "llada" { throw refuse("model_type \"\(modelType)\" (expected \"llada\")") }
        // flash_attention and the dropouts change nothing at inference; rope_full_precision = false
        // would compute RoPE in bf16 under autocast, which an fp32 engine does not do either.
    }
}
