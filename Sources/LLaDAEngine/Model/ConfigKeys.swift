import Foundation

/// What the engine knows about each config.json key, beyond the fields `LLaDAConfig` decodes.
///
/// The reference (`configuration_llada.py`, a dataclass of defaults under `PretrainedConfig`) fills
/// every missing key with a default, and some of those defaults describe another model than
/// LLaDA's (GPT-2-like OLMo settings). A key whose default we do not implement must therefore be
/// spelled out: when it is missing we refuse, naming the key, instead of silently running LLaDA's
/// value where the reference would run its default. Keys nobody here knows are kept and listed.
enum ConfigKeys {
    /// Keys that must be present, with what the reference computes when they are absent.
    static let requiredBecauseReferenceDefaultDiffers: [(key: String, referenceDefault: String)] = [
        ("activation_type", "\"swiglu\" (the chunked form: silu of one half of ff_proj times the other)"),
        ("block_type", "\"sequential\" (a fused att_proj/ff_proj block, not LLaDA's llama block)"),
        ("layer_norm_type", "\"default\" (LayerNorm, not RMSNorm)"),
        ("rope", "false (no position information at all)"),
        ("weight_tying", "true (the LM head is the embedding)"),
        ("embedding_size", "50304 rows (GPT-2's padded vocabulary)"),
    ]

    /// Fields of the reference `ModelConfig` and `PretrainedConfig` that change nothing at inference
    /// in this engine (training-only, or implied by the tensors), so they are read past silently.
    static let knownIgnored: Set<String> = [
        "alibi_bias_max", "attention_layer_norm_with_affine", "auto_map", "flash_attention_version",
        "init_cutoff_factor", "init_device", "init_fn", "init_std", "precision", "transformers_version",
        "use_cache", "_name_or_path", "tie_word_embeddings",
    ]

    /// Every key `LLaDAConfig` decodes.
    static let decoded: Set<String> = Set(LLaDAConfig.CodingKeys.allCases.map(\.stringValue))

    /// Keys of `object` that neither the reference nor this engine knows, with their JSON text.
    static func unknownFields(in object: [String: Any]) -> [String: String] {
        var unknown: [String: String] = [:]
        for (key, value) in object where !decoded.contains(key) && !knownIgnored.contains(key) {
            let text = (try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes]))
                .map { String(decoding: $0, as: UTF8.self) } ?? "null"
            unknown[key] = text
        }
        return unknown
    }

    static func checkRequired(in object: [String: Any], source: String) throws {
        for (key, referenceDefault) in requiredBecauseReferenceDefaultDiffers where object[key] == nil {
            throw LLaDAError("\(source): \"\(key)\" is missing, and the reference then uses \(referenceDefault), which this engine does not run; add \"\(key)\" with the model's real value (LLaDA-8B's config.json has it)")
        }
    }
}
