import Foundation
import LLaDAEngine
import XCTest

/// The LLaDA 2 forward pass (f32, block-causal) against the original `modeling_llada2_moe.py`
/// (SDPA): full logits of four sequences under their block masks, and the router's choices.
final class LLaDA2NetworkTests: XCTestCase {
    static let model = FixturePaths.root.appendingPathComponent("llada2-tiny-tasks")
    static let golden = FixturePaths.golden.appendingPathComponent("llada2")

    func testLogitsAndRouterChoicesMatchTheReference() throws {
        let network = LLaDA2Network(weights: try LLaDA2Weights(directory: Self.model))
        let file = try SafeTensorsFile(path: Self.golden.appendingPathComponent("logits.safetensors").path)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.golden.appendingPathComponent("logits.json"))) as! [String: Any]
        let sequences = try XCTUnwrap(json["sequences"] as? [String: [String: Any]])
        XCTAssertEqual(sequences.count, 4)
        var report: [String] = []
        for (name, sequence) in sequences.sorted(by: { $0.key < $1.key }) {
            let ids = try XCTUnwrap(sequence["input_ids"] as? [Int])
            let blockLength = try XCTUnwrap(sequence["block_length"] as? Int)
            let info = try XCTUnwrap(file.tensors["logits_\(name)"])
            let golden = Array(file.data(of: info).bindMemory(to: Float.self))
            let trace = LLaDA2Network.RouterTrace()
            let logits = network.logits(tokens: ids, blockLength: blockLength, trace: trace)
            XCTAssertEqual(logits.rows * logits.cols, golden.count, name)
            var maxDiff: Float = 0, maxAbs: Float = 0
            for i in 0..<golden.count {
                maxDiff = max(maxDiff, abs(logits.pointer[i] - golden[i]))
                maxAbs = max(maxAbs, abs(golden[i]))
            }
            report.append("\(name): max |Δ| \(maxDiff) (max |logit| \(maxAbs))")
            XCTAssertLessThanOrEqual(maxDiff, 1e-4 * maxAbs, "\(name): max |Δ| \(maxDiff), max |logit| \(maxAbs)")
            // The argmax the reference reports, at every position.
            let argmax = try XCTUnwrap(sequence["argmax"] as? [Int])
            for row in 0..<logits.rows {
                let values = logits.rowArray(row)
                XCTAssertEqual(values.indices.max { values[$0] < values[$1] }, argmax[row], "\(name) position \(row)")
            }
            if let router = sequence["router"] as? [String: [String: Any]] {
                for (layerName, entry) in router {
                    let layer = try XCTUnwrap(Int(layerName.dropFirst("layer".count)))
                    let expected = try XCTUnwrap(entry["topk_experts_per_position"] as? [[Int]])
                    XCTAssertEqual(trace.experts[layer], expected, "\(name) \(layerName)")
                }
                XCTAssertEqual(router.count, 3)
            }
        }
        print("LLaDA 2 logits vs the reference: " + report.joined(separator: "; "))
    }
}
