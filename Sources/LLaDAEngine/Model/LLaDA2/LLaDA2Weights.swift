import Foundation

/// The weights of a LLaDA 2 checkpoint directory (`LLaDA2Checkpoint`, which checks every tensor
/// before any is read) widened to f32, under the original state_dict names.
public final class LLaDA2Weights: @unchecked Sendable {
    public let config: LLaDA2Config
    let embedding: FloatMatrix
    let layers: [Layer]
    let finalNorm: FloatBuffer
    let lmHead: DenseLinear

    struct FeedForward {
        let gate: DenseLinear, up: DenseLinear, down: DenseLinear
    }

    enum MLP {
        case dense(FeedForward)
        /// The router [experts × hidden], its selection bias, the routed experts, the shared expert.
        case mixture(router: DenseLinear, expertBias: FloatBuffer, experts: [FeedForward], shared: FeedForward?)
    }

    struct Layer {
        let inputNorm: FloatBuffer
        let queryKeyValue: DenseLinear
        let queryNorm: FloatBuffer
        let keyNorm: FloatBuffer
        let output: DenseLinear
        let postAttentionNorm: FloatBuffer
        let mlp: MLP
    }

    public convenience init(directory: URL) throws {
        try self.init(checkpoint: LLaDA2Checkpoint(directory: directory))
    }

    /// Reads every tensor of a checked checkpoint, widened to f32.
    public init(checkpoint: LLaDA2Checkpoint) {
        let config = checkpoint.config
        self.config = config
        func matrix(_ name: String) -> FloatMatrix { checkpoint.matrix(name) }
        func vector(_ name: String) -> FloatBuffer { matrix(name).storage }
        func linear(_ name: String) -> DenseLinear { DenseLinear(weight: matrix(name)) }
        func feedForward(_ prefix: String) -> FeedForward {
            FeedForward(gate: linear(prefix + "gate_proj.weight"), up: linear(prefix + "up_proj.weight"), down: linear(prefix + "down_proj.weight"))
        }
        embedding = matrix("model.word_embeddings.weight")
        layers = (0..<config.numHiddenLayers).map { layer in
            let p = "model.layers.\(layer)."
            let mlp: MLP
            if config.isMoE(layer: layer) {
                let bias = config.moeRouterEnableExpertBias != false ? vector(p + "mlp.gate.expert_bias") : FloatBuffer(count: config.numExperts)
                let shared = (config.numSharedExperts ?? 0) > 0 ? feedForward(p + "mlp.shared_experts.") : nil
                mlp = .mixture(router: linear(p + "mlp.gate.weight"), expertBias: bias,
                               experts: (0..<config.numExperts).map { feedForward(p + "mlp.experts.\($0).") }, shared: shared)
            } else {
                mlp = .dense(feedForward(p + "mlp."))
            }
            return Layer(inputNorm: vector(p + "input_layernorm.weight"), queryKeyValue: linear(p + "attention.query_key_value.weight"),
                         queryNorm: vector(p + "attention.query_layernorm.weight"), keyNorm: vector(p + "attention.key_layernorm.weight"),
                         output: linear(p + "attention.dense.weight"), postAttentionNorm: vector(p + "post_attention_layernorm.weight"),
                         mlp: mlp)
        }
        finalNorm = vector("model.norm.weight")
        lmHead = linear("lm_head.weight")
    }
}
