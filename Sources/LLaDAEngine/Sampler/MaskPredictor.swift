/// What the sampler needs from a model: logits at chosen positions of a canvas, optionally
/// through a key/value cache. Keeping the sampler behind this makes it testable with
/// hand-made logits.
public protocol MaskPredictor: AnyObject {
    /// Logits [positions.count × vocabulary] of a full pass over `tokens`. Once `stop` is set
    /// the pass may end early with a meaningless result, which the sampler discards.
    func logits(tokens: [Int], positions: [Int], stop: StopFlag?) -> FloatMatrix
    /// Logits at `positions` from a pass over `rows` of `tokens` that sees the rest through `context`.
    func logits(tokens: [Int], rows: Range<Int>, context: AttentionContext, positions: [Int], stop: StopFlag?) -> FloatMatrix
    /// A cache for a canvas of `capacity` positions, or nil when the model has none.
    func makeCache(capacity: Int, storage: KVCache.Storage) -> KVCache?
}

extension Transformer: MaskPredictor {
    public func logits(tokens: [Int], positions: [Int], stop: StopFlag?) -> FloatMatrix {
        logits(tokens: tokens, outputPositions: positions, stop: stop)
    }

    public func logits(tokens: [Int], rows: Range<Int>, context: AttentionContext, positions: [Int], stop: StopFlag?) -> FloatMatrix {
        logits(tokens: tokens, rows: rows, context: context, outputPositions: positions, stop: stop)
    }

    public func makeCache(capacity: Int, storage: KVCache.Storage) -> KVCache? {
        KVCache(layers: config.nLayers, capacity: capacity, width: config.dModel, heads: config.nHeads, storage: storage)
    }
}
