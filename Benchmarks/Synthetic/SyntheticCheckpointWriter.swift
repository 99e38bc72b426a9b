import LLaDAEngine
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which family and shape to write.
public enum SyntheticModel: Sendable, Equatable {
    case llada(SyntheticModelShape)
    case llada2(SyntheticLLaDA2Shape)

    /// The tensors in load order, validated against the engine's config reader.
    func entries() throws -> [TensorLayout.Entry] {
        switch self {
        case .llada(let shape): TensorLayout(config: try shape.config()).entries
        case .llada2(let shape): LLaDA2Checkpoint.impliedTensors(try shape.config())
        }
    }

    var layerCount: Int {
        switch self {
        case .llada(let shape): shape.nLayers
        case .llada2(let shape): shape.layers
        }
    }

    /// LLaDA 2's attention output at a larger scale, so its router spreads a block's rows (see
    /// SyntheticWeights); the dense models keep the depth-scaled init.
    var attentionOutStd: Float? {
        switch self {
        case .llada: nil
        case .llada2(let shape): shape.attentionOutStd
        }
    }

    var queryKeyNorm: (rotary: Float, static: Float, dims: Int) {
        switch self {
        case .llada: (1, 1, 0)
        case .llada2(let shape): (shape.queryKeyNormValue, shape.queryKeyStaticValue, shape.headDim / 2)
        }
    }

    public var parameterCount: Int {
        switch self {
        case .llada(let shape): shape.parameterCount
        case .llada2(let shape): shape.parameterCount
        }
    }

    func metadataFiles(release: SyntheticRelease) -> [(name: String, text: String)] {
        switch self {
        case .llada(let shape):
            let tokenizer = SyntheticTokenizerFiles(vocabularySize: shape.vocabSize, release: release)
            return [("config.json", shape.configJSON), ("generation_config.json", shape.generationConfigJSON(release: release)),
                    ("tokenizer.json", tokenizer.tokenizerJSON), ("tokenizer_config.json", tokenizer.tokenizerConfigJSON),
                    ("special_tokens_map.json", tokenizer.specialTokensMapJSON)]
        case .llada2(let shape):
            return shape.metadataFiles
        }
    }
}

/// What to generate.
public struct SyntheticCheckpointOptions: Sendable {
    public var model: SyntheticModel
    public var dtype: TensorDType
    public var shards: Int
    public var seed: UInt64
    /// Generator threads (default: all cores).
    public var threads: Int
    /// A real `model.safetensors.index.json` whose tensor-to-shard assignment to copy (then
    /// `shards` is not used).
    public var shardIndex: URL?
    /// Whose metadata files to copy (tokenizer table, special tokens, generation config).
    public var release: SyntheticRelease

    public init(shape: SyntheticModelShape, dtype: TensorDType = .bf16, shards: Int, seed: UInt64 = 0,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount, shardIndex: URL? = nil,
                release: SyntheticRelease = .instruct) {
        self.init(model: .llada(shape), dtype: dtype, shards: shards, seed: seed, threads: threads, shardIndex: shardIndex, release: release)
    }

    public init(model: SyntheticModel, dtype: TensorDType = .bf16, shards: Int, seed: UInt64 = 0,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount, shardIndex: URL? = nil,
                release: SyntheticRelease = .instruct) {
        self.release = release
        self.model = model
        self.dtype = dtype
        self.shards = shards
        self.seed = seed
        self.threads = threads
        self.shardIndex = shardIndex
    }
}

public struct SyntheticCheckpointSummary: Sendable {
    public let directory: URL
    public let fileNames: [String]
    /// Bytes of every file written.
    public let totalBytes: Int
    public let parameterCount: Int
}

/// Writes a Hugging Face-layout synthetic LLaDA checkpoint. Everything goes into a sibling
/// temporary directory that is renamed to the destination only when complete and flushed, so a
/// failed or interrupted run never leaves something that looks like a checkpoint. Weights are
/// streamed: each thread generates 1 Mi-element chunks into its own buffer and writes them at
/// their final offsets, so memory stays at a few MB per thread whatever the model size.
public final class SyntheticCheckpointWriter: @unchecked Sendable {
    public let destination: URL
    /// Where the files are written before the final rename (remove it if the process is killed).
    public let temporaryDirectory: URL
    public let options: SyntheticCheckpointOptions
    public let plan: ShardPlan
    private let replaceExisting: Bool

