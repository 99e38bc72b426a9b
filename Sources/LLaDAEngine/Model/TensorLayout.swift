/// The tensors a LLaDA checkpoint must hold, named as in the Hugging Face checkpoint, with the
/// shapes the config implies. `nn.Linear` weights are [out_features, in_features].
public struct TensorLayout: Sendable {
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        public let role: Role
    }

    /// What a tensor is, for choosing its storage type (norms and a MoE router always stay f32).
    public enum Role: String, Sendable, CaseIterable {
        case embedding, norm, attentionQKV, attentionOut, ffGateUp, ffDown, lmHead, router

        /// Stored in f32 whatever the profile: norms, and the router, whose scores pick the experts.
        public var alwaysF32: Bool { self == .norm || self == .router }
    }

    public let entries: [Entry]

    public init(config: LLaDAConfig) {
        let d = config.dModel, vocab = config.paddedVocabSize
        var entries: [Entry] = [Entry(name: "model.transformer.wte.weight", shape: [vocab, d], role: .embedding)]
        for layer in 0..<config.nLayers { entries += Self.blockEntries(layer, config: config) }
        entries += [
            Entry(name: "model.transformer.ln_f.weight", shape: [d], role: .norm),
            Entry(name: "model.transformer.ff_out.weight", shape: [vocab, d], role: .lmHead),
        ]
        self.entries = entries
    }

    /// The tensors of one transformer block.
    static func blockEntries(_ layer: Int, config: LLaDAConfig) -> [Entry] {
        let d = config.dModel, hidden = config.ffHiddenSize
        let prefix = "model.transformer.blocks.\(layer)."
        return [
            Entry(name: prefix + "attn_norm.weight", shape: [d], role: .norm),
            Entry(name: prefix + "q_proj.weight", shape: [d, d], role: .attentionQKV),
            Entry(name: prefix + "k_proj.weight", shape: [d, d], role: .attentionQKV),
            Entry(name: prefix + "v_proj.weight", shape: [d, d], role: .attentionQKV),
            Entry(name: prefix + "attn_out.weight", shape: [d, d], role: .attentionOut),
            Entry(name: prefix + "ff_norm.weight", shape: [d], role: .norm),
            Entry(name: prefix + "ff_proj.weight", shape: [hidden, d], role: .ffGateUp),
            Entry(name: prefix + "up_proj.weight", shape: [hidden, d], role: .ffGateUp),
            Entry(name: prefix + "ff_out.weight", shape: [d, hidden], role: .ffDown),
        ]
    }

    static let tensorsPerBlock = 9

    /// How many tensors the config implies, without building the layout (a hostile n_layers
    /// would make that take gigabytes).
    public static func tensorCount(_ config: LLaDAConfig) -> Int { 3 + tensorsPerBlock * config.nLayers }

    /// The first tensor the config implies that `present` lacks, building only the blocks needed
    /// to find it.
    static func firstMissing(_ config: LLaDAConfig, present: (String) -> Bool) -> String? {
        for name in ["model.transformer.wte.weight", "model.transformer.ln_f.weight", "model.transformer.ff_out.weight"] where !present(name) {
            return name
        }
        for layer in 0..<config.nLayers {
            if let entry = blockEntries(layer, config: config).first(where: { !present($0.name) }) { return entry.name }
        }
        return nil
    }

    public static func blockTensor(_ layer: Int, _ suffix: String) -> String {
        "model.transformer.blocks.\(layer).\(suffix).weight"
    }
}
