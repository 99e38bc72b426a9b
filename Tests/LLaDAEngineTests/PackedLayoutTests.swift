import Foundation
import LLaDAConvert
import LLaDAEngine
import LLaDAKernels
import XCTest

/// Layout 1 (the kernels' repacked groups stored in the file): the matrices are used in place,
/// and the result is bit-identical to a file that stores rows and repacks at load, which is also
/// how version 1 files (rows only) are still read.
final class PackedLayoutTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try PackedTestSupport.temporaryDirectory("layout")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func convert(_ profile: QuantizationProfile, kernelLayout: Bool, name: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        var options = ConversionOptions()
        options.kernelLayout = kernelLayout
        _ = try PackedConverter.convert(checkpoint: HFCheckpoint(directory: FixturePaths.model), output: url, profile: profile, options: options)
        return url
    }

    func logits(_ url: URL, _ ids: [Int]) throws -> [Float] {
        let matrix = Transformer(weights: try PackedModel(path: url.path).makeWeights()).logits(tokens: ids)
        return Array(UnsafeBufferPointer(start: matrix.pointer, count: matrix.rows * matrix.cols))
    }

    func testKernelLayoutIsUsedInPlaceAndMatchesRowsBitForBit() throws {
        let ids = try PackedTestSupport.goldenInputs()[0].ids
        for profile in [QuantizationProfile.q4, .q8, .f16] {
            let grouped = try convert(profile, kernelLayout: true, name: "\(profile.name)-groups.llada")
            let rows = try convert(profile, kernelLayout: false, name: "\(profile.name)-rows.llada")
            let groupedModel = try PackedModel(path: grouped.path), rowsModel = try PackedModel(path: rows.path)
            for (a, b) in zip(groupedModel.tensors, rowsModel.tensors) {
                let expected: DataLayout = a.shape.count == 2 && a.name != "model.transformer.wte.weight" ? .kernelGroups : .rows
                XCTAssertEqual(a.layout, expected, a.name)
                XCTAssertEqual(b.layout, .rows, b.name)
                XCTAssertEqual(try groupedModel.tensorData(a.name), try rowsModel.tensorData(b.name), "\(profile) \(a.name) unrepacked")
            }
            let weights = try groupedModel.makeWeights()
            let linears = weights.layers.flatMap { [$0.query, $0.key, $0.value, $0.attentionOut, $0.gate, $0.up, $0.down] } + [weights.lmHead]
            for linear in linears {
                let kernel = try XCTUnwrap(linear as? KernelLinear, "\(profile)")
                XCTAssertTrue(kernel.weights.isInPlace, "\(profile): a layout-1 matrix must not be copied")
            }
            XCTAssertEqual(try logits(grouped, ids), try logits(rows, ids), "\(profile)")
        }
    }

    func testVersionOneFilesAreStillRead() throws {
        let rows = try convert(.q4, kernelLayout: false, name: "rows.llada")
        let ids = try PackedTestSupport.goldenInputs()[1].ids
        let expected = try logits(rows, ids)
        var bytes = [UInt8](try Data(contentsOf: rows))
        bytes[8] = 1
        let crc = bytes.withUnsafeBytes { llada_crc32c(0, $0.baseAddress, 252) }
        withUnsafeBytes(of: crc.littleEndian) { for i in 0..<4 { bytes[252 + i] = $0[i] } }
        let v1 = directory.appendingPathComponent("v1.llada")
        try Data(bytes).write(to: v1)
        XCTAssertEqual(try logits(v1, ids), expected)

        // A version 1 file cannot hold layout 1: the same patch on a layout-1 file is refused.
        let grouped = try convert(.q4, kernelLayout: true, name: "groups.llada")
        var groupedBytes = [UInt8](try Data(contentsOf: grouped))
        groupedBytes[8] = 1
        let groupedCRC = groupedBytes.withUnsafeBytes { llada_crc32c(0, $0.baseAddress, 252) }
        withUnsafeBytes(of: groupedCRC.littleEndian) { for i in 0..<4 { groupedBytes[252 + i] = $0[i] } }
        try Data(groupedBytes).write(to: v1)
        XCTAssertThrowsError(try PackedModel(path: v1.path)) { error in
            XCTAssertTrue("\(error)".contains("layout"), "\(error)")
        }
    }
}

extension PackedLayoutTests {
    /// The embedding is read by rows: a record claiming the kernels' layout for it is refused,
    /// even with a valid record checksum.
    func testEmbeddingInKernelLayoutIsRefused() throws {
        let url = try convert(.q4, kernelLayout: true, name: "embedding.llada")
        var bytes = [UInt8](try Data(contentsOf: url))
        let table = bytes.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: 48 + 3 * 24, as: UInt64.self)) }
        bytes[table + 66] = 1   // record #0 is the embedding
        let crc = bytes.withUnsafeBytes { llada_crc32c(0, $0.baseAddress! + table, 124) }
        withUnsafeBytes(of: crc.littleEndian) { for i in 0..<4 { bytes[table + 124 + i] = $0[i] } }
        try Data(bytes).write(to: url)
        XCTAssertThrowsError(try PackedModel(path: url.path)) { error in
            XCTAssertTrue("\(error)".contains("model.transformer.wte.weight") && "\(error)".contains("layout"), "\(error)")
        }
    }
}

/// Long passes go through the feed-forward block in row slices; on the kernels that must not
/// change a bit (every row is computed on its own).
final class FeedForwardSliceTests: XCTestCase {
    func testSlicedFeedForwardIsBitIdenticalOnTheKernels() throws {
        let directory = try PackedTestSupport.temporaryDirectory("slice")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = try PackedTestSupport.convertFixture(.q4, into: directory)
        let transformer = Transformer(weights: try PackedModel(path: url.path).makeWeights())
        let ids = try PackedTestSupport.goldenInputs()[0].ids
        func logits() -> [Float] {
            let m = transformer.logits(tokens: ids)
            return Array(UnsafeBufferPointer(start: m.pointer, count: m.rows * m.cols))
        }
        let whole = logits()
        XCTAssertGreaterThan(ids.count, 7)
        // Several slices and a short last one.
        let sliced = Transformer(weights: transformer.weights, options: TransformerOptions(feedForwardSlice: 7))
        let m = sliced.logits(tokens: ids)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: m.pointer, count: m.rows * m.cols)), whole)
    }
}
