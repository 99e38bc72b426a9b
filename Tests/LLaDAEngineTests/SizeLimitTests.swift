import Foundation
import LLaDAConvert
import LLaDAEngine
import LLaDAKernels
import XCTest

/// A size in a file that is absurd for the file (header length, shape, tensor count, chunk size,
/// RoPE table) is refused with one clear line before anything of that size is allocated.
final class SizeLimitTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try PackedTestSupport.temporaryDirectory("limits")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func safeTensors(headerLength: UInt64, header: String) -> URL {
        var length = headerLength.littleEndian
        let url = directory.appendingPathComponent("absurd.safetensors")
        try! (Data(bytes: &length, count: 8) + Data(header.utf8) + Data(count: 64)).write(to: url)
        return url
    }

    func testSafeTensorsHeaderLengthAndShapeBeyondTheFile() {
        for length in [UInt64.max, 1 << 40, 200 << 20] {
            PackedTestSupport.assertError(["absurd.safetensors", "header length \(length) is implausible"]) {
                _ = try SafeTensorsFile(path: safeTensors(headerLength: length, header: "{}").path)
            }
        }
        PackedTestSupport.assertError(["header length 1000000 runs past the end of the file"]) {
            _ = try SafeTensorsFile(path: safeTensors(headerLength: 1_000_000, header: "{}").path)
        }
        // 2^40 × 2^40 elements would overflow; the product is compared with the data size at every factor.
        let header = #"{"x":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,64]}}"#
        PackedTestSupport.assertError(["tensor x shape [1099511627776, 1099511627776] is larger than the file"]) {
            _ = try SafeTensorsFile(path: safeTensors(headerLength: UInt64(header.utf8.count), header: header).path)
        }
    }

    func testHugeLayerCountIsRefusedBeforeItsLayoutIsBuilt() throws {
        let checkpoint = try CheckpointFixtures.copyOfFixture()
        defer { try? FileManager.default.removeItem(at: checkpoint.deletingLastPathComponent()) }
        let url = checkpoint.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        config["n_layers"] = 1_000_000
        try JSONSerialization.data(withJSONObject: config).write(to: url)
        PackedTestSupport.assertError(["tensor model.transformer.blocks.4.attn_norm.weight is missing", "implies 9000003 tensors, the files hold 39"]) {
            _ = try HFCheckpoint(directory: checkpoint)
        }
    }

    func testRoPETablesBeyondAGigabyteAreRefused() throws {
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: FixturePaths.model.appendingPathComponent("config.json"))) as! [String: Any]
        config["max_sequence_length"] = 1 << 20
        config["d_model"] = 4096
        config["n_heads"] = 1
        config["n_kv_heads"] = 1
        let data = try JSONSerialization.data(withJSONObject: config)
        PackedTestSupport.assertError(["max_sequence_length 1048576 × head dimension 4096 is implausibly large"]) {
            _ = try LLaDAConfig.decode(data, source: "config.json")
        }
        config["max_sequence_length"] = 4096   // LLaDA-8B's and more
        XCTAssertNoThrow(try LLaDAConfig.decode(try JSONSerialization.data(withJSONObject: config), source: "config.json"))
    }

    // MARK: Packed files, rewritten with valid checksums so only the size is wrong

    func section(_ bytes: Data, _ section: PackedFormat.Section) -> Range<Int> {
        let at = 48 + section.rawValue * 24
        let offset = Int(bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt64.self) })
        let length = Int(bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self) })
        return offset..<(offset + length)
    }

    func put<T: FixedWidthInteger>(_ value: T, at offset: Int, in bytes: inout Data) {
        withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<(offset + MemoryLayout<T>.size), with: $0) }
    }

    func crc(_ bytes: Data, _ range: Range<Int>) -> UInt32 {
        bytes.withUnsafeBytes { llada_crc32c(0, $0.baseAddress! + range.lowerBound, range.count) }
    }

    /// Recomputes the checksum of `changed` and of the preamble.
    func reseal(_ bytes: inout Data, _ changed: PackedFormat.Section) {
        put(crc(bytes, section(bytes, changed)), at: 48 + changed.rawValue * 24 + 16, in: &bytes)
        put(crc(bytes, 0..<(PackedFormat.preambleSize - 4)), at: PackedFormat.preambleSize - 4, in: &bytes)
    }

    func testConfigImplyingMillionsOfTensorsIsRefusedBeforeItsLayoutIsBuilt() throws {
        var bytes = try Data(contentsOf: PackedTestSupport.convertFixture(.q8, into: directory))
        let range = section(bytes, .config)
        var json = String(decoding: bytes[range], as: UTF8.self)
        XCTAssertTrue(json.contains("\"alibi\":false,") && json.contains("\"n_layers\":4,"))
        // Same length: 14 bytes of a field that has a default give room for six more digits.
        json = json.replacingOccurrences(of: "\"alibi\":false,", with: "")
            .replacingOccurrences(of: "\"n_layers\":4,", with: "\"n_layers\":1000000,") + String(repeating: " ", count: 8)
        XCTAssertEqual(json.utf8.count, range.count)
        bytes.replaceSubrange(range, with: Data(json.utf8))
        reseal(&bytes, .config)
        let url = directory.appendingPathComponent("million-layers.llada")
        try bytes.write(to: url)
        PackedTestSupport.assertError([url.path, "the directory holds 39 tensors", "the config implies 9000003 tensors"]) {
            _ = try PackedModel(path: url.path)
        }
    }

    func testCompressedChunkClaimingMoreThanLZ4CanExpandIsRefused() throws {
        let url = try PackedTestSupport.convertFixture(.f32, into: directory, chunkBytes: 4096)
        let model = try PackedModel(path: url.path)
        let tensor = model.tensors.first { $0.chunks.first?.codec == .lz4 }!
        let chunk = tensor.chunks[0]
        var bytes = try Data(contentsOf: url)
        let record = section(bytes, .chunkTable).lowerBound + tensor.firstChunk * PackedFormat.chunkRecordSize
        // The largest raw size LZ4 cannot produce from the stored bytes, in whole f32 records.
        let raw = (chunk.storedSize * 255 / 4 + 1) * 4
        XCTAssertLessThan(raw, PackedFormat.maxChunkBytes)
        put(UInt32(raw), at: record + 12, in: &bytes)
        put(crc(bytes, record..<(record + 28)), at: record + 28, in: &bytes)
        reseal(&bytes, .chunkTable)
        try bytes.write(to: url)
        PackedTestSupport.assertError(["tensor \(tensor.name) chunk 0 of \(tensor.chunks.count) has inconsistent offset",
                                       "\(chunk.storedSize) stored, \(raw) raw"]) {
            _ = try PackedModel(path: url.path)
        }
    }
}
