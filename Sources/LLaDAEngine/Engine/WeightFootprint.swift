import Foundation
import LLaDAKernels

/// What one tensor occupies in memory once the model is loaded: the input of `MemoryEstimate`.
public struct TensorFootprint: Sendable, Equatable {
    public var name: String
    public var role: TensorLayout.Role
    /// [out, in] for matrices, [n] for vectors.
    public var shape: [Int]
    /// The type the forward pass reads (f32 for a checkpoint directory, whatever its dtype).
    public var type: WeightType
    /// As stored in the file ("q4_0", "bf16", ...) and its bytes there (uncompressed).
    public var storedType: String
    public var storedBytes: Int
    /// Bytes held in memory once loaded.
    public var bytes: Int
    /// True when the tensor is mapped from the file and only the rows looked up are ever paged
    /// in (the embedding of a packed file stored raw); false when it is resident in full.
    public var sparseRows: Bool

    public init(name: String, role: TensorLayout.Role, shape: [Int], type: WeightType, storedType: String, storedBytes: Int,
                bytes: Int, sparseRows: Bool) {
        self.name = name
        self.role = role
        self.shape = shape
        self.type = type
        self.storedType = storedType
        self.storedBytes = storedBytes
        self.bytes = bytes
        self.sparseRows = sparseRows
    }
}

/// The footprints of every tensor of a model, read from headers only (nothing is loaded).
public struct WeightFootprint: Sendable, Equatable {
    public var config: LLaDAConfig
    public var tensors: [TensorFootprint]
    /// Bytes of tokenizer.json (the tokenizer's memory grows with it).
    public var tokenizerBytes: Int
    /// Bytes of the model on disk: the packed file, or the checkpoint's safetensors files.
    public var fileBytes: Int
    public var isPacked: Bool

    public init(config: LLaDAConfig, tensors: [TensorFootprint], tokenizerBytes: Int, fileBytes: Int, isPacked: Bool) {
        self.config = config
        self.tensors = tensors
        self.tokenizerBytes = tokenizerBytes
        self.fileBytes = fileBytes
        self.isPacked = isPacked
    }

    /// Reads the header of a packed file or a checkpoint directory.
    public static func load(path: String) throws -> WeightFootprint {
        if PackedModel.isPackedFile(atPath: path) { return WeightFootprint(packed: try PackedModel(path: path)) }
        return try WeightFootprint(checkpoint: HFCheckpoint(directory: URL(fileURLWithPath: path)))
    }

    /// A packed file: every tensor takes its bytes in its stored type (see `loadedBytes`); an
    /// embedding stored raw is used in place, so only looked-up rows are paged in.
    public init(packed: PackedModel) {
        let roles = Dictionary(uniqueKeysWithValues: TensorLayout(config: packed.config).entries.map { ($0.name, $0.role) })
        tensors = packed.tensors.map { tensor in
            let role = roles[tensor.name] ?? .norm
            return TensorFootprint(name: tensor.name, role: role, shape: tensor.shape, type: tensor.type,
                                   storedType: tensor.type.description, storedBytes: tensor.byteSize,
                                   // Layout-1 matrices are used in place from the mapping.
                                   bytes: tensor.layout == .kernelGroups ? tensor.byteSize
                                       : Self.loadedBytes(tensor.type, shape: tensor.shape, role: role, stored: tensor.byteSize),
                                   sparseRows: role == .embedding && tensor.storedSize == tensor.byteSize)
        }
        config = packed.config
        tokenizerBytes = packed.tokenizerJSON.count
        fileBytes = packed.fileSize
        isPacked = true
    }

    /// A checkpoint directory: `ModelWeights(checkpoint:)` widens every tensor, the embedding
    /// included, to an f32 copy (the mapped shards are released after loading).
    public init(checkpoint: HFCheckpoint) throws {
        tensors = try checkpoint.layout.entries.map { entry in
            let info = try checkpoint.info(entry.name)
            return TensorFootprint(name: entry.name, role: entry.role, shape: entry.shape, type: .f32,
                                   storedType: info.dtype.rawValue.lowercased(), storedBytes: info.byteCount,
                                   bytes: info.elementCount * 4, sparseRows: false)
        }
        config = checkpoint.config
        let tokenizerURL = checkpoint.directory.appendingPathComponent("tokenizer.json")
        tokenizerBytes = Self.fileSize(tokenizerURL.path)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: checkpoint.directory.path)) ?? []
        fileBytes = files.filter { $0.hasSuffix(".safetensors") }
            .reduce(0) { $0 + Self.fileSize(checkpoint.directory.appendingPathComponent($1).path) }
        isPacked = false
    }

    /// Matrices the kernels multiply are repacked into `llada_packed_alloc` memory, which on
    /// Linux is whole 2 MiB (huge) pages from 2 MiB up; the rest stays as stored.
    static func loadedBytes(_ type: WeightType, shape: [Int], role: TensorLayout.Role, stored: Int) -> Int {
        guard type.hasKernel, shape.count == 2, role != .embedding else { return stored }
        let bytes = Int(llada_repack_size(type.kernelCode, shape[0], shape[1]))
        #if os(Linux)
        let hugePage = 2 << 20
        if bytes >= hugePage { return (bytes + hugePage - 1) / hugePage * hugePage }
        #endif
        return bytes
    }

    private static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }
}
