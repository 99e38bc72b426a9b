import Foundation
import LLaDAEngine
import LLaDASynthetic

/// Builds modified copies of the fixture checkpoint in temporary directories.
enum CheckpointFixtures {
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("llada-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A copy of the bf16 sharded fixture that a test may damage.
    static func copyOfFixture() throws -> URL {
        let directory = try temporaryDirectory().appendingPathComponent("model")
        try FileManager.default.copyItem(at: FixturePaths.model, to: directory)
        return directory
    }

    /// The same weights as one f32 `model.safetensors` (exactly the bf16 values upcast), like
    /// the shared fixture's llada-tiny-tasks-f32, which is too large to bundle.
    static func f32SingleFileCheckpoint() throws -> URL {
        let source = try HFCheckpoint(directory: FixturePaths.model)
        let directory = try temporaryDirectory().appendingPathComponent("model-f32")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var tensors: [SafeTensorsWriter.Tensor] = []
        for entry in source.layout.entries {
            let count = entry.shape.reduce(1, *)
            var values = [Float](repeating: 0, count: count)
            try values.withUnsafeMutableBufferPointer { try source.read(entry.name, into: $0.baseAddress!) }
            tensors.append(.init(name: entry.name, dtype: .f32, shape: entry.shape, data: values.withUnsafeBytes { Data($0) }))
        }
        try SafeTensorsWriter.write(tensors, to: directory.appendingPathComponent("model.safetensors"), metadata: ["format": "pt"])
        for name in ["config.json", "tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: FixturePaths.model.appendingPathComponent(name), to: directory.appendingPathComponent(name))
        }
        return directory
    }
}
