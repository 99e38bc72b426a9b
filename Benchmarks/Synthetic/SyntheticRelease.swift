import LLaDAEngine
/// Which published LLaDA-8B checkpoint a synthetic one copies the metadata of. config.json is the
/// same file in all three; they differ in the tokenizer's added tokens (Base has no chat headers
/// and no `<|eot_id|>`), in the special-token lists and in generation_config's version string.
public enum SyntheticRelease: String, Sendable, CaseIterable {
    case instruct, base
    case llada15 = "1.5"

    /// Added tokens: Instruct and 1.5 end with the chat header and end-of-turn tokens.
    public var addedCount: Int { self == .base ? 266 : 269 }

    public var hasChatTokens: Bool { self != .base }

    /// `additional_special_tokens` of tokenizer_config.json and special_tokens_map.json.
    var additionalSpecialTokens: [String] {
        (self == .base ? ["<|mdm_mask|>"] : []) + ["<role>", "</role>", "<|arithmetic_start|>", "<|arithmetic_end|>", "<|number_start|>", "<|number_end|>"]
    }

    var generationTransformersVersion: String { self == .llada15 ? "4.46.3" : "4.38.2" }
}
