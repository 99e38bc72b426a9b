import Foundation

/// The weights of a LLaDA 2 checkpoint directory (`LLaDA2Checkpoint`, which checks every tensor
/// before any is read) widened to f32, under the original state_dict names.
public final class LLaDA2Weights: @unchecked Sendable {
    public let config: LLaDA2Config
    let embedding: any EmbeddingTable
    let layers: [Layer]
    let finalNorm: FloatBuffer
    let lmHead: any LinearLayer

    struct FeedForward {
        let gate: any LinearLayer, up: any LinearLayer, down: any LinearLayer
    }

    enum MLP {
        case dense(FeedForward)
        case mixture(Mixture)
    }

    /// The router [experts × hidden], its selection bias, the routed experts, the shared expert;
    /// `bank` the same experts for the grouped kernel when they all run on it (a packed file).
    struct Mixture {
        let router: any LinearLayer
        let expertBias: FloatBuffer
        let experts: [FeedForward]
        let shared: FeedForward?
        let bank: ExpertBank?
    }

    struct Layer {
        let inputNorm: FloatBuffer
        let queryKeyValue: any LinearLayer
        let queryNorm: FloatBuffer
        let keyNorm: FloatBuffer
        let output: any LinearLayer
        let postAttentionNorm: FloatBuffer
        let mlp: MLP
    }

    private init(config: LLaDA2Config, embedding: any EmbeddingTable, layers: [Layer], finalNorm: FloatBuffer, lmHead: any LinearLayer) {
        self.config = config
        self.embedding = embedding
        self.layers = layers
        self.finalNorm = finalNorm
        self.lmHead = lmHead
    }

    /// MoE layers whose experts run on the grouped kernel.
    package var expertBankCount: Int {
        layers.count { if case .mixture(let mixture) = $0.mlp { mixture.bank != nil } else { false } }
    }

    /// The same weights with the experts run one by one (the grouped kernel's tests compare the two).
    package func withoutExpertBanks() -> LLaDA2Weights {
        LLaDA2Weights(config: config, embedding: embedding, layers: layers.map { layer in
            guard case .mixture(let m) = layer.mlp else { return layer }
            return Layer(inputNorm: layer.inputNorm, queryKeyValue: layer.queryKeyValue, queryNorm: layer.queryNorm, keyNorm: layer.keyNorm,
                         output: layer.output, postAttentionNorm: layer.postAttentionNorm,
                         mlp: .mixture(Mixture(router: m.router, expertBias: m.expertBias, experts: m.experts, shared: m.shared, bank: nil)))
        }, finalNorm: finalNorm, lmHead: lmHead)
    }

    public convenience init(directory: URL) throws {
        try self.init(checkpoint: LLaDA2Checkpoint(directory: directory))
    }

    /// Reads every tensor of a checked checkpoint, widened to f32.
    public convenience init(checkpoint: LLaDA2Checkpoint) {
        // A checked checkpoint holds every tensor: nothing below throws.
        try! self.init(config: checkpoint.config, linear: { DenseLinear(weight: checkpoint.matrix($0)) },
                       vector: { checkpoint.matrix($0).storage },
                       embedding: { DenseEmbedding(table: checkpoint.matrix($0)) })
    }

    /// The one place LLaDA 2's tensor names become the network's fields, whatever reads them
    /// (a checkpoint directory in f32, a packed file's kernels).
    init(config: LLaDA2Config, linear: (String) throws -> any LinearLayer, vector: (String) throws -> FloatBuffer,
         embedding: (String) throws -> any EmbeddingTable) throws {
        self.config = config
        func feedForward(_ prefix: String) throws -> FeedForward {
            FeedForward(gate: try linear(prefix + "gate_proj.weight"), up: try linear(prefix + "up_proj.weight"),
                        down: try linear(prefix + "down_proj.weight"))
        }
        self.embedding = try embedding("model.word_embeddings.weight")
        layers = try (0..<config.numHiddenLayers).map { layer in
            let p = "model.layers.\(layer)."
            let mlp: MLP
            if config.isMoE(layer: layer) {
                let bias = config.moeRouterEnableExpertBias != false ? try vector(p + "mlp.gate.expert_bias") : FloatBuffer(count: config.numExperts)
                let shared = (config.numSharedExperts ?? 0) > 0 ? try feedForward(p + "mlp.shared_experts.") : nil
                let experts = try (0..<config.numExperts).map { try feedForward(p + "mlp.experts.\($0).") }
                mlp = .mixture(Mixture(router: try linear(p + "mlp.gate.weight"), expertBias: bias, experts: experts, shared: shared,
                                       bank: ExpertBank(experts: experts, shared: shared)))
            } else {
                mlp = .dense(try feedForward(p + "mlp."))
            }
            return Layer(inputNorm: try vector(p + "input_layernorm.weight"), queryKeyValue: try linear(p + "attention.query_key_value.weight"),
                         queryNorm: try vector(p + "attention.query_layernorm.weight"), keyNorm: try vector(p + "attention.key_layernorm.weight"),
                         output: try linear(p + "attention.dense.weight"), postAttentionNorm: try vector(p + "post_attention_layernorm.weight"),
                         mlp: mlp)
        }
        finalNorm = try vector("model.norm.weight")
        lmHead = try linear("lm_head.weight")
    }
}
