/// Which keys/values are reused between the steps of a block (Fast-dLLM's caches, and the exact
/// block cache of block-causal models).
public enum CacheMode: String, Sendable, CaseIterable {
    /// The model's default, decided by the engine when it plans the request
    /// (`ModelFamily.resolveDefaults`); the sampler treats an unplanned one as `none`.
    case automatic = "auto"
    /// Every step runs the whole canvas: the exact reference.
    case none
    /// Prompt and completed blocks are cached at each block's first step.
    case prefix
    /// The masked suffix is cached too; later steps run only the current block.
    case dual
    /// Finished blocks (the prompt's too) are computed once; each step runs only the current
    /// block. Exact under block-causal attention (LLaDA 2), where finished blocks never change.
    case block

    /// The modes a request names (`auto` is the absence of a choice).
    public static var allCases: [CacheMode] { [.none, .prefix, .dual, .block] }
}
