import LLaDAEngine
/// tokenizer.json, tokenizer_config.json and special_tokens_map.json of a synthetic checkpoint, in
/// the structure of LLaDA-8B-Instruct's files (NFC, LLaDA's Split regex + ByteLevel, BPE, ByteLevel
/// decoder, special added tokens) with the ids of `SyntheticVocabulary`.
public struct SyntheticTokenizerFiles: Sendable {
    public let tokenizerJSON: String
    public let tokenizerConfigJSON: String
    public let specialTokensMapJSON: String

    /// LLaDA-8B-Instruct's chat template, verbatim (the version that always appends the assistant header).
    public static let chatTemplate = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}"

    public init(vocabularySize: Int, release: SyntheticRelease = .instruct) {
        let vocabulary = SyntheticVocabulary(size: vocabularySize, release: release)
        let bpe = SyntheticMerges(count: vocabulary.bpeCount)
        tokenizerJSON = Self.tokenizer(bpe: bpe, added: vocabulary.addedTokens)
        tokenizerConfigJSON = Self.tokenizerConfig(added: vocabulary.addedTokens, additional: release.additionalSpecialTokens)
        specialTokensMapJSON = Self.specialTokensMap(additional: release.additionalSpecialTokens, commaAfterFirst: release != .base)
    }

    static func tokenizer(bpe: SyntheticMerges, added: [(id: Int, content: String)]) -> String {
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

    /// tokenizer_config.json in the published layout (json.dumps, indent 2): byte for byte
    /// LLaDA-8B-Instruct's file for the real vocabulary size.
    private static func tokenizerConfig(added: [(id: Int, content: String)], additional: [String]) -> String {
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
          "additional_special_tokens": [
        \(additional.map { "    " + JSONText.quoted($0) }.joined(separator: ",\n"))
          ],
          "bos_token": "<|startoftext|>",
          "chat_template": \(JSONText.quoted(chatTemplate)),
          "clean_up_tokenization_spaces": false,
          "cls_token": "[CLS]",
          "eos_token": "<|endoftext|>",
          "fast_tokenizer": true,
          "gmask_token": "[gMASK]",
          "merges_file": null,
          "model_input_names": [
            "input_ids",
            "attention_mask"
          ],
          "model_max_length": 1000000000000000019884624838656,
          "pad_token": "<|endoftext|>",
          "tokenizer_class": "PreTrainedTokenizerFast",
          "trust_remote_code": true,
          "vocab_file": null
        }

        """
    }

    /// special_tokens_map.json as published. Base's lacks the comma after its first list entry
    /// (invalid JSON, which nothing here reads; kept so the synthetic files are the real ones).
    private static func specialTokensMap(additional: [String], commaAfterFirst: Bool) -> String {
        let entries = additional.enumerated().map { index, token in
            "    " + JSONText.quoted(token) + (index == additional.count - 1 ? "" : index == 0 && !commaAfterFirst ? "" : ",")
        }.joined(separator: "\n")
        let named = [("bos_token", "<|startoftext|>"), ("cls_token", "[CLS]"), ("eos_token", "<|endoftext|>"), ("pad_token", "<|endoftext|>")]
        return """
            {
              "additional_special_tokens": [
            \(entries)
              ],
            \(named.map { tokenEntry($0.0, $0.1) }.joined(separator: ",\n"))
            }

            """
    }

    private static func tokenEntry(_ name: String, _ content: String) -> String {
        """
          "\(name)": {
            "content": \(JSONText.quoted(content)),
            "lstrip": false,
            "normalized": false,
            "rstrip": false,
            "single_word": false
          }
        """
    }
}