    static let chunkElements = 1 << 20

    public init(options: SyntheticCheckpointOptions, destination: URL, replaceExisting: Bool = false) throws {
        guard [.bf16, .f16, .f32].contains(options.dtype) else {
            throw LLaDAError("dtype \(options.dtype.rawValue) is not a weight type (use bf16, f16 or f32)")
        }
        guard options.threads >= 1 else { throw LLaDAError("threads must be at least 1 (got \(options.threads))") }
        self.options = options
        self.destination = destination.standardizedFileURL
        self.replaceExisting = replaceExisting
        let entries = try options.model.entries()
        if let index = options.shardIndex {
            let data: Data
            do { data = try Data(contentsOf: index) } catch {
                throw LLaDAError("cannot read \(index.path): \(error.localizedDescription)")
            }
            plan = try ShardPlan(entries: entries, dtype: options.dtype,
                                 weightMap: ShardIndex.parse(data, path: index.path), source: index.path)
        } else {
            plan = try ShardPlan(entries: entries, dtype: options.dtype, shards: options.shards)
        }
        let suffix = UUID().uuidString.prefix(8)
        temporaryDirectory = URL(fileURLWithPath: self.destination.path + ".tmp-\(suffix)")
        try checkDestination()
    }

    /// Checked when created (before any work) and again when writing starts.
    private func checkDestination() throws {
        if FileManager.default.fileExists(atPath: destination.path) && !replaceExisting {
            throw LLaDAError("\(destination.path) already exists; remove it or pass --force to replace it")
        }
    }

    public func write(progress: ((_ bytesDone: Int, _ bytesTotal: Int) -> Void)? = nil) throws -> SyntheticCheckpointSummary {
        let manager = FileManager.default
        try checkDestination()
        let parent = destination.deletingLastPathComponent()
        do { try manager.createDirectory(at: parent, withIntermediateDirectories: true) } catch {
            throw LLaDAError("cannot create \(parent.path): \(error.localizedDescription)")
        }
        try checkFreeSpace(in: parent)
        do { try manager.createDirectory(at: temporaryDirectory, withIntermediateDirectories: false) } catch {
            throw LLaDAError("cannot create \(temporaryDirectory.path): \(error.localizedDescription)")
        }
        do {
            let names = try writeMetadataFiles() + (try writeShards(progress: progress))
            try moveIntoPlace()
            let totalBytes = try names.reduce(0) { sum, name in
                let attributes = try manager.attributesOfItem(atPath: destination.appendingPathComponent(name).path)
                return sum + ((attributes[.size] as? Int) ?? 0)
            }
            return SyntheticCheckpointSummary(directory: destination, fileNames: names.sorted(), totalBytes: totalBytes,
                                              parameterCount: options.model.parameterCount)
        } catch {
            discardTemporaryDirectory()
            throw error
        }
    }

    /// Removes the partial output (for a signal handler, or after an error).
    public func discardTemporaryDirectory() {
        try? FileManager.default.removeItem(at: temporaryDirectory)
    }

    private func checkFreeSpace(in directory: URL) throws {
        var stats = statvfs()
        guard statvfs(directory.path, &stats) == 0 else { return }  // unknown: let the writes report it
        let free = Int(stats.f_bavail) * Int(stats.f_frsize)
        let needed = plan.fileBytes + (64 << 20)  // + tokenizer and JSON files
        guard free >= needed else {
            throw LLaDAError("\(directory.path) has \(Self.gigabytes(free)) free, the checkpoint needs \(Self.gigabytes(needed)); free space or choose another directory")
        }
    }

    static func gigabytes(_ bytes: Int) -> String { String(format: "%.2f GB", Double(bytes) / 1e9) }

    private func writeMetadataFiles() throws -> [String] {
        var files = options.model.metadataFiles(release: options.release)
        if let index = plan.indexJSON { files.append(("model.safetensors.index.json", index)) }
        for (name, text) in files {
            try OutputFile.writeText(text, to: temporaryDirectory.appendingPathComponent(name).path)
        }
        return files.map(\.0)
    }

