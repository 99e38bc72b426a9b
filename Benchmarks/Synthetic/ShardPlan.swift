import LLaDAEngine
import Foundation

/// Which tensors go into which safetensors file, and where each tensor's bytes start, all decided
/// before any data exists: shapes are known up front, so headers are written first and the data
/// streamed after them. Tensors keep the layout order; shards are balanced by bytes, as
/// `save_pretrained` does with its size limit; one shard means a single `model.safetensors`.
public struct ShardPlan: Sendable {
    public struct Placement: Sendable {
        public let entry: TensorLayout.Entry
        /// Absolute byte offset of the tensor's data in its file.
        public let fileOffset: Int
        public let byteCount: Int
    }

    public struct Shard: Sendable {
        public let fileName: String
        public let header: Data
        public let tensors: [Placement]
        public var fileSize: Int { header.count + tensors.reduce(0) { $0 + $1.byteCount } }
    }

    public let shards: [Shard]
    public let dtype: TensorDType

    public init(entries: [TensorLayout.Entry], dtype: TensorDType, shards count: Int) throws {
        guard count >= 1 && count <= entries.count else {
            throw LLaDAError("--shards must be between 1 and \(entries.count) (the number of tensors) for this model (got \(count))")
        }
        let total = entries.reduce(0) { $0 + Self.bytes($1, dtype) }
        let target = Double(total) / Double(count)
        var groups: [[TensorLayout.Entry]] = [[]]
        var before = 0
        for (index, entry) in entries.enumerated() {
            let emptyShardsLeft = count - groups.count
            let current = groups[groups.count - 1]
            if !current.isEmpty && emptyShardsLeft > 0
                && (entries.count - index == emptyShardsLeft || Double(before) + Double(Self.bytes(entry, dtype)) / 2 > target * Double(groups.count)) {
                groups.append([])
            }
            groups[groups.count - 1].append(entry)
            before += Self.bytes(entry, dtype)
        }
        self.init(dtype: dtype, groups: groups.enumerated().map { index, group in
            (count == 1 ? "model.safetensors" : String(format: "model-%05d-of-%05d.safetensors", index + 1, count), group)
        })
    }

    /// The tensor-to-shard assignment of a real `model.safetensors.index.json` (its weight map):
    /// the same shard names, each holding its tensors in layout order. `source` names the index in
    /// errors.
    public init(entries: [TensorLayout.Entry], dtype: TensorDType, weightMap: [String: String], source: String) throws {
        let names = Set(entries.map(\.name))
        if let missing = entries.first(where: { weightMap[$0.name] == nil }) {
            throw LLaDAError("\(source) does not assign \(missing.name) to a shard; it must list every tensor of this shape (\(names.count))")
        }
        if let extra = weightMap.keys.sorted().first(where: { !names.contains($0) }) {
            throw LLaDAError("\(source) lists \(extra), which this shape does not have; use an index of the same model shape")
        }
        let fileNames = Set(weightMap.values).sorted()
        self.init(dtype: dtype, groups: fileNames.map { fileName in
            (fileName, entries.filter { weightMap[$0.name] == fileName })
        })
    }

    private init(dtype: TensorDType, groups: [(fileName: String, entries: [TensorLayout.Entry])]) {
        self.dtype = dtype
        shards = groups.map { fileName, group in
            let header = SafeTensorsWriter.header(for: group.map { ($0.name, dtype, $0.shape, Self.bytes($0, dtype)) }, metadata: ["format": "pt"])
            var offset = header.count
            let tensors = group.map { entry in
                defer { offset += Self.bytes(entry, dtype) }
                return Placement(entry: entry, fileOffset: offset, byteCount: Self.bytes(entry, dtype))
            }
            return Shard(fileName: fileName, header: header, tensors: tensors)
        }
    }

    private static func bytes(_ entry: TensorLayout.Entry, _ dtype: TensorDType) -> Int { entry.shape.reduce(1, *) * dtype.byteSize }

    /// Bytes of tensor data (the index's metadata.total_size).
    public var tensorBytes: Int { shards.reduce(0) { $0 + $1.tensors.reduce(0) { $0 + $1.byteCount } } }

    public var fileBytes: Int { shards.reduce(0) { $0 + $1.fileSize } }

    /// model.safetensors.index.json as `save_pretrained` writes it (names sorted, indent 2, no final
    /// newline), or nil for a single file.
    public var indexJSON: String? {
        guard shards.count > 1 else { return nil }
        let map = shards.flatMap { shard in shard.tensors.map { ($0.entry.name, shard.fileName) } }.sorted { $0.0 < $1.0 }
        let lines = map.map { "    \(JSONText.quoted($0.0)): \(JSONText.quoted($0.1))" }.joined(separator: ",\n")
        return "{\n  \"metadata\": {\n    \"total_size\": \(tensorBytes)\n  },\n  \"weight_map\": {\n\(lines)\n  }\n}"
    }
}
