import ArgumentParser
import Foundation
import LLaDAEngine

/// `llada info MODEL [--json]`: config, tensor types per role, sizes and the memory a run needs.
/// Reads headers only.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show a model's config, tensor types and sizes, and the memory a run needs.")

    @Argument(help: "A packed file from llada-quantize, or a Hugging Face checkpoint directory.")
    var model: String

    @Option(name: .long, help: "Prompt length in tokens for the memory estimate.")
    var promptLength = 64

    @Option(name: .long, help: "Generated tokens for the memory estimate.")
    var genLength = 128

    @Option(name: .long, help: "Block length for the memory estimate.")
    var blockLength = 32

    @Option(name: .long, help: "Cache for the memory estimate (default: dual for packed files, none for checkpoint directories).")
    var cache: String?

    @Option(name: .long, help: "Cached key/value type for the memory estimate: f16 or f32.")
    var kvType = "f16"

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    struct RoleGroup: Encodable {
        let role: String
        let type: String
        let tensors: Int
        let file_bytes: Int
        let memory_bytes: Int
    }

    struct Config: Encodable {
        let layers, d_model, heads, head_dim, mlp_hidden_size, vocab_size, max_sequence_length, mask_id: Int
    }

    struct Estimate: Encodable {
        let prompt_length, gen_length, block_length: Int
        let cache, kv_type: String
        let canvas_length, pass_queries, pass_keys, page_size, tokenizer_json_bytes: Int
        let runtime_overhead_bytes, tokenizer_bytes_per_json_byte: Int
        let weights_bytes, embedding_bytes, kv_cache_bytes, activation_bytes, logits_bytes, kernel_scratch_bytes, overhead_bytes: Int
        let total_bytes: Int
    }

    struct Output: Encodable {
        let model: String
        let format: String
        let file_bytes: Int
        let config: Config
        /// config.json keys neither the reference nor this engine knows (kept, never a refusal).
        let unknown_config_keys: [String]
        let tensor_types: [RoleGroup]
        let memory_estimate: Estimate
        let available_memory_bytes: Int
        let available_memory_source: String
    }

    func run() throws {
        var fields: [(name: String, value: Any)] = [("gen_length", genLength), ("steps", genLength), ("block_length", blockLength),
                                                    ("kv_type", kvType)]
        if let cache { fields.append(("cache", cache)) }
        let requested = try GenerationSettings.decode(fields: fields).validated()
        guard promptLength > 0 else { throw PlanError.emptyPrompt }
        let file = try ModelFile.open(model)
        let footprint = file.footprint
        // The estimate of a prompt of that many tokens, planned as a run would be.
        let plan = try file.plan(GenerationRequest(prompt: .ids(Array(repeating: 0, count: promptLength)), settings: requested))
        let settings = plan.settings
        let pageSize = ProcessMemory.pageSize
        guard let estimate = plan.memory else { throw LLaDAError("\(model): no memory estimate") }
        let available = try AvailableMemory.current(environment: ProcessInfo.processInfo.environment)
        let c = footprint.config
        let output = Output(
            model: model, format: footprint.isPacked ? "packed" : "checkpoint", file_bytes: footprint.fileBytes,
            config: Config(layers: c.nLayers, d_model: c.dModel, heads: c.nHeads, head_dim: c.headDim, mlp_hidden_size: c.ffHiddenSize,
                           vocab_size: c.paddedVocabSize, max_sequence_length: c.maxSequenceLength, mask_id: c.maskID),
            unknown_config_keys: c.unknownFields.keys.sorted(),
            tensor_types: Self.groups(footprint.tensors),
            memory_estimate: Estimate(
                prompt_length: promptLength, gen_length: settings.genLength, block_length: settings.blockLength,
                cache: settings.cache.rawValue, kv_type: settings.kvStorage.rawValue, canvas_length: estimate.canvasLength,
                pass_queries: estimate.passQueries, pass_keys: estimate.passKeys, page_size: pageSize,
                tokenizer_json_bytes: footprint.tokenizerBytes, runtime_overhead_bytes: MemoryEstimate.runtimeOverheadBytes,
                tokenizer_bytes_per_json_byte: MemoryEstimate.tokenizerBytesPerJSONByte,
                weights_bytes: estimate.weightBytes, embedding_bytes: estimate.embeddingBytes, kv_cache_bytes: estimate.kvCacheBytes,
                activation_bytes: estimate.activationBytes, logits_bytes: estimate.logitsBytes,
                kernel_scratch_bytes: estimate.kernelScratchBytes, overhead_bytes: estimate.overheadBytes, total_bytes: estimate.totalBytes),
            available_memory_bytes: available.bytes, available_memory_source: available.source)
        if json {
            try printJSON(output)
        } else {
            print(text(output, footprint: footprint))
        }
    }

    /// Tensors grouped by role and stored type, in layout order.
    static func groups(_ tensors: [TensorFootprint]) -> [RoleGroup] {
        var order: [String] = []
        var groups: [String: RoleGroup] = [:]
        for tensor in tensors {
            let role = roleLabel(tensor.role)
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
        }
    }

    func text(_ o: Output, footprint: WeightFootprint) -> String {
        let c = o.config, e = o.memory_estimate
        let b = ByteFormat.string
        var lines = [
            "\(o.model): \(footprint.isPacked ? "packed file" : "checkpoint directory (run in f32)"), \(b(o.file_bytes)) on disk",
            "config: \(c.layers) layers, d_model \(c.d_model), \(c.heads) heads (head dim \(c.head_dim)), mlp \(c.mlp_hidden_size), vocab \(c.vocab_size), max sequence \(c.max_sequence_length), mask id \(c.mask_id)",
        ]
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
            "  weights      \(b(e.weights_bytes))  every tensor resident in full",
            "  embedding    \(b(e.embedding_bytes))  " + (footprint.tensors.contains { $0.sparseRows }
                ? "read by rows from the file: at most \(e.canvas_length + 1) rows (bounded by whole \(e.page_size)-byte pages)" : "counted in weights"),
            "  KV cache     \(b(e.kv_cache_bytes))  " + (e.cache == "none" ? "no cache"
                : "\(c.layers) layers × 2 × \(e.canvas_length) positions × \(c.d_model) × \(kvBytes) B"),
            "  activations  \(b(e.activation_bytes))  largest pass: \(e.pass_queries) rows attending to \(e.pass_keys)",
            "  kernels      \(b(e.kernel_scratch_bytes))  quantized activations of the largest linear, +25 %",
            "  logits       \(b(e.logits_bytes))  (block + 1) rows × \(c.vocab_size) × 4 B",
            "  overhead     \(b(e.overhead_bytes))  runtime \(b(e.runtime_overhead_bytes)) + \(e.tokenizer_bytes_per_json_byte) × tokenizer.json (\(b(e.tokenizer_json_bytes)))",
            "available: \(b(o.available_memory_bytes)) (\(o.available_memory_source))",
        ]
        return lines.joined(separator: "\n")
    }
}
