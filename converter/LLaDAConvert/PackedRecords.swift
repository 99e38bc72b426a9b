import LLaDAEngine
import LLaDAKernels

// The writing half of the packed format's records (PackedFormat.swift in the engine reads them).

/// Little-endian fields into a fixed-size record.
struct ByteWriter {
    var bytes: [UInt8]

    init(count: Int) { bytes = [UInt8](repeating: 0, count: count) }

    mutating func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { raw in
            for (i, byte) in raw.enumerated() { bytes[offset + i] = byte }
        }
    }

    mutating func put(_ data: [UInt8], at offset: Int) {
        for (i, byte) in data.enumerated() { bytes[offset + i] = byte }
    }

    /// Writes the CRC32C of bytes [start, at) at `at`.
    mutating func sealCRC(from start: Int, at offset: Int) {
        let crc = bytes.withUnsafeBytes { llada_crc32c(0, $0.baseAddress! + start, offset - start) }
        put(crc, at: offset)
    }
}

extension PackedFormat {
    /// Raw chunk size for a type: a multiple of both the page size and the record size (so a chunk
    /// holds whole records and in-place raw chunks of one tensor are contiguous), near `target`.
    static func chunkRawBytes(for encoding: TensorEncoding, target: Int) -> Int {
        let record = encoding.recordBytes
        let lcm = alignment / gcd(alignment, record) * record
        return max(1, target / lcm) * lcm
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}

extension PackedTensor {
    func encode() -> [UInt8] {
        var writer = ByteWriter(count: PackedFormat.tensorRecordSize)
        writer.put(Array(name.utf8), at: 0)
        writer.put(type.rawValue, at: 64)
        writer.put(UInt8(shape.count), at: 65)
        writer.put(layout.rawValue, at: 66)
        writer.put(UInt32(firstChunk), at: 68)
        writer.put(UInt32(chunks.count), at: 72)
        writer.put(UInt64(shape[0]), at: 80)
        writer.put(UInt64(shape.count > 1 ? shape[1] : 1), at: 88)
        writer.put(UInt64(byteSize), at: 96)
        writer.put(UInt64(storedSize), at: 104)
        writer.sealCRC(from: 0, at: 124)
        return writer.bytes
    }
}

extension PackedChunk {
    func encode(tensorIndex: Int) -> [UInt8] {
        var writer = ByteWriter(count: PackedFormat.chunkRecordSize)
        writer.put(UInt64(offset), at: 0)
        writer.put(UInt32(storedSize), at: 8)
        writer.put(UInt32(rawSize), at: 12)
        writer.put(checksum, at: 16)
        writer.put(UInt32(tensorIndex), at: 20)
        writer.put(codec.rawValue, at: 24)
        writer.put(filter.rawValue, at: 25)
        writer.sealCRC(from: 0, at: 28)
        return writer.bytes
    }
}
