import CBLAS
import Foundation
import LLaDAKernels

/// The LLaDA 2 forward pass (`LLaDA2MoeModelLM`, SDPA attention) in f32, step by step:
///
///     x = word_embeddings[tokens]
///     per layer:  h = rms(x)·input_norm;  q,k,v = split(h·W_qkvᵀ);  q,k = rms_per_head(q,k)·q/k_norm
///                 RoPE on each q/k head's first rope_dim features;  GQA (k/v head j serves q heads j·g … j·g+g−1)
///                 x += softmax(q·kᵀ/√head_dim + block mask) · v · W_denseᵀ
///                 h = rms(x)·post_norm;  x += dense SwiGLU(h) (first_k_dense_replace layers)
///                                          or Σ_chosen w_e·expert_e(h) + shared(h) (ExpertRouter)
///     logits = rms(x)·norm · W_lm_headᵀ
///
/// The block mask: positions are cut into blocks of `blockLength` from position 0, and a query
/// attends to the keys of its own block and the blocks before it.
public final class LLaDA2Network: @unchecked Sendable {
    public let weights: LLaDA2Weights
    public var config: LLaDA2Config { weights.config }
    let rope: RotaryEmbedding
    let router: ExpertRouter
    /// Set on a benchmark's profiled view (`profiled(_:)`), never on the model's own network.
    public let profile: ForwardProfile?

    public init(weights: LLaDA2Weights, profile: ForwardProfile? = nil) {
        self.weights = weights
        self.profile = profile
        let config = weights.config
        rope = RotaryEmbedding(headDim: config.resolvedHeadDim, maxPositions: config.maxPositionEmbeddings,
                               theta: config.ropeTheta, rotaryDim: config.ropeDim)
        router = ExpertRouter(experts: config.numExperts, groups: config.nGroup, topkGroup: config.topkGroup,
                              topK: config.numExpertsPerTok, routedScalingFactor: Float(config.routedScalingFactor))
    }

    /// What the router chose, per MoE layer and position (tests compare it with the reference's).
    public final class RouterTrace: @unchecked Sendable {
        /// [layer: [position: experts in the reference's order]]
        public internal(set) var experts: [Int: [[Int]]] = [:]
        public init() {}
    }

    /// Logits [outputPositions.count × vocab_size] (all positions when nil) of a pass over
    /// `tokens` at positions 0 …, under the block mask of `blockLength`.
    public func logits(tokens: [Int], blockLength: Int, outputPositions: [Int]? = nil, trace: RouterTrace? = nil) -> FloatMatrix {
        forward(tokens: tokens, rows: 0..<tokens.count, blockLength: blockLength, cache: nil,
                outputPositions: outputPositions ?? Array(tokens.indices), trace: trace)
    }

