import Foundation

/// `model.safetensors.index.json`: which shard file holds each tensor. Shard names must be plain
/// file names, so an index can never point outside its checkpoint directory.
public enum ShardIndex {
    /// The weight map, tensor name → shard file name; `path` names the index in error messages.
    public static func parse(_ data: Data, path: String) throws -> [String: String] {
        let weightMap: [String: String]
        do {
            guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let map = root["weight_map"] as? [String: String] else {
                throw LLaDAError("\(path) has no \"weight_map\" object of tensor name → shard file")
            }
            weightMap = map
        } catch let error as LLaDAError {
            throw error
        } catch {
            throw LLaDAError("\(path) is not valid JSON: fix or re-download it")
        }
        for shardName in Set(weightMap.values).sorted() {
            guard !shardName.contains("/"), !shardName.contains("\\"), shardName != "..", shardName != ".", !shardName.isEmpty,
                  !shardName.utf8.contains(0) else {
                throw LLaDAError("\(path): shard name \"\(shardName)\" must be a file name inside the checkpoint directory")
            }
        }
        return weightMap
    }
}
