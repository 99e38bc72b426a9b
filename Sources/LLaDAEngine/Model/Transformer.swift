import CBLAS
import LLaDAKernels

/// The LLaDA forward pass (bidirectional LLaMA-style transformer), following the Hugging Face
/// `modeling_llada.py` step by step:
///
///     x = wte[tokens]
///     per block:  h = rms(x)·attn_norm;  q,k,v = h·Wq/k/vᵀ;  RoPE(q, k)
///                 x += softmax(q·kᵀ / sqrt(head_dim)) · v · Woᵀ        (no mask: every position sees every other)
///                 h = rms(x)·ff_norm;  x += (silu(h·W_ffᵀ) ⊙ h·W_upᵀ) · W_downᵀ
///     logits = rms(x)·ln_f · W_headᵀ
public final class Transformer: @unchecked Sendable {
    public let weights: ModelWeights
    public var config: LLaDAConfig { weights.config }
    let rope: RotaryEmbedding
    /// Time accounting for benchmarks (ForwardProfile.swift); nil = none. Fixed at construction:
    /// a benchmark runs a profiled view of the model (`profiled(_:)`), never changes this one.
    public let profile: ForwardProfile?
    /// Fixed at construction: a pass never sees them change.
    public let options: TransformerOptions
    var feedForwardSlice: Int { options.feedForwardSlice }
    var attentionThreads: Int { options.attentionThreads }
    var fusedAttention: Bool { options.fusedAttention }
    /// The row kernels' level (never auto).
    let kernelLevel: Int32

    public init(weights: ModelWeights, options: TransformerOptions = TransformerOptions(), profile: ForwardProfile? = nil) {
        self.weights = weights
        self.options = options
        self.profile = profile
        kernelLevel = (options.kernelLevel == .auto ? KernelLevel.best : options.kernelLevel).rawValue
        let config = weights.config
        rope = RotaryEmbedding(headDim: config.headDim, maxPositions: config.maxSequenceLength, theta: config.ropeBase)
    }

    /// The same network over the same weights, its passes timed into `profile`.
    public func profiled(_ profile: ForwardProfile) -> Transformer {
        Transformer(weights: weights, options: options, profile: profile)
    }

    /// Logits [outputPositions.count × embedding_size] for the sequence `tokens`.
    /// Only the listed positions go through ln_f and the LM head (all positions when nil).
    /// Once `stop` is set the remaining layers are skipped: the result is then meaningless.
    public func logits(tokens: [Int], outputPositions: [Int]? = nil, stop: StopFlag? = nil) -> FloatMatrix {
        let callStart = profile.start()
        defer { profile.stopCall(callStart) }
        let hidden = hiddenStates(tokens: tokens, rows: 0..<tokens.count, context: .full(fill: nil), stop: stop)
        return head(hidden, positions: outputPositions ?? Array(0..<tokens.count))
    }

    /// Logits at `outputPositions` (absolute canvas positions inside `rows`) from a pass that
    /// computes only `rows` of `tokens`, seeing the rest of the canvas through `context`.
    public func logits(tokens: [Int], rows: Range<Int>, context: AttentionContext, outputPositions: [Int],
                       stop: StopFlag? = nil) -> FloatMatrix {
        let callStart = profile.start()
        defer { profile.stopCall(callStart) }
        let hidden = hiddenStates(tokens: tokens, rows: rows, context: context, stop: stop)
        return head(hidden, positions: outputPositions.map { $0 - rows.lowerBound })
    }

    /// The residual stream after the last block for `rows` of the canvas, [rows.count × d_model].
    func hiddenStates(tokens: [Int], rows: Range<Int>, context: AttentionContext, stop: StopFlag? = nil) -> FloatMatrix {
        let d = config.dModel
        precondition(!rows.isEmpty && rows.upperBound <= tokens.count && tokens.count <= config.maxSequenceLength,
                     "sequence length out of range")
        let x = FloatMatrix(rows: rows.count, cols: d)
        for (row, token) in tokens[rows].enumerated() {
            precondition(token >= 0 && token < weights.embedding.rows, "token id out of range")
            weights.embedding.copyRow(token, into: x.row(row))
        }
        let keyRows: Int, cached: Bool, fused: Bool
        switch context {
        case .full: precondition(rows == 0..<tokens.count, "a full pass covers the whole sequence"); keyRows = rows.count; cached = false; fused = false
        case .prefix: precondition(rows.upperBound == tokens.count, "a prefix-cached pass runs to the end"); keyRows = tokens.count; cached = true; fused = false
        case .dual(let cache, let canvasLength): keyRows = canvasLength; cached = true; fused = fusedAttention && cache.storage == .f16
        }
        let scratch = Scratch(queries: rows.count, keys: keyRows, cached: cached, fused: fused, config: config,
                              slice: max(1, feedForwardSlice), scoreSlots: min(max(1, attentionThreads), config.nHeads))
        for (index, layer) in weights.layers.enumerated() {
            // Stopped: the rest of this pass is skipped and its result discarded (StopFlag.swift).
            if stop.isStopped { break }
            block(layer, index: index, x: x, rows: rows, context: context, scratch: scratch)
        }
        return x
    }

