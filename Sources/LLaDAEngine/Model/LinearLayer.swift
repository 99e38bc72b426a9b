import CBLAS

/// A weight matrix W [outFeatures × inFeatures] applied as y = x · Wᵀ to a batch of rows.
/// The f32 reference uses OpenBLAS; quantized formats provide their own implementations.
public protocol LinearLayer: AnyObject, Sendable {
    var inFeatures: Int { get }
    var outFeatures: Int { get }
    /// y[rows × outFeatures] = x[rows × inFeatures] · Wᵀ. `x` rows are contiguous.
    func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>)
    /// Bytes the weights occupy in memory.
    var weightBytes: Int { get }
    /// True when `apply` runs on the SIMD kernels' own thread pool (then OpenBLAS needs no threads).
    var runsOnKernels: Bool { get }
}

extension LinearLayer {
    public var runsOnKernels: Bool { false }
}

/// How a packed file's quantized matrices are multiplied.
public enum LinearBackend: String, Sendable, CaseIterable {
    /// The SIMD kernels: int8 activations, integer dot products (the product path).
    case kernels
    /// Dequantize to f32 blocks and multiply with f32 activations: the baseline the kernels'
    /// activation rounding is measured against (llada-quantize measure / flips).
    case dequantize = "dequant"
}

/// f32 weights, multiplied with OpenBLAS sgemm.
public final class DenseLinear: LinearLayer, @unchecked Sendable {
    public let weight: FloatMatrix

    public init(weight: FloatMatrix) { self.weight = weight }

    public var inFeatures: Int { weight.cols }
    public var outFeatures: Int { weight.rows }
    public var weightBytes: Int { weight.rows * weight.cols * 4 }

    public func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        guard rows > 0 else { return }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
                    Int32(rows), Int32(weight.rows), Int32(weight.cols),
                    1, x, Int32(weight.cols), weight.pointer, Int32(weight.cols),
                    0, y, Int32(weight.rows))
    }
}

/// Token embedding lookup; the table is [vocab × d_model] with a row per token id.
public protocol EmbeddingTable: AnyObject, Sendable {
    var dimension: Int { get }
    var rows: Int { get }
    func copyRow(_ token: Int, into destination: UnsafeMutablePointer<Float>)
}

public final class DenseEmbedding: EmbeddingTable, @unchecked Sendable {
    public let table: FloatMatrix

    public init(table: FloatMatrix) { self.table = table }

    public var dimension: Int { table.cols }
    public var rows: Int { table.rows }

    public func copyRow(_ token: Int, into destination: UnsafeMutablePointer<Float>) {
        destination.update(from: table.row(token), count: table.cols)
    }
}
