import Foundation

/// Element types a safetensors header may name. Weights must be floating point (bf16, f16,
/// f32); the integer types appear in data files such as the golden logits.
public enum TensorDType: String, Sendable, CaseIterable {
    case bf16 = "BF16", f16 = "F16", f32 = "F32", f64 = "F64"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

    public var byteSize: Int {
        switch self {
        case .f64, .i64: 8
        case .f32, .i32: 4
        case .bf16, .f16, .i16: 2
        case .i8, .u8, .bool: 1
        }
    }

    /// The types model weights may be stored in.
    public var isWeightType: Bool { self == .bf16 || self == .f16 || self == .f32 }
}

/// One tensor's entry in a safetensors header, with its byte range in the mapped file.
public struct SafeTensorInfo: Sendable {
    public let name: String
    public let dtype: TensorDType
    public let shape: [Int]
    /// Absolute byte offset of the data in the file.
    public let offset: Int
    public let byteCount: Int

    public var elementCount: Int { shape.reduce(1, *) }
}

/// A memory-mapped `.safetensors` file with its header fully validated:
/// the header length fits the file, every dtype is known, every shape × dtype size equals the byte
/// range, every range lies inside the data section, and no two ranges overlap.
public final class SafeTensorsFile: @unchecked Sendable {
    public let file: MappedFile
    public let tensors: [String: SafeTensorInfo]

    /// Headers of real checkpoints are well under 1 MiB; anything far larger is corrupt.
    static let maxHeaderBytes = 100 << 20

    public convenience init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws {
        self.file = file
        let path = file.path
        func corrupt(_ what: String) -> LLaDAError {
            LLaDAError("\(path): \(what); the file is truncated or not a safetensors file (re-download it)")
        }
        guard file.size >= 8 else { throw corrupt("file is \(file.size) bytes, too short for a header") }
        let headerLength = file.loadLittleEndian(UInt64.self, at: 0)
        guard headerLength <= UInt64(Self.maxHeaderBytes) else {
            throw corrupt("header length \(headerLength) is implausible")
        }
        guard Int(headerLength) <= file.size - 8 else {
            throw corrupt("header length \(headerLength) runs past the end of the file (\(file.size) bytes)")
        }
        let dataStart = 8 + Int(headerLength)
        let dataSize = file.size - dataStart
        let headerBytes = Data(file.bytes[8..<dataStart])
        guard let json = try? JSONSerialization.jsonObject(with: headerBytes), let entries = json as? [String: Any] else {
            throw corrupt("header is not a JSON object")
        }

        var tensors: [String: SafeTensorInfo] = [:]
        for (name, value) in entries where name != "__metadata__" {
            guard let entry = value as? [String: Any] else { throw corrupt("entry for tensor \(name) is not an object") }
            guard let dtypeName = entry["dtype"] as? String else { throw corrupt("tensor \(name) has no dtype") }
            guard let dtype = TensorDType(rawValue: dtypeName) else {
                throw LLaDAError("\(path): tensor \(name) has unknown dtype \(dtypeName); weights must be BF16, F16 or F32 (convert the checkpoint)")
            }
            guard let shapeValues = entry["shape"] as? [Any], let shape = Self.integers(shapeValues), shape.allSatisfy({ $0 >= 0 }) else {
                throw corrupt("tensor \(name) has a malformed shape")
            }
            guard let offsetValues = entry["data_offsets"] as? [Any], let offsets = Self.integers(offsetValues), offsets.count == 2 else {
                throw corrupt("tensor \(name) has malformed data_offsets")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= dataSize else {
                throw corrupt("tensor \(name) data_offsets [\(begin), \(end)] lie outside the data section (\(dataSize) bytes)")
            }
            var elements = 1
            for dim in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: dim)
                guard !overflow, product <= dataSize else { throw corrupt("tensor \(name) shape \(shape) is larger than the file") }
                elements = product
            }
            guard elements * dtype.byteSize == end - begin else {
                throw LLaDAError("\(path): tensor \(name) has shape \(shape) × \(dtype.rawValue) = \(elements * dtype.byteSize) bytes but data_offsets span \(end - begin) bytes; the file is corrupt")
            }
            tensors[name] = SafeTensorInfo(name: name, dtype: dtype, shape: shape, offset: dataStart + begin, byteCount: end - begin)
        }
        let ordered = tensors.values.sorted { $0.offset < $1.offset }
        for (previous, next) in zip(ordered, ordered.dropFirst()) where previous.offset + previous.byteCount > next.offset {
            throw corrupt("tensors \(previous.name) and \(next.name) overlap")
        }
        self.tensors = tensors
    }

    /// The raw bytes of a tensor inside the mapping.
    public func data(of info: SafeTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: file.bytes[info.offset..<(info.offset + info.byteCount)])
    }

    private static func integers(_ values: [Any]) -> [Int]? {
        var result: [Int] = []
        result.reserveCapacity(values.count)
        for value in values {
            // JSONSerialization gives NSNumber; fractions and huge values are malformed.
            guard let number = value as? NSNumber else { return nil }
            let double = number.doubleValue
            guard double == double.rounded(), abs(double) < 9.0e15 else { return nil }
            result.append(number.intValue)
        }
        return result
    }
}
