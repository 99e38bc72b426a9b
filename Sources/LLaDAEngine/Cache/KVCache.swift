import LLaDAKernels

/// Keys and values of every layer for a whole canvas (prompt + generated positions), kept
/// between denoising steps. Keys are stored after RoPE (rotation depends only on the position,
/// so rotating once equals rotating on every use). Allocated once per generation.
///
/// Layout: per layer and kind, head after head, each head's positions one after another
/// (`headDim` elements each), so attention reads a head's keys and values as one contiguous
/// block instead of `headDim` elements out of every `width` (on the 8B, 256 bytes out of every 8 KiB:
/// a new page per position).
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
    public let heads: Int
    public var headDim: Int { width / heads }
    public let storage: Storage
    private let keys: [UnsafeMutableRawPointer]
    private let values: [UnsafeMutableRawPointer]

    public init(layers: Int, capacity: Int, width: Int, heads: Int, storage: Storage) {
        precondition(heads > 0 && width % heads == 0, "width must be a multiple of heads")
        self.layers = layers
        self.capacity = capacity
        self.width = width
        self.heads = heads
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

    /// Element offset of `position` of `head`.
    private func offset(head: Int, position: Int) -> Int { (head * capacity + position) * headDim }

    /// The f16 keys or values of one head of `layer` (capacity positions of `headDim` halves),
    /// read in place by the fused attention; nil when the cache holds f32.
    public func halves(layer: Int, _ kind: Kind, head: Int) -> UnsafePointer<UInt16>? {
        guard storage == .f16 else { return nil }
        return UnsafePointer(base(layer, kind).assumingMemoryBound(to: UInt16.self) + offset(head: head, position: 0))
    }

    /// Stores `rows` positions (row-major, `width` floats each, heads side by side) starting at
    /// position `start`.
    public func write(layer: Int, _ kind: Kind, start: Int, rows: Int, from source: UnsafePointer<Float>) {
        precondition(start >= 0 && start + rows <= capacity)
        let d = headDim
        for head in 0..<heads {
            for row in 0..<rows {
                let from = source + row * width + head * d, at = offset(head: head, position: start + row)
                switch storage {
                case .f32: (base(layer, kind).assumingMemoryBound(to: Float.self) + at).update(from: from, count: d)
                case .f16: llada_f32_to_f16(from, base(layer, kind).assumingMemoryBound(to: UInt16.self) + at, d)
                }
            }
        }
    }

    /// Loads `rows` positions of one head from `start` as f32, [rows × headDim].
    public func read(layer: Int, _ kind: Kind, head: Int, start: Int, rows: Int, into destination: UnsafeMutablePointer<Float>) {
        precondition(start >= 0 && start + rows <= capacity && head >= 0 && head < heads)
        let at = offset(head: head, position: start), count = rows * headDim
        switch storage {
        case .f32: destination.update(from: base(layer, kind).assumingMemoryBound(to: Float.self) + at, count: count)
        case .f16: llada_f16_to_f32(base(layer, kind).assumingMemoryBound(to: UInt16.self) + at, destination, count)
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
