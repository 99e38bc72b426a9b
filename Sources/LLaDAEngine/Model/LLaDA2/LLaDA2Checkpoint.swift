import Foundation

/// A LLaDA 2 checkpoint directory opened and checked, nothing read yet: config.json (every key
/// read or refused by name), one `model.safetensors` or shards with one tensor per expert, each
/// tensor the config implies present with its shape and a weight dtype, and none the engine would
/// ignore. The data stays memory-mapped until `LLaDA2Weights` reads it.
public final class LLaDA2Checkpoint: @unchecked Sendable {
    public let directory: URL
    public let config: LLaDA2Config
    /// The tensors the config implies, in load order, with their roles.
    public let entries: [TensorLayout.Entry]
    let tensors: [String: (file: SafeTensorsFile, info: SafeTensorInfo)]

    /// True when `directory`'s config.json names `model_type` "llada2_moe" (read before anything
    /// else, to choose the family).
    public static func isLLaDA2(directory: URL) -> Bool {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("config.json")),
              let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return false }
        return object["model_type"] as? String == "llada2_moe"
    }

    public init(directory: URL) throws {
        self.directory = directory
        let configURL = directory.appendingPathComponent("config.json")
        config = try LLaDA2Config.load(from: configURL)
        tensors = try HFCheckpoint.openShards(directory)
        // Checked part by part as the list is built: a config implying far more tensors than the
        // files hold stops at the first missing one, before its whole list exists.
        var entries: [TensorLayout.Entry] = []
        for part in 0..<(config.numHiddenLayers + 2) {
            let next = Self.expectedTensors(config, part: part)
            try Self.check(next, in: tensors, directory: directory)
            entries += next
        }
        self.entries = entries
        let expected = Set(entries.map(\.name))
        if let extra = tensors.keys.sorted().first(where: { !expected.contains($0) }) {
            throw LLaDAError("\(directory.path): unexpected tensor \(extra) (not implied by config.json: a feature this engine does not implement, or the config does not match the weights); refusing to ignore it")
        }
    }

    private static func check(_ entries: [TensorLayout.Entry], in tensors: [String: (file: SafeTensorsFile, info: SafeTensorInfo)],
                              directory: URL) throws {
        for entry in entries {
            guard let (file, info) = tensors[entry.name] else {
                throw LLaDAError("\(directory.path): tensor \(entry.name) is missing (config.json implies it)")
            }
            guard info.dtype.isWeightType else {
                throw LLaDAError("\(file.file.path): tensor \(entry.name) has dtype \(info.dtype.rawValue); weights must be BF16, F16 or F32")
            }
            guard info.shape == entry.shape else {
                throw LLaDAError("\(file.file.path): tensor \(entry.name) has shape \(info.shape), config.json implies \(entry.shape)")
            }
        }
    }

    func info(_ name: String) -> SafeTensorInfo { tensors[name]!.info }

    /// Reads a checked tensor widened to f32.
    func matrix(_ name: String) -> FloatMatrix {
        let (file, info) = tensors[name]!
        let rows = info.shape.count == 2 ? info.shape[0] : 1
        let matrix = FloatMatrix(rows: rows, cols: info.elementCount / rows)
        HFCheckpoint.convert(file.data(of: info), dtype: info.dtype, count: info.elementCount, into: matrix.pointer)
        return matrix
    }

    /// The tensor names, shapes and roles the config implies, in load order, in parts: 0 the
    /// embedding, 1 … layers one layer each, layers + 1 the final norm and the head. The experts
    /// count as feed-forward matrices, the expert bias as a norm-sized vector.
    static func expectedTensors(_ config: LLaDA2Config, part: Int) -> [TensorLayout.Entry] {
        let d = config.hiddenSize, hd = config.resolvedHeadDim
        typealias Entry = TensorLayout.Entry
        if part == 0 { return [Entry(name: "model.word_embeddings.weight", shape: [config.vocabSize, d], role: .embedding)] }
        if part == config.numHiddenLayers + 1 {
            return [Entry(name: "model.norm.weight", shape: [d], role: .norm),
                    Entry(name: "lm_head.weight", shape: [config.vocabSize, d], role: .lmHead)]
        }
        var tensors: [Entry] = []
        func feedForward(_ prefix: String, _ width: Int) -> [Entry] {
            [Entry(name: prefix + "gate_proj.weight", shape: [width, d], role: .ffGateUp),
             Entry(name: prefix + "up_proj.weight", shape: [width, d], role: .ffGateUp),
             Entry(name: prefix + "down_proj.weight", shape: [d, width], role: .ffDown)]
        }
        do {
            let layer = part - 1
            let p = "model.layers.\(layer)."
            tensors += [Entry(name: p + "input_layernorm.weight", shape: [d], role: .norm),
                        Entry(name: p + "post_attention_layernorm.weight", shape: [d], role: .norm),
                        Entry(name: p + "attention.query_key_value.weight",
                              shape: [(config.numAttentionHeads + 2 * config.numKeyValueHeads) * hd, d], role: .attentionQKV),
                        Entry(name: p + "attention.query_layernorm.weight", shape: [hd], role: .norm),
                        Entry(name: p + "attention.key_layernorm.weight", shape: [hd], role: .norm),
                        Entry(name: p + "attention.dense.weight", shape: [d, config.numAttentionHeads * hd], role: .attentionOut)]
            if config.isMoE(layer: layer) {
                tensors.append(Entry(name: p + "mlp.gate.weight", shape: [config.numExperts, d], role: .router))
                if config.moeRouterEnableExpertBias != false {
                    tensors.append(Entry(name: p + "mlp.gate.expert_bias", shape: [config.numExperts], role: .norm))
                }
                for e in 0..<config.numExperts { tensors += feedForward(p + "mlp.experts.\(e).", config.moeIntermediateSize) }
                if let shared = config.numSharedExperts, shared > 0 {
                    tensors += feedForward(p + "mlp.shared_experts.", config.moeIntermediateSize * shared)
                }
            } else {
                tensors += feedForward(p + "mlp.", config.intermediateSize)
            }
        }
        return tensors
    }

    /// Every tensor the config implies, in load order (a synthetic checkpoint writes exactly these).
    public static func impliedTensors(_ config: LLaDA2Config) -> [TensorLayout.Entry] {
        (0..<(config.numHiddenLayers + 2)).flatMap { expectedTensors(config, part: $0) }
    }

    /// The group `llada info` lists a tensor under.
    static func group(of name: String) -> String? {
        if name.contains(".mlp.experts.") { return name.hasSuffix("down_proj.weight") ? "experts down" : "experts gate/up" }
        if name.contains(".mlp.shared_experts.") { return name.hasSuffix("down_proj.weight") ? "shared expert down" : "shared expert gate/up" }
        if name.hasSuffix("mlp.gate.weight") || name.hasSuffix("mlp.gate.expert_bias") { return "router" }
        if name.hasSuffix("query_key_value.weight") { return "query_key_value" }
        if name.hasSuffix("attention.dense.weight") { return "attention dense" }
        if name.contains(".mlp.") { return name.hasSuffix("down_proj.weight") ? "dense mlp down" : "dense mlp gate/up" }
        return nil
    }
}
