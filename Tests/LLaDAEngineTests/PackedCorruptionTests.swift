import Foundation
import LLaDAConvert
import LLaDAEngine
import XCTest

/// Every byte of a packed file is covered by a checksum or must be zero padding, so any flipped
/// byte is reported; truncation at any point is a clear error; nothing crashes.
final class PackedCorruptionTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try PackedTestSupport.temporaryDirectory("corrupt")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A q4 file with several chunks per large tensor (smallest chunk size).
    func q4File() throws -> URL {
        try PackedTestSupport.convertFixture(.q4, into: directory, chunkBytes: 4096)
    }

    func sectionOffset(_ file: Data, _ section: PackedFormat.Section) -> Int {
        let at = 48 + section.rawValue * 24
        return file[at..<at + 8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    }

    func flip(_ url: URL, at offset: Int) throws -> UInt8 {
        let handle = try FileHandle(forReadingFrom: url)
        try handle.seek(toOffset: UInt64(offset))
        let original = try handle.read(upToCount: 1)![0]
        try handle.close()
        try PackedTestSupport.poke(url, at: offset, original ^ 0xFF)
        return original
    }

    /// Flips one byte and expects every reader to fail: opening (header bytes) or verify and load (data bytes).
    func assertDetected(_ url: URL, at offset: Int, _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let original = try flip(url, at: offset)
        defer { try? PackedTestSupport.poke(url, at: offset, original) }
        let model: PackedModel
        do {
            model = try PackedModel(path: url.path)
        } catch {
            PackedTestSupport.assertError(fragments, file: file, line: line) { throw error }
            return
        }
        PackedTestSupport.assertError(fragments, file: file, line: line) { try model.verify() }
        PackedTestSupport.assertError(fragments, file: file, line: line) { _ = try model.makeWeights() }
    }

    func testFlippedByteInARawChunkNamesTensorAndChunk() throws {
        let url = try q4File()
        // The embedding stays in rows, so 4 KiB chunks cut it in two.
        let tensor = try PackedModel(path: url.path).tensors.first { $0.name == "model.transformer.wte.weight" }!
        XCTAssertEqual(tensor.chunks.count, 2)
        guard tensor.chunks.count == 2 else { return }
        XCTAssertEqual(tensor.chunks[1].codec, .raw)
        try assertDetected(url, at: tensor.chunks[1].offset + 100,
                           ["tensor model.transformer.wte.weight chunk 1 of 2", "checksum", url.path])
        XCTAssertNoThrow(try PackedModel(path: url.path).verify(), "restored")
    }

    func testFlippedByteInACompressedChunkNamesTensorAndChunk() throws {
        let url = try PackedTestSupport.convertFixture(.f32, into: directory, chunkBytes: 4096)
        let tensor = try PackedModel(path: url.path).tensors.first { $0.name == "model.transformer.blocks.0.q_proj.weight" }!
        XCTAssertEqual(tensor.chunks.count, 36)
        XCTAssertEqual(tensor.chunks[7].codec, .lz4)
        XCTAssertEqual(tensor.chunks[7].filter, .byteShuffle)
        try assertDetected(url, at: tensor.chunks[7].offset + tensor.chunks[7].storedSize / 2,
                           ["tensor model.transformer.blocks.0.q_proj.weight chunk 7 of 36", "checksum"])
    }

    func testFlippedHeaderBytesNameTheirPart() throws {
        let url = try q4File()
        let bytes = try Data(contentsOf: url)
        let model = try PackedModel(path: url.path)
        try assertDetected(url, at: 20, ["header checksum mismatch"])
        try assertDetected(url, at: 3, ["not a packed LLaDA model"])   // the magic itself
        try assertDetected(url, at: sectionOffset(bytes, .config) + 10, ["config section fails its checksum"])
        try assertDetected(url, at: sectionOffset(bytes, .tokenizer) + 1000, ["tokenizer.json section fails its checksum"])
        try assertDetected(url, at: sectionOffset(bytes, .tokenizerConfig) + 5, ["tokenizer_config.json section fails its checksum"])
        // Tensor #5 is blocks.0.attn_out; a flip in its name or its fields is reported under the expected name.
        let tensorTable = sectionOffset(bytes, .tensorTable)
        for field in [2, 66, 90, 120] {
            try assertDetected(url, at: tensorTable + 5 * PackedFormat.tensorRecordSize + field,
                               ["directory record of tensor model.transformer.blocks.0.attn_out.weight (#5) fails its checksum"])
        }
        let embedding = model.tensors.first { $0.name == "model.transformer.wte.weight" }!
        for field in [0, 9, 17, 24, 30] {
            try assertDetected(url, at: sectionOffset(bytes, .chunkTable) + (embedding.firstChunk + 1) * PackedFormat.chunkRecordSize + field,
                               ["directory record of tensor model.transformer.wte.weight chunk 1 of 2 fails its checksum"])
        }
    }

    func testNonZeroPaddingIsReported() throws {
        let url = try q4File()
        let model = try PackedModel(path: url.path)
        let norm = model.tensors.first { $0.name == "model.transformer.blocks.1.ff_norm.weight" }!
        let end = norm.chunks[0].offset + norm.chunks[0].storedSize
        try assertDetected(url, at: end + 10, ["non-zero padding byte at offset \(end + 10) after tensor model.transformer.blocks.1.ff_norm.weight chunk 0 of 1"])
        let bytes = try Data(contentsOf: url)
        let chunkTableEnd = sectionOffset(bytes, .chunkTable) + model.tensors.reduce(0) { $0 + $1.chunks.count } * PackedFormat.chunkRecordSize
        XCTAssertLessThan(chunkTableEnd, model.dataOffset)
        try assertDetected(url, at: chunkTableEnd + 1, ["non-zero padding byte at offset \(chunkTableEnd + 1) before the data"])
    }

    func testEveryFlippedByteIsDetected() throws {
        let url = try q4File()
        let model = try PackedModel(path: url.path)
        let size = model.fileSize, dataOffset = model.dataOffset
        var offsets = Array(0..<dataOffset)                                   // the whole header
        offsets += Array(stride(from: dataOffset, to: size, by: 53)) + [size - 1]   // a sample of the data
        for offset in offsets {
            let original = try flip(url, at: offset)
            let detected: Bool
            do {
                let corrupt = try PackedModel(path: url.path)
                do { try corrupt.verify(); detected = false } catch is LLaDAError { detected = offset >= dataOffset }
            } catch is LLaDAError {
                detected = true
            }
            XCTAssertTrue(detected, "flipped byte at \(offset) of \(size) went unnoticed")
            try PackedTestSupport.poke(url, at: offset, original)
            if !detected { break }
        }
        // The loader on a subset (it checks the same checksums while decompressing).
        for offset in stride(from: dataOffset, to: size, by: 4999) {
            let original = try flip(url, at: offset)
            PackedTestSupport.assertError(["chunk"]) { _ = try PackedModel(path: url.path).makeWeights() }
            try PackedTestSupport.poke(url, at: offset, original)
        }
        XCTAssertNoThrow(try PackedModel(path: url.path).verify())
    }

    func testTruncationAtAnyPointIsAClearError() throws {
        let url = try q4File()
        let bytes = try Data(contentsOf: url)
        let dataOffset = try PackedModel(path: url.path).dataOffset
        var sizes = [0, 1, 5, 8, 100, 255, 256, 257, 300, 4096, dataOffset - 1, dataOffset, dataOffset + 1, bytes.count - 1]
        sizes += Array(stride(from: 0, to: bytes.count, by: bytes.count / 97))
        let truncated = directory.appendingPathComponent("truncated.llada")
        for size in sizes {
            try bytes.prefix(size).write(to: truncated)
            PackedTestSupport.assertError(["truncated", truncated.path]) { _ = try PackedModel(path: truncated.path) }
        }
        try (bytes + Data([0])).write(to: truncated)
        PackedTestSupport.assertError(["1 unexpected bytes after the end of the data"]) { _ = try PackedModel(path: truncated.path) }
    }

    func testOtherFilesAreRefusedClearly() throws {
        let shard = FixturePaths.model.appendingPathComponent("model-00001-of-00002.safetensors")
        PackedTestSupport.assertError(["not a packed LLaDA model", "llada-quantize"]) { _ = try PackedModel(path: shard.path) }
        PackedTestSupport.assertError(["not a regular file"]) { _ = try PackedModel(path: FixturePaths.model.path) }
        PackedTestSupport.assertError(["cannot open", "nonexistent"]) { _ = try PackedModel(path: directory.appendingPathComponent("nonexistent").path) }
    }
}