    /// A pass over `rows` of `tokens`: positions before the rows are seen through `cache` (their
    /// keys and values, as an earlier pass stored them), positions after them are not seen (the
    /// block mask hides them from every row). The rows' own keys and values go into `cache`.
    /// `outputPositions` must lie in `rows`.
    func forward(tokens: [Int], rows: Range<Int>, blockLength: Int, cache: KVCache?, outputPositions: [Int],
                 trace: RouterTrace? = nil) -> FloatMatrix {
        let config = self.config
        let callStart = profile.start()
        defer { profile.stopCall(callStart) }
        precondition(rows.lowerBound == 0 || cache != nil, "rows after 0 need the cache of the positions before them")
        let length = rows.count, d = config.hiddenSize
        let x = FloatMatrix(rows: length, cols: d)
        for (row, position) in rows.enumerated() {
            let token = tokens[position]
            precondition(token >= 0 && token < config.vocabSize, "token \(token) outside the vocabulary")
            weights.embedding.copyRow(token, into: x.pointer + row * d)
        }
        let normed = FloatMatrix(rows: length, cols: d)
        let scratch = ExpertScratch()
        for (index, layer) in weights.layers.enumerated() {
            llada_rms_norm(x.pointer, layer.inputNorm.pointer, normed.pointer, length, d, Float(config.rmsNormEps))
            let attention = attend(layer, index: index, normed, rows: rows, blockLength: blockLength, cache: cache)
            add(attention, into: x)
            llada_rms_norm(x.pointer, layer.postAttentionNorm.pointer, normed.pointer, length, d, Float(config.rmsNormEps))
            let mlp: FloatMatrix
            switch layer.mlp {
            case .dense(let feedForward):
                mlp = apply(feedForward, normed, rows: length)
            case .mixture(let mixture):
                mlp = self.mixture(normed, rows: length, mixture, scratch: scratch, trace: trace, layer: index)
            }
            add(mlp, into: x)
        }
        let gathered = FloatMatrix(rows: outputPositions.count, cols: d)
        for (row, position) in outputPositions.enumerated() {
            precondition(rows.contains(position), "output position \(position) outside the rows \(rows)")
            (gathered.pointer + row * d).update(from: x.row(position - rows.lowerBound), count: d)
        }
        llada_rms_norm(gathered.pointer, weights.finalNorm.pointer, gathered.pointer, outputPositions.count, d, Float(config.rmsNormEps))
        let logits = FloatMatrix(rows: outputPositions.count, cols: config.vocabSize)
        profile?.addOperations(rows: outputPositions.count, [weights.lmHead])
        let mark = profile.start()
        weights.lmHead.apply(gathered.pointer, rows: outputPositions.count, into: logits.pointer)
        profile.stop(.lmHead, mark)
        return logits
    }

    private func add(_ delta: FloatMatrix, into x: FloatMatrix) {
        for i in 0..<(x.rows * x.cols) { x.pointer[i] += delta.pointer[i] }
    }

