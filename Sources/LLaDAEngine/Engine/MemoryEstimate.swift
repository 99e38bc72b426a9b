/// The memory one generation needs, estimated before the model is loaded so that a run that
/// cannot fit is refused instead of being killed (or swapping) half-way through.
///
/// A pure function of the config, the tensors' footprints, the settings and the prompt length:
///
///     weights      Σ bytes of every tensor resident in full
///     embedding    a table read by rows (pread): at most (canvas + 1) rows, counted in whole pages
///                  × whole pages per row, capped at the table; otherwise the whole table
///     KV cache     layers × 2 × canvas × key/value width × bytes of --kv-type (f32 for an exact
///                  cache; 0 with --cache none)
///     activations  the largest forward pass: 4 · (Q·(7·d + 2·mlp) + Q·K + 2·K·d when K ≠ Q),
///                  Q = rows computed, K = rows attended (Transformer.Scratch + the residual;
///                  2·K·d bounds the cached passes' per-thread head buffers, 2·K·head_dim each);
///                  a mixture of experts: see `passBytes` (its f32 reference pass's buffers)
///     logits       (block + 1) × vocab × 4, twice the block with CFG
///     kernels      1.25 × the largest quantized-activation buffer (m·k int8 + 2·m·k/32 floats
///                  for q8_0/q4_0; m·k floats for f16; none for f32 weights)
///     overhead     runtime, thread pool and BLAS buffers + the tokenizer's tables (measured)
public struct MemoryEstimate: Sendable, Equatable {
    public var weightBytes: Int
    /// The part of `weightBytes` mapped in place from the file (file-backed pages, shared with
    /// the page cache); the rest is the process's own (anonymous) memory.
    public var mappedWeightBytes: Int
    public var embeddingBytes: Int
    public var kvCacheBytes: Int
    public var activationBytes: Int
    public var logitsBytes: Int
    public var kernelScratchBytes: Int
    public var overheadBytes: Int

    /// Formula inputs, for `llada info` and the error message.
    public var canvasLength: Int
    /// Rows computed (queries) and attended (keys) by the forward pass with the largest buffers.
    public var passQueries: Int
    public var passKeys: Int

    public var totalBytes: Int {
        weightBytes + embeddingBytes + kvCacheBytes + activationBytes + logitsBytes + kernelScratchBytes + overheadBytes
    }

    /// Resident memory besides weights and buffers (Swift runtime, Foundation, libraries, the
    /// thread pools, OpenBLAS's buffers), measured on Linux x86-64: `llada bench` on the fixture
    /// peaks at 29.5 MB (q4 file) to 39.7 MB (checkpoint, OpenBLAS for every matmul) of which
    /// 1.6 / 8.5 MB are weights.
    public static let runtimeOverheadBytes = 32 << 20
    /// The tokenizer's tables per byte of tokenizer.json: `llada tokenize` peaks at 25.5 MB with
    /// the fixture's 22 kB tokenizer.json and at 67.1 MB with the 1B/8B-sized 6.95 MB one.
    public static let tokenizerBytesPerJSONByte = 6

