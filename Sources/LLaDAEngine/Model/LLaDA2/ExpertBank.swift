import LLaDAKernels

/// A MoE layer's experts as the grouped kernel takes them (llada_gemm_experts): every routed
/// expert's gate/up pair and down matrix, and the shared expert as one more expert that every row
/// goes to, all on one `KernelContext` in one quantized format. Built only when all of them run on
/// the kernels (a packed file); f32 checkpoints keep the per-expert sgemm path.
struct ExpertBank: @unchecked Sendable {
    let context: KernelContext
    let format: WeightType
    /// Experts' hidden width (moe_intermediate_size) and the model's.
    let width: Int, hidden: Int
    /// [expert × (gate, up)] and [expert] storage, the shared expert last.
    let gateUp: [UnsafeRawPointer?]
    let down: [UnsafeRawPointer?]
    let includesShared: Bool
    /// Keeps the weights behind the pointers alive.
    private let layers: [KernelLinear]

    init?(experts: [LLaDA2Weights.FeedForward], shared: LLaDA2Weights.FeedForward?) {
        // The shared expert joins when it has the routed experts' width (one shared expert).
        let all = experts + (shared.map { [$0] } ?? [])
        let kernels = all.map { [$0.gate, $0.up, $0.down].compactMap { $0 as? KernelLinear } }
        guard let first = kernels.first?.first, kernels.allSatisfy({ $0.count == 3 }) else { return nil }
        let width = first.outFeatures, hidden = first.inFeatures
        let sameShape = kernels.allSatisfy { ff in
            ff.allSatisfy { $0.format == first.format && $0.context === first.context && $0.format != .f32 }
                && ff[0].outFeatures == width && ff[1].outFeatures == width && ff[0].inFeatures == hidden
                && ff[1].inFeatures == hidden && ff[2].outFeatures == hidden && ff[2].inFeatures == width
        }
        guard sameShape else { return nil }
        context = first.context
        format = first.format
        self.width = width
        self.hidden = hidden
        gateUp = kernels.flatMap { [$0[0].weights.storage, $0[1].weights.storage] }
        down = kernels.map { $0[2].weights.storage }
        includesShared = shared != nil
        layers = kernels.flatMap { $0 }
    }

    /// Bytes of one expert's three matrices.
    var expertBytes: Int { layers[0].weightBytes + layers[1].weightBytes + layers[2].weightBytes }

    /// out[row] = down(silu(gate·x) ⊙ up·x) for the rows of `x` grouped by expert (expert e's at
    /// offsets[e] ..< offsets[e + 1]; offsets has one entry per expert of the bank, plus one).
    func run(_ x: UnsafePointer<Float>, offsets: [Int], into out: UnsafeMutablePointer<Float>, scratch: ExpertScratch) {
        let rows = offsets.last!
        guard rows > 0 else { return }
        let gate = scratch.matrix(.gate, rows: rows, cols: width), up = scratch.matrix(.up, rows: rows, cols: width)
        let experts = offsets.count - 1
        offsets.withUnsafeBufferPointer { offsets in
            var halves: [UnsafeMutablePointer<Float>?] = [gate.pointer, up.pointer]
            llada_gemm_experts(context.pointer, format.kernelCode, experts, 2, gateUp, width, hidden, x, offsets.baseAddress!, &halves)
            llada_swiglu(gate.pointer, up.pointer, rows * width)
            var result: [UnsafeMutablePointer<Float>?] = [out]
            llada_gemm_experts(context.pointer, format.kernelCode, experts, 1, down, hidden, width, gate.pointer, offsets.baseAddress!, &result)
        }
    }
}

/// The grouped experts' buffers, reused by every MoE layer of one forward pass: a full pass's are
/// tens of MB, and fresh ones each layer cost their page faults (a third of a prompt pass).
/// Every buffer is written in full before it is read.
final class ExpertScratch {
    enum Slot: Int, CaseIterable { case input, output, gate, up, slots }
    private var buffers: [FloatBuffer?] = Array(repeating: nil, count: Slot.allCases.count)

    func matrix(_ slot: Slot, rows: Int, cols: Int) -> FloatMatrix {
        if let buffer = buffers[slot.rawValue], buffer.count >= rows * cols {
            return FloatMatrix(rows: rows, cols: cols, storage: buffer)
        }
        let buffer = FloatBuffer(count: rows * cols)
        buffers[slot.rawValue] = buffer
        return FloatMatrix(rows: rows, cols: cols, storage: buffer)
    }
}
