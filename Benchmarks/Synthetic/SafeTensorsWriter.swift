import LLaDAEngine
import Foundation

/// Writes a `.safetensors` file: an 8-byte little-endian header length, the JSON header
/// (padded with spaces to a multiple of 8, as the reference library does), then the data.
public enum SafeTensorsWriter {
    public struct Tensor {
        public let name: String
        public let dtype: TensorDType
        public let shape: [Int]
        public let data: Data

        public init(name: String, dtype: TensorDType, shape: [Int], data: Data) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.data = data
        }
    }

    public static func header(for tensors: [(name: String, dtype: TensorDType, shape: [Int], byteCount: Int)],
                              metadata: [String: String] = [:]) -> Data {
        var entries: [String] = []
        if !metadata.isEmpty {
            let fields = metadata.keys.sorted().map { "\(quoted($0)):\(quoted(metadata[$0]!))" }
            entries.append("\"__metadata__\":{\(fields.joined(separator: ","))}")
        }
        var offset = 0
        for tensor in tensors {
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            entries.append("\(quoted(tensor.name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + tensor.byteCount)]}")
            offset += tensor.byteCount
        }
        var json = Data("{\(entries.joined(separator: ","))}".utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        var length = UInt64(json.count).littleEndian
        return Data(bytes: &length, count: 8) + json
    }

    public static func write(_ tensors: [Tensor], to url: URL, metadata: [String: String] = [:]) throws {
        var file = header(for: tensors.map { ($0.name, $0.dtype, $0.shape, $0.data.count) }, metadata: metadata)
        for tensor in tensors { file.append(tensor.data) }
        do { try file.write(to: url, options: .atomic) } catch {
            throw LLaDAError("cannot write \(url.path): \(error.localizedDescription)")
        }
    }

    private static func quoted(_ text: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [text], options: [.fragmentsAllowed])
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }
}
