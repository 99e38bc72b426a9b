/// The pass a step runs: which canvas rows go through the network and how they see the rest.
struct ForwardPass {
    /// Rows computed; the others are seen through `context`.
    let rows: Range<Int>
    let context: AttentionContext
    /// True when every position up to the block's end is computed afresh, so any mask there
    /// (prompt masks included) may be committed; otherwise only the block's own masks.
    let isFull: Bool
}

/// The cache as a strategy the sampler's one loop asks at every step: which rows to run and
/// through which context. Modes and refresh policies differ only here.
///
/// - none: every step is a full pass over the canvas (the reference);
/// - prefix (Fast-dLLM): a block's first step is a full pass that fills the cache; later steps
///   run from the block's start to the canvas's end, seeing the prefix through the cache. With
///   block-causal attention the positions after the block are never seen, so the rows stop at
///   the block's end, and the pass at a block's start runs only the previous block (now final)
///   and this one: the cache is exact;
/// - block: the block-causal prefix pass above, the exact cache of LLaDA 2;
/// - dual (Fast-dLLM): a block's first step is a full pass (or, with a refresh policy, fewer
///   rows), later steps run only the block and see prefix and suffix through the cache.
struct CachePasses {
    let mode: CacheMode
    let refresh: CacheRefresh
    let attention: AttentionStructure
    let cache: KVCache?

    init(settings: GenerationSettings, attention: AttentionStructure, make: (Int, KVCache.Storage) -> KVCache?, capacity: Int) {
        mode = settings.cache == .automatic ? .none : settings.cache
        refresh = settings.refresh
        self.attention = attention
        cache = mode == .none ? nil : make(capacity, settings.kvStorage)
    }

    /// The pass for step `step` (0 = the block's first) of block `index` (canvas positions
    /// `block`, `previous` the block before it if any) of a canvas of `length` positions.
    func pass(block: Range<Int>, index: Int, previous: Range<Int>?, step: Int, promptLength: Int, length: Int) -> ForwardPass {
        let visibleEnd = attention == .blockCausal ? block.upperBound : length
        guard let cache else { return ForwardPass(rows: 0..<visibleEnd, context: .full(fill: nil), isFull: true) }
        let full = ForwardPass(rows: 0..<visibleEnd, context: .full(fill: cache), isFull: true)
        switch mode {
        case .automatic, .none:
            return full
        case .block,
             .prefix where attention == .blockCausal:
            // Exact: the first block fills the cache; later blocks start by recomputing the
            // previous block with its final tokens.
            guard step > 0 || index > 0 else { return full }
            let start = step == 0 ? (previous?.lowerBound ?? block.lowerBound) : block.lowerBound
            return ForwardPass(rows: start..<visibleEnd, context: .prefix(cache), isFull: false)
        case .prefix:
            if step == 0 { return full }
            return ForwardPass(rows: block.lowerBound..<length, context: .prefix(cache), isFull: false)
        case .dual:
            if step == 0 {
                guard let rows = refresh.startRows(block: index, range: block, promptLength: promptLength, canvasLength: length) else {
                    return full
                }
                return ForwardPass(rows: rows, context: .dual(cache, canvasLength: length), isFull: false)
            }
            return ForwardPass(rows: block, context: .dual(cache, canvasLength: length), isFull: false)
        }
    }
}
