import ArgumentParser
import Foundation
import LLaDAConvert
import LLaDAEngine

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a packed file's config and every tensor's type, shape, sizes and compression ratio.")

    @Argument(help: "Packed model file.")
    var file: String

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    struct TensorReport: Encodable {
        let name: String
        let type: String
        /// "rows" or "kernel" (docs/packed-format.md, Layouts).
        let layout: String
        let shape: [Int]
        let rawBytes: Int
        let storedBytes: Int
        let chunks: Int
        let compressedChunks: Int
        let ratio: Double

        enum CodingKeys: String, CodingKey {
            case name, type, layout, shape, chunks, ratio
            case rawBytes = "raw_bytes", storedBytes = "stored_bytes", compressedChunks = "compressed_chunks"
        }
    }

    struct TypeReport: Encodable {
        let tensors: Int
        let rawBytes: Int
        let storedBytes: Int
        let ratio: Double

        enum CodingKeys: String, CodingKey {
            case tensors, ratio
            case rawBytes = "raw_bytes", storedBytes = "stored_bytes"
        }
    }

    /// The config of either family, encoded as its own keys.
    enum ConfigReport: Encodable {
        case dense(LLaDAConfig), llada2(LLaDA2Config)

        func encode(to encoder: Encoder) throws {
            switch self {
            case .dense(let config): try config.encode(to: encoder)
            case .llada2(let config): try config.encode(to: encoder)
            }
        }
    }

    struct Report: Encodable {
        let file: String
        let formatVersion: Int
        let fileSize: Int
        let config: ConfigReport
        let unknownConfigKeys: [String]
        let hasTokenizerConfig: Bool
        let tensors: [TensorReport]
        let types: [String: TypeReport]

        enum CodingKeys: String, CodingKey {
            case file, config, tensors, types
            case formatVersion = "format_version", fileSize = "file_size", hasTokenizerConfig = "has_tokenizer_config"
            case unknownConfigKeys = "unknown_config_keys"
        }
    }

    func run() throws {
        let model = try PackedModel(path: file)
        let tensors = model.tensors.map { tensor in
            TensorReport(name: tensor.name, type: tensor.type.description, layout: tensor.layout.description, shape: tensor.shape, rawBytes: tensor.byteSize,
                         storedBytes: tensor.storedSize, chunks: tensor.chunks.count,
                         compressedChunks: tensor.chunks.filter { $0.codec == .lz4 }.count,
                         ratio: Double(tensor.storedSize) / Double(tensor.byteSize))
        }
        var types: [String: TypeReport] = [:]
        for type in WeightType.allCases {
            let members = model.tensors.filter { $0.type == type }
            guard !members.isEmpty else { continue }
            let raw = members.reduce(0) { $0 + $1.byteSize }, stored = members.reduce(0) { $0 + $1.storedSize }
            types[type.description] = TypeReport(tensors: members.count, rawBytes: raw, storedBytes: stored, ratio: Double(stored) / Double(raw))
        }
        let config: ConfigReport, unknown: [String]
        switch model.family {
        case .dense(let c): (config, unknown) = (.dense(c), c.unknownFields.keys.sorted())
        case .llada2(let c): (config, unknown) = (.llada2(c), c.unknownFields.keys.sorted())
        }
        if json {
            try printJSON(Report(file: file, formatVersion: Int(model.formatVersion), fileSize: model.fileSize, config: config,
                                 unknownConfigKeys: unknown, hasTokenizerConfig: model.tokenizerConfigJSON != nil, tensors: tensors, types: types))
            return
        }
        switch model.family {
        case .dense(let c):
            print("\(file): packed LLaDA model, format v\(model.formatVersion), \(formatBytes(model.fileSize))")
            print("config: d_model \(c.dModel), \(c.nLayers) layers, \(c.nHeads) heads, mlp \(c.ffHiddenSize), vocab \(c.paddedVocabSize), max length \(c.maxSequenceLength), mask id \(c.maskID)")
        case .llada2(let c):
            print("\(file): packed LLaDA 2 (llada2_moe) model, format v\(model.formatVersion), \(formatBytes(model.fileSize))")
            print("config: hidden \(c.hiddenSize), \(c.numHiddenLayers) layers, \(c.numAttentionHeads) heads / \(c.numKeyValueHeads) key/value heads, \(c.numExperts) experts (width \(c.moeIntermediateSize), \(c.numExpertsPerTok) per token), vocab \(c.vocabSize), max length \(c.maxPositionEmbeddings)")
        }
        if !unknown.isEmpty {
            print("config keys this engine does not know (ignored): " + unknown.joined(separator: ", "))
        }
        print("tokenizer.json \(formatBytes(model.tokenizerJSON.count)), tokenizer_config.json \(model.tokenizerConfigJSON.map { formatBytes($0.count) } ?? "absent")")
        let nameWidth = max(4, tensors.map(\.name.count).max() ?? 0)
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
        print(pad("name", nameWidth), pad("type", 5), pad("layout", 7), pad("shape", 14), lpad("raw", 10), lpad("stored", 10), lpad("ratio", 6), lpad("chunks", 8))
        for t in tensors {
            print(pad(t.name, nameWidth), pad(t.type, 5), pad(t.layout, 7), pad("\(t.shape)", 14), lpad(formatBytes(t.rawBytes), 10),
                  lpad(formatBytes(t.storedBytes), 10), lpad(String(format: "%.3f", t.ratio), 6), lpad("\(t.compressedChunks)/\(t.chunks)", 8))
        }
        for (name, report) in types.sorted(by: { $0.key < $1.key }) {
            print("\(name): \(report.tensors) tensors, \(formatBytes(report.rawBytes)) raw, \(formatBytes(report.storedBytes)) stored, ratio \(String(format: "%.3f", report.ratio))")
        }
    }
}

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every checksum of a packed file; names the first bad tensor and chunk.")

    @Argument(help: "Packed model file.")
    var file: String

    func run() throws {
        let start = Date()
        let model = try PackedModel(path: file)
        try model.verify()
        let chunks = model.tensors.reduce(0) { $0 + $1.chunks.count }
        print(String(format: "OK: %@: header, %d tensors and %d chunks verified (%@) in %.2f s",
                     file, model.tensors.count, chunks, formatBytes(model.fileSize), Date().timeIntervalSince(start)))
    }
}
