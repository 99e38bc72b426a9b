// Fuzz target: a packed model file, parsed as given and again with every checksum recomputed, so
// mutations also reach the structure checks behind the checksums. See Tests/Fuzz/run.sh and
// FuzzEntry.packedFile.
import LLaDAKernels
@_spi(Fuzzing) import LLaDAEngine

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: count)
    FuzzEntry.packedFile(input)
    guard count >= PackedFormat.preambleSize else { return 0 }
    let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 8)
    defer { copy.deallocate() }
    copy.copyMemory(from: input)
    resealChecksums(copy)
    FuzzEntry.packedFile(UnsafeRawBufferPointer(copy))
    return 0
}

/// Recomputes, where the offsets found in the bytes lie inside them, the CRC32C of every chunk,
/// directory record and section, then of the preamble (docs/packed-format.md).
func resealChecksums(_ file: UnsafeMutableRawBufferPointer) {
    func u64(_ at: Int) -> Int { Int(truncatingIfNeeded: UInt64(littleEndian: file.loadUnaligned(fromByteOffset: at, as: UInt64.self))) }
    func u32(_ at: Int) -> Int { Int(UInt32(littleEndian: file.loadUnaligned(fromByteOffset: at, as: UInt32.self))) }
    func inside(_ start: Int, _ length: Int) -> Bool { start >= 0 && length >= 0 && start <= file.count && length <= file.count - start }
    func seal(_ start: Int, _ length: Int, at: Int) {
        guard inside(start, length), inside(at, 4) else { return }
        let crc = llada_crc32c(0, file.baseAddress! + start, length)
        file.storeBytes(of: crc.littleEndian, toByteOffset: at, as: UInt32.self)
    }
    func section(_ index: Int) -> (start: Int, length: Int) { (u64(48 + index * 24), u64(48 + index * 24 + 8)) }
    let chunks = section(PackedFormat.Section.chunkTable.rawValue)
    if inside(chunks.start, chunks.length) {
        for record in stride(from: chunks.start, to: chunks.start + chunks.length - PackedFormat.chunkRecordSize + 1, by: PackedFormat.chunkRecordSize) {
            seal(u64(record), u32(record + 8), at: record + 16)
            seal(record, 28, at: record + 28)
        }
    }
    let tensors = section(PackedFormat.Section.tensorTable.rawValue)
    if inside(tensors.start, tensors.length) {
        for record in stride(from: tensors.start, to: tensors.start + tensors.length - PackedFormat.tensorRecordSize + 1, by: PackedFormat.tensorRecordSize) {
            seal(record, 124, at: record + 124)
        }
    }
    for index in PackedFormat.Section.allCases.map(\.rawValue) {
        let (start, length) = section(index)
        seal(start, length, at: 48 + index * 24 + 16)
    }
    seal(0, PackedFormat.preambleSize - 4, at: PackedFormat.preambleSize - 4)
}
