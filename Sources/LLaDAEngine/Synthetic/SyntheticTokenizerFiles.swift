/// tokenizer.json, tokenizer_config.json and special_tokens_map.json of a synthetic checkpoint, in
/// the structure of LLaDA-8B-Instruct's files (NFC, LLaDA's Split regex + ByteLevel, BPE, ByteLevel
/// decoder, special added tokens) with the ids of `SyntheticVocabulary`.
public struct SyntheticTokenizerFiles: Sendable {
    public let tokenizerJSON: String
    public let tokenizerConfigJSON: String
    public let specialTokensMapJSON: String

    /// LLaDA-8B-Instruct's chat template, verbatim (the version that always appends the assistant header).
    public static let chatTemplate = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}"

    public init(vocabularySize: Int) {
        let vocabulary = SyntheticVocabulary(size: vocabularySize)
        let bpe = SyntheticMerges(count: vocabulary.bpeCount)
        tokenizerJSON = Self.tokenizer(bpe: bpe, added: vocabulary.addedTokens)
        tokenizerConfigJSON = Self.tokenizerConfig(added: vocabulary.addedTokens)
        specialTokensMapJSON = Self.specialTokensMap
    }

    private static func tokenizer(bpe: SyntheticMerges, added: [(id: Int, content: String)]) -> String {
        var out = ""
        out.reserveCapacity(bpe.tokens.count * 40)
        out += "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [\n"
        out += added.map { token in
            "    {\"id\": \(token.id), \"content\": \(JSONText.quoted(token.content)), \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}"
        }.joined(separator: ",\n")
        out += """

          ],
          "normalizer": {"type": "NFC"},
          "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
              {"type": "Split", "pattern": {"Regex": \(JSONText.quoted(PreTokenizer.supportedPattern))}, "behavior": "Isolated", "invert": false},
              {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}
            ]
          },
          "post_processor": null,
          "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
          "model": {
            "type": "BPE",
            "dropout": null,
            "unk_token": null,
            "continuing_subword_prefix": null,
            "end_of_word_suffix": null,
            "fuse_unk": false,
            "byte_fallback": false,
            "ignore_merges": false,
            "vocab": {

        """
        for (id, token) in bpe.tokens.enumerated() {
            out += "      \(JSONText.quoted(token)): \(id)"
            out += id == bpe.tokens.count - 1 ? "\n" : ",\n"
        }
        out += "    },\n    \"merges\": [\n"
        for (index, merge) in bpe.merges.enumerated() {
            out += "      [\(JSONText.quoted(bpe.tokens[merge.left])), \(JSONText.quoted(bpe.tokens[merge.right]))]"
            out += index == bpe.merges.count - 1 ? "\n" : ",\n"
        }
        out += "    ]\n  }\n}\n"
        return out
    }

    private static func tokenizerConfig(added: [(id: Int, content: String)]) -> String {
        let decoder = added.map { token in
            """
                "\(token.id)": {
                  "content": \(JSONText.quoted(token.content)),
                  "lstrip": false,
                  "normalized": false,
                  "rstrip": false,
                  "single_word": false,
                  "special": true
                }
            """
        }.joined(separator: ",\n")
        return """
        {
          "add_bos_token": false,
          "add_eos_token": false,
          "added_tokens_decoder": {
        \(decoder)
          },
          "bos_token": "<|startoftext|>",
          "chat_template": \(JSONText.quoted(chatTemplate)),
          "clean_up_tokenization_spaces": false,
          "eos_token": "<|endoftext|>",
          "fast_tokenizer": true,
          "model_input_names": [
            "input_ids",
            "attention_mask"
          ],
          "model_max_length": 1000000000000000019884624838656,
          "pad_token": "<|endoftext|>",
          "tokenizer_class": "PreTrainedTokenizerFast"
        }

        """
    }

    private static let specialTokensMap = """
        {
          "bos_token": {
            "content": "<|startoftext|>",
            "lstrip": false,
            "normalized": false,
            "rstrip": false,
            "single_word": false
          },
          "eos_token": {
            "content": "<|endoftext|>",
            "lstrip": false,
            "normalized": false,
            "rstrip": false,
            "single_word": false
          },
          "pad_token": {
            "content": "<|endoftext|>",
            "lstrip": false,
            "normalized": false,
            "rstrip": false,
            "single_word": false
          }
        }

        """
}

/// JSON string literals without Foundation's per-call overhead (the tokenizer has 250k strings).
enum JSONText {
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
