import LLaDAKernels

/// Keys and values of every layer for a whole canvas (prompt + generated positions), kept
/// between denoising steps. Keys are stored after RoPE (rotation depends only on the position,
/// so rotating once equals rotating on every use). Allocated once per generation.
public final class KVCache: @unchecked Sendable {
    public enum Storage: String, Sendable, CaseIterable {
        case f16, f32

        var byteSize: Int { self == .f16 ? 2 : 4 }
    }

    public let layers: Int
    /// Positions it can hold.
    public let capacity: Int
    /// Features per position (d_model: all heads).
    public let width: Int
    public let storage: Storage
    private let keys: [UnsafeMutableRawPointer]
    private let values: [UnsafeMutableRawPointer]

    public init(layers: Int, capacity: Int, width: Int, storage: Storage) {
        self.layers = layers
        self.capacity = capacity
        self.width = width
        self.storage = storage
        let bytes = capacity * width * storage.byteSize
        keys = (0..<layers).map { _ in UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64) }
        values = (0..<layers).map { _ in UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64) }
    }

    deinit {
        keys.forEach { $0.deallocate() }
        values.forEach { $0.deallocate() }
    }

    /// Bytes of keys and values one position takes across all layers.
    public var bytesPerToken: Int { 2 * layers * width * storage.byteSize }
    public var totalBytes: Int { bytesPerToken * capacity }

    public enum Kind { case key, value }

    private func base(_ layer: Int, _ kind: Kind) -> UnsafeMutableRawPointer {
        kind == .key ? keys[layer] : values[layer]
    }

    /// Stores `rows` positions (row-major, `width` floats each) starting at position `start`.
    public func write(layer: Int, _ kind: Kind, start: Int, rows: Int, from source: UnsafePointer<Float>) {
        precondition(start >= 0 && start + rows <= capacity)
        let count = rows * width
        switch storage {
        case .f32:
            (base(layer, kind).assumingMemoryBound(to: Float.self) + start * width).update(from: source, count: count)
        case .f16:
            llada_f32_to_f16(source, base(layer, kind).assumingMemoryBound(to: UInt16.self) + start * width, count)
        }
    }

    /// Loads `rows` positions starting at `start` as f32.
    public func read(layer: Int, _ kind: Kind, start: Int, rows: Int, into destination: UnsafeMutablePointer<Float>) {
        precondition(start >= 0 && start + rows <= capacity)
        let count = rows * width
        switch storage {
        case .f32:
            destination.update(from: base(layer, kind).assumingMemoryBound(to: Float.self) + start * width, count: count)
        case .f16:
            llada_f16_to_f32(base(layer, kind).assumingMemoryBound(to: UInt16.self) + start * width, destination, count)
        }
    }

    /// Loads columns `column ..< column + count` (one head) of `rows` positions from `start` as
    /// f32, row after row `count` apart: attention converts a head at a time into a buffer that
    /// stays in cache instead of the whole canvas at once.
    public func read(layer: Int, _ kind: Kind, start: Int, rows: Int, column: Int, count: Int, into destination: UnsafeMutablePointer<Float>) {
        precondition(start >= 0 && start + rows <= capacity && column >= 0 && column + count <= width)
        switch storage {
        case .f32:
            let source = base(layer, kind).assumingMemoryBound(to: Float.self) + start * width + column
            for row in 0..<rows { (destination + row * count).update(from: source + row * width, count: count) }
        case .f16:
            let source = base(layer, kind).assumingMemoryBound(to: UInt16.self) + start * width + column
            for row in 0..<rows { llada_f16_to_f32(source + row * width, destination + row * count, count) }
        }
    }
}

/// How a forward pass over part of the canvas sees the rest of it.
public enum AttentionContext {
    /// The rows are the whole sequence; when a cache is given, every row's keys/values are stored.
    case full(fill: KVCache?)
    /// Fast-dLLM prefix cache: rows run from `rows.lowerBound` to the end; positions before it
    /// come from the cache.
    case prefix(KVCache)
    /// Fast-dLLM dual cache: the rows' fresh keys/values replace theirs in the cache, and
    /// attention covers every cached position of the canvas (prefix and suffix as cached).
    case dual(KVCache, canvasLength: Int)
}
