/// The LLaDA 2 network as the sampler asks it, for one generation's block length (its mask): full
/// passes over the window the sampler gives, and the exact block cache's passes, which run only
/// the rows asked and see the finished blocks' keys and values through the cache.
public final class LLaDA2Predictor: MaskPredictor {
    public let network: LLaDA2Network
    public let blockLength: Int

    public init(network: LLaDA2Network, blockLength: Int) {
        self.network = network
        self.blockLength = blockLength
    }

    public func logits(tokens: [Int], positions: [Int], stop: StopFlag?) -> FloatMatrix {
        network.logits(tokens: tokens, blockLength: blockLength, outputPositions: positions)
    }

    public func logits(tokens: [Int], rows: Range<Int>, context: AttentionContext, positions: [Int], stop: StopFlag?) -> FloatMatrix {
        switch context {
        case .full(let fill):
            return network.forward(tokens: tokens, rows: rows, blockLength: blockLength, cache: fill, outputPositions: positions)
        case .prefix(let cache):
            return network.forward(tokens: tokens, rows: rows, blockLength: blockLength, cache: cache, outputPositions: positions)
        case .dual:
            preconditionFailure("LLaDA 2 has no dual cache: the plan refuses it")
        }
    }

    /// Always f32, whatever the setting asks: the cache is exact only if it holds the values a
    /// full pass computes.
    public func makeCache(capacity: Int, storage: KVCache.Storage) -> KVCache? {
        let config = network.config
        return KVCache(layers: config.numHiddenLayers, capacity: capacity, width: config.numKeyValueHeads * config.resolvedHeadDim,
                       heads: config.numKeyValueHeads, storage: .f32)
    }
}
