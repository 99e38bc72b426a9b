import Foundation
import LLaDAConvert
import LLaDAEngine
import XCTest

/// The tools on damaged packed files, as users run them: a byte flipped in every region (header,
/// sections, directory records, chunk data, padding, every kind of checksum) and the file cut at
/// many offsets. `llada generate` and `llada-quantize verify` must each exit non-zero with one
/// `error:` line: no signal death, no hang. (PackedCorruptionTests checks the library on every
/// header byte; this is the end-to-end counterpart on a sample.)
final class PackedCorruptionCLITests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try PackedTestSupport.temporaryDirectory("corrupt-cli")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    struct Outcome {
        let status: Int32
        let reason: Process.TerminationReason
        let stderr: String
        let timedOut: Bool
    }

    /// Runs a tool with a time limit (a hang fails the test instead of stalling the suite).
    func run(_ binary: URL, _ arguments: [String], limit: TimeInterval = 60) throws -> Outcome {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        let done = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in done.signal() }
        try process.run()
        let timedOut = done.wait(timeout: .now() + limit) == .timedOut
        if timedOut {
            process.terminate()
            process.waitUntilExit()
        }
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return Outcome(status: process.terminationStatus, reason: process.terminationReason, stderr: stderr, timedOut: timedOut)
    }

    /// Both tools refuse `file` cleanly.
    func assertRefused(_ file: URL, _ label: String, file testFile: StaticString = #filePath, line: UInt = #line) throws {
        let generate = try run(CLITests.executable, ["generate", "--model", file.path, "--prompt", "hi", "--gen-length", "8",
                                                     "--steps", "8", "--block-length", "8", "--threads", "1"])
        let verify = try run(ConverterCLITests.binary, ["verify", file.path])
        for (tool, outcome) in [("generate", generate), ("verify", verify)] {
            XCTAssertFalse(outcome.timedOut, "\(label), \(tool): hung", file: testFile, line: line)
            XCTAssertEqual(outcome.reason, .exit, "\(label), \(tool): died of signal \(outcome.status)", file: testFile, line: line)
            XCTAssertNotEqual(outcome.status, 0, "\(label), \(tool): accepted", file: testFile, line: line)
            let lines = outcome.stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            XCTAssertEqual(lines.count, 1, "\(label), \(tool): \(outcome.stderr)", file: testFile, line: line)
            XCTAssertTrue(outcome.stderr.hasPrefix("error: "), "\(label), \(tool): \(outcome.stderr)", file: testFile, line: line)
        }
    }

    func u64(_ bytes: Data, _ at: Int) -> Int { Int(bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt64.self) }) }

    /// Offsets in every region of `bytes`, with the region's name.
    func flipOffsets(_ bytes: Data, _ model: PackedModel) -> [(Int, String)] {
        var offsets: [(Int, String)] = [(0, "magic"), (8, "version"), (12, "alignment"), (16, "file size"), (24, "data offset"),
                                        (32, "tensor count"), (36, "chunk count"), (40, "section count"), (44, "reserved"),
                                        (200, "reserved"), (252, "header checksum"), (255, "header checksum")]
        for section in PackedFormat.Section.allCases {
            let entry = 48 + section.rawValue * 24
            offsets += [(entry, "\(section.label) offset"), (entry + 8, "\(section.label) size"),
                        (entry + 16, "\(section.label) checksum"), (entry + 20, "\(section.label) reserved")]
            let start = u64(bytes, entry), length = u64(bytes, entry + 8)
            guard length > 0 else { continue }
            offsets += [(start, section.label), (start + length / 2, section.label), (start + length - 1, section.label)]
        }
        let tensorTable = u64(bytes, 48 + PackedFormat.Section.tensorTable.rawValue * 24)
        let chunkTable = u64(bytes, 48 + PackedFormat.Section.chunkTable.rawValue * 24)
        for index in [0, model.tensors.count / 2, model.tensors.count - 1] {
            let record = tensorTable + index * PackedFormat.tensorRecordSize
            offsets += [(record, "tensor record name"), (record + 64, "tensor record type"), (record + 68, "tensor record first chunk"),
                        (record + 80, "tensor record shape"), (record + 96, "tensor record byte size"), (record + 124, "tensor record checksum")]
        }
        let chunkCount = model.tensors.reduce(0) { $0 + $1.chunks.count }
        for index in [0, chunkCount / 2, chunkCount - 1] {
            let record = chunkTable + index * PackedFormat.chunkRecordSize
            offsets += [(record, "chunk record offset"), (record + 8, "chunk record stored size"), (record + 12, "chunk record raw size"),
                        (record + 16, "chunk record data checksum"), (record + 24, "chunk record codec"), (record + 28, "chunk record checksum")]
        }
        offsets.append((model.dataOffset - 1, "padding before the data"))
        for tensor in [model.tensors.first!, model.tensors[model.tensors.count / 2], model.tensors.last!] {
            for chunk in [tensor.chunks.first!, tensor.chunks.last!] {
                offsets += [(chunk.offset, "chunk data"), (chunk.offset + chunk.storedSize - 1, "chunk data")]
                if chunk.offset + chunk.storedSize < bytes.count, (chunk.offset + chunk.storedSize) % PackedFormat.alignment != 0 {
                    offsets.append((chunk.offset + chunk.storedSize, "padding after a chunk"))
                }
            }
        }
        if let compressed = model.tensors.flatMap(\.chunks).first(where: { $0.codec == .lz4 }) {
            offsets.append((compressed.offset + compressed.storedSize / 2, "LZ4 chunk data"))
        }
        offsets += stride(from: model.dataOffset, to: bytes.count, by: bytes.count / 16).map { ($0, "chunk data (stride)") }
        return offsets
    }

    func testEveryRegionFlippedAndTruncatedGivesOneErrorLine() throws {
        // q4 in 4 KiB chunks: raw q4_0/q8_0 chunks, LZ4 norm chunks, several chunks per tensor.
        let intact = try PackedTestSupport.convertFixture(.q4, into: directory, chunkBytes: 4096)
        let bytes = try Data(contentsOf: intact)
        let model = try PackedModel(path: intact.path)
        let damaged = directory.appendingPathComponent("damaged.llada")
        for (offset, region) in flipOffsets(bytes, model) {
            var copy = bytes
            copy[offset] ^= 0x20
            try copy.write(to: damaged)
            try assertRefused(damaged, "byte \(offset) (\(region)) flipped")
        }
        let chunkEnds = model.tensors.flatMap(\.chunks).map { $0.offset + $0.storedSize }
        var cuts = [0, 1, 7, 8, 100, 251, 252, 255, 256, 257, model.dataOffset - 1, model.dataOffset, model.dataOffset + 1]
        cuts += [chunkEnds[0] - 1, chunkEnds[0], chunkEnds[chunkEnds.count / 2], bytes.count - 1]
        cuts += stride(from: 300, to: bytes.count, by: bytes.count / 12)
        for cut in cuts {
            try bytes.prefix(cut).write(to: damaged)
            try assertRefused(damaged, "cut at \(cut) of \(bytes.count) bytes")
        }
    }
}
