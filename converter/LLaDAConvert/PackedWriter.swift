import LLaDAEngine
import CLZ4
import Foundation
import LLaDAKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Settings of one conversion.
public struct ConversionOptions: Sendable {
    /// Worker threads quantizing and compressing chunks.
    public var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    /// Target raw size of a chunk (rounded to a multiple of the page and record size).
    public var chunkBytes: Int = PackedFormat.defaultChunkBytes
    /// Store the kernels' matrices in their layout (used in place at load). Off writes every
    /// tensor in rows, the only layout of version 1 (the header still says version 2; tests
    /// patch it to make a version 1 file).
    public var kernelLayout = true

    public init() {}
}

/// Where a running conversion is, reported after each chunk is written.
public struct ConversionProgress: Sendable {
    public let tensor: String
    public let tensorIndex: Int
    public let tensorCount: Int
    /// Source (checkpoint) bytes consumed so far and in total.
    public let sourceBytesDone: Int
    public let sourceBytesTotal: Int
}

public struct ConversionSummary: Sendable {
    public let fileSize: Int
    public let tensors: [PackedTensor]
    public let seconds: Double
}

/// Converts a checkpoint into a packed model file (docs/packed-format.md).
///
/// Streams: each tensor is cut into chunks of the output; worker threads quantize a chunk straight
/// from the memory-mapped source, compress and checksum it, and the calling thread writes chunks
/// in order. At most `threads + 4` chunks are in flight (fewer if that would exceed
/// `memoryBudget`), and the source pages of a finished chunk are released, so peak memory is about
/// (threads + 4) × (3 × chunk size + the chunk's source bytes) plus the process itself (~30 MB),
/// independent of the model size; docs/quantization.md has measurements.
///
/// The output is written to a temporary file in the output's directory, fsynced and renamed over
/// the output; on any error the temporary file is removed, so a partial file never carries the
/// output's name. `willCreateTemporaryFile` gets the temporary path before the file is created
/// (the CLI's signal handler removes it on SIGINT / SIGTERM).
public enum PackedConverter {
    public static func convert(checkpoint: any PackableCheckpoint, output: URL, profile: QuantizationProfile,
                               options: ConversionOptions = ConversionOptions(),
                               willCreateTemporaryFile: (String) -> Void = { _ in },
                               progress: ((ConversionProgress) -> Void)? = nil) throws -> ConversionSummary {
        let start = Date()
        let plan = try Plan(checkpoint: checkpoint, profile: profile, options: options)
        let outputDirectory = output.deletingLastPathComponent()
        try checkOutput(output, directory: outputDirectory, source: checkpoint.directory)
        let temporary = outputDirectory.appendingPathComponent(".\(output.lastPathComponent).\(getpid()).partial").path
        willCreateTemporaryFile(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_TRUNC, 0o644)
        guard fd >= 0 else {
            throw LLaDAError("cannot create \(temporary): \(String(cString: strerror(errno))) (is \(outputDirectory.path) writable?)")
        }
        var closed = false
        var renamed = false
        defer {
            if !closed { close(fd) }
            if !renamed { unlink(temporary) }
        }
        let tensors = try writeChunks(plan: plan, fd: fd, path: temporary, options: options, progress: progress)
        let header = plan.header(tensors: tensors)
        try writeAll(fd: fd, header, at: 0, path: temporary)
        let fileSize = tensors.last.flatMap { $0.chunks.last.map { $0.offset + $0.storedSize } } ?? plan.dataOffset
        guard ftruncate(fd, off_t(fileSize)) == 0, fsync(fd) == 0 else {
            throw LLaDAError("cannot finish \(temporary): \(String(cString: strerror(errno)))")
        }
        closed = true
        guard close(fd) == 0 else { throw LLaDAError("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        guard rename(temporary, output.path) == 0 else {
            throw LLaDAError("cannot rename \(temporary) to \(output.path): \(String(cString: strerror(errno)))")
        }
        renamed = true
        // Make the rename itself durable.
        let directoryFD = open(outputDirectory.path, O_RDONLY)
        if directoryFD >= 0 { fsync(directoryFD); close(directoryFD) }
        return ConversionSummary(fileSize: fileSize, tensors: tensors, seconds: Date().timeIntervalSince(start))
    }

    private static func checkOutput(_ output: URL, directory: URL, source: URL) throws {
        // Renaming over a file of the checkpoint being read would destroy the user's source.
        let name = output.lastPathComponent
        if directory.standardizedFileURL.resolvingSymlinksInPath().path == source.standardizedFileURL.resolvingSymlinksInPath().path,
           name.hasSuffix(".safetensors") || name.hasSuffix(".json") {
            throw LLaDAError("output \(output.path) would replace a file of the checkpoint being converted; choose another name")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw LLaDAError("output directory \(directory.path) does not exist: create it first")
        }
        if FileManager.default.fileExists(atPath: output.path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw LLaDAError("output \(output.path) is a directory: give a file name, e.g. \(output.path)/model.llada")
        }
    }

    /// Upper bound for the chunks in flight: keeps peak RSS under 2 GB even for f32 sources.
    static let memoryBudget = 1536 << 20

    // MARK: Plan

    struct Job {
        let tensor: Int
        let chunk: Int
        let elementStart: Int
        let elementCount: Int
        let rawBytes: Int
    }

    struct TensorPlan {
        let entry: TensorLayout.Entry
        let encoding: TensorEncoding
        var type: WeightType { encoding.type }
        let source: SafeTensorInfo
        let sourceBytes: UnsafeRawBufferPointer
        let byteSize: Int
        let firstJob: Int
        let jobCount: Int
    }

    /// Everything decided before any data is touched: types, chunking, section contents and the
    /// header size (chunk *counts* depend only on sizes, so the data offset is known up front).
    struct Plan: @unchecked Sendable {
        let checkpoint: any PackableCheckpoint
        let profile: QuantizationProfile
        let tensors: [TensorPlan]
        let jobs: [Job]
        let sections: [[UInt8]]   // config, tokenizer, tokenizer_config; the two tables come later
        let sectionOffsets: [Int]
        let dataOffset: Int
        /// Memory one chunk job can hold at once: its output, the compressed (or shuffled) copy,
        /// and the mapped source pages it reads (released when it is done).
        let maxBytesPerJob: Int

        init(checkpoint: any PackableCheckpoint, profile: QuantizationProfile, options: ConversionOptions) throws {
            self.checkpoint = checkpoint
            self.profile = profile
            let directory = checkpoint.directory
            guard options.chunkBytes >= PackedFormat.alignment, options.chunkBytes <= PackedFormat.maxChunkBytes / 2 else {
                throw LLaDAError("chunk size \(options.chunkBytes) bytes must be between \(PackedFormat.alignment) and \(PackedFormat.maxChunkBytes / 2)")
            }
            if profile.types.values.contains(where: \.isBlockQuantized) {
                for (name, value) in checkpoint.blockedWidths where value % Int(LLADA_QBLOCK) != 0 {
                    throw LLaDAError("\(directory.path)/config.json: \(name) = \(value) is not a multiple of 32, which q8/q4 blocks need; convert with --type f16 or f32")
                }
            }
            var tensors: [TensorPlan] = []
            var jobs: [Job] = []
            for entry in checkpoint.packedEntries {
                let type = profile.type(for: entry.role)
                var encoding = TensorEncoding(type: type, layout: profile.layout(for: entry.role),
                                              columns: entry.shape.count > 1 ? entry.shape[1] : 1)
                // A row length whose groups do not fit whole chunks of a sane size keeps rows
                // (the runtime repacks those at load).
                if !options.kernelLayout || !encoding.isValid || PackedFormat.chunkRawBytes(for: encoding, target: options.chunkBytes) > PackedFormat.maxChunkBytes / 2 {
                    encoding = TensorEncoding(type: type, layout: .rows, columns: encoding.columns)
                }
                let (info, bytes) = try checkpoint.rawData(entry.name)
                guard entry.name.utf8.count < PackedFormat.nameCapacity else {
                    throw LLaDAError("\(directory.path): tensor name \(entry.name) is longer than \(PackedFormat.nameCapacity - 1) bytes, which the packed format does not hold")
                }
                let elements = info.elementCount
                let byteSize = encoding.byteCount(elements: elements)
                let chunkRaw = PackedFormat.chunkRawBytes(for: encoding, target: options.chunkBytes)
                let count = max(1, (byteSize + chunkRaw - 1) / chunkRaw)
                let elementsPerChunk = chunkRaw / encoding.recordBytes * encoding.recordElements
                tensors.append(TensorPlan(entry: entry, encoding: encoding, source: info, sourceBytes: bytes, byteSize: byteSize,
                                          firstJob: jobs.count, jobCount: count))
                for chunk in 0..<count {
                    let first = chunk * elementsPerChunk
                    let n = min(elementsPerChunk, elements - first)
                    jobs.append(Job(tensor: tensors.count - 1, chunk: chunk, elementStart: first, elementCount: n,
                                    rawBytes: encoding.byteCount(elements: n)))
                }
            }
            maxBytesPerJob = jobs.map { job in
                let tensor = tensors[job.tensor]
                // Kernel-layout chunks are quantized into rows first, then repacked: one buffer more.
                let buffers = tensor.encoding.layout == .rows ? 3 : 4
                return buffers * job.rawBytes + job.elementCount * tensor.source.dtype.byteSize
            }.max() ?? 1
            guard jobs.count < Int(UInt32.max) else { throw LLaDAError("\(directory.path): too many chunks for the packed format") }
            self.tensors = tensors
            self.jobs = jobs

            let configJSON = try checkpoint.packedConfigJSON()
            let tokenizer = try Self.readJSONFile(directory.appendingPathComponent("tokenizer.json"), required: true)
            let tokenizerConfig = try Self.readJSONFile(directory.appendingPathComponent("tokenizer_config.json"), required: false)
            sections = [Array(configJSON), Array(tokenizer), Array(tokenizerConfig)]
            let sizes = sections.map(\.count) + [tensors.count * PackedFormat.tensorRecordSize, jobs.count * PackedFormat.chunkRecordSize]
            var offsets: [Int] = []
            var position = PackedFormat.preambleSize
            for size in sizes {
                offsets.append(position)
                position = PackedFormat.roundUp(position + size, to: 8)
            }
            sectionOffsets = offsets
            dataOffset = PackedFormat.roundUp(position, to: PackedFormat.alignment)
        }

        private static func readJSONFile(_ url: URL, required: Bool) throws -> Data {
            guard FileManager.default.fileExists(atPath: url.path) else {
                if required { throw LLaDAError("\(url.path) is missing: the packed file carries the tokenizer, so the checkpoint must have it") }
                return Data()
            }
            let data: Data
            do { data = try Data(contentsOf: url) } catch {
                throw LLaDAError("cannot read \(url.path): \(error.localizedDescription)")
            }
            guard (try? JSONSerialization.jsonObject(with: data)) is [String: Any] else {
                throw LLaDAError("\(url.path) is not a JSON object: fix or re-download it")
            }
            return data
        }

        /// Preamble and all sections, given the final directory.
        func header(tensors packed: [PackedTensor]) -> [UInt8] {
            var tensorTable: [UInt8] = []
            var chunkTable: [UInt8] = []
            for (index, tensor) in packed.enumerated() {
                tensorTable += tensor.encode()
                for chunk in tensor.chunks { chunkTable += chunk.encode(tensorIndex: index) }
            }
            let contents = sections + [tensorTable, chunkTable]
            let fileSize = packed.last.flatMap { $0.chunks.last.map { $0.offset + $0.storedSize } } ?? dataOffset
            var writer = ByteWriter(count: dataOffset)
            writer.put(PackedFormat.magic, at: 0)
            writer.put(checkpoint.packedFormatVersion, at: 8)
            writer.put(UInt32(PackedFormat.alignment), at: 12)
            writer.put(UInt64(fileSize), at: 16)
            writer.put(UInt64(dataOffset), at: 24)
            writer.put(UInt32(packed.count), at: 32)
            writer.put(UInt32(jobs.count), at: 36)
            writer.put(UInt32(contents.count), at: 40)
            for (index, content) in contents.enumerated() {
                let base = 48 + index * 24
                writer.put(UInt64(sectionOffsets[index]), at: base)
                writer.put(UInt64(content.count), at: base + 8)
                writer.put(content.withUnsafeBytes { llada_crc32c(0, $0.baseAddress, content.count) }, at: base + 16)
                writer.put(content, at: sectionOffsets[index])
            }
            writer.sealCRC(from: 0, at: PackedFormat.preambleSize - 4)
            return writer.bytes
        }
    }

    // MARK: Chunk pipeline

    /// Chunk-sized buffers come straight from mmap and go back with munmap: through malloc, freed
    /// multi-megabyte blocks stay in per-thread arenas and RSS grows with the thread count.
    final class PageBuffer: @unchecked Sendable {
        let pointer: UnsafeMutableRawPointer
        let size: Int

        init(_ size: Int) throws {
            self.size = max(size, 1)
            let memory = mmap(nil, self.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            guard let memory, memory != MAP_FAILED else {
                throw LLaDAError("out of memory: cannot map \(size) bytes for a chunk (\(String(cString: strerror(errno)))); try fewer --threads")
            }
            pointer = memory
        }

        deinit { munmap(pointer, size) }
    }

    final class ChunkResult: @unchecked Sendable {
        let buffer: PageBuffer
        var bytes: UnsafeMutableRawPointer { buffer.pointer }
        let storedSize: Int
        let codec: PackedFormat.Codec
        let filter: PackedFormat.Filter
        let checksum: UInt32

        init(buffer: PageBuffer, storedSize: Int, codec: PackedFormat.Codec, filter: PackedFormat.Filter, checksum: UInt32) {
            self.buffer = buffer
            self.storedSize = storedSize
            self.codec = codec
            self.filter = filter
            self.checksum = checksum
        }

    }

    /// Shared state of the workers and the writer, guarded by `condition`.
    final class Pipeline: @unchecked Sendable {
        let condition = NSCondition()
        var nextJob = 0
        var consumed = 0
        var results: [Int: ChunkResult] = [:]
        var failure: Error?
        var stopped = false
    }

    private static func writeChunks(plan: Plan, fd: Int32, path: String, options: ConversionOptions,
                                    progress: ((ConversionProgress) -> Void)?) throws -> [PackedTensor] {
        let pipeline = Pipeline()
        // Chunks in flight (being made or waiting to be written) are what costs memory; cap them so
        // the total stays within `memoryBudget` whatever --threads says.
        let window = max(2, min(options.threads + 4, memoryBudget / plan.maxBytesPerJob))
        let threads = max(1, min(options.threads, window, plan.jobs.count))
        let group = DispatchGroup()
        for _ in 0..<threads {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                work(plan: plan, pipeline: pipeline, window: window)
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        defer {
            pipeline.condition.lock()
            pipeline.stopped = true
            pipeline.condition.broadcast()
            pipeline.condition.unlock()
            group.wait()
        }

        let sourceTotal = plan.tensors.reduce(0) { $0 + $1.source.byteCount }
        var sourceDone = 0
        var position = plan.dataOffset
        var chunks: [PackedChunk] = []
        var packed: [PackedTensor] = []
        for (index, job) in plan.jobs.enumerated() {
            pipeline.condition.lock()
            while pipeline.results[index] == nil && pipeline.failure == nil { pipeline.condition.wait() }
            if let failure = pipeline.failure {
                pipeline.condition.unlock()
                throw failure
            }
            let result = pipeline.results.removeValue(forKey: index)!
            pipeline.consumed = index + 1
            pipeline.condition.broadcast()
            pipeline.condition.unlock()

            try writeAll(fd: fd, UnsafeRawBufferPointer(start: result.bytes, count: result.storedSize), at: position, path: path)
            chunks.append(PackedChunk(offset: position, storedSize: result.storedSize, rawSize: job.rawBytes,
                                      checksum: result.checksum, codec: result.codec, filter: result.filter))
            position = PackedFormat.roundUp(position + result.storedSize, to: PackedFormat.alignment)
            let tensor = plan.tensors[job.tensor]
            sourceDone += job.elementCount * tensor.source.dtype.byteSize
            if job.chunk == tensor.jobCount - 1 {
                packed.append(PackedTensor(name: tensor.entry.name, type: tensor.type, layout: tensor.encoding.layout,
                                           shape: tensor.entry.shape,
                                           byteSize: tensor.byteSize, storedSize: chunks.reduce(0) { $0 + $1.storedSize },
                                           firstChunk: tensor.firstJob, chunks: chunks))
                chunks = []
            }
            progress?(ConversionProgress(tensor: tensor.entry.name, tensorIndex: job.tensor, tensorCount: plan.tensors.count,
                                         sourceBytesDone: sourceDone, sourceBytesTotal: sourceTotal))
        }
        return packed
    }

    private static func work(plan: Plan, pipeline: Pipeline, window: Int) {
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: pieceElements)
        defer { scratch.deallocate() }
        while true {
            pipeline.condition.lock()
            while !pipeline.stopped && pipeline.failure == nil && pipeline.nextJob < plan.jobs.count
                    && pipeline.nextJob >= pipeline.consumed + window {
                pipeline.condition.wait()
            }
            if pipeline.stopped || pipeline.failure != nil || pipeline.nextJob >= plan.jobs.count {
                pipeline.condition.unlock()
                return
            }
            let index = pipeline.nextJob
            pipeline.nextJob += 1
            pipeline.condition.unlock()

            do {
                let result = try process(plan.jobs[index], plan: plan, scratch: scratch)
                pipeline.condition.lock()
                pipeline.results[index] = result
            } catch {
                pipeline.condition.lock()
                if pipeline.failure == nil { pipeline.failure = error }
            }
            pipeline.condition.broadcast()
            pipeline.condition.unlock()
        }
    }

    /// Elements converted to f32 at a time inside a chunk (a multiple of the block size).
    static let pieceElements = 1 << 14

    /// Quantizes one chunk from the source, compresses it when that pays, and checksums it.
    private static func process(_ job: Job, plan: Plan, scratch: UnsafeMutablePointer<Float>) throws -> ChunkResult {
        let tensor = plan.tensors[job.tensor]
        let type = tensor.type
        let rawBuffer = try PageBuffer(job.rawBytes)
        let raw = rawBuffer.pointer
        // Kernel layout: quantize the chunk's rows as rows, then repack them (groups are
        // self-contained, so the chunk's groups are exactly its bytes of the whole repack).
        let rowsBuffer = tensor.encoding.layout == .kernelGroups ? try PageBuffer(type.byteCount(elements: job.elementCount)) : nil
        let quantized = rowsBuffer?.pointer ?? raw
        let sourceSize = tensor.source.dtype.byteSize
        let sourceStart = tensor.sourceBytes.baseAddress! + job.elementStart * sourceSize
        var done = 0
        while done < job.elementCount {
            let n = min(pieceElements, job.elementCount - done)
            let piece = UnsafeRawBufferPointer(start: sourceStart + done * sourceSize, count: n * sourceSize)
            HFCheckpoint.convert(piece, dtype: tensor.source.dtype, count: n, into: scratch)
            try encode(scratch, count: n, type: type, method: plan.profile.q4Method,
                       into: quantized + type.byteCount(elements: done), tensor: tensor, firstElement: job.elementStart + done,
                       source: plan.checkpoint.directory.path)
            done += n
        }
        releasePages(UnsafeRawBufferPointer(start: sourceStart, count: job.elementCount * sourceSize))
        if rowsBuffer != nil {
            let columns = tensor.encoding.columns
            llada_repack_serial(tensor.type.kernelCode, quantized, raw, job.elementCount / columns, columns)
        }

        // Byte planes put the highly repetitive exponent bytes of floats together; on the
        // quantized types they gain under 1% (docs/quantization.md), so they are not shuffled.
        let shuffle = type == .f32 || type == .f16
        let shuffled = shuffle ? try PageBuffer(job.rawBytes) : nil
        let input = shuffled?.pointer ?? raw
        if shuffle {
            llada_shuffle_bytes(raw.assumingMemoryBound(to: UInt8.self), input.assumingMemoryBound(to: UInt8.self),
                                job.rawBytes / type.recordBytes, type.recordBytes)
        }
        let bound = Int(LZ4_compressBound(Int32(job.rawBytes)))
        let compressedBuffer = try PageBuffer(bound)
        let compressed = compressedBuffer.pointer
        let size = Int(LZ4_compress_default(input.assumingMemoryBound(to: CChar.self), compressed.assumingMemoryBound(to: CChar.self),
                                            Int32(job.rawBytes), Int32(bound)))
        if size > 0 && size * 20 <= job.rawBytes * 19 {
            return ChunkResult(buffer: compressedBuffer, storedSize: size, codec: .lz4, filter: shuffle ? .byteShuffle : .none,
                               checksum: llada_crc32c(0, compressed, size))
        }
        return ChunkResult(buffer: rawBuffer, storedSize: job.rawBytes, codec: .raw, filter: .none,
                           checksum: llada_crc32c(0, raw, job.rawBytes))
    }

    /// Converts `count` f32 values (starting at a record boundary) into `type`, refusing values the
    /// type cannot hold with the tensor and element named.
    static func encode(_ values: UnsafeMutablePointer<Float>, count: Int, type: WeightType, method: Q4ScaleMethod,
                       into destination: UnsafeMutableRawPointer, tensor: TensorPlan, firstElement: Int, source: String) throws {
        func element(_ index: Int) -> String {
            let shape = tensor.entry.shape
            let flat = firstElement + index
            return shape.count == 2 ? "[\(flat / shape[1]), \(flat % shape[1])]" : "[\(flat)]"
        }
        func nonFinite(_ index: Int) -> LLaDAError {
            LLaDAError("\(source): tensor \(tensor.entry.name) element \(element(index)) is \(values[index]); the checkpoint is corrupt (re-download it)")
        }
        var bad = 0
        switch type {
        case .f32, .f16:
            if let index = (0..<count).first(where: { !values[$0].isFinite }) { throw nonFinite(index) }
            if type == .f32 {
                memcpy(destination, values, count * 4)
            } else {
                let halves = destination.assumingMemoryBound(to: UInt16.self)
                llada_f32_to_f16(values, halves, count)
                if let index = (0..<count).first(where: { halves[$0] & 0x7c00 == 0x7c00 }) {
                    throw LLaDAError("\(source): tensor \(tensor.entry.name) element \(element(index)) = \(values[index]) does not fit f16 (max 65504); convert with --type q8 or f32")
                }
            }
            return
        case .q8_0:
            let status = llada_quantize_q8_0(values, destination.assumingMemoryBound(to: UInt8.self), count, &bad)
            if status == LLADA_QUANT_NONFINITE { throw nonFinite(bad) }
            if status == LLADA_QUANT_RANGE {
                throw LLaDAError("\(source): tensor \(tensor.entry.name) element \(element(bad)) = \(values[bad]) is too large for q8_0 (its fp16 block scale overflows); convert with --type f32")
            }
        case .q4_0:
            let status = llada_quantize_q4_0(values, destination.assumingMemoryBound(to: UInt8.self), count, method.cValue, &bad)
            if status == LLADA_QUANT_NONFINITE { throw nonFinite(bad) }
            if status == LLADA_QUANT_RANGE {
                throw LLaDAError("\(source): tensor \(tensor.entry.name) element \(element(bad)) = \(values[bad]) is too large for q4_0 (its fp16 block scale overflows); convert with --type q8 or f32")
            }
        }
    }

    /// Drops the mapped source pages wholly inside `range` from this process's memory (they are
    /// re-read from the file if touched again), which keeps RSS flat while streaming a large model.
    static func releasePages(_ range: UnsafeRawBufferPointer) {
        guard let base = range.baseAddress else { return }
        let page = Int(getpagesize())
        let start = PackedFormat.roundUp(Int(bitPattern: base), to: page)
        let end = (Int(bitPattern: base) + range.count) / page * page
        guard end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) else { return }
        madvise(pointer, end - start, MADV_DONTNEED)
    }

    static func writeAll(fd: Int32, _ bytes: [UInt8], at offset: Int, path: String) throws {
        try bytes.withUnsafeBytes { try writeAll(fd: fd, $0, at: offset, path: path) }
    }

    static func writeAll(fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int, path: String) throws {
        var written = 0
        while written < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + written, bytes.count - written, off_t(offset + written))
            if n < 0 {
                if errno == EINTR { continue }
                throw LLaDAError("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            written += n
        }
    }
}
