/// A fixed-size, 64-byte aligned array of Float that owns its memory. Used for weights and
/// activations so kernels get aligned pointers and nothing is copied on the way to them.
public final class FloatBuffer: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    public init(count: Int, zeroed: Bool = true) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        if zeroed { pointer.initialize(repeating: 0, count: count) }
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count, zeroed: false)
        values.withUnsafeBufferPointer { pointer.initialize(from: $0.baseAddress!, count: values.count) }
    }

    deinit { pointer.deallocate() }

    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    public subscript(index: Int) -> Float {
        get { pointer[index] }
        set { pointer[index] = newValue }
    }
}

/// A row-major matrix view over a FloatBuffer (rows × cols).
public struct FloatMatrix: @unchecked Sendable {
    public let rows: Int
    public let cols: Int
    public let storage: FloatBuffer

    public init(rows: Int, cols: Int) {
        self.rows = rows
        self.cols = cols
        storage = FloatBuffer(count: rows * cols)
    }

    public init(rows: Int, cols: Int, storage: FloatBuffer) {
        precondition(storage.count >= rows * cols)
        self.rows = rows
        self.cols = cols
        self.storage = storage
    }

    public var pointer: UnsafeMutablePointer<Float> { storage.pointer }

    public func row(_ index: Int) -> UnsafeMutablePointer<Float> { storage.pointer + index * cols }

    public func rowArray(_ index: Int) -> [Float] { Array(UnsafeBufferPointer(start: row(index), count: cols)) }
}
