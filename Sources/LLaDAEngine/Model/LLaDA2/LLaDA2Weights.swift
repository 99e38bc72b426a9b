import Foundation

/// The weights of a LLaDA 2 checkpoint directory (config.json, `model.safetensors` or shards with
/// one tensor per expert) widened to f32, under the original state_dict names. Every tensor the
/// config implies is checked for presence and shape before any is read.
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

    /// Every tensor name and shape the config implies, in load order.
    static func expectedTensors(_ config: LLaDA2Config) -> [(name: String, shape: [Int])] {
        let d = config.hiddenSize, hd = config.resolvedHeadDim
        var tensors: [(String, [Int])] = [("model.word_embeddings.weight", [config.vocabSize, d])]
        for layer in 0..<config.numHiddenLayers {
            let p = "model.layers.\(layer)."
            tensors += [(p + "input_layernorm.weight", [d]), (p + "post_attention_layernorm.weight", [d]),
                        (p + "attention.query_key_value.weight", [(config.numAttentionHeads + 2 * config.numKeyValueHeads) * hd, d]),
                        (p + "attention.query_layernorm.weight", [hd]), (p + "attention.key_layernorm.weight", [hd]),
                        (p + "attention.dense.weight", [d, config.numAttentionHeads * hd])]
            func feedForward(_ prefix: String, _ width: Int) -> [(String, [Int])] {
                [(prefix + "gate_proj.weight", [width, d]), (prefix + "up_proj.weight", [width, d]), (prefix + "down_proj.weight", [d, width])]
            }
            if config.isMoE(layer: layer) {
                tensors += [(p + "mlp.gate.weight", [config.numExperts, d])]
                if config.moeRouterEnableExpertBias != false { tensors += [(p + "mlp.gate.expert_bias", [config.numExperts])] }
                for e in 0..<config.numExperts { tensors += feedForward(p + "mlp.experts.\(e).", config.moeIntermediateSize) }
                if let shared = config.numSharedExperts, shared > 0 {
                    tensors += feedForward(p + "mlp.shared_experts.", config.moeIntermediateSize * shared)
                }
            } else {
                tensors += feedForward(p + "mlp.", config.intermediateSize)
            }
        }
        tensors += [("model.norm.weight", [d]), ("lm_head.weight", [config.vocabSize, d])]
        return tensors
    }

    public convenience init(directory: URL) throws {
        let config = try LLaDA2Config.load(from: directory.appendingPathComponent("config.json"))
        try self.init(directory: directory, config: config)
    }

    init(directory: URL, config: LLaDA2Config) throws {
        self.config = config
        let tensors = try HFCheckpoint.openShards(directory)
        for (name, shape) in Self.expectedTensors(config) {
            guard let (_, info) = tensors[name] else {
                throw LLaDAError("\(directory.path): tensor \(name) is missing (config.json implies it)")
            }
            guard info.shape == shape else {
                throw LLaDAError("\(directory.path): tensor \(name) has shape \(info.shape), config.json implies \(shape)")
            }
        }
        func matrix(_ name: String) -> FloatMatrix {
            let (file, info) = tensors[name]!
            let rows = info.shape.count == 2 ? info.shape[0] : 1
            let matrix = FloatMatrix(rows: rows, cols: info.elementCount / rows)
            HFCheckpoint.convert(file.data(of: info), dtype: info.dtype, count: info.elementCount, into: matrix.pointer)
            return matrix
        }
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