    /// `generatedLength`: the positions after the prompt the sampler runs (the family's canvas
    /// length; gen_length when nil).
    public init(shape: ModelShape, tensors: [TensorFootprint], tokenizerBytes: Int, settings: GenerationSettings,
                promptLength: Int, generatedLength: Int? = nil, pageSize: Int = 4096) {
        let canvas = promptLength + (generatedLength ?? settings.genLength)
        let d = shape.hiddenSize, mlp = shape.feedForwardWidth, block = settings.blockLength
        canvasLength = canvas

        weightBytes = tensors.filter { !$0.sparseRows }.reduce(0) { $0 + $1.bytes }
        mappedWeightBytes = tensors.filter { !$0.sparseRows && $0.mapped }.reduce(0) { $0 + $1.bytes }
        embeddingBytes = tensors.filter(\.sparseRows).reduce(0) { sum, table in
            let rows = table.shape.first ?? 1
            let rowBytes = table.bytes / max(rows, 1)
            let pagesPerRow = (rowBytes + pageSize - 1) / pageSize + 1   // a row may straddle a page boundary
            return sum + min(table.bytes, min(rows, canvas + 1) * pagesPerRow * pageSize)
        }

        // Planned settings name their cache; an unplanned `automatic` counts as none.
        let kvElement = shape.cacheIsAlwaysF32 ? 4 : settings.kvStorage.byteSize
        kvCacheBytes = !settings.usesCache ? 0 : shape.layers * 2 * canvas * shape.keyValueWidth * kvElement

        // Every mode runs full passes; prefix steps run from the block to the end (largest at the
        // first block), dual steps only the block, both attending to the whole canvas.
        var passes = [(queries: canvas, keys: canvas)]
        switch settings.cache {
        case .automatic, .none: break
        case .prefix: passes.append((canvas - promptLength, canvas))
        case .dual: passes.append((block, canvas))
        case .block: passes.append((min(2 * block, canvas), canvas))
        }
        // The feed-forward hidden buffers hold at most `Transformer.feedForwardSlice` rows.
        let slice = Transformer.feedForwardSlice
        func passBytes(_ q: Int, _ k: Int) -> Int {
            guard let experts = shape.experts else {
                return 4 * (q * 7 * d + min(q, slice) * 2 * mlp + q * k + (k == q ? 0 : 2 * k * d))
            }
            // LLaDA2Network: residual and norm, fused q/k/v, keys and values of every visible
            // position, attention output and projection, one block's scores; router logits, the
            // experts' slots (top-k rows per row), the widest feed-forward hidden pair.
            let hd = shape.headDim, h = shape.heads, kv = shape.keyValueHeads
            return 4 * (q * (4 * d + (h + 3 * kv) * hd + h * hd + experts.count + experts.perToken * d + 2 * mlp)
                        + 2 * kv * k * hd + min(block, q) * k)
        }
        let largest = passes.max { passBytes($0.queries, $0.keys) < passBytes($1.queries, $1.keys) }!
        passQueries = largest.queries
        passKeys = largest.keys
        activationBytes = passBytes(largest.queries, largest.keys)

        let vocab = shape.vocabularySize
        logitsBytes = ((settings.cfgScale > 0 ? 2 : 1) * block + 1) * vocab * 4

        let scratch = tensors.filter { $0.shape.count == 2 && $0.role != .embedding }.map { tensor -> Int in
            let m = tensor.role == .lmHead ? block
                : tensor.role == .ffGateUp || tensor.role == .ffDown ? min(canvas, slice) : canvas
            let k = tensor.shape[1]
            switch tensor.type {
            case .q8_0, .q4_0: return Self.roundUp64(m * k) + 2 * Self.roundUp64(m * (k / 32) * 4)
            case .f16: return m > 1 ? m * k * 4 : 0
            case .f32: return 0
            }
        }.max() ?? 0
        kernelScratchBytes = scratch + scratch / 4

        overheadBytes = Self.runtimeOverheadBytes + Self.tokenizerBytesPerJSONByte * tokenizerBytes
    }

    public init(footprint: WeightFootprint, settings: GenerationSettings, promptLength: Int, generatedLength: Int? = nil,
                pageSize: Int = 4096) {
        self.init(shape: footprint.shape, tensors: footprint.tensors, tokenizerBytes: footprint.tokenizerBytes,
                  settings: settings, promptLength: promptLength, generatedLength: generatedLength, pageSize: pageSize)
    }

    private static func roundUp64(_ value: Int) -> Int { (value + 63) / 64 * 64 }

    /// "weights 5.84 GB, KV cache 34.6 MB, ..." for messages.
    public var breakdown: String {
        [("weights", weightBytes + embeddingBytes), ("KV cache", kvCacheBytes), ("activations", activationBytes + kernelScratchBytes),
         ("logits", logitsBytes), ("runtime and tokenizer", overheadBytes)]
            .map { "\($0.0) \(ByteFormat.string($0.1))" }.joined(separator: ", ")
    }
}

extension MemoryEstimate {
    /// Refuses (one clear error) when the estimate exceeds `available`.
    public func check(against available: AvailableMemory) throws {
        guard totalBytes > available.bytes else { return }
        throw LLaDAError("this run needs about \(ByteFormat.string(totalBytes)) (\(breakdown)) but only \(ByteFormat.string(available.bytes)) is available (\(available.source)); lower \(setting("gen_length")) or the prompt length, use a smaller file (llada-quantize --type q4), or pass \(setting("force")) to run anyway")
    }
}
