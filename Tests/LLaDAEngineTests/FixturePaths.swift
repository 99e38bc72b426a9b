import Foundation
import LLaDAEngine

/// Locations of the files under Tests/Fixtures (copied from the shared fixtures; small).
enum FixturePaths {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")
    /// The tiny LLaDA in real Hugging Face layout: bf16, two shards + index.
    static let model = root.appendingPathComponent("llada-tiny-tasks")
    static let golden = root.appendingPathComponent("golden")
    static let tasks = root.appendingPathComponent("tasks-dev.jsonl")

    static func goldenJSON(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: golden.appendingPathComponent(name))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// Loads and caches the f32 transformer of the bf16 fixture (loading is cheap, but tests share it).
    nonisolated(unsafe) private static var cachedTransformer: Transformer?
    static let lock = NSLock()
    static func transformer() throws -> Transformer {
        lock.lock()
        defer { lock.unlock() }
        if let cachedTransformer { return cachedTransformer }
        let transformer = Transformer(weights: try ModelWeights(checkpoint: try HFCheckpoint(directory: model)))
        cachedTransformer = transformer
        return transformer
    }
}
