import CLZ4
import Foundation
import LLaDAKernels

/// A packed file's model family and config.
public enum PackedFamily: Sendable {
    case dense(LLaDAConfig)
    case llada2(LLaDA2Config)
}

/// A packed model file written by `llada-quantize` (docs/packed-format.md), memory-mapped.
///
/// `init` validates the whole header: magic, version, size, the checksum of the preamble, of every
/// section and of every directory record, and the consistency of every tensor and chunk with the
/// config. It reads no tensor data. `verify()` then checks every chunk checksum; `makeWeights()`
/// checks them too while decompressing in parallel. Every error names the file and, where one
/// applies, the tensor and chunk.
///
///     if PackedModel.isPackedFile(atPath: path) {
///         let packed = try PackedModel(path: path)          // header checks only (milliseconds)
///         let weights = try packed.makeWeights()            // checksums + LZ4, in parallel
///         // packed.family, packed.tokenizerJSON, packed.tokenizerConfigJSON for the tokenizer
///         let transformer = Transformer(weights: weights)   // LLaDA 2: makeLLaDA2Weights()
///     }
public final class PackedModel: @unchecked Sendable {
    public let path: String
    public let fileSize: Int
    /// The file's format version (PackedFormat.readableVersions).
    public let formatVersion: UInt32
    /// The model family and its config (the config section's `model_type` decides).
    public let family: PackedFamily
    /// The tensors the config implies, in file order, with their roles.
    public let entries: [TensorLayout.Entry]
    /// The config as stored (normalised JSON, see `PackedFormat.normalizedConfigJSON`).
    public let configJSON: Data
    public let tokenizerJSON: Data
    /// nil when the source checkpoint had no tokenizer_config.json.
    public let tokenizerConfigJSON: Data?
    /// The tensor directory, in file order (the order of `TensorLayout`).
    public let tensors: [PackedTensor]
    /// The dense model's config (nil for a LLaDA 2 file).
    public var denseConfig: LLaDAConfig? {
        if case .dense(let config) = family { return config }
        return nil
    }
    public let dataOffset: Int
    let file: MappedFile

