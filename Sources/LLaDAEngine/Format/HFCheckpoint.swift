import Foundation
import LLaDAKernels

/// A Hugging Face LLaDA checkpoint directory: config.json, one `model.safetensors` or shards
/// named by `model.safetensors.index.json`, and the tokenizer files. Every tensor the config
/// implies is checked for presence and shape when the checkpoint is opened; the data stays
/// memory-mapped until a tensor is read.
public final class HFCheckpoint: @unchecked Sendable {
    public let directory: URL
    public let config: LLaDAConfig
    public let layout: TensorLayout
    private let locations: [String: (file: SafeTensorsFile, info: SafeTensorInfo)]

    public init(directory: URL) throws {
        self.directory = directory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) else {
            throw LLaDAError("model path \(directory.path) does not exist")
        }
        guard isDirectory.boolValue else {
            throw LLaDAError("\(directory.path) is neither a packed model file from llada-quantize (its first bytes are not the packed-file magic) nor a checkpoint directory (config.json and *.safetensors)")
        }
        let configURL = directory.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            throw LLaDAError("\(configURL.path) is missing: not a Hugging Face checkpoint directory")
        }
        config = try LLaDAConfig.load(from: configURL)
        locations = try Self.openShards(directory)
        // A config implying more tensors than the files hold is refused before its layout is built.
        if TensorLayout.tensorCount(config) > locations.count,
           let missing = TensorLayout.firstMissing(config, present: { [locations] in locations[$0] != nil }) {
            throw LLaDAError("\(directory.path): tensor \(missing) is missing from the checkpoint (config.json implies \(TensorLayout.tensorCount(config)) tensors, the files hold \(locations.count))")
        }
        layout = TensorLayout(config: config)
        try validateTensors()
    }

    public var dtypes: Set<TensorDType> { Set(locations.values.map(\.info.dtype)) }

    public func info(_ name: String) throws -> SafeTensorInfo {
        guard let location = locations[name] else { throw LLaDAError("\(directory.path): tensor \(name) is missing") }
        return location.info
    }

    /// Reads a tensor converted to f32 into `destination` (which holds at least its element count).
    public func read(_ name: String, into destination: UnsafeMutablePointer<Float>) throws {
        guard let (file, info) = locations[name] else { throw LLaDAError("\(directory.path): tensor \(name) is missing") }
        let raw = file.data(of: info)
        Self.convert(raw, dtype: info.dtype, count: info.elementCount, into: destination)
    }

    public func readMatrix(_ name: String) throws -> FloatMatrix {
        let info = try info(name)
        let rows = info.shape.count == 2 ? info.shape[0] : 1
        let matrix = FloatMatrix(rows: rows, cols: info.elementCount / max(rows, 1))
        try read(name, into: matrix.pointer)
        return matrix
    }

    public func readVector(_ name: String) throws -> FloatBuffer {
        let buffer = FloatBuffer(count: try info(name).elementCount)
        try read(name, into: buffer.pointer)
        return buffer
    }

    /// The raw bytes of a tensor as stored (for the converter, which streams them).
    public func rawData(_ name: String) throws -> (SafeTensorInfo, UnsafeRawBufferPointer) {
        guard let (file, info) = locations[name] else { throw LLaDAError("\(directory.path): tensor \(name) is missing") }
        return (info, file.data(of: info))
    }

    package static func convert(_ raw: UnsafeRawBufferPointer, dtype: TensorDType, count: Int, into destination: UnsafeMutablePointer<Float>) {
        guard count > 0, let base = raw.baseAddress else { return }
        switch dtype {
        case .f32:
            memcpy(destination, base, count * 4)
        case .bf16:
            // Safetensors does not promise 2-byte alignment of the data; copy when it is odd.
            withAligned(UInt16.self, base, count) { llada_bf16_to_f32($0, destination, count) }
        case .f16:
            withAligned(UInt16.self, base, count) { llada_f16_to_f32($0, destination, count) }
        default:
            preconditionFailure("validated checkpoints hold only bf16, f16 and f32 weights")
        }
    }

    private static func withAligned<T>(_: T.Type, _ base: UnsafeRawPointer, _ count: Int, _ body: (UnsafePointer<T>) -> Void) {
        if Int(bitPattern: base) % MemoryLayout<T>.alignment == 0 {
            body(base.assumingMemoryBound(to: T.self))
        } else {
            let copy = UnsafeMutablePointer<T>.allocate(capacity: count)
            defer { copy.deallocate() }
            memcpy(copy, base, count * MemoryLayout<T>.stride)
            body(copy)
        }
    }

    private func validateTensors() throws {
        let expected = Set(layout.entries.map(\.name))
        for entry in layout.entries {
            guard let location = locations[entry.name] else {
                throw LLaDAError("\(directory.path): tensor \(entry.name) is missing from the checkpoint")
            }
            guard location.info.dtype.isWeightType else {
                throw LLaDAError("\(location.file.file.path): tensor \(entry.name) has dtype \(location.info.dtype.rawValue); weights must be BF16, F16 or F32")
            }
            guard location.info.shape == entry.shape else {
                throw LLaDAError("\(location.file.file.path): tensor \(entry.name) has shape \(location.info.shape), config.json implies \(entry.shape)")
            }
        }
        if let extra = locations.keys.sorted().first(where: { !expected.contains($0) }) {
            throw LLaDAError("\(directory.path): unexpected tensor \(extra) (a feature this engine does not implement, e.g. biases); refusing to ignore it")
        }
    }

    static func openShards(_ directory: URL) throws -> [String: (file: SafeTensorsFile, info: SafeTensorInfo)] {
        let single = directory.appendingPathComponent("model.safetensors")
        let indexURL = directory.appendingPathComponent("model.safetensors.index.json")
        var result: [String: (file: SafeTensorsFile, info: SafeTensorInfo)] = [:]
        if FileManager.default.fileExists(atPath: single.path) {
            let file = try SafeTensorsFile(path: single.path)
            for (name, info) in file.tensors { result[name] = (file, info) }
            return result
        }
        guard FileManager.default.fileExists(atPath: indexURL.path) else {
            throw LLaDAError("\(directory.path) has neither model.safetensors nor model.safetensors.index.json")
        }
        let weightMap = try ShardIndex.parse(try readIndex(indexURL), path: indexURL.path)
        var shards: [String: SafeTensorsFile] = [:]
        for shardName in Set(weightMap.values).sorted() {
            let path = directory.appendingPathComponent(shardName).path
            guard FileManager.default.fileExists(atPath: path) else {
                throw LLaDAError("\(path) is missing (named by model.safetensors.index.json)")
            }
            shards[shardName] = try SafeTensorsFile(path: path)
        }
        for (name, shardName) in weightMap {
            guard let file = shards[shardName], let info = file.tensors[name] else {
                throw LLaDAError("\(directory.appendingPathComponent(shardName).path): tensor \(name) is missing (the index says it is in this shard)")
            }
            result[name] = (file, info)
        }
        return result
    }

    private static func readIndex(_ url: URL) throws -> Data {
        do { return try Data(contentsOf: url) } catch {
            throw LLaDAError("cannot read \(url.path): \(error.localizedDescription)")
        }
    }
}
