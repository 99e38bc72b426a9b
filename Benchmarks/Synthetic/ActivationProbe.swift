import LLaDAEngine
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the f32 forward pass did with a few tokens: the residual stream's RMS and largest value
/// after the embedding and after every block, and the logits.
public struct ActivationReport: Sendable {
    public let tokens: [Int]
    /// Index 0: the embeddings; index k: the residual stream after block k.
    public let residualRMS: [Float]
    public let residualMaxAbs: [Float]
    public let logits: FloatMatrix

    public var logitsAreFinite: Bool {
        UnsafeBufferPointer(start: logits.pointer, count: logits.rows * logits.cols).allSatisfy(\.isFinite)
    }

    public var logitRMS: Float { ActivationProbe.rms(logits.pointer, count: logits.rows * logits.cols) }

    public var logitMaxAbs: Float { ActivationProbe.maxAbs(logits.pointer, count: logits.rows * logits.cols) }
}

/// Runs the engine's own f32 forward pass (Transformer.logits) over a checkpoint while loading each
/// matrix only for the moment it is applied, and unmapping its pages afterwards, so even the 8B
/// (32 GB as f32) is checked in ~2.5 GB of RSS: mostly the largest single matrix, the f32 LM head. The residual stream is reconstructed from what the
/// embedding and the two residual projections of each block (attn_out, ff_out) produce: the
/// Transformer adds exactly those, in that order, so the sums are bit-identical to its own.
public enum ActivationProbe {
    public static func run(checkpoint: HFCheckpoint, tokens: [Int]) throws -> ActivationReport {
        let config = checkpoint.config
        guard !tokens.isEmpty, tokens.count <= config.maxSequenceLength else {
            throw LLaDAError("the probe needs 1...\(config.maxSequenceLength) tokens (got \(tokens.count))")
        }
        if let bad = tokens.first(where: { $0 < 0 || $0 >= config.paddedVocabSize }) {
            throw LLaDAError("token id \(bad) is outside the model's vocabulary (0..<\(config.paddedVocabSize))")
        }
        let trace = ResidualTrace(rows: tokens.count, dimension: config.dModel)
        let weights = try WeightBinding.bind(
            config: config,
            linear: { name, role -> any LinearLayer in
                let layer = try StreamedLinear(checkpoint: checkpoint, name: name)
                switch role {
                case .attentionOut: return TracedLinear(layer, trace: trace)
                case .down: return TracedLinear(layer, trace: trace, endsBlock: true)
                default: return layer
                }
            },
            vector: { try checkpoint.readVector($0) },
            embedding: { _ in try TracedEmbedding(checkpoint: checkpoint, trace: trace) })
        let logits = Transformer(weights: weights).logits(tokens: tokens)
        return ActivationReport(tokens: tokens, residualRMS: trace.rms, residualMaxAbs: trace.maxAbs, logits: logits)
    }

    static func rms(_ values: UnsafePointer<Float>, count: Int) -> Float {
        var sum: Double = 0
        for i in 0..<count { sum += Double(values[i]) * Double(values[i]) }
        return Float((sum / Double(max(count, 1))).squareRoot())
    }

    static func maxAbs(_ values: UnsafePointer<Float>, count: Int) -> Float {
        var result: Float = 0
        for i in 0..<count { result = max(result, abs(values[i])) }  // max() keeps NaN out; rms shows it
        return result
    }
}

/// The residual stream rebuilt from the increments the Transformer adds to it.
private final class ResidualTrace: @unchecked Sendable {
    let residual: FloatMatrix
    var rms: [Float] = []
    var maxAbs: [Float] = []

    init(rows: Int, dimension: Int) {
        residual = FloatMatrix(rows: rows, cols: dimension)
    }

    func add(_ increment: UnsafePointer<Float>) {
        for i in 0..<(residual.rows * residual.cols) { residual.pointer[i] += increment[i] }
    }

    func record() {
        let count = residual.rows * residual.cols
        rms.append(ActivationProbe.rms(residual.pointer, count: count))
        maxAbs.append(ActivationProbe.maxAbs(residual.pointer, count: count))
    }
}

/// A weight matrix read from the checkpoint (widened to f32) at each use and freed right after.
private final class StreamedLinear: LinearLayer, @unchecked Sendable {
    let checkpoint: HFCheckpoint
    let name: String
    let outFeatures: Int
    let inFeatures: Int

    init(checkpoint: HFCheckpoint, name: String) throws {
        let shape = try checkpoint.info(name).shape
        self.checkpoint = checkpoint
        self.name = name
        outFeatures = shape[0]
        inFeatures = shape[1]
    }

    var weightBytes: Int { outFeatures * inFeatures * 4 }

    func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        // The checkpoint was validated when opened, so the tensor exists with this shape.
        let weight = try! checkpoint.readMatrix(name)
        DenseLinear(weight: weight).apply(x, rows: rows, into: y)
        Self.dropMappedPages(try! checkpoint.rawData(name).1)
    }

    /// Mapped checkpoint pages count as resident until unmapped; the file stays in the page cache.
    static func dropMappedPages(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (Int(bitPattern: base) + page - 1) / page * page
        let end = (Int(bitPattern: base) + bytes.count) / page * page
        guard end > start else { return }
        _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_DONTNEED)
    }
}

/// A residual projection whose output is also added to the trace.
private final class TracedLinear: LinearLayer, @unchecked Sendable {
    let inner: any LinearLayer
    let trace: ResidualTrace
    let endsBlock: Bool

    init(_ inner: any LinearLayer, trace: ResidualTrace, endsBlock: Bool = false) {
        self.inner = inner
        self.trace = trace
        self.endsBlock = endsBlock
    }

    var inFeatures: Int { inner.inFeatures }
    var outFeatures: Int { inner.outFeatures }
    var weightBytes: Int { inner.weightBytes }

    func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        inner.apply(x, rows: rows, into: y)
        precondition(rows == trace.residual.rows, "the probe runs full passes only")
        trace.add(y)
        if endsBlock { trace.record() }
    }
}

/// Embedding rows read one at a time from the mapped checkpoint, recorded as the stream's start.
private final class TracedEmbedding: EmbeddingTable, @unchecked Sendable {
    let info: SafeTensorInfo
    let raw: UnsafeRawBufferPointer
    let trace: ResidualTrace
    let checkpoint: HFCheckpoint  // keeps the mapping alive
    private var filled = 0

    init(checkpoint: HFCheckpoint, trace: ResidualTrace) throws {
        (info, raw) = try checkpoint.rawData("model.transformer.wte.weight")
        self.checkpoint = checkpoint
        self.trace = trace
    }

    var rows: Int { info.shape[0] }
    var dimension: Int { info.shape[1] }

    func copyRow(_ token: Int, into destination: UnsafeMutablePointer<Float>) {
        let rowBytes = dimension * info.dtype.byteSize
        let row = UnsafeRawBufferPointer(rebasing: raw[(token * rowBytes)..<((token + 1) * rowBytes)])
        HFCheckpoint.convert(row, dtype: info.dtype, count: dimension, into: destination)
        trace.residual.row(filled).update(from: destination, count: dimension)
        filled += 1
        if filled == trace.residual.rows { trace.record() }
    }
}
