import Foundation
import LLaDAEngine

/// The dimensions of a synthetic LLaDA 2 (`llada2_moe`) checkpoint. The `mini` preset is
/// LLaDA2.0-mini's published shape (no config file of it could be read here; its numbers come
/// from the model card and issue 31): 16.3 B parameters, 1.4 B active.
public struct SyntheticLLaDA2Shape: Sendable, Equatable {
    public var hiddenSize: Int
    public var layers: Int
    public var heads: Int
    public var keyValueHeads: Int
    public var headDim: Int
    public var denseIntermediate: Int
    public var experts: Int
    public var expertIntermediate: Int
    public var expertsPerToken: Int
    public var groups: Int
    public var topkGroup: Int
    public var vocabSize: Int
    public var maxPositions: Int
    /// The attention output projection's standard deviation (SyntheticWeights: it decides how
    /// far the router spreads a block's rows).
    public var attentionOutStd: Float = 0.05
    /// The per-head query/key norm weights on the rotated features (the first half of a head)
    /// and on the others. Large on the rotated ones, small on the rest, the attention scores
    /// depend mostly on the rows' positions: a block's mask rows (one token) attend to different
    /// keys at every depth, as a trained model's do, and its router spreads them.
    public var queryKeyNormValue: Float = 4
    public var queryKeyStaticValue: Float = 0.5

    public enum Preset: String, Sendable, CaseIterable {
        case mini = "llada2-mini", tiny = "llada2-tiny"
    }

    public static func preset(_ preset: Preset) -> SyntheticLLaDA2Shape {
        switch preset {
        case .mini:
            SyntheticLLaDA2Shape(hiddenSize: 2048, layers: 20, heads: 16, keyValueHeads: 4, headDim: 128, denseIntermediate: 5120,
                                 experts: 256, expertIntermediate: 512, expertsPerToken: 8, groups: 8, topkGroup: 4,
                                 vocabSize: 157_184, maxPositions: 16384)
        case .tiny:
            SyntheticLLaDA2Shape(hiddenSize: 64, layers: 3, heads: 4, keyValueHeads: 2, headDim: 16, denseIntermediate: 128,
                                 experts: 16, expertIntermediate: 32, expertsPerToken: 4, groups: 4, topkGroup: 2,
                                 vocabSize: 1024, maxPositions: 512)
        }
    }

    /// One shard per ~5 GB of bf16, as `save_pretrained`'s default limit cuts them.
    public static func defaultShards(_ preset: Preset) -> Int { preset == .mini ? 7 : 2 }

    /// The special tokens: the mask and end-of-text ids are the ones LLaDA 2's `generate`
    /// defaults to (156895, 156892) when the vocabulary has the published size; the others sit
    /// beside them, and `<|reserved_token_N|>` fill the rest, so every row of the embedding is a
    /// token (random weights predict any row; a trained model never picks unused ones).
    public static let namedTokens = ["<|startoftext|>", "<|endoftext|>", "<role>", "</role>", "<|mask|>", "<|role_end|>", "<think>", "</think>"]
    /// Rows from the first added token to the end of the embedding (157184 − 156891).
    public static let reservedRows = 293
    public var bpeCount: Int { vocabSize - Self.reservedRows }

    public var configJSON: String {
        let fields: [(String, String)] = [
            ("architectures", "[\"LLaDA2MoeModelLM\"]"), ("attention_dropout", "0.0"),
            ("auto_map", "{\"AutoConfig\": \"configuration_llada2_moe.LLaDA2MoeConfig\", \"AutoModel\": \"modeling_llada2_moe.LLaDA2MoeModel\", \"AutoModelForCausalLM\": \"modeling_llada2_moe.LLaDA2MoeModelLM\"}"),
            ("num_hidden_layers", "\(layers)"), ("hidden_size", "\(hiddenSize)"), ("intermediate_size", "\(denseIntermediate)"),
            ("first_k_dense_replace", "1"), ("hidden_act", "\"silu\""), ("max_position_embeddings", "\(maxPositions)"),
            ("model_type", "\"llada2_moe\""), ("moe_intermediate_size", "\(expertIntermediate)"), ("norm_topk_prob", "true"),
            ("num_experts_per_tok", "\(expertsPerToken)"), ("norm_head", "false"), ("num_attention_heads", "\(heads)"),
            ("num_experts", "\(experts)"), ("num_key_value_heads", "\(keyValueHeads)"), ("rope_theta", "600000"),
            ("rope_scaling", "null"), ("tie_word_embeddings", "false"), ("torch_dtype", "\"bfloat16\""), ("use_bias", "false"),
            ("use_rmsnorm", "true"), ("rms_norm_eps", "1e-06"), ("head_dim", "\(headDim)"), ("num_shared_experts", "1"),
            ("use_cache", "false"), ("use_qkv_bias", "false"), ("embedding_dropout", "0.0"), ("norm_softmax", "false"),
            ("output_dropout", "0.0"), ("vocab_size", "\(vocabSize)"), ("rotary_dim", "\(headDim / 2)"),
            ("using_split_qkv_in_self_attention", "false"), ("router_dtype", "\"fp32\""), ("moe_router_enable_expert_bias", "true"),
            ("routed_scaling_factor", "2.5"), ("n_group", "\(groups)"), ("topk_group", "\(topkGroup)"), ("score_function", "\"sigmoid\""),
            ("initializer_range", "0.02"), ("max_window_layers", "\(layers)"), ("output_router_logits", "false"),
            ("pad_token_id", "\(bpeCount + 1)"), ("partial_rotary_factor", "0.5"), ("use_sliding_window", "false"), ("use_qk_norm", "true"),
        ]
        return "{\n" + fields.map { "  \"\($0.0)\": \($0.1)" }.joined(separator: ",\n") + "\n}\n"
    }

