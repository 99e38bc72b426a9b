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
    /// The group `llada info` lists it under (nil: its role's).
    public var group: String?
    /// True when its bytes are the file's own pages, mapped in place (shared with the page cache,
    /// which can drop and re-read them), not memory of the process's own.
    public var mapped: Bool

    public init(name: String, role: TensorLayout.Role, shape: [Int], type: WeightType, storedType: String, storedBytes: Int,
                bytes: Int, sparseRows: Bool, group: String? = nil, mapped: Bool = false) {
        self.mapped = mapped
        self.name = name
        self.role = role
        self.shape = shape
        self.type = type
        self.storedType = storedType
        self.storedBytes = storedBytes
        self.bytes = bytes
        self.sparseRows = sparseRows
        self.group = group
    }
}

/// The footprints of every tensor of a model, read from headers only (nothing is loaded).
public struct WeightFootprint: Sendable, Equatable {
    public var shape: ModelShape
    public var tensors: [TensorFootprint]
    /// Bytes of tokenizer.json (the tokenizer's memory grows with it).
    public var tokenizerBytes: Int
    /// Bytes of the model on disk: the packed file, or the checkpoint's safetensors files.
    public var fileBytes: Int
    public var isPacked: Bool

    public init(shape: ModelShape, tensors: [TensorFootprint], tokenizerBytes: Int, fileBytes: Int, isPacked: Bool) {
        self.shape = shape
        self.tensors = tensors
        self.tokenizerBytes = tokenizerBytes
        self.fileBytes = fileBytes
        self.isPacked = isPacked
    }

    /// A packed file: every tensor takes its bytes in its stored type (see `loadedBytes`); an
    /// embedding stored raw is used in place, so only looked-up rows are paged in.
    public init(packed: PackedModel, shape: ModelShape) {
        let roles = Dictionary(uniqueKeysWithValues: packed.entries.map { ($0.name, $0.role) })
        tensors = packed.tensors.map { tensor in
            let role = roles[tensor.name] ?? .norm
            return TensorFootprint(name: tensor.name, role: role, shape: tensor.shape, type: tensor.type,
                                   storedType: tensor.type.description, storedBytes: tensor.byteSize,
                                   // Layout-1 matrices are used in place from the mapping.
                                   bytes: tensor.layout == .kernelGroups ? tensor.byteSize
                                       : Self.loadedBytes(tensor.type, shape: tensor.shape, role: role, stored: tensor.byteSize),
                                   sparseRows: role == .embedding && tensor.storedSize == tensor.byteSize,
                                   group: LLaDA2Checkpoint.group(of: tensor.name),
                                   mapped: tensor.layout == .kernelGroups && tensor.storedSize == tensor.byteSize)
        }
        self.shape = shape
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
        shape = ModelShape(checkpoint.config)
        (tokenizerBytes, fileBytes) = Self.directorySizes(checkpoint.directory)
        isPacked = false
    }

    /// A LLaDA 2 checkpoint directory: every tensor widened to an f32 copy, as for dense LLaDA.
    public init(checkpoint: LLaDA2Checkpoint, shape: ModelShape) {
        tensors = checkpoint.entries.map { entry in
            let info = checkpoint.info(entry.name)
            return TensorFootprint(name: entry.name, role: entry.role, shape: entry.shape, type: .f32,
                                   storedType: info.dtype.rawValue.lowercased(), storedBytes: info.byteCount,
                                   bytes: info.elementCount * 4, sparseRows: false, group: LLaDA2Checkpoint.group(of: entry.name))
        }
        self.shape = shape
        (tokenizerBytes, fileBytes) = Self.directorySizes(checkpoint.directory)
        isPacked = false
    }

    /// Bytes of tokenizer.json and of the directory's safetensors files.
    private static func directorySizes(_ directory: URL) -> (tokenizer: Int, files: Int) {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return (fileSize(directory.appendingPathComponent("tokenizer.json").path),
                files.filter { $0.hasSuffix(".safetensors") }.reduce(0) { $0 + fileSize(directory.appendingPathComponent($1).path) })
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