    /// Fused q/k/v, per-head q/k RMSNorm, partial RoPE, grouped-query attention under the block
    /// mask (keys and values of the positions before `rows` from `cache`), the output projection.
    private func attend(_ layer: LLaDA2Weights.Layer, index: Int, _ h: FloatMatrix, rows: Range<Int>, blockLength: Int,
                        cache: KVCache?) -> FloatMatrix {
        let config = self.config
        let heads = config.numAttentionHeads, kvHeads = config.numKeyValueHeads, hd = config.resolvedHeadDim
        let width = (heads + 2 * kvHeads) * hd, length = rows.count
        let qkv = FloatMatrix(rows: length, cols: width)
        profile?.addOperations(rows: length, [layer.queryKeyValue, layer.output])
        var mark = profile.start()
        layer.queryKeyValue.apply(h.pointer, rows: length, into: qkv.pointer)
        mark = profile.stop(.matmul, mark)
        let eps = Float(config.rmsNormEps)
        for row in 0..<length {
            let base = qkv.row(row)
            llada_rms_norm(base, layer.queryNorm.pointer, base, heads, hd, eps)
            llada_rms_norm(base + heads * hd, layer.keyNorm.pointer, base + heads * hd, kvHeads, hd, eps)
        }
        rope.apply(qkv.pointer, rows: length, heads: heads, rowStride: width) { rows.lowerBound + $0 }
        rope.apply(qkv.pointer + heads * hd, rows: length, heads: kvHeads, rowStride: width) { rows.lowerBound + $0 }

        // Keys and values of every visible position, head by head: [0, rows.upperBound) × hd.
        let visible = rows.upperBound, cached = rows.lowerBound
        let keys = FloatMatrix(rows: kvHeads * visible, cols: hd), values = FloatMatrix(rows: kvHeads * visible, cols: hd)
        let fresh = FloatMatrix(rows: length, cols: kvHeads * hd)
        for (kind, offset, target) in [(KVCache.Kind.key, heads * hd, keys), (.value, (heads + kvHeads) * hd, values)] {
            for row in 0..<length { fresh.row(row).update(from: qkv.row(row) + offset, count: kvHeads * hd) }
            cache?.write(layer: index, kind, start: cached, rows: length, from: fresh.pointer)
            for head in 0..<kvHeads {
                let destination = target.pointer + head * visible * hd
                if cached > 0 { cache!.read(layer: index, kind, head: head, start: 0, rows: cached, into: destination) }
                for row in 0..<length { (destination + (cached + row) * hd).update(from: fresh.row(row) + head * hd, count: hd) }
            }
        }

        let output = FloatMatrix(rows: length, cols: heads * hd)
        let group = heads / kvHeads
        let scale = 1 / Float(hd).squareRoot()
        let block = max(blockLength, 1)
        let scores = FloatMatrix(rows: min(block, length), cols: visible)
        var start = rows.lowerBound
        while start < rows.upperBound {
            // The queries of one block see keys 0 ..< end: their own block and the ones before.
            let end = min((start / block + 1) * block, visible), queries = end - start
            for head in 0..<heads {
                let kv = head / group
                let q = qkv.pointer + (start - rows.lowerBound) * width + head * hd
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(queries), Int32(end), Int32(hd),
                            scale, q, Int32(width), keys.pointer + kv * visible * hd, Int32(hd), 0, scores.pointer, Int32(visible))
                for r in 0..<queries { llada_softmax_row(scores.pointer + r * visible, end) }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(queries), Int32(hd), Int32(end),
                            1, scores.pointer, Int32(visible), values.pointer + kv * visible * hd, Int32(hd), 0,
                            output.pointer + (start - rows.lowerBound) * heads * hd + head * hd, Int32(heads * hd))
            }
            start = end
        }
        let projected = FloatMatrix(rows: length, cols: config.hiddenSize)
        mark = profile.stop(.attention, mark)
        layer.output.apply(output.pointer, rows: length, into: projected.pointer)
        profile.stop(.matmul, mark)
        return projected
    }

    /// down(silu(gate·h) ⊙ up·h); `counted` false when the caller counts its operations.
    private func apply(_ feedForward: LLaDA2Weights.FeedForward, _ h: FloatMatrix, rows: Int, counted: Bool = true) -> FloatMatrix {
        let width = feedForward.gate.outFeatures
        let gate = FloatMatrix(rows: rows, cols: width), up = FloatMatrix(rows: rows, cols: width)
        if counted { profile?.addOperations(rows: rows, [feedForward.gate, feedForward.up, feedForward.down]) }
        var mark = profile.start()
        feedForward.gate.apply(h.pointer, rows: rows, into: gate.pointer)
        feedForward.up.apply(h.pointer, rows: rows, into: up.pointer)
        mark = profile.stop(.matmul, mark)
        llada_swiglu(gate.pointer, up.pointer, rows * width)
        let out = FloatMatrix(rows: rows, cols: h.cols)
        mark = profile.start()
        feedForward.down.apply(gate.pointer, rows: rows, into: out.pointer)
        profile.stop(.matmul, mark)
        return out
    }

    /// The routed experts, each run once over the rows that chose it (rows grouped by expert, as
    /// the reference's `moe_infer`), summed per row in the router's order, plus the shared expert.
    /// On a packed file all experts (the shared one too) run as two grouped kernel calls
    /// (ExpertBank); each row's result is bit for bit the one of running its experts one by one.
    private func mixture(_ h: FloatMatrix, rows: Int, _ mixture: LLaDA2Weights.Mixture, scratch: ExpertScratch, trace: RouterTrace?,
                         layer: Int) -> FloatMatrix {
        let d = h.cols, topK = router.topK
        let routerLogits = FloatMatrix(rows: rows, cols: router.experts)
        profile?.addOperations(rows: rows, [mixture.router])
        var mark = profile.start()
        mixture.router.apply(h.pointer, rows: rows, into: routerLogits.pointer)
        mark = profile.stop(.matmul, mark)
        let choices = (0..<rows).map { router.route(logits: routerLogits.row($0), bias: mixture.expertBias.pointer) }
        trace?.experts[layer] = choices.map(\.experts)

        // Each (row, k) slot's expert output, then the weighted sum over k in order.
        var rowsOf = [[(row: Int, slot: Int)]](repeating: [], count: router.experts)
        for (row, choice) in choices.enumerated() {
            for (k, expert) in choice.experts.enumerated() { rowsOf[expert].append((row, row * topK + k)) }
        }
        let used = rowsOf.filter { !$0.isEmpty }
        profile?.addExperts(used.count, layer: layer)
        for members in used { profile?.addOperations(rows: members.count, [mixture.experts[0].gate, mixture.experts[0].up, mixture.experts[0].down]) }
        let slots: FloatMatrix, out: FloatMatrix
        if let bank = mixture.bank {
            (slots, out) = runBank(bank, h, rows: rows, rowsOf: rowsOf, topK: topK, scratch: scratch)
            if let shared = mixture.shared { profile?.addOperations(rows: rows, [shared.gate, shared.up, shared.down]) }
            profile.stop(.matmul, mark)
        } else {
            slots = FloatMatrix(rows: rows * topK, cols: d)
            for (expert, members) in rowsOf.enumerated() where !members.isEmpty {
                let input = FloatMatrix(rows: members.count, cols: d)
                for (i, member) in members.enumerated() { (input.pointer + i * d).update(from: h.row(member.row), count: d) }
                let output = apply(mixture.experts[expert], input, rows: members.count, counted: false)
                for (i, member) in members.enumerated() { slots.row(member.slot).update(from: output.row(i), count: d) }
            }
            out = mixture.shared.map { apply($0, h, rows: rows) } ?? FloatMatrix(rows: rows, cols: d)
        }
        var sum = [Float](repeating: 0, count: d)
        for (row, choice) in choices.enumerated() {
            for j in 0..<d { sum[j] = 0 }
            for (k, weight) in choice.weights.enumerated() {
                let y = slots.row(row * topK + k)
                for j in 0..<d { sum[j] += weight * y[j] }
            }
            // The reference adds the shared expert to the routed sum: y = moe(h) + shared(h).
            let destination = out.row(row)
            for j in 0..<d { destination[j] = sum[j] + destination[j] }
        }
        return out
    }

    /// The bank's grouped products: the rows gathered expert by expert (the shared expert last,
    /// over every row), then the outputs scattered back to their (row, k) slots; returns the
    /// slots and the shared expert's output (zero without one).
    private func runBank(_ bank: ExpertBank, _ h: FloatMatrix, rows: Int, rowsOf: [[(row: Int, slot: Int)]], topK: Int,
                         scratch: ExpertScratch) -> (slots: FloatMatrix, shared: FloatMatrix) {
        let d = h.cols
        var offsets = [0]
        offsets.reserveCapacity(rowsOf.count + 2)
        for members in rowsOf { offsets.append(offsets.last! + members.count) }
        let routed = offsets.last!
        if bank.includesShared { offsets.append(routed + rows) }
        let input = scratch.matrix(.input, rows: offsets.last!, cols: d), output = scratch.matrix(.output, rows: offsets.last!, cols: d)
        var next = 0
        for members in rowsOf {
            for member in members { (input.pointer + next * d).update(from: h.row(member.row), count: d); next += 1 }
        }
        if bank.includesShared { (input.pointer + routed * d).update(from: h.pointer, count: rows * d) }
        bank.run(input.pointer, offsets: offsets, into: output.pointer, scratch: scratch)
        let slots = scratch.matrix(.slots, rows: rows * topK, cols: d)
        next = 0
        for members in rowsOf {
            for member in members { slots.row(member.slot).update(from: output.row(next), count: d); next += 1 }
        }
        let shared = FloatMatrix(rows: rows, cols: d)
        if bank.includesShared { shared.pointer.update(from: output.pointer + routed * d, count: rows * d) }
        return (slots, shared)
    }
}
