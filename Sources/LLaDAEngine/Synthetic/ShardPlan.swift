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

    public init(layout: TensorLayout, dtype: TensorDType, shards count: Int) throws {
        let entries = layout.entries
        guard count >= 1 && count <= entries.count else {
            throw LLaDAError("--shards must be between 1 and \(entries.count) (the number of tensors) for this model (got \(count))")
        }
        func bytes(_ entry: TensorLayout.Entry) -> Int { entry.shape.reduce(1, *) * dtype.byteSize }
        let total = entries.reduce(0) { $0 + bytes($1) }
        let target = Double(total) / Double(count)
        var groups: [[TensorLayout.Entry]] = [[]]
        var before = 0
        for (index, entry) in entries.enumerated() {
            let emptyShardsLeft = count - groups.count
            let current = groups[groups.count - 1]
            if !current.isEmpty && emptyShardsLeft > 0
                && (entries.count - index == emptyShardsLeft || Double(before) + Double(bytes(entry)) / 2 > target * Double(groups.count)) {
                groups.append([])
            }
            groups[groups.count - 1].append(entry)
            before += bytes(entry)
        }
        self.dtype = dtype
        shards = groups.enumerated().map { index, group in
            let fileName = count == 1 ? "model.safetensors"
                : String(format: "model-%05d-of-%05d.safetensors", index + 1, count)
            let header = SafeTensorsWriter.header(for: group.map { ($0.name, dtype, $0.shape, bytes($0)) }, metadata: ["format": "pt"])
            var offset = header.count
            let tensors = group.map { entry in
                defer { offset += bytes(entry) }
                return Placement(entry: entry, fileOffset: offset, byteCount: bytes(entry))
            }
            return Shard(fileName: fileName, header: header, tensors: tensors)
        }
    }

    /// Bytes of tensor data (the index's metadata.total_size).
    public var tensorBytes: Int { shards.reduce(0) { $0 + $1.tensors.reduce(0) { $0 + $1.byteCount } } }

    public var fileBytes: Int { shards.reduce(0) { $0 + $1.fileSize } }

    /// model.safetensors.index.json, or nil for a single file.
    public var indexJSON: String? {
        guard shards.count > 1 else { return nil }
        let map = shards.flatMap { shard in shard.tensors.map { ($0.entry.name, shard.fileName) } }.sorted { $0.0 < $1.0 }
        let lines = map.map { "    \(JSONText.quoted($0.0)): \(JSONText.quoted($0.1))" }.joined(separator: ",\n")
        return "{\n  \"metadata\": {\n    \"total_size\": \(tensorBytes)\n  },\n  \"weight_map\": {\n\(lines)\n  }\n}\n"
    }
}
