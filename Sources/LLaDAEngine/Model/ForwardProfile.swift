import Foundation

/// Where the forward pass spends its time, for `llada bench`. Attach one to
/// `Transformer.profile` (a profiled view: `LLaDAModel.profiled`); without one the pass pays a nil check per timed region.
///
/// Regions are timed exclusively: `matmul` is every linear layer (q/k/v/attn_out, the
/// feed-forward matrices and the LM head, which is also counted alone in `lmHead`), `attention`
/// is RoPE, the key/value cache reads and writes and the attention itself (scores, softmax, PV).
/// `total` is the whole call, so the rest (norms, embedding lookup, residual adds, SwiGLU, row
/// gathering) is `total − matmul − attention`. Not thread-safe: one forward call at a time.
public final class ForwardProfile: @unchecked Sendable {
    public enum Region { case matmul, lmHead, attention }

    public private(set) var matmulNanoseconds: UInt64 = 0
    public private(set) var lmHeadNanoseconds: UInt64 = 0
    public private(set) var attentionNanoseconds: UInt64 = 0
    public private(set) var totalNanoseconds: UInt64 = 0
    /// Forward calls (a guided step makes two).
    public private(set) var calls = 0
    /// Operations of every linear product (2 · rows · in · out; the LM head included): the work a
    /// step's floor is measured from.
    public private(set) var matmulOperations: UInt64 = 0
    /// Bytes of weights the products read: each matrix once per call, of a MoE layer only the
    /// experts its rows were routed to. Over the memory bandwidth, a step's streaming floor.
    public private(set) var weightBytes: UInt64 = 0
    /// Distinct routed experts run, summed over the MoE layers of every call, and those layers.
    public private(set) var expertsRun: UInt64 = 0
    public private(set) var moeLayersRun: UInt64 = 0
    /// Distinct routed experts run per MoE layer (by layer index), summed over calls.
    public private(set) var expertsByLayer: [Int: UInt64] = [:]

    public init() {}

    public var otherNanoseconds: UInt64 {
        let timed = matmulNanoseconds + attentionNanoseconds
        return totalNanoseconds > timed ? totalNanoseconds - timed : 0
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    func add(_ region: Region, _ elapsed: UInt64) {
        switch region {
        case .matmul: matmulNanoseconds &+= elapsed
        case .lmHead: matmulNanoseconds &+= elapsed; lmHeadNanoseconds &+= elapsed
        case .attention: attentionNanoseconds &+= elapsed
        }
    }

    func addOperations(rows: Int, _ layers: [any LinearLayer]) {
        for layer in layers {
            matmulOperations &+= 2 * UInt64(rows) * UInt64(layer.inFeatures) * UInt64(layer.outFeatures)
            weightBytes &+= UInt64(layer.weightBytes)
        }
    }

    func addExperts(_ count: Int, layer: Int) {
        expertsByLayer[layer, default: 0] &+= UInt64(count)
        expertsRun &+= UInt64(count)
        moeLayersRun &+= 1
    }

    func addCall(_ elapsed: UInt64) {
        totalNanoseconds &+= elapsed
        calls += 1
    }
}

/// The Transformer's hooks: start/stop marks rather than closures, so timed code keeps its shape.
extension Optional where Wrapped == ForwardProfile {
    /// A start mark (0 when no profile is attached).
    @inline(__always)
    func start() -> UInt64 {
        guard self != nil else { return 0 }
        return ForwardProfile.now()
    }

    /// Adds the time since `mark` to `region`; returns the new mark, so regions can follow each other.
    @inline(__always) @discardableResult
    func stop(_ region: ForwardProfile.Region, _ mark: UInt64) -> UInt64 {
        guard let profile = self else { return 0 }
        let now = ForwardProfile.now()
        profile.add(region, now &- mark)
        return now
    }

    /// Ends a whole forward call started at `mark`.
    @inline(__always)
    func stopCall(_ mark: UInt64) {
        guard let profile = self else { return }
        profile.addCall(ForwardProfile.now() &- mark)
    }
}
