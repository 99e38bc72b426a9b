/// The weights of one transformer block.
public struct LayerWeights: Sendable {
    public let attentionNorm: FloatBuffer
    public let query: any LinearLayer
    public let key: any LinearLayer
    public let value: any LinearLayer
    public let attentionOut: any LinearLayer
    public let feedForwardNorm: FloatBuffer
    /// ff_proj: goes through SiLU.
    public let gate: any LinearLayer
    /// up_proj: the linear branch.
    public let up: any LinearLayer
    /// ff_out of the block: the down projection.
    public let down: any LinearLayer

    public init(attentionNorm: FloatBuffer, query: any LinearLayer, key: any LinearLayer, value: any LinearLayer,
                attentionOut: any LinearLayer, feedForwardNorm: FloatBuffer, gate: any LinearLayer,
                up: any LinearLayer, down: any LinearLayer) {
        self.attentionNorm = attentionNorm
        self.query = query
        self.key = key
        self.value = value
        self.attentionOut = attentionOut
        self.feedForwardNorm = feedForwardNorm
        self.gate = gate
        self.up = up
        self.down = down
    }
}

/// Everything the forward pass reads, in whatever storage format each tensor uses.
public final class ModelWeights: @unchecked Sendable {
    public let config: LLaDAConfig
    public let embedding: any EmbeddingTable
    public let layers: [LayerWeights]
    public let finalNorm: FloatBuffer
    public let lmHead: any LinearLayer

    public init(config: LLaDAConfig, embedding: any EmbeddingTable, layers: [LayerWeights], finalNorm: FloatBuffer, lmHead: any LinearLayer) {
        self.config = config
        self.embedding = embedding
        self.layers = layers
        self.finalNorm = finalNorm
        self.lmHead = lmHead
    }

    /// Loads a Hugging Face checkpoint as f32 (bf16 and f16 are widened exactly).
    public convenience init(checkpoint: HFCheckpoint) throws {
        let weights = try WeightBinding.bind(
            config: checkpoint.config,
            linear: { name, _ in DenseLinear(weight: try checkpoint.readMatrix(name)) },
            vector: { try checkpoint.readVector($0) },
            embedding: { DenseEmbedding(table: try checkpoint.readMatrix($0)) })
        self.init(config: weights.config, embedding: weights.embedding, layers: weights.layers,
                  finalNorm: weights.finalNorm, lmHead: weights.lmHead)
    }

    public var weightBytes: Int {
        let perLayer = layers.reduce(0) { sum, layer in
            sum + [layer.query, layer.key, layer.value, layer.attentionOut, layer.gate, layer.up, layer.down].reduce(0) { $0 + $1.weightBytes }
                + (layer.attentionNorm.count + layer.feedForwardNorm.count) * 4
        }
        return perLayer + embedding.rows * embedding.dimension * 4 + lmHead.weightBytes + finalNorm.count * 4
    }
}