    /// True when `path` is a regular file that starts with the packed format's magic; lets a
    /// caller choose between this and a checkpoint directory without reading anything else.
    public static func isPackedFile(atPath path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: PackedFormat.magic.count) else { return false }
        return Array(head) == PackedFormat.magic
    }

    public convenience init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    init(file: MappedFile) throws {
        self.file = file
        path = file.path
        let path = file.path
        func corrupt(_ what: String) -> LLaDAError {
            LLaDAError("\(path): \(what); the file is corrupt (re-run llada-quantize or copy it again)")
        }
        let size = file.size
        guard size >= PackedFormat.magic.count, Array(file.bytes[0..<PackedFormat.magic.count]) == PackedFormat.magic else {
            if size < PackedFormat.magic.count && Array(file.bytes) == Array(PackedFormat.magic.prefix(size)) {
                throw LLaDAError("\(path) is truncated (\(size) bytes): not even the header is there; re-run llada-quantize")
            }
            throw LLaDAError("\(path) is not a packed LLaDA model (no LLADAPAK magic); give a file written by llada-quantize or a checkpoint directory")
        }
        guard size >= PackedFormat.preambleSize else {
            throw LLaDAError("\(path) is truncated (\(size) bytes, shorter than the \(PackedFormat.preambleSize)-byte header); re-run llada-quantize")
        }
        let reader = ByteReader(base: file.bytes.baseAddress!)
        let crcAt = PackedFormat.preambleSize - 4
        guard reader.crc(0, crcAt) == reader.get(UInt32.self, at: crcAt) else {
            throw corrupt("header checksum mismatch (bytes 0–\(PackedFormat.preambleSize - 1))")
        }
        let version = reader.get(UInt32.self, at: 8)
        guard PackedFormat.readableVersions.contains(version) else {
            throw LLaDAError("\(path) has packed format version \(version); this build reads versions \(PackedFormat.readableVersions.lowerBound)–\(PackedFormat.readableVersions.upperBound) (convert the checkpoint again with this llada-quantize)")
        }
        formatVersion = version
        let statedSize = reader.get(UInt64.self, at: 16)
        if UInt64(size) < statedSize {
            throw LLaDAError("\(path) is truncated: \(size) bytes, the header says \(statedSize); re-run llada-quantize or copy the file again")
        }
        if UInt64(size) > statedSize {
            throw corrupt("\(UInt64(size) - statedSize) unexpected bytes after the end of the data (file is \(size) bytes, the header says \(statedSize))")
        }
        fileSize = size
        let alignment = reader.get(UInt32.self, at: 12)
        let dataOffset = reader.get(UInt64.self, at: 24)
        let tensorCount = Int(reader.get(UInt32.self, at: 32))
        let chunkCount = Int(reader.get(UInt32.self, at: 36))
        let sectionCount = Int(reader.get(UInt32.self, at: 40))
        guard alignment == PackedFormat.alignment, sectionCount == PackedFormat.Section.allCases.count,
              dataOffset % UInt64(PackedFormat.alignment) == 0, dataOffset >= UInt64(PackedFormat.preambleSize),
              dataOffset <= UInt64(size) else {
            throw corrupt("header fields are inconsistent (alignment \(alignment), \(sectionCount) sections, data at \(dataOffset))")
        }
        self.dataOffset = Int(dataOffset)

        // Sections: in order, 8-aligned, inside [preamble end, data offset), zero bytes between them.
        var ranges: [Range<Int>] = []
        var previousEnd = PackedFormat.preambleSize
        for section in PackedFormat.Section.allCases {
            let base = 48 + section.rawValue * 24
            let offset = reader.get(UInt64.self, at: base)
            let length = reader.get(UInt64.self, at: base + 8)
            guard offset % 8 == 0, offset >= UInt64(previousEnd), length <= dataOffset, offset <= dataOffset - length else {
                throw corrupt("\(section.label) lies outside the header (offset \(offset), \(length) bytes)")
            }
            try Self.checkZero(reader, from: previousEnd, to: Int(offset)) { corrupt("non-zero padding byte at offset \($0) before the \(section.label)") }
            ranges.append(Int(offset)..<Int(offset + length))
            previousEnd = Int(offset + length)
        }
        try Self.checkZero(reader, from: previousEnd, to: Int(dataOffset)) { corrupt("non-zero padding byte at offset \($0) before the data") }
        func sectionCRCMatches(_ section: PackedFormat.Section) -> Bool {
            let range = ranges[section.rawValue]
            return reader.crc(range.lowerBound, range.upperBound) == reader.get(UInt32.self, at: 48 + section.rawValue * 24 + 16)
        }
        func sectionData(_ section: PackedFormat.Section) -> Data {
            let range = ranges[section.rawValue]
            return Data(file.bytes[range])
        }
        for section in [PackedFormat.Section.config, .tokenizer, .tokenizerConfig] where !sectionCRCMatches(section) {
            throw corrupt("\(section.label) fails its checksum")
        }
        configJSON = sectionData(.config)
        let source = "\(path) (config section)"
        let impliedCount: Int
        if (try? JSONSerialization.jsonObject(with: configJSON) as? [String: Any])?["model_type"] as? String == "llada2_moe" {
            guard version >= PackedFormat.llada2Version else {
                throw corrupt("a LLaDA 2 config section in a version \(version) file (LLaDA 2 files are version \(PackedFormat.llada2Version))")
            }
            let config = try LLaDA2Config.decode(configJSON, source: source)
            (family, impliedCount) = (.llada2(config), config.impliedTensorCount)
        } else {
            let config = try LLaDAConfig.decode(configJSON, source: source)
            (family, impliedCount) = (.dense(config), TensorLayout.tensorCount(config))
        }
        tokenizerJSON = sectionData(.tokenizer)
        guard !tokenizerJSON.isEmpty else { throw corrupt("the tokenizer.json section is empty") }
        let tokenizerConfig = sectionData(.tokenizerConfig)
        tokenizerConfigJSON = tokenizerConfig.isEmpty ? nil : tokenizerConfig

        // Checked before the layout is built: the header's counts are bounded by the file size, the config's are not.
        guard tensorCount == impliedCount, ranges[3].count == tensorCount * PackedFormat.tensorRecordSize,
              ranges[4].count == chunkCount * PackedFormat.chunkRecordSize else {
            throw corrupt("the directory holds \(tensorCount) tensors and \(chunkCount) chunks in \(ranges[3].count) + \(ranges[4].count) bytes; the config implies \(impliedCount) tensors")
        }
        switch family {
        case .dense(let config): entries = TensorLayout(config: config).entries
        case .llada2(let config): entries = (0..<(config.numHiddenLayers + 2)).flatMap { LLaDA2Checkpoint.expectedTensors(config, part: $0) }
        }
        tensors = try Self.readDirectory(reader, version: version, entries: entries, tensorTable: ranges[3].lowerBound, chunkTable: ranges[4].lowerBound,
                                         chunkCount: chunkCount, dataOffset: Int(dataOffset), fileSize: size, corrupt: corrupt)
        // Every record passed its own checksum; the table checksums cover the same bytes.
        for section in [PackedFormat.Section.tensorTable, .chunkTable] where !sectionCRCMatches(section) {
            throw corrupt("\(section.label) fails its checksum")
        }
    }

    private static func checkZero(_ reader: ByteReader, from start: Int, to end: Int, _ error: (Int) -> LLaDAError) throws {
        guard start < end else { return }
        let bytes = UnsafeRawBufferPointer(start: reader.base + start, count: end - start)
        if let index = bytes.firstIndex(where: { $0 != 0 }) { throw error(start + index) }
    }

    private static func readDirectory(_ reader: ByteReader, version: UInt32, entries: [TensorLayout.Entry], tensorTable: Int, chunkTable: Int, chunkCount: Int,
                                      dataOffset: Int, fileSize: Int, corrupt: (String) -> LLaDAError) throws -> [PackedTensor] {
        var tensors: [PackedTensor] = []
        var nextChunk = 0
        var previousEnd = dataOffset
        for (index, entry) in entries.enumerated() {
            let base = tensorTable + index * PackedFormat.tensorRecordSize
            let label = "tensor \(entry.name)"
            guard reader.crc(base, base + 124) == reader.get(UInt32.self, at: base + 124) else {
                throw corrupt("directory record of \(label) (#\(index)) fails its checksum")
            }
            let nameBytes = UnsafeRawBufferPointer(start: reader.base + base, count: PackedFormat.nameCapacity)
            let nameLength = nameBytes.firstIndex(of: 0) ?? PackedFormat.nameCapacity
            let name = String(decoding: nameBytes[0..<nameLength], as: UTF8.self)
            guard name == entry.name else {
                throw corrupt("directory record #\(index) is \(name), expected \(entry.name)")
            }
            guard let type = WeightType(rawValue: reader.get(UInt8.self, at: base + 64)) else {
                throw corrupt("\(label) has unknown type code \(reader.get(UInt8.self, at: base + 64))")
            }
            let rank = Int(reader.get(UInt8.self, at: base + 65))
            let layoutCode = reader.get(UInt8.self, at: base + 66)
            guard let dataLayout = DataLayout(rawValue: layoutCode), version >= 2 || dataLayout == .rows,
                  TensorEncoding(type: type, layout: dataLayout, columns: 1).isValid,
                  // Only the matrices the kernels multiply may be in their layout.
                  dataLayout == .rows || (rank == 2 && entry.role != .embedding) else {
                throw corrupt("\(label) has unknown or impossible layout code \(layoutCode) for \(type)")
            }
            let dims = [reader.get(UInt64.self, at: base + 80), reader.get(UInt64.self, at: base + 88)]
            guard rank == entry.shape.count, dims[0] == UInt64(entry.shape[0]), dims[1] == UInt64(rank == 2 ? entry.shape[1] : 1) else {
                throw corrupt("\(label) has shape rank \(rank) \(dims), the config implies \(entry.shape)")
            }
            if entry.role == .norm && type != .f32 {
                throw corrupt("\(label) is a norm weight stored as \(type); norms must be f32")
            }
            let elements = entry.shape.reduce(1, *)
            let rowLength = entry.shape.last!
            if type.isBlockQuantized && rowLength % type.recordElements != 0 {
                throw corrupt("\(label) is \(type) but its rows of \(rowLength) are not whole blocks")
            }
            let encoding = TensorEncoding(type: type, layout: dataLayout, columns: rowLength)
            let byteSize = Int(exactly: reader.get(UInt64.self, at: base + 96)) ?? -1   // a crafted huge value must not trap
            guard byteSize == encoding.byteCount(elements: elements) else {
                throw corrupt("\(label) declares \(byteSize) bytes, \(entry.shape) in \(type) (\(dataLayout) layout) takes \(encoding.byteCount(elements: elements))")
            }
            let storedSize = reader.get(UInt64.self, at: base + 104)
            let firstChunk = Int(reader.get(UInt32.self, at: base + 68))
            let count = Int(reader.get(UInt32.self, at: base + 72))
            guard firstChunk == nextChunk, count >= 1, count <= chunkCount - firstChunk else {
                throw corrupt("\(label) lists chunks \(firstChunk)..<\(firstChunk + count), expected to start at \(nextChunk) of \(chunkCount)")
            }
            var chunks: [PackedChunk] = []
            var rawTotal = 0, storedTotal = 0
            for k in 0..<count {
                let chunkLabel = "\(label) chunk \(k) of \(count)"
                let record = chunkTable + (firstChunk + k) * PackedFormat.chunkRecordSize
                guard reader.crc(record, record + 28) == reader.get(UInt32.self, at: record + 28) else {
                    throw corrupt("directory record of \(chunkLabel) fails its checksum")
                }
                let offset = reader.get(UInt64.self, at: record)
                let stored = Int(reader.get(UInt32.self, at: record + 8))
                let raw = Int(reader.get(UInt32.self, at: record + 12))
                let owner = Int(reader.get(UInt32.self, at: record + 20))
                guard owner == index,
                      let codec = PackedFormat.Codec(rawValue: reader.get(UInt8.self, at: record + 24)),
                      let filter = PackedFormat.Filter(rawValue: reader.get(UInt8.self, at: record + 25)) else {
                    throw corrupt("directory record of \(chunkLabel) has an unknown codec, filter or owner")
                }
                // LZ4 expands at most 255-fold, so a compressed chunk's raw size is bounded by its stored bytes.
                guard raw > 0, raw <= PackedFormat.maxChunkBytes, raw % encoding.recordBytes == 0,
                      codec == .raw ? (stored == raw && filter == .none) : (stored > 0 && stored < raw && raw <= stored * 255),
                      offset == UInt64(PackedFormat.roundUp(previousEnd, to: PackedFormat.alignment)),
                      offset <= UInt64(fileSize), UInt64(stored) <= UInt64(fileSize) - offset else {
                    throw corrupt("\(chunkLabel) has inconsistent offset \(offset) / sizes \(stored) stored, \(raw) raw")
                }
                chunks.append(PackedChunk(offset: Int(offset), storedSize: stored, rawSize: raw,
                                          checksum: reader.get(UInt32.self, at: record + 16), codec: codec, filter: filter))
                previousEnd = Int(offset) + stored
                rawTotal += raw
                storedTotal += stored
            }
            guard rawTotal == byteSize, UInt64(storedTotal) == storedSize else {
                throw corrupt("\(label): its chunks hold \(rawTotal) raw / \(storedTotal) stored bytes, the directory says \(byteSize) / \(storedSize)")
            }
            nextChunk += count
            tensors.append(PackedTensor(name: name, type: type, layout: dataLayout, shape: entry.shape, byteSize: byteSize, storedSize: storedTotal,
                                        firstChunk: firstChunk, chunks: chunks))
        }
        guard nextChunk == chunkCount, previousEnd == fileSize else {
            throw corrupt("the directory's chunks (\(nextChunk) of \(chunkCount)) do not end where the file does")
        }
        return tensors
    }

    // MARK: Data

    /// Every chunk of every tensor, in file order.
    private var allChunks: [(tensor: Int, index: Int, chunk: PackedChunk)] {
        tensors.enumerated().flatMap { t, tensor in tensor.chunks.enumerated().map { (t, $0, $1) } }
    }

    private func chunkLabel(_ tensor: Int, _ index: Int) -> String {
        let t = tensors[tensor]
        let chunk = t.chunks[index]
        return "tensor \(t.name) chunk \(index) of \(t.chunks.count) (file bytes \(chunk.offset)–\(chunk.offset + chunk.storedSize - 1))"
    }

    /// Checks the stored bytes of a chunk and the zero padding after it.
    private func checkChunk(_ tensor: Int, _ index: Int, _ chunk: PackedChunk, nextOffset: Int) -> LLaDAError? {
        let base = file.bytes.baseAddress!
        let computed = llada_crc32c(0, base + chunk.offset, chunk.storedSize)
        if computed != chunk.checksum {
            return LLaDAError("\(path): \(chunkLabel(tensor, index)) fails its checksum (stored \(hex(chunk.checksum)), computed \(hex(computed))); the file is corrupt (re-run llada-quantize or copy it again)")
        }
        let end = chunk.offset + chunk.storedSize
        if let bad = UnsafeRawBufferPointer(start: base + end, count: nextOffset - end).firstIndex(where: { $0 != 0 }) {
            return LLaDAError("\(path): non-zero padding byte at offset \(end + bad) after \(chunkLabel(tensor, index)); the file is corrupt")
        }
        return nil
    }

    private func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }

    /// Runs `body` for every chunk in parallel and throws the error of the first failing chunk in file order.
    private func forEveryChunk(_ body: (Int, Int, PackedChunk, Int) -> LLaDAError?) throws {
        let chunks = allChunks
        let errors = UnsafeMutableBufferPointer<LLaDAError?>.allocate(capacity: chunks.count)
        errors.initialize(repeating: nil)
        defer { errors.deinitialize(); errors.deallocate() }
        parallelFor(chunks.count) { i in
            let (tensor, index, chunk) = chunks[i]
            let next = i + 1 < chunks.count ? chunks[i + 1].chunk.offset : fileSize
            errors[i] = body(tensor, index, chunk, next)
        }
        if let error = errors.first(where: { $0 != nil }) { throw error! }
    }

    /// Checks the checksum of every chunk (and that all padding is zero); throws naming the first
    /// bad tensor and chunk in file order.
    public func verify() throws {
        try forEveryChunk { tensor, index, chunk, next in checkChunk(tensor, index, chunk, nextOffset: next) }
    }

    /// Where a tensor's bytes live once loaded: in the mapping, or in memory this object owns.
    final class Storage: @unchecked Sendable {
        let pointer: UnsafeRawPointer
        private let owned: UnsafeMutableRawPointer?
        private let file: MappedFile?

        init(mapped pointer: UnsafeRawPointer, file: MappedFile) {
            self.pointer = pointer
            owned = nil
            self.file = file
        }

        init(byteCount: Int) {
            let memory = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
            owned = memory
            pointer = UnsafeRawPointer(memory)
            file = nil
        }

        var mutablePointer: UnsafeMutableRawPointer { owned! }

        /// Drops the resident pages of a mapped range (they are re-read from the file if touched
        /// again); owned memory is left alone.
        func releaseMappedPages(byteCount: Int) {
            guard file != nil else { return }
            Self.releasePages(pointer, byteCount: byteCount)
        }

        /// Drops this process's resident pages of a read-only mapped range (the page cache keeps them).
        static func releasePages(_ pointer: UnsafeRawPointer, byteCount: Int) {
            guard byteCount > 0 else { return }
            let page = Int(sysconf(Int32(_SC_PAGESIZE)))
            let start = Int(bitPattern: pointer) / page * page
            let end = Int(bitPattern: pointer) + byteCount
            madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_DONTNEED)
        }

        deinit { owned?.deallocate() }
    }

    /// One tensor's data in its stored type, in rows (decompressed, checksums verified, a
    /// kernel-layout tensor unrepacked): for tools and tests.
    public func tensorData(_ name: String) throws -> Data {
        let stored = try storedTensorData(name)
        guard let tensor = tensors.first(where: { $0.name == name }), tensor.layout == .kernelGroups else { return stored }
        var rows = Data(count: tensor.type.byteCount(elements: tensor.elementCount))
        stored.withUnsafeBytes { source in
            rows.withUnsafeMutableBytes {
                llada_unrepack(tensor.type.kernelCode, source.baseAddress, $0.baseAddress, tensor.shape[0], tensor.shape[1])
            }
        }
        return rows
    }

    /// One tensor's bytes exactly as its chunks hold them, decompressed and checked.
    public func storedTensorData(_ name: String) throws -> Data {
        guard let t = tensors.firstIndex(where: { $0.name == name }) else {
            throw LLaDAError("\(path): no tensor named \(name)")
        }
        let tensor = tensors[t]
        var data = Data()
        data.reserveCapacity(tensor.byteSize)
        let base = file.bytes.baseAddress!
        for (index, chunk) in tensor.chunks.enumerated() {
            let next = index + 1 < tensor.chunks.count ? tensor.chunks[index + 1].offset
                : (tensors.indices.contains(t + 1) ? tensors[t + 1].chunks[0].offset : fileSize)
            if let error = checkChunk(t, index, chunk, nextOffset: next) { throw error }
            var raw = [UInt8](repeating: 0, count: chunk.rawSize)
            if chunk.codec == .raw {
                raw.withUnsafeMutableBytes { _ = memcpy($0.baseAddress!, base + chunk.offset, chunk.rawSize) }
            } else {
                var unpacked = [UInt8](repeating: 0, count: chunk.rawSize)
                let n = unpacked.withUnsafeMutableBytes {
                    LZ4_decompress_safe((base + chunk.offset).assumingMemoryBound(to: CChar.self), $0.baseAddress!.assumingMemoryBound(to: CChar.self),
                                        Int32(chunk.storedSize), Int32(chunk.rawSize))
                }
                guard n == Int32(chunk.rawSize) else {
                    throw LLaDAError("\(path): \(chunkLabel(t, index)) does not decompress to its \(chunk.rawSize) bytes; the file is corrupt (re-run llada-quantize)")
                }
                if chunk.filter == .byteShuffle {
                    llada_unshuffle_bytes(unpacked, &raw, chunk.rawSize / tensor.type.recordBytes, tensor.type.recordBytes)
                } else {
                    raw = unpacked
                }
            }
            data.append(contentsOf: raw)
        }
        return data
    }

    /// A tensor can be used in place when its chunks are all raw and back to back in the file.
    private func isInPlace(_ tensor: PackedTensor) -> Bool {
        zip(tensor.chunks, tensor.chunks.dropFirst()).allSatisfy { $0.offset + $0.storedSize == $1.offset }
            && tensor.chunks.allSatisfy { $0.codec == .raw }
    }

    /// Verifies every checksum and builds the model: raw tensors are used in place from the
    /// mapping, compressed chunks are decompressed in parallel into 64-byte aligned memory,
    /// norms are copied to f32 buffers, matrices become `QuantizedLinear` / `QuantizedEmbedding`,
    /// or `KernelLinear`s running on `kernels`.
    public func makeWeights(backend: LinearBackend = .kernels, kernels: KernelContext = .standard()) throws -> ModelWeights {
        guard case .dense(let config) = family else { throw LLaDAError("\(path): a LLaDA 2 file; its weights are makeLLaDA2Weights()") }
        let source = try loadTensors(backend: backend, kernels: kernels)
        return try WeightBinding.bind(config: config, linear: { name, _ in try source.linear(name) }, vector: source.vector,
                                      embedding: source.embedding)
    }

    /// The LLaDA 2 network's weights: the experts, attention and dense matrices as the kernels
    /// multiply them, the router and the norms in f32.
    public func makeLLaDA2Weights(backend: LinearBackend = .kernels, kernels: KernelContext = .standard()) throws -> LLaDA2Weights {
        guard case .llada2(let config) = family else { throw LLaDAError("\(path): a dense LLaDA file; its weights are makeWeights()") }
        let source = try loadTensors(backend: backend, kernels: kernels)
        return try LLaDA2Weights(config: config, linear: source.linear, vector: source.vector, embedding: source.embedding)
    }

    /// How each tensor of a loaded file is read, by name.
    struct TensorSource {
        let linear: (String) throws -> any LinearLayer
        let vector: (String) throws -> FloatBuffer
        let embedding: (String) throws -> any EmbeddingTable
    }

    private func loadTensors(backend: LinearBackend, kernels: KernelContext) throws -> TensorSource {
        let base = file.bytes.baseAddress!
        let storages: [Storage] = tensors.map { tensor in
            isInPlace(tensor) ? Storage(mapped: base + tensor.chunks[0].offset, file: file) : Storage(byteCount: tensor.byteSize)
        }
        // Raw offset of every chunk inside its tensor.
        let rawOffsets: [[Int]] = tensors.map { tensor in
            var offset = 0
            return tensor.chunks.map { chunk in defer { offset += chunk.rawSize }; return offset }
        }
        let inPlace = tensors.map(isInPlace)
        // Of a mapped embedding only the rows of the tokens in use are needed: each chunk's pages,
        // read by its checksum, are handed back at once (they come back a row at a time), so
        // loading never holds the whole table.
        let sparse = entries.map { $0.role == .embedding }
        try forEveryChunk { t, index, chunk, next in
            if let error = checkChunk(t, index, chunk, nextOffset: next) { return error }
            if inPlace[t] {
                if sparse[t] { Storage.releasePages(base + chunk.offset, byteCount: chunk.storedSize) }
                return nil
            }
            let destination = storages[t].mutablePointer + rawOffsets[t][index]
            let source = base + chunk.offset
            switch chunk.codec {
            case .raw:
                memcpy(destination, source, chunk.rawSize)
            case .lz4:
                let shuffled = chunk.filter == .byteShuffle
                let target = shuffled ? UnsafeMutableRawPointer.allocate(byteCount: chunk.rawSize, alignment: 64) : destination
                defer { if shuffled { target.deallocate() } }
                let n = LZ4_decompress_safe(source.assumingMemoryBound(to: CChar.self), target.assumingMemoryBound(to: CChar.self),
                                            Int32(chunk.storedSize), Int32(chunk.rawSize))
                guard n == Int32(chunk.rawSize) else {
                    return LLaDAError("\(path): \(chunkLabel(t, index)) does not decompress to its \(chunk.rawSize) bytes; the file is corrupt (re-run llada-quantize)")
                }
                if shuffled {
                    let recordBytes = tensors[t].type.recordBytes
                    llada_unshuffle_bytes(target.assumingMemoryBound(to: UInt8.self), destination.assumingMemoryBound(to: UInt8.self),
                                          chunk.rawSize / recordBytes, recordBytes)
                }
            }
            return nil
        }

        var byName: [String: (tensor: PackedTensor, storage: Storage)] = [:]
        for (tensor, storage) in zip(tensors, storages) { byName[tensor.name] = (tensor, storage) }
        func linear(_ name: String) throws -> any LinearLayer {
            let (tensor, storage) = byName[name]!
            let (rows, columns) = (tensor.shape[0], tensor.shape[1])
            let dequantize = backend == .dequantize
            if tensor.layout == .kernelGroups {
                guard tensor.type.hasKernel else { throw LLaDAError("\(path): \(tensor.name): no kernel for \(tensor.type)") }
                let format = tensor.type
                if !dequantize {
                    // Used in place: the mapping's pages are the weights (read-only, pageable).
                    return KernelLinear(weights: try PackedWeights(format: format, outFeatures: rows, inFeatures: columns,
                                                                   repacked: UnsafeRawBufferPointer(start: storage.pointer, count: tensor.byteSize),
                                                                   owner: storage), context: kernels)
                }
                let blocks = Storage(byteCount: tensor.type.byteCount(elements: tensor.elementCount))
                llada_unrepack(tensor.type.kernelCode, storage.pointer, blocks.mutablePointer, rows, columns)
                storage.releaseMappedPages(byteCount: tensor.byteSize)
                return QuantizedLinear(type: tensor.type, outFeatures: rows, inFeatures: columns, data: blocks.pointer, owner: blocks)
            }
            // The dequantize backend keeps the dequantize + sgemm path (f32 activations).
            let format = tensor.type
            guard format.hasKernel, !dequantize else {
                return QuantizedLinear(type: tensor.type, outFeatures: tensor.shape[0], inFeatures: tensor.shape[1],
                                       data: storage.pointer, owner: storage)
            }
            // The SIMD kernels repack the blocks into their own memory; the file's pages are
            // then no longer needed and are handed back to the OS.
            let layer = try KernelLinear(format: format, outFeatures: tensor.shape[0], inFeatures: tensor.shape[1],
                                         blocks: UnsafeRawBufferPointer(start: storage.pointer, count: tensor.byteSize),
                                         context: kernels)
            storage.releaseMappedPages(byteCount: tensor.byteSize)
            return layer
        }
        func vector(_ name: String) -> FloatBuffer {
            let (tensor, storage) = byName[name]!
            let buffer = FloatBuffer(count: tensor.elementCount, zeroed: false)
            memcpy(buffer.pointer, storage.pointer, tensor.elementCount * 4)
            return buffer
        }
        return TensorSource(linear: linear, vector: vector) { [self] name in
            let (tensor, storage) = byName[name]!
            // A mapped embedding is read by rows from the file (see QuantizedEmbedding.RowFile).
            return QuantizedEmbedding(type: tensor.type, rows: tensor.shape[0], dimension: tensor.shape[1],
                                      data: storage.pointer, owner: storage,
                                      file: self.isInPlace(tensor) ? self.file : nil, fileOffset: tensor.chunks[0].offset)
        }
    }
}