    private func writeShards(progress: ((Int, Int) -> Void)?) throws -> [String] {
        let files = try plan.shards.map { try OutputFile(path: temporaryDirectory.appendingPathComponent($0.fileName).path) }
        var chunks: [ChunkQueue.Chunk] = []
        for (fileIndex, shard) in plan.shards.enumerated() {
            try files[fileIndex].write(shard.header, at: 0)
            for placement in shard.tensors {
                let elements = placement.entry.shape.reduce(1, *)
                for start in stride(from: 0, to: elements, by: Self.chunkElements) {
                    chunks.append(.init(file: fileIndex, placement: placement, start: start, count: min(Self.chunkElements, elements - start)))
                }
            }
        }
        let queue = ChunkQueue(chunks: chunks, totalBytes: plan.tensorBytes, progress: progress)
        let weights = SyntheticWeights(seed: options.seed, layerCount: options.model.layerCount,
                                       attentionOutStd: options.model.attentionOutStd,
                                       queryKeyNormValue: options.model.queryKeyNorm.rotary,
                                       queryKeyStaticValue: options.model.queryKeyNorm.static,
                                       queryKeyRotaryDims: options.model.queryKeyNorm.dims)
        let dtype = options.dtype
        DispatchQueue.concurrentPerform(iterations: min(options.threads, max(chunks.count, 1))) { _ in
            let values = UnsafeMutablePointer<Float>.allocate(capacity: Self.chunkElements)
            let encoded = UnsafeMutableRawPointer.allocate(byteCount: Self.chunkElements * 4, alignment: 64)
            defer { values.deallocate(); encoded.deallocate() }
            while let chunk = queue.claim() {
                weights.fill(chunk.placement.entry, start: chunk.start, count: chunk.count, into: values)
                SyntheticWeights.encode(values, count: chunk.count, as: dtype, into: encoded)
                let byteCount = chunk.count * dtype.byteSize
                do {
                    try files[chunk.file].write(encoded, count: byteCount, at: chunk.placement.fileOffset + chunk.start * dtype.byteSize)
                    queue.completed(bytes: byteCount)
                } catch {
                    queue.fail(error)
                }
            }
        }
        if let failure = queue.failure { throw failure }
        for file in files { try file.syncAndClose() }
        return plan.shards.map(\.fileName)
    }

    private func moveIntoPlace() throws {
        let manager = FileManager.default
        var previous: URL?
        if manager.fileExists(atPath: destination.path) {
            // --force: keep the old checkpoint until the new one is in place.
            let aside = URL(fileURLWithPath: destination.path + ".old-\(UUID().uuidString.prefix(8))")
            guard rename(destination.path, aside.path) == 0 else { throw OutputFile.error("cannot move aside", destination.path) }
            previous = aside
        }
        guard rename(temporaryDirectory.path, destination.path) == 0 else {
            let error = OutputFile.error("cannot rename \(temporaryDirectory.path) to", destination.path)
            if let previous { _ = rename(previous.path, destination.path) }
            throw error
        }
        if let previous { try? manager.removeItem(at: previous) }
    }
}

/// The chunks still to write, shared by the generator threads. Chunks are handed out in file
/// order, so the disk sees nearly sequential writes; the first error stops every thread.
private final class ChunkQueue: @unchecked Sendable {
    struct Chunk {
        let file: Int
        let placement: ShardPlan.Placement
        let start: Int
        let count: Int
    }

    private let lock = NSLock()
    private let chunks: [Chunk]
    private let totalBytes: Int
    private let progress: ((Int, Int) -> Void)?
    private var next = 0
    private var doneBytes = 0
    private var firstFailure: Error?

    init(chunks: [Chunk], totalBytes: Int, progress: ((Int, Int) -> Void)?) {
        self.chunks = chunks
        self.totalBytes = totalBytes
        self.progress = progress
    }

    func claim() -> Chunk? {
        lock.lock()
        defer { lock.unlock() }
        guard firstFailure == nil, next < chunks.count else { return nil }
        next += 1
        return chunks[next - 1]
    }

    /// Reports progress; the callback runs under the lock, so it never runs concurrently.
    func completed(bytes: Int) {
        lock.lock()
        defer { lock.unlock() }
        doneBytes += bytes
        progress?(doneBytes, totalBytes)
    }

    func fail(_ error: Error) {
        lock.lock()
        defer { lock.unlock() }
        if firstFailure == nil { firstFailure = error }
    }

    var failure: Error? {
        lock.lock()
        defer { lock.unlock() }
        return firstFailure
    }
}
