import Foundation

/// What `llada info` shows of a model file (one JSON object or a text): config, tensor types and
/// sizes per role, and the memory a planned run needs with the formula's inputs. Headers only.
public struct ModelInfo: Encodable, Sendable {
    public struct RoleGroup: Encodable, Sendable {
        public let role: String
        public let type: String
        public let tensors: Int
        public let file_bytes: Int
        public let memory_bytes: Int
    }

    public struct Config: Encodable, Sendable {
        public let architecture: String
        public let layers, d_model, heads, kv_heads, head_dim, mlp_hidden_size, vocab_size, max_sequence_length, mask_id: Int
        public let eos_id: Int?
        public let parameters, active_parameters: Int
        public let experts: Experts?
    }

    public struct Experts: Encodable, Sendable {
        public let count, per_token, shared, width, dense_layers, groups, groups_per_token: Int
    }

    public struct Estimate: Encodable, Sendable {
        public let prompt_length, gen_length, block_length: Int
        public let cache, kv_type: String
        public let canvas_length, pass_queries, pass_keys, page_size, tokenizer_json_bytes: Int
        /// A packed file's embedding, read by rows (else counted in the weights).
        public let embedding_read_by_rows: Bool
        public let runtime_overhead_bytes, tokenizer_bytes_per_json_byte: Int
        /// The part of weights_bytes mapped in place from the file (page cache), not anonymous.
        public let mapped_weights_bytes: Int
        public let weights_bytes, embedding_bytes, kv_cache_bytes, activation_bytes, logits_bytes, kernel_scratch_bytes, overhead_bytes: Int
        public let total_bytes: Int

        // The JSON fields (`embedding_read_by_rows` only shapes the text).
        enum CodingKeys: String, CodingKey {
            case prompt_length, gen_length, block_length, cache, kv_type, canvas_length, pass_queries, pass_keys, page_size,
                 tokenizer_json_bytes, runtime_overhead_bytes, tokenizer_bytes_per_json_byte, weights_bytes, mapped_weights_bytes, embedding_bytes,
                 kv_cache_bytes, activation_bytes, logits_bytes, kernel_scratch_bytes, overhead_bytes, total_bytes
        }
    }

    public let model: String
    public let format: String
    public let file_bytes: Int
    public let config: Config
    /// config.json keys neither the reference nor this engine knows (kept, never a refusal).
    public let unknown_config_keys: [String]
    /// Generation settings this model's family does not run (refused by name if given).
    public let settings_not_taken: [String]
    public let tensor_types: [RoleGroup]
    public let memory_estimate: Estimate
    public let available_memory_bytes: Int
    public let available_memory_source: String

    /// Tensors grouped by role and stored type, in layout order.
    static func groups(_ tensors: [TensorFootprint]) -> [RoleGroup] {
        var order: [String] = []
        var groups: [String: RoleGroup] = [:]
        for tensor in tensors {
            let role = tensor.group ?? roleLabel(tensor.role)
            let key = role + " " + tensor.storedType
            let previous = groups[key] ?? RoleGroup(role: role, type: tensor.storedType, tensors: 0, file_bytes: 0, memory_bytes: 0)
            if groups[key] == nil { order.append(key) }
            groups[key] = RoleGroup(role: role, type: tensor.storedType, tensors: previous.tensors + 1,
                                    file_bytes: previous.file_bytes + tensor.storedBytes, memory_bytes: previous.memory_bytes + tensor.bytes)
        }
        return order.map { groups[$0]! }
    }

    static func roleLabel(_ role: TensorLayout.Role) -> String {
        switch role {
        case .embedding: "embedding"
        case .norm: "norms"
        case .attentionQKV: "q_proj/k_proj/v_proj"
        case .attentionOut: "attn_out"
        case .ffGateUp: "ff_proj/up_proj"
        case .ffDown: "ff_out"
        case .lmHead: "lm_head"
        case .router: "router"
        }
    }

