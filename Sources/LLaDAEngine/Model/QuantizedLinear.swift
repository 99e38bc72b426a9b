import CBLAS
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A weight matrix [outFeatures × inFeatures] in one of the packed file's types: each row is
/// `inFeatures` values stored as `type` (f32, f16, or q8_0 / q4_0 blocks along the row).
///
/// This first implementation dequantizes a tile of rows at a time into a scratch buffer and
/// multiplies it with sgemm, so it never holds a full f32 copy of the matrix; fast kernels that
/// work on the blocks directly replace `apply` later without changing the storage.
public final class QuantizedLinear: LinearLayer, @unchecked Sendable {
    public let type: WeightType
    public let outFeatures: Int
    public let inFeatures: Int
    /// Row-major rows of `rowBytes` bytes each; 64-byte (in place: page) aligned.
    public let data: UnsafeRawPointer
    /// Keeps the memory behind `data` alive (the mapped file or an owned buffer).
    private let owner: AnyObject

    /// Tiles hold about this many f32 values (4 MiB): big enough for efficient sgemm calls.
    static let tileElements = 1 << 20
    /// Read once: ProcessInfo re-reads /proc and cgroup files on every call.
    static let cores = ProcessInfo.processInfo.activeProcessorCount

    public init(type: WeightType, outFeatures: Int, inFeatures: Int, data: UnsafeRawPointer, owner: AnyObject) {
        precondition(inFeatures % type.recordElements == 0, "rows must be whole blocks")
        self.type = type
        self.outFeatures = outFeatures
        self.inFeatures = inFeatures
        self.data = data
        self.owner = owner
    }

    public var rowBytes: Int { type.byteCount(elements: inFeatures) }
    public var weightBytes: Int { outFeatures * rowBytes }

    public func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        guard rows > 0 else { return }
        let k = inFeatures, n = outFeatures
        if type == .f32 {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(n), Int32(k),
                        1, x, Int32(k), data.assumingMemoryBound(to: Float.self), Int32(k), 0, y, Int32(n))
            return
        }
        let tileRows = max(1, min(n, Self.tileElements / k))
        ScratchPool.shared.with(count: tileRows * k) { tile in
            for first in stride(from: 0, to: n, by: tileRows) {
                let count = min(tileRows, n - first)
                dequantizeRows(first, count, into: tile)
                // y[:, first ..< first+count] = x · tileᵀ, written in place with row stride n.
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(count), Int32(k),
                            1, x, Int32(k), tile, Int32(k), 0, y + first, Int32(n))
            }
        }
    }

    /// Rows [first, first+count) as f32, split across cores when the tile is large.
    func dequantizeRows(_ first: Int, _ count: Int, into destination: UnsafeMutablePointer<Float>) {
        let k = inFeatures, rowBytes = rowBytes
        // Small tiles are not worth waking other threads for (they would also compete with OpenBLAS's).
        let parts = count * k >= 1 << 18 ? min(count, Self.cores) : 1
        let perPart = (count + parts - 1) / parts
        parallelFor(parts) { part in
            let start = part * perPart, end = min(count, start + perPart)
            guard start < end else { return }
            type.dequantize(data + (first + start) * rowBytes, elements: (end - start) * k, into: destination + start * k)
        }
    }
}

/// The token embedding in a packed type: `copyRow` dequantizes the one row it needs.
public final class QuantizedEmbedding: EmbeddingTable, @unchecked Sendable {
    public let type: WeightType
    public let rows: Int
    public let dimension: Int
    public let data: UnsafeRawPointer
    private let owner: AnyObject

    /// With a file, rows are read with pread instead of through the mapping. Page-cache pages
    /// are often large folios (up to 2 MiB) that a fault maps whole, so looking up a few hundred
    /// scattered rows through the mapping made ~240 MB of the 8B's embedding resident; pread
    /// copies just the row.
    private let file: MappedFile?
    private let fileOffset: Int

    /// `data`: the table in `type`, rows one after another, kept alive by `owner`. With `file`
    /// (where the same bytes start at `fileOffset`), rows are read from it with pread; `data`
    /// remains the fallback if a read fails.
    init(type: WeightType, rows: Int, dimension: Int, data: UnsafeRawPointer, owner: AnyObject,
         file: MappedFile?, fileOffset: Int) {
        precondition(dimension % type.recordElements == 0, "rows must be whole blocks")
        self.type = type
        self.rows = rows
        self.dimension = dimension
        self.data = data
        self.owner = owner
        self.file = file
        self.fileOffset = fileOffset
    }

    public convenience init(type: WeightType, rows: Int, dimension: Int, data: UnsafeRawPointer, owner: AnyObject) {
        self.init(type: type, rows: rows, dimension: dimension, data: data, owner: owner, file: nil, fileOffset: 0)
    }

    public var weightBytes: Int { rows * type.byteCount(elements: dimension) }

    public func copyRow(_ token: Int, into destination: UnsafeMutablePointer<Float>) {
        let rowBytes = type.byteCount(elements: dimension)
        if let file {
            let read = withUnsafeTemporaryAllocation(byteCount: rowBytes, alignment: 16) { row -> Bool in
                guard file.read(into: row.baseAddress!, count: rowBytes, at: fileOffset + token * rowBytes) else { return false }
                type.dequantize(UnsafeRawPointer(row.baseAddress!), elements: dimension, into: destination)
                return true
            }
            if read { return }
        }
        type.dequantize(data + token * rowBytes, elements: dimension, into: destination)
    }
}

/// Reusable f32 tiles for `QuantizedLinear`: allocating a fresh multi-megabyte buffer per call
/// costs an mmap and page faults every time. Holds one buffer per concurrent caller.
final class ScratchPool: @unchecked Sendable {
    static let shared = ScratchPool()
    private let lock = NSLock()
    private var free: [FloatBuffer] = []

    func with<R>(count: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        lock.lock()
        let index = free.firstIndex { $0.count >= count }
        let buffer = index.map { free.remove(at: $0) } ?? FloatBuffer(count: max(count, QuantizedLinear.tileElements), zeroed: false)
        lock.unlock()
        defer {
            lock.lock()
            free.append(buffer)
            lock.unlock()
        }
        return body(buffer.pointer)
    }
}
