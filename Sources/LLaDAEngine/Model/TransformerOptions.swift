/// How a `Transformer` runs its passes, fixed when it is built (`ComputeContext` chooses them
/// at load).
public struct TransformerOptions: Sendable, Equatable {
    /// Rows of the feed-forward hidden buffers: longer passes go through the feed-forward block
    /// in slices (bit-identical on the kernels; tests use small slices).
    public var feedForwardSlice = Transformer.feedForwardSlice
    /// Attention heads spread over this many threads, each head's products on single-threaded
    /// OpenBLAS (1 = all heads in turn on OpenBLAS's own threads). For models whose linears all
    /// run on our kernels: OpenBLAS's threads then never spin next to the kernels'.
    public var attentionThreads = 1
    /// Dual-cache passes over an f16 cache attend with `llada_attention_f16`, which reads each
    /// head's keys and values in place (attention.c); false runs them through the f32 buffers and
    /// OpenBLAS as the other passes do (tests and benchmarks compare the two).
    public var fusedAttention = true
    /// The level of the attention, softmax and SwiGLU kernels: the model's `KernelContext` level
    /// (`.auto`: the best this CPU has).
    public var kernelLevel: QuantizedMatmul.Path = .auto

    public init(feedForwardSlice: Int = Transformer.feedForwardSlice, attentionThreads: Int = 1, fusedAttention: Bool = true,
                kernelLevel: QuantizedMatmul.Path = .auto) {
        self.feedForwardSlice = feedForwardSlice
        self.attentionThreads = attentionThreads
        self.fusedAttention = fusedAttention
        self.kernelLevel = kernelLevel
    }
}