    /// The config as the engine reads it, validated.
    public func config() throws -> LLaDA2Config {
        guard vocabSize >= 256 + Self.reservedRows else {
            throw LLaDAError("vocabulary size \(vocabSize) is too small: the synthetic tokenizer needs at least \(256 + Self.reservedRows) ids")
        }
        return try LLaDA2Config.decode(Data(configJSON.utf8), source: "synthetic LLaDA 2 config")
    }

    public var parameterCount: Int {
        (try? config()).map { LLaDA2Checkpoint.impliedTensors($0).reduce(0) { $0 + $1.shape.reduce(1, *) } } ?? 0
    }

    /// generation_config.json, tokenizer.json, tokenizer_config.json and special_tokens_map.json
    /// in the layout of LLaDA 2's files (its chat template, its special tokens).
    public var metadataFiles: [(name: String, text: String)] {
        let added = (0..<Self.reservedRows).map { offset in
            (id: bpeCount + offset, content: offset < Self.namedTokens.count ? Self.namedTokens[offset] : "<|reserved_token_\(offset - Self.namedTokens.count)|>")
        }
        func id(_ content: String) -> Int { added.first { $0.content == content }!.id }
        let decoder = added.map { token in
            "    \"\(token.id)\": {\"content\": \(JSONText.quoted(token.content)), \"lstrip\": false, \"normalized\": false, \"rstrip\": false, \"single_word\": false, \"special\": true}"
        }.joined(separator: ",\n")
        let tokenizerConfig = """
            {
              "add_bos_token": false,
              "add_eos_token": false,
              "added_tokens_decoder": {
            \(decoder)
              },
              "additional_special_tokens": ["<role>", "</role>", "<|role_end|>"],
              "bos_token": "<|startoftext|>",
              "chat_template": \(JSONText.quoted(Self.chatTemplate)),
              "clean_up_tokenization_spaces": false,
              "eos_token": "<|endoftext|>",
              "mask_token": "<|mask|>",
              "model_max_length": \(maxPositions),
              "pad_token": "<|endoftext|>",
              "tokenizer_class": "PreTrainedTokenizerFast"
            }

            """
        let specialTokens = """
            {
              "additional_special_tokens": ["<role>", "</role>", "<|role_end|>"],
              "bos_token": "<|startoftext|>",
              "eos_token": "<|endoftext|>",
              "mask_token": "<|mask|>",
              "pad_token": "<|endoftext|>"
            }

            """
        let generation = """
            {
              "bos_token_id": \(id("<|startoftext|>")),
              "eos_token_id": \(id("<|endoftext|>")),
              "pad_token_id": \(id("<|endoftext|>")),
              "mask_token_id": \(id("<|mask|>")),
              "_from_model_config": false
            }

            """
        return [("config.json", configJSON), ("generation_config.json", generation),
                ("tokenizer.json", SyntheticTokenizerFiles.tokenizer(bpe: SyntheticMerges(count: bpeCount), added: added)),
                ("tokenizer_config.json", tokenizerConfig), ("special_tokens_map.json", specialTokens)]
    }

    /// LLaDA 2's chat template (as its tokenizer_config.json publishes it, thinking off).
    static let chatTemplate = "{%- set thinking_option = 'off' %}{{- '<role>SYSTEM</role>' }}{%- if messages[0].role == 'system' %}{{- messages[0].content + '\\n' }}{%- endif %}{{- 'detailed thinking ' + thinking_option + '<|role_end|>' }}{%- for message in messages %}{%- if message.role == 'user' %}{{- '<role>HUMAN</role>' + message.content + '<|role_end|>' }}{%- elif message.role == 'system' and not loop.first %}{{- '<role>SYSTEM</role>' + message.content + '<|role_end|>' }}{%- elif message.role == 'assistant' %}{{- '<role>ASSISTANT</role>' + message.content + '<|role_end|>' }}{%- endif %}{%- endfor %}{%- if add_generation_prompt %}{{- '<role>ASSISTANT</role>' }}{%- endif %}"
}
