/// The one place tensor names become the forward pass's fields: per block the nine tensors
/// (two norms, q/k/v, attn_out, ff_proj, up_proj, ff_out), then the embedding, ln_f and the LM
/// head, always loaded in this order. Each source (checkpoint, packed file, activation probe)
/// says only how one tensor is read.
public enum WeightBinding {
    /// Which linear layer a tensor becomes.
    public enum Linear: Sendable {
        case query, key, value, attentionOut, gate, up, down, head
    }

    public static let embeddingName = "model.transformer.wte.weight"
    public static let finalNormName = "model.transformer.ln_f.weight"
    public static let headName = "model.transformer.ff_out.weight"

    public static func bind(config: LLaDAConfig,
                            linear: (_ name: String, _ role: Linear) throws -> any LinearLayer,
                            vector: (_ name: String) throws -> FloatBuffer,
                            embedding: (_ name: String) throws -> any EmbeddingTable) throws -> ModelWeights {
        var layers: [LayerWeights] = []
        for index in 0..<config.nLayers {
            func name(_ suffix: String) -> String { TensorLayout.blockTensor(index, suffix) }
            layers.append(LayerWeights(
                attentionNorm: try vector(name("attn_norm")),
                query: try linear(name("q_proj"), .query), key: try linear(name("k_proj"), .key),
                value: try linear(name("v_proj"), .value), attentionOut: try linear(name("attn_out"), .attentionOut),
                feedForwardNorm: try vector(name("ff_norm")),
                gate: try linear(name("ff_proj"), .gate), up: try linear(name("up_proj"), .up),
                down: try linear(name("ff_out"), .down)))
        }
        let table = try embedding(embeddingName)
        return ModelWeights(config: config, embedding: table, layers: layers,
                            finalNorm: try vector(finalNormName), lmHead: try linear(headName, .head))
    }
}
