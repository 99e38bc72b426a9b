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
        let config = checkpoint.config
        func linear(_ name: String) throws -> any LinearLayer { DenseLinear(weight: try checkpoint.readMatrix(name)) }
        var layers: [LayerWeights] = []
        for index in 0..<config.nLayers {
            func name(_ suffix: String) -> String { TensorLayout.blockTensor(index, suffix) }
            layers.append(LayerWeights(
                attentionNorm: try checkpoint.readVector(name("attn_norm")),
                query: try linear(name("q_proj")), key: try linear(name("k_proj")), value: try linear(name("v_proj")),
                attentionOut: try linear(name("attn_out")),
                feedForwardNorm: try checkpoint.readVector(name("ff_norm")),
                gate: try linear(name("ff_proj")), up: try linear(name("up_proj")), down: try linear(name("ff_out"))))
        }
        self.init(config: config,
                  embedding: DenseEmbedding(table: try checkpoint.readMatrix("model.transformer.wte.weight")),
                  layers: layers,
                  finalNorm: try checkpoint.readVector("model.transformer.ln_f.weight"),
                  lmHead: try linear("model.transformer.ff_out.weight"))
    }

    public var weightBytes: Int {
        let perLayer = layers.reduce(0) { sum, layer in
            sum + [layer.query, layer.key, layer.value, layer.attentionOut, layer.gate, layer.up, layer.down].reduce(0) { $0 + $1.weightBytes }
                + (layer.attentionNorm.count + layer.feedForwardNorm.count) * 4
        }
        return perLayer + embedding.rows * embedding.dimension * 4 + lmHead.weightBytes + finalNorm.count * 4
    }
}
