import Foundation
import LLaDAKernels

/// Storage type of one tensor in a packed model file (docs/packed-format.md).
public enum WeightType: UInt8, CaseIterable, Sendable, CustomStringConvertible {
    case f32 = 0
    case f16 = 1
    /// Blocks of 32: fp16 scale + 32 int8 (34 bytes).
    case q8_0 = 2
    /// Blocks of 32: fp16 scale + 16 bytes of 4-bit values (18 bytes).
    case q4_0 = 3

    public var description: String {
        switch self {
        case .f32: "f32"
        case .f16: "f16"
        case .q8_0: "q8_0"
        case .q4_0: "q4_0"
        }
    }

    /// Bytes of one record: an element for f32/f16, a block of 32 for the quantized types.
    public var recordBytes: Int {
        switch self {
        case .f32: 4
        case .f16: 2
        case .q8_0: Int(LLADA_Q8_0_BYTES)
        case .q4_0: Int(LLADA_Q4_0_BYTES)
        }
    }

    public var recordElements: Int { isBlockQuantized ? Int(LLADA_QBLOCK) : 1 }
    public var isBlockQuantized: Bool { self == .q8_0 || self == .q4_0 }

    /// Bytes of `elements` values (a multiple of `recordElements`).
    public func byteCount(elements: Int) -> Int { elements / recordElements * recordBytes }

    /// The types the SIMD kernels multiply directly (llada_gemm.h); f32 runs through sgemm.
    public static let kernelTypes: [WeightType] = [.q8_0, .q4_0, .f16]

    public var hasKernel: Bool { self != .f32 }

    /// The kernels' code for this type: the same number (llada_gemm.h), so the file, Swift and C
    /// share one identity. Only for `kernelTypes`.
    package var kernelCode: llada_gemm_type {
        precondition(hasKernel, "f32 has no kernel: it runs through sgemm")
        return llada_gemm_type(rawValue: UInt32(rawValue))
    }

    /// Expands `elements` values stored in this type (starting at a record boundary) to f32.
    public func dequantize(_ source: UnsafeRawPointer, elements: Int, into destination: UnsafeMutablePointer<Float>) {
        switch self {
        case .f32: memcpy(destination, source, elements * 4)
        case .f16: llada_f16_to_f32(source.assumingMemoryBound(to: UInt16.self), destination, elements)
        case .q8_0: llada_dequantize_q8_0(source.assumingMemoryBound(to: UInt8.self), destination, elements)
        case .q4_0: llada_dequantize_q4_0(source.assumingMemoryBound(to: UInt8.self), destination, elements)
        }
    }
}

/// How a matrix's records are arranged in the file (docs/packed-format.md, "Layouts").
public enum DataLayout: UInt8, Sendable, CustomStringConvertible {
    /// Row after row, each row `in/32` blocks (or `in` values): the checkpoint's order.
    case rows = 0
    /// The matmul kernels' repacked layout (llada_gemm.h): groups of 16 rows, each its
    /// interleaved quants then its scales, the last group padded with zero rows. Used in place.
    case kernelGroups = 1

    public var description: String { self == .rows ? "rows" : "kernel" }
}

/// A tensor's type and layout together: what its bytes are and how chunks may cut them.
public struct TensorEncoding: Sendable, Equatable {
    public let type: WeightType
    public let layout: DataLayout
    /// Row length (in_features; 1 for vectors).
    public let columns: Int

    public init(type: WeightType, layout: DataLayout, columns: Int) {
        self.type = type
        self.layout = layout
        self.columns = columns
    }

    /// The layout can hold this type: kernel groups exist for q8_0, q4_0 and f16.
    public var isValid: Bool { layout == .rows || type != .f32 }

    /// The unit chunks are cut in: a block (or value) for rows, a group of 16 rows for kernel groups.
    public var recordBytes: Int {
        layout == .rows ? type.recordBytes : llada_repack_group_bytes(type.kernelCode, columns)
    }

    public var recordElements: Int { layout == .rows ? type.recordElements : 16 * columns }

    /// Bytes of the first `elements` values of the tensor (whole records; a partial last group of
    /// rows is padded to a whole group).
    public func byteCount(elements: Int) -> Int {
        layout == .rows ? type.byteCount(elements: elements)
            : (elements + recordElements - 1) / recordElements * recordBytes
    }
}

