import Foundation
import LLaDAConvert
import LLaDAEngine
import XCTest

/// Helpers shared by the quantization, packed-file and converter tests.
enum PackedTestSupport {
    static func temporaryDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("llada-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes an f32 single-file copy of the bf16 fixture (exactly the bf16 values upcast) with the
    /// same json files, optionally changing values or the config on the way.
    static func writeF32Checkpoint(to directory: URL, edit: ((String, inout [Float]) -> Void)? = nil,
                                   editConfig: ((inout [String: Any]) -> Void)? = nil) throws {
        let source = try HFCheckpoint(directory: FixturePaths.model)
        var header: [String] = []
        var payload = Data()
        for entry in source.layout.entries {
            let info = try source.info(entry.name)
            var values = [Float](repeating: 0, count: info.elementCount)
            try values.withUnsafeMutableBufferPointer { try source.read(entry.name, into: $0.baseAddress!) }
            edit?(entry.name, &values)
            let shape = info.shape.map(String.init).joined(separator: ",")
            header.append("\"\(entry.name)\":{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(payload.count),\(payload.count + values.count * 4)]}")
            values.withUnsafeBytes { payload.append(contentsOf: $0) }
        }
        var json = Data("{\(header.joined(separator: ","))}".utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        var length = UInt64(json.count).littleEndian
        var file = Data(bytes: &length, count: 8)
        file.append(json)
        file.append(payload)
        try file.write(to: directory.appendingPathComponent("model.safetensors"))
        for name in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"] {
            try FileManager.default.copyItem(at: FixturePaths.model.appendingPathComponent(name), to: directory.appendingPathComponent(name))
        }
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: FixturePaths.model.appendingPathComponent("config.json"))) as! [String: Any]
        config["torch_dtype"] = "float32"
        editConfig?(&config)
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
            .write(to: directory.appendingPathComponent("config.json"))
    }

    /// Converts the bf16 fixture in-process and returns the file's URL.
    static func convertFixture(_ profile: QuantizationProfile, into directory: URL, name: String? = nil,
                               chunkBytes: Int = PackedFormat.defaultChunkBytes, source: URL = FixturePaths.model) throws -> URL {
        let url = directory.appendingPathComponent(name ?? "\(profile.name).llada")
        var options = ConversionOptions()
        options.chunkBytes = chunkBytes
        _ = try PackedConverter.convert(checkpoint: HFCheckpoint(directory: source), output: url, profile: profile, options: options)
        return url
    }

    /// The four golden input sequences of logits.json.
    static func goldenInputs() throws -> [(ids: [Int], masked: [Int])] {
        let cases = try FixturePaths.goldenJSON("logits.json")["cases"] as! [[String: Any]]
        return cases.map { ($0["input_ids"] as! [Int], $0["mask_positions"] as! [Int]) }
    }

    /// Mean KL(p_ref ‖ p) in nats and top-1 agreement over all rows.
    static func compareLogits(_ reference: FloatMatrix, _ candidate: FloatMatrix) -> (meanKL: Double, top1: Double, maxAbs: Float) {
        precondition(reference.rows == candidate.rows && reference.cols == candidate.cols)
        var kl = 0.0, agree = 0
        var maxAbs: Float = 0
        for row in 0..<reference.rows {
            let p = reference.rowArray(row), q = candidate.rowArray(row)
            func logSoftmax(_ x: [Float]) -> [Double] {
                let peak = Double(x.max()!)
                let logSum = log(x.reduce(0.0) { $0 + exp(Double($1) - peak) }) + peak
                return x.map { Double($0) - logSum }
            }
            let lp = logSoftmax(p), lq = logSoftmax(q)
            for i in 0..<p.count {
                kl += exp(lp[i]) * (lp[i] - lq[i])
                maxAbs = max(maxAbs, abs(p[i] - q[i]))
            }
            if p.indices.max(by: { p[$0] < p[$1] }) == q.indices.max(by: { q[$0] < q[$1] }) { agree += 1 }
        }
        return (kl / Double(reference.rows), Double(agree) / Double(reference.rows), maxAbs)
    }

    /// Asserts that `body` throws an LLaDAError whose message contains every fragment.
    static func assertError(_ fragments: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("expected an error containing \(fragments)", file: file, line: line)
        } catch {
            // The engine's two error types: LLaDAError, and PlanError (whose message is one).
            guard let error = (error as? LLaDAError) ?? (error as? PlanError)?.message else {
                return XCTFail("expected LLaDAError or PlanError, got \(error)", file: file, line: line)
            }
            for fragment in fragments {
                XCTAssertTrue(error.message.contains(fragment), "\"\(error.message)\" lacks \"\(fragment)\"", file: file, line: line)
            }
            XCTAssertFalse(error.message.contains("\n"), "error is not one line: \(error.message)", file: file, line: line)
        }
    }

    /// Overwrites one byte of a file in place.
    static func poke(_ url: URL, at offset: Int, _ byte: UInt8) throws {
        let handle = try FileHandle(forUpdating: url)
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        handle.write(Data([byte]))
    }
}
