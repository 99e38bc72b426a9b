import Foundation

/// A checkpoint directory `llada-quantize` can pack, whatever its family: its tensors in file
/// order with their roles (which choose each one's storage type), the raw bytes of each, its
/// config as the packed file stores it, and the matrix widths q8/q4 blocks must divide.
public protocol PackableCheckpoint: AnyObject, Sendable {
    var directory: URL { get }
    var packedEntries: [TensorLayout.Entry] { get }
    func rawData(_ name: String) throws -> (SafeTensorInfo, UnsafeRawBufferPointer)
    func packedConfigJSON() throws -> Data
    /// The config keys whose values are the multiplied matrices' row lengths.
    var blockedWidths: [(key: String, value: Int)] { get }
    /// The packed format version a file of this family is written in.
    var packedFormatVersion: UInt32 { get }
}

public enum Checkpoints {
    /// Opens `directory` as its family's checkpoint (LLaDA 2 by `config.json`'s `model_type`).
    public static func open(_ directory: URL) throws -> any PackableCheckpoint {
        LLaDA2Checkpoint.isLLaDA2(directory: directory) ? try LLaDA2Checkpoint(directory: directory) : try HFCheckpoint(directory: directory)
    }
}

extension HFCheckpoint: PackableCheckpoint {
    public var packedEntries: [TensorLayout.Entry] { layout.entries }
    public func packedConfigJSON() throws -> Data { try PackedFormat.normalizedConfigJSON(config) }
    public var blockedWidths: [(key: String, value: Int)] { [("d_model", config.dModel), ("mlp_hidden_size", config.ffHiddenSize)] }
    public var packedFormatVersion: UInt32 { PackedFormat.version }
}

extension LLaDA2Checkpoint: PackableCheckpoint {
    public var packedEntries: [TensorLayout.Entry] { entries }
    public var packedFormatVersion: UInt32 { PackedFormat.llada2Version }

    public func rawData(_ name: String) throws -> (SafeTensorInfo, UnsafeRawBufferPointer) {
        guard let (file, info) = tensors[name] else { throw LLaDAError("\(directory.path): tensor \(name) is missing") }
        return (info, file.data(of: info))
    }

    /// config.json with sorted keys and nothing about the source (no torch_dtype), unknown keys kept.
    public func packedConfigJSON() throws -> Data {
        let url = directory.appendingPathComponent("config.json")
        guard var object = (try? JSONSerialization.jsonObject(with: Data(contentsOf: url))) as? [String: Any] else {
            throw LLaDAError("\(url.path): not a JSON object")
        }
        object["torch_dtype"] = nil
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    public var blockedWidths: [(key: String, value: Int)] {
        let c = config
        return [("hidden_size", c.hiddenSize), ("num_attention_heads × head_dim", c.numAttentionHeads * c.resolvedHeadDim),
                ("intermediate_size", c.intermediateSize), ("moe_intermediate_size", c.moeIntermediateSize)]
    }
}