    public var text: String {
        let o = self, c = o.config, e = o.memory_estimate
        let b = ByteFormat.string
        func count(_ n: Int) -> String { n >= 1_000_000_000 ? String(format: "%.2fB", Double(n) / 1e9) : String(format: "%.2fM", Double(n) / 1e6) }
        let kvHeads = c.kv_heads == c.heads ? "" : ", \(c.kv_heads) key/value heads"
        var lines = [
            "\(o.model): \(c.architecture) \(format == "packed" ? "packed file" : "checkpoint directory (run in f32)"), \(b(o.file_bytes)) on disk",
            "config: \(c.layers) layers, d_model \(c.d_model), \(c.heads) heads\(kvHeads) (head dim \(c.head_dim)), mlp \(c.mlp_hidden_size), vocab \(c.vocab_size), max sequence \(c.max_sequence_length), mask id \(c.mask_id)",
        ]
        if let x = c.experts {
            lines.append("experts: \(x.count) routed of width \(x.width), \(x.per_token) per token from \(x.groups_per_token) of \(x.groups) groups, \(x.shared) shared; first \(x.dense_layers) layer\(x.dense_layers == 1 ? "" : "s") dense")
            lines.append("parameters: \(count(c.parameters)), \(count(c.active_parameters)) active per token (a block's rows together touch every expert: all are resident)")
        } else {
            lines.append("parameters: \(count(c.parameters))")
        }
        if !o.settings_not_taken.isEmpty {
            lines.append("settings this model does not take: " + o.settings_not_taken.joined(separator: ", "))
        }
        if !o.unknown_config_keys.isEmpty {
            lines.append("config keys this engine does not know (ignored): " + o.unknown_config_keys.joined(separator: ", "))
        }
        lines.append("tensors:")
        let width = o.tensor_types.map(\.role.count).max() ?? 0
        for group in o.tensor_types {
            let memory = group.memory_bytes == group.file_bytes ? "" : " → \(b(group.memory_bytes)) in memory"
            lines.append("  \(group.role.padding(toLength: width, withPad: " ", startingAt: 0))  \(group.type)  ×\(group.tensors)  \(b(group.file_bytes))\(memory)")
        }
        let kvBytes = e.kv_type == "f16" ? 2 : 4
        lines += [
            "memory for a run (prompt \(e.prompt_length), gen \(e.gen_length), block \(e.block_length), cache \(e.cache), kv \(e.kv_type)): about \(b(e.total_bytes))",
            "  weights      \(b(e.weights_bytes))  every tensor resident in full"
                + (e.mapped_weights_bytes > 0 ? ": \(b(e.mapped_weights_bytes)) of it the file's pages mapped in place (page cache, shared), \(b(e.weights_bytes - e.mapped_weights_bytes)) the process's own" : ""),
            "  embedding    \(b(e.embedding_bytes))  " + (e.embedding_read_by_rows
                ? "read by rows from the file: at most \(e.canvas_length + 1) rows (bounded by whole \(e.page_size)-byte pages)" : "counted in weights"),
            "  KV cache     \(b(e.kv_cache_bytes))  " + (e.cache == "none" ? "no cache"
                : "\(c.layers) layers × 2 × \(e.canvas_length) positions × \(c.kv_heads * c.head_dim) × \(kvBytes) B"),
            "  activations  \(b(e.activation_bytes))  largest pass: \(e.pass_queries) rows attending to \(e.pass_keys)",
            "  kernels      \(b(e.kernel_scratch_bytes))  quantized activations of the largest linear, +25 %",
            "  logits       \(b(e.logits_bytes))  (block + 1) rows × \(c.vocab_size) × 4 B",
            "  overhead     \(b(e.overhead_bytes))  runtime \(b(e.runtime_overhead_bytes)) + \(e.tokenizer_bytes_per_json_byte) × tokenizer.json (\(b(e.tokenizer_json_bytes)))",
            "available: \(b(o.available_memory_bytes)) (\(o.available_memory_source))",
        ]
        return lines.joined(separator: "\n")
    }
}

extension ModelInfo {
    public init(path: String, file: ModelFile, plan: GenerationPlan, estimate: MemoryEstimate, available: AvailableMemory) {
        let footprint = file.footprint, c = file.shape, settings = plan.settings
        self.init(
            model: path, format: footprint.isPacked ? "packed" : "checkpoint", file_bytes: footprint.fileBytes,
            config: Config(architecture: c.architecture, layers: c.layers, d_model: c.hiddenSize, heads: c.heads, kv_heads: c.keyValueHeads,
                           head_dim: c.headDim, mlp_hidden_size: c.feedForwardWidth, vocab_size: c.vocabularySize,
                           max_sequence_length: c.maxSequenceLength, mask_id: c.maskID, eos_id: file.planner.eosID,
                           parameters: c.parameters, active_parameters: c.activeParameters,
                           experts: c.experts.map { Experts(count: $0.count, per_token: $0.perToken, shared: $0.shared, width: $0.width,
                                                            dense_layers: $0.denseLayers, groups: $0.groups, groups_per_token: $0.groupsPerToken) }),
            unknown_config_keys: c.unknownConfigKeys,
            settings_not_taken: file.family.settingsNotTaken,
            tensor_types: Self.groups(footprint.tensors),
            memory_estimate: Estimate(
                prompt_length: plan.promptIDs.count, gen_length: settings.genLength, block_length: settings.blockLength,
                cache: settings.cache.rawValue, kv_type: settings.kvStorage.rawValue, canvas_length: estimate.canvasLength,
                pass_queries: estimate.passQueries, pass_keys: estimate.passKeys, page_size: ProcessMemory.pageSize,
                tokenizer_json_bytes: footprint.tokenizerBytes, embedding_read_by_rows: footprint.tensors.contains { $0.sparseRows },
                runtime_overhead_bytes: MemoryEstimate.runtimeOverheadBytes,
                tokenizer_bytes_per_json_byte: MemoryEstimate.tokenizerBytesPerJSONByte,
                mapped_weights_bytes: estimate.mappedWeightBytes, weights_bytes: estimate.weightBytes, embedding_bytes: estimate.embeddingBytes, kv_cache_bytes: estimate.kvCacheBytes,
                activation_bytes: estimate.activationBytes, logits_bytes: estimate.logitsBytes,
                kernel_scratch_bytes: estimate.kernelScratchBytes, overhead_bytes: estimate.overheadBytes, total_bytes: estimate.totalBytes),
            available_memory_bytes: available.bytes, available_memory_source: available.source)
    }
}