/// Byte-level constants and record codecs of the packed file, version 2 for dense LLaDA and 3 for
/// LLaDA 2 (version 1, without layouts, is still read). The layout is the
/// contract between `llada-quantize` and the runtime and is specified in docs/packed-format.md.
public enum PackedFormat {
    public static let magic: [UInt8] = Array("LLADAPAK".utf8)
    public static let version: UInt32 = 2
    /// The version of a LLaDA 2 file: the same records, a `llada2_moe` config section and its
    /// tensors (a build that reads only 1–2 refuses it by its version, not by its config).
    public static let llada2Version: UInt32 = 3
    /// Versions this build reads: 1 (every tensor in rows), 2 (adds `DataLayout`), 3 (LLaDA 2).
    public static let readableVersions: ClosedRange<UInt32> = 1...3
    public static let preambleSize = 256
    /// Every chunk starts at a multiple of this, so raw chunks can be used in place from the mapping.
    public static let alignment = 4096
    public static let tensorRecordSize = 128
    public static let chunkRecordSize = 32
    /// Names are stored NUL-padded in 64 bytes (so at most 63 bytes of UTF-8).
    public static let nameCapacity = 64
    public static let defaultChunkBytes = 4 << 20
    /// Upper bound accepted for one chunk's raw size (the converter writes ≤ 4 MiB by default).
    public static let maxChunkBytes = 256 << 20
    /// A chunk is stored LZ4-compressed only if that saves at least this fraction.
    public static let minimumSaving = 0.05

    /// The sections after the preamble, in file order.
    public enum Section: Int, CaseIterable, Sendable {
        case config = 0, tokenizer, tokenizerConfig, tensorTable, chunkTable

        public var label: String {
            switch self {
            case .config: "config section"
            case .tokenizer: "tokenizer.json section"
            case .tokenizerConfig: "tokenizer_config.json section"
            case .tensorTable: "tensor directory"
            case .chunkTable: "chunk directory"
            }
        }
    }

    public enum Codec: UInt8, Sendable { case raw = 0, lz4 = 1 }
    public enum Filter: UInt8, Sendable { case none = 0, byteShuffle = 1 }

    package static func roundUp(_ value: Int, to multiple: Int) -> Int { (value + multiple - 1) / multiple * multiple }


    /// The config as stored: every derived value spelled out and nothing about the source
    /// (no torch_dtype), so equal models give equal bytes whatever their checkpoint dtype.
    public static func normalizedConfigJSON(_ config: LLaDAConfig) throws -> Data {
        var normalized = config
        normalized.nKVHeads = config.kvHeads
        normalized.mlpHiddenSize = config.ffHiddenSize
        normalized.embeddingSize = config.paddedVocabSize
        normalized.ropeTheta = config.ropeBase
        normalized.rmsNormEps = config.rmsNormEps ?? 1e-5
        normalized.maskTokenID = config.maskID
        normalized.torchDtype = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var json = try encoder.encode(normalized)
        // Keys nobody here knows travel along verbatim (after the known ones), so `inspect` and
        // `info` can still list them; without any, the bytes are the encoder's alone.
        if !config.unknownFields.isEmpty, json.last == UInt8(ascii: "}") {
            json.removeLast()
            for (key, value) in config.unknownFields.sorted(by: { $0.key < $1.key }) {
                json.append(contentsOf: Array(",\(JSONText.quoted(key)):\(value)".utf8))
            }
            json.append(UInt8(ascii: "}"))
        }
        return json
    }
}

// MARK: Little-endian byte helpers

struct ByteReader {
    let base: UnsafeRawPointer

    func get<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    func crc(_ start: Int, _ end: Int) -> UInt32 { llada_crc32c(0, base + start, end - start) }
}

// MARK: Records

/// One tensor of the directory.
public struct PackedTensor: Sendable, Equatable {
    public let name: String
    public let type: WeightType
    public let layout: DataLayout
    /// [out, in] for matrices (row-major, blocks along `in`), [n] for vectors.
    public let shape: [Int]
    /// Bytes of the data in `type` (the sum of the chunks' raw sizes).
    public let byteSize: Int
    /// Bytes the chunks occupy in the file (after compression).
    public let storedSize: Int
    /// Index of the first chunk in the chunk directory.
    public let firstChunk: Int
    public let chunks: [PackedChunk]

    package init(name: String, type: WeightType, layout: DataLayout, shape: [Int], byteSize: Int, storedSize: Int,
                 firstChunk: Int, chunks: [PackedChunk]) {
        self.name = name
        self.type = type
        self.layout = layout
        self.shape = shape
        self.byteSize = byteSize
        self.storedSize = storedSize
        self.firstChunk = firstChunk
        self.chunks = chunks
    }

    public var elementCount: Int { shape.reduce(1, *) }
    public var encoding: TensorEncoding { TensorEncoding(type: type, layout: layout, columns: shape.count > 1 ? shape[1] : 1) }
}

/// One chunk of a tensor's data.
public struct PackedChunk: Sendable, Equatable {
    /// Absolute file offset (a multiple of `PackedFormat.alignment`).
    public let offset: Int
    public let storedSize: Int
    public let rawSize: Int
    /// CRC32C of the stored bytes.
    public let checksum: UInt32
    public let codec: PackedFormat.Codec
    public let filter: PackedFormat.Filter

    package init(offset: Int, storedSize: Int, rawSize: Int, checksum: UInt32, codec: PackedFormat.Codec, filter: PackedFormat.Filter) {
        self.offset = offset
        self.storedSize = storedSize
        self.rawSize = rawSize
        self.checksum = checksum
        self.codec = codec
        self.filter = filter
    }
}