    /// Rows of the feed-forward hidden buffers: passes longer than this go through the
    /// feed-forward block in slices. The kernels compute every row on its own, so slicing is
    /// bit-identical there (tested); OpenBLAS may pick other kernels for other row counts, so
    /// the f32 path may differ in the last bits for passes over 256 rows.
    public static let feedForwardSlice = 256
    /// Buffers reused across the blocks of one forward call.
    private final class Scratch {
        let normed, query, key, value, attention, projected: FloatMatrix
        let gate, up: FloatMatrix
        /// One head's keys and values of every attended position per attention thread, when part
        /// of them come from a cache ([keys × head_dim] each).
        let headKeys, headValues: FloatMatrix
        let scores: FloatMatrix
        /// The fused attention's work area, one row per attention thread (else empty).
        let fusedWork: FloatMatrix

        init(queries: Int, keys: Int, cached: Bool, fused: Bool, config: LLaDAConfig, slice: Int, scoreSlots: Int) {
            let d = config.dModel
            normed = FloatMatrix(rows: queries, cols: d)
            query = FloatMatrix(rows: queries, cols: d)
            key = FloatMatrix(rows: queries, cols: d)
            value = FloatMatrix(rows: queries, cols: d)
            attention = FloatMatrix(rows: queries, cols: d)
            projected = FloatMatrix(rows: queries, cols: d)
            gate = FloatMatrix(rows: min(queries, slice), cols: config.ffHiddenSize)
            up = FloatMatrix(rows: min(queries, slice), cols: config.ffHiddenSize)
            let headRows = cached && !fused ? keys * scoreSlots : 0
            headKeys = FloatMatrix(rows: headRows, cols: config.headDim)
            headValues = FloatMatrix(rows: headRows, cols: config.headDim)
            scores = FloatMatrix(rows: fused ? 0 : queries * scoreSlots, cols: keys)
            fusedWork = FloatMatrix(rows: fused ? scoreSlots : 0, cols: llada_attention_work_floats(queries, keys, config.headDim))
        }
    }

    private func block(_ layer: LayerWeights, index: Int, x: FloatMatrix, rows: Range<Int>, context: AttentionContext, scratch s: Scratch) {
        let length = x.rows, d = x.cols
        let eps = config.normEps
        llada_rms_norm(x.pointer, layer.attentionNorm.pointer, s.normed.pointer, length, d, eps)
        profile?.addOperations(rows: length, [layer.query, layer.key, layer.value, layer.attentionOut, layer.gate, layer.up, layer.down])
        var mark = profile.start()
        SharedInputProducts.apply([layer.query, layer.key, layer.value], s.normed.pointer, rows: length,
                                  into: [s.query.pointer, s.key.pointer, s.value.pointer])
        mark = profile.stop(.matmul, mark)
        let first = rows.lowerBound
        rope.apply(s.query.pointer, rows: length, heads: config.nHeads) { first + $0 }
        rope.apply(s.key.pointer, rows: length, heads: config.nHeads) { first + $0 }
        let cached: CachedKeys?
        switch context {
        case .full(let fill):
            fill?.write(layer: index, .key, start: 0, rows: length, from: s.key.pointer)
            fill?.write(layer: index, .value, start: 0, rows: length, from: s.value.pointer)
            cached = nil
        case .prefix(let cache):
            // Positions before the rows from the cache, the rows' own keys as computed.
            cached = CachedKeys(cache: cache, layer: index, rows: first, keys: first + length)
        case .dual(let cache, let canvasLength):
            // The rows' keys go into the cache first; every key is then read from it.
            cache.write(layer: index, .key, start: first, rows: length, from: s.key.pointer)
            cache.write(layer: index, .value, start: first, rows: length, from: s.value.pointer)
            cached = CachedKeys(cache: cache, layer: index, rows: canvasLength, keys: canvasLength)
        }
        attend(query: s.query, key: s.key, value: s.value, cached: cached, scratch: s, into: s.attention)
        mark = profile.stop(.attention, mark)
        layer.attentionOut.apply(s.attention.pointer, rows: length, into: s.projected.pointer)
        profile.stop(.matmul, mark)
        addInPlace(x.pointer, s.projected.pointer, count: length * d)

        llada_rms_norm(x.pointer, layer.feedForwardNorm.pointer, s.normed.pointer, length, d, eps)
        // Rows are independent here: long passes go through in slices, so the two hidden-size
        // buffers stay small (a 768-row pass of the 8B would need 75 MB for them).
        for start in stride(from: 0, to: length, by: s.gate.rows) {
            let slice = min(s.gate.rows, length - start)
            let input = s.normed.row(start), output = s.projected.row(start)
            mark = profile.start()
            SharedInputProducts.apply([layer.gate, layer.up], input, rows: slice, into: [s.gate.pointer, s.up.pointer])
            profile.stop(.matmul, mark)
            llada_swiglu_path(s.gate.pointer, s.up.pointer, slice * config.ffHiddenSize, kernelLevel)
            mark = profile.start()
            layer.down.apply(s.gate.pointer, rows: slice, into: output)
            profile.stop(.matmul, mark)
        }
        addInPlace(x.pointer, s.projected.pointer, count: length * d)
    }

