import LLaDAEngine
import LLaDAKernels

/// How q4_0 chooses each block's scale.
public enum Q4ScaleMethod: String, Sendable, CaseIterable {
    /// Least squared error over a candidate set of scales (the default; see docs/packed-format.md).
    case search
    /// Plain max|w| / 7: only for measuring what the search gains.
    case maxabs

    var cValue: llada_q4_method { self == .search ? LLADA_Q4_SEARCH : LLADA_Q4_MAXABS }
}


/// Which storage type each class of tensor gets. Norm weights always stay f32.
public struct QuantizationProfile: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    /// Types by tensor role; roles not listed (and norms and the router) are f32.
    public var types: [TensorLayout.Role: WeightType]
    public var q4Method: Q4ScaleMethod

    public init(name: String, types: [TensorLayout.Role: WeightType], q4Method: Q4ScaleMethod = .search) {
        self.name = name
        self.types = types
        self.q4Method = q4Method
    }

    public func type(for role: TensorLayout.Role) -> WeightType {
        role.alwaysF32 ? .f32 : types[role] ?? .f32
    }

    /// Matrices the kernels multiply (every linear and the LM head) are stored in the kernels'
    /// layout so the runtime maps them without a copy; the embedding is read by rows.
    public func layout(for role: TensorLayout.Role) -> DataLayout {
        role.alwaysF32 || role == .embedding || type(for: role) == .f32 ? .rows : .kernelGroups
    }

    public var description: String { name }

    static let matrixRoles: [TensorLayout.Role] = TensorLayout.Role.allCases.filter { !$0.alwaysF32 }

    /// Every matrix in one type.
    public static func uniform(_ type: WeightType, name: String? = nil) -> QuantizationProfile {
        QuantizationProfile(name: name ?? type.description,
                            types: Dictionary(uniqueKeysWithValues: matrixRoles.map { ($0, type) }))
    }

    public static let f32 = uniform(.f32, name: "f32")
    public static let f16 = uniform(.f16, name: "f16")
    public static let q8 = uniform(.q8_0, name: "q8")
    /// The mixed 4-bit default: q4_0 for attn_out and the feed-forward matrices; q8_0 for the
    /// embedding, q/k/v and the LM head, the classes measured most sensitive on the fixture
    /// (together they cut the logits KL of q4_0-everywhere 5.6×; docs/quantization.md).
    public static let q4: QuantizationProfile = {
        var profile = uniform(.q4_0, name: "q4")
        for role in [TensorLayout.Role.embedding, .attentionQKV, .lmHead] { profile.types[role] = .q8_0 }
        return profile
    }()

    /// The smallest 4-bit profile: every matrix q4_0 except the embedding (q8_0, read by rows and
    /// mapped, so only the rows of the tokens in use take memory). For large models on small
    /// machines: LLaDA-8B needs ~1.3 GB less RAM than with `q4`; on the fixture its logits KL is
    /// ~4× higher and dev accuracy up to 3 answers lower (docs/quantization.md).
    public static let q4Lean: QuantizationProfile = {
        var profile = uniform(.q4_0, name: "q4-lean")
        profile.types[.embedding] = .q8_0
        return profile
    }()

    /// The profiles `llada-quantize --type` accepts.
    public static let named: [String: QuantizationProfile] = ["f32": f32, "f16": f16, "q8": q8, "q4": q4, "q4-lean": q4Lean]
}
