import LLaDAEngine
import Foundation

/// The dimensions of a synthetic LLaDA checkpoint. Everything else in config.json is fixed to the
/// values of GSAI-ML/LLaDA-8B-Instruct, so a synthetic 8B differs from the real one only in its numbers.
public struct SyntheticModelShape: Sendable, Equatable {
    public var dModel: Int
    public var nHeads: Int
    public var nLayers: Int
    public var mlpHiddenSize: Int
    /// vocab_size = embedding_size = number of tokenizer ids (the real 8B has 126464 of each).
    public var vocabSize: Int
    public var maxSequenceLength: Int

    public init(dModel: Int, nHeads: Int, nLayers: Int, mlpHiddenSize: Int, vocabSize: Int, maxSequenceLength: Int) {
        self.dModel = dModel
        self.nHeads = nHeads
        self.nLayers = nLayers
        self.mlpHiddenSize = mlpHiddenSize
        self.vocabSize = vocabSize
        self.maxSequenceLength = maxSequenceLength
    }

    public enum Preset: String, Sendable, CaseIterable {
        case llada8B = "8b", llada1B = "1b", tiny
    }

    public static func preset(_ preset: Preset) -> SyntheticModelShape {
        switch preset {
        case .llada8B:
            SyntheticModelShape(dModel: 4096, nHeads: 32, nLayers: 32, mlpHiddenSize: 12288, vocabSize: 126464, maxSequenceLength: 4096)
        case .llada1B:
            // TinyLlama-like body (mlp 2.75·d) with LLaDA's vocabulary: 1.34 B parameters, 0.52 B of them embeddings.
            SyntheticModelShape(dModel: 2048, nHeads: 16, nLayers: 16, mlpHiddenSize: 5632, vocabSize: 126464, maxSequenceLength: 4096)
        case .tiny:
            // A small vocabulary keeps the files at a few hundred KB; the special tokens keep
            // LLaDA's offsets from the end of the BPE vocabulary (see SyntheticVocabulary).
            SyntheticModelShape(dModel: 64, nHeads: 4, nLayers: 2, mlpHiddenSize: 192, vocabSize: 1024, maxSequenceLength: 256)
        }
    }

    /// Default shard count: the real 8B ships six; the tiny fixture two (so the index is exercised).
    public static func defaultShards(_ preset: Preset) -> Int {
        preset == .llada8B ? 6 : 2
    }

    public var parameterCount: Int {
        let perLayer = 4 * dModel * dModel + 3 * dModel * mlpHiddenSize + 2 * dModel
        return 2 * vocabSize * dModel + nLayers * perLayer + dModel
    }

    /// config.json as GSAI-ML/LLaDA-8B-Instruct publishes it (the same file for Base and 1.5), with
    /// this shape's numbers and the special ids of `SyntheticVocabulary`: byte for byte the real
    /// file for the 8b preset. Like the real one it has no `torch_dtype`; the shards say the dtype.
    public var configJSON: String {
        let vocabulary = SyntheticVocabulary(size: vocabSize)
        let fields: [(String, String)] = [
            ("activation_type", "\"silu\""), ("alibi", "false"), ("alibi_bias_max", "8.0"),
            ("architectures", "[\n    \"LLaDAModelLM\"\n  ]"), ("attention_dropout", "0.0"),
            ("attention_layer_norm", "false"), ("attention_layer_norm_with_affine", "true"),
            ("auto_map", """
            {
                "AutoConfig": "configuration_llada.LLaDAConfig",
                "AutoModelForCausalLM": "modeling_llada.LLaDAModelLM",
                "AutoModel": "modeling_llada.LLaDAModelLM"
              }
            """),
            ("bias_for_layer_norm", "false"), ("block_group_size", "1"), ("block_type", "\"llama\""),
            ("d_model", "\(dModel)"), ("embedding_dropout", "0.0"), ("embedding_size", "\(vocabSize)"),
            ("eos_token_id", "\(vocabulary.endOfText)"), ("flash_attention", "false"), ("include_bias", "false"),
            ("include_qkv_bias", "false"), ("init_cutoff_factor", "null"), ("init_device", "\"meta\""),
            ("init_fn", "\"mitchell\""), ("init_std", "0.02"), ("input_emb_norm", "false"),
            ("layer_norm_type", "\"rms\""), ("layer_norm_with_affine", "true"),
            ("mask_token_id", "\(vocabulary.mask)"), ("max_sequence_length", "\(maxSequenceLength)"),
            ("mlp_hidden_size", "\(mlpHiddenSize)"), ("mlp_ratio", "4"), ("model_type", "\"llada\""),
            ("multi_query_attention", "null"), ("n_heads", "\(nHeads)"), ("n_kv_heads", "\(nHeads)"),
            ("n_layers", "\(nLayers)"), ("pad_token_id", "\(vocabulary.endOfText)"), ("precision", "\"amp_bf16\""),
            ("residual_dropout", "0.0"), ("rms_norm_eps", "1e-05"), ("rope", "true"), ("rope_full_precision", "true"),
            ("rope_theta", "500000.0"), ("scale_logits", "false"),
            ("transformers_version", "\"4.46.3\""), ("use_cache", "false"), ("vocab_size", "\(vocabSize)"),
            ("weight_tying", "false"),
        ]
        return "{\n" + fields.map { "  \"\($0.0)\": \($0.1)" }.joined(separator: ",\n") + "\n}"
    }

    /// generation_config.json as the release publishes it, with this vocabulary's ids.
    public func generationConfigJSON(release: SyntheticRelease = .instruct) -> String {
        let vocabulary = SyntheticVocabulary(size: vocabSize)
        return """
        {
            "_from_model_config": true,
            "bos_token_id": \(vocabulary.startOfText),
            "eos_token_id": \(vocabulary.endOfText),
            "transformers_version": "\(release.generationTransformersVersion)"
        }
        """
    }

    /// The config as the engine reads it, validated; refuses shapes the engine or the tokenizer
    /// layout cannot represent.
    public func config() throws -> LLaDAConfig {
        guard vocabSize >= SyntheticVocabulary.minimumSize else {
            throw LLaDAError("vocabulary size \(vocabSize) is too small: the synthetic tokenizer needs at least \(SyntheticVocabulary.minimumSize) ids (256 bytes + \(SyntheticVocabulary.reservedRows) rows of added tokens and padding)")
        }
        return try LLaDAConfig.decode(Data(configJSON.utf8), source: "synthetic config")
    }
}