    /// The keys and values attention reads from a KV cache: positions 0..<rows come from layer
    /// `layer` of `cache`, positions rows..<keys are the pass's own rows (prefix cache).
    struct CachedKeys {
        let cache: KVCache
        let layer: Int
        let rows: Int
        let keys: Int
    }

    /// Full (non-causal) multi-head attention of `query` rows over the pass's own `key`/`value`
    /// rows and, when `cached` is given, the cached positions before them. Each head's keys and
    /// values are gathered (and converted from the cache's f16) into a [keys × head_dim] buffer of
    /// its thread's slot, which stays in cache for both products; `scores` holds one
    /// [queries × keys] slot per attention thread.
    private func attend(query: FloatMatrix, key: FloatMatrix, value: FloatMatrix, cached: CachedKeys?, scratch s: Scratch,
                        into output: FloatMatrix) {
        let queries = query.rows, d = config.dModel, headDim = config.headDim
        let keys = cached?.keys ?? key.rows
        let scale = 1 / Float(headDim).squareRoot()
        let fused = s.fusedWork.rows > 0
        let slots = fused ? s.fusedWork.rows : s.scores.rows / max(queries, 1)
        func head(_ h: Int, slot: Int) {
            let offset = h * headDim
            if fused, let cached, let keyHalves = cached.cache.halves(layer: cached.layer, .key, head: h),
               let valueHalves = cached.cache.halves(layer: cached.layer, .value, head: h) {
                llada_attention_f16_path(query.pointer + offset, d, queries, keyHalves, valueHalves, headDim, keys,
                                         headDim, scale, output.pointer + offset, d, s.fusedWork.row(slot), kernelLevel)
                return
            }
            var keyPointer = UnsafePointer(key.pointer + offset), valuePointer = UnsafePointer(value.pointer + offset)
            var stride = d
            if let cached {
                let headKeys = s.headKeys.row(slot * keys), headValues = s.headValues.row(slot * keys)
                cached.cache.read(layer: cached.layer, .key, head: h, start: 0, rows: cached.rows, into: headKeys)
                cached.cache.read(layer: cached.layer, .value, head: h, start: 0, rows: cached.rows, into: headValues)
                for row in cached.rows..<keys {
                    (headKeys + row * headDim).update(from: key.row(row - cached.rows) + offset, count: headDim)
                    (headValues + row * headDim).update(from: value.row(row - cached.rows) + offset, count: headDim)
                }
                keyPointer = UnsafePointer(headKeys)
                valuePointer = UnsafePointer(headValues)
                stride = headDim
            }
            let p = s.scores.pointer + slot * queries * keys
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(queries), Int32(keys), Int32(headDim),
                        scale, query.pointer + offset, Int32(d), keyPointer, Int32(stride),
                        0, p, Int32(keys))
            for r in 0..<queries { llada_softmax_row_path(p + r * keys, keys, kernelLevel) }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(queries), Int32(headDim), Int32(keys),
                        1, p, Int32(keys), valuePointer, Int32(stride),
                        0, output.pointer + offset, Int32(d))
        }
        guard slots > 1 else {
            for h in 0..<config.nHeads { head(h, slot: 0) }
            return
        }
        let heads = config.nHeads
        parallelFor(slots) { slot in
            for h in stride(from: slot, to: heads, by: slots) { head(h, slot: slot) }
        }
    }

    /// ln_f and the LM head on the chosen rows of the final hidden states.
    func head(_ hidden: FloatMatrix, positions: [Int]) -> FloatMatrix {
        let d = config.dModel
        let gathered = FloatMatrix(rows: positions.count, cols: d)
        for (row, position) in positions.enumerated() {
            gathered.row(row).update(from: hidden.row(position), count: d)
        }
        llada_rms_norm(gathered.pointer, weights.finalNorm.pointer, gathered.pointer, positions.count, d, config.normEps)
        let logits = FloatMatrix(rows: positions.count, cols: weights.lmHead.outFeatures)
        profile?.addOperations(rows: positions.count, [weights.lmHead])
        let mark = profile.start()
        weights.lmHead.apply(gathered.pointer, rows: positions.count, into: logits.pointer)
        profile.stop(.lmHead, mark)
        return logits
    }

    private func addInPlace(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { x[i] += y[i] }
    }
}
