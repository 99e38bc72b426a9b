import Foundation
import LLaDAEngine
import XCTest

/// The dual cache's refresh policies: which passes each block start runs, and that a partial
/// pass through the cache computes what a full pass computes when the canvas has not changed.
final class CacheRefreshTests: XCTestCase {
    /// Records every pass (full, or the rows of a cached one) and prefers token 1 everywhere.
    final class RecordingModel: MaskPredictor {
        enum Pass: Equatable { case full, dual(Range<Int>), prefix(Range<Int>) }
        var passes: [Pass] = []
        let vocabulary = 4

        func logits(tokens: [Int], positions: [Int], stop: StopFlag?) -> FloatMatrix {
            passes.append(.full)
            return matrix(positions)
        }

        func logits(tokens: [Int], rows: Range<Int>, context: AttentionContext, positions: [Int], stop: StopFlag?) -> FloatMatrix {
            switch context {
            case .full: passes.append(.full)
            case .dual: passes.append(.dual(rows))
            case .prefix: passes.append(.prefix(rows))
            }
            return matrix(positions)
        }

        private func matrix(_ positions: [Int]) -> FloatMatrix {
            let m = FloatMatrix(rows: positions.count, cols: vocabulary)
            for (row, position) in positions.enumerated() { m.row(row)[1] = 2 + Float(position % 3) }
            return m
        }

        func makeCache(capacity: Int, storage: KVCache.Storage) -> KVCache? {
            KVCache(layers: 1, capacity: capacity, width: 1, heads: 1, storage: storage)
        }
    }

    /// Prompt 5, four blocks of 4, 2 steps per block: the passes of each block start.
    private func blockStarts(_ refresh: CacheRefresh) -> [RecordingModel.Pass] {
        var settings = GenerationSettings()
        settings.genLength = 16
        settings.blockLength = 4
        settings.steps = 8
        settings.cache = .dual
        settings.refresh = refresh
        let model = RecordingModel()
        let result = Sampler(settings: settings, maskID: 3).generate(prompt: [0, 0, 2, 2, 0], model: model)
        XCTAssertEqual(result.outputIDs, Array(repeating: 1, count: 16))
        XCTAssertEqual(model.passes.count, 8)
        // Every step after a block start is the block itself through the cache.
        for block in 0..<4 { XCTAssertEqual(model.passes[2 * block + 1], .dual((5 + 4 * block)..<(9 + 4 * block)), "\(refresh)") }
        return stride(from: 0, to: 8, by: 2).map { model.passes[$0] }
    }

    func testEachPolicyStartsTheBlocksWithItsPasses() {
        XCTAssertEqual(blockStarts(.everyBlock), [.full, .full, .full, .full])
        // Every position after the prompt, so the prompt keeps its first keys and values.
        XCTAssertEqual(blockStarts(.keepPrompt), [.full, .dual(5..<21), .dual(5..<21), .dual(5..<21)])
        // Between full passes, the previous block and this one.
        XCTAssertEqual(blockStarts(.everyBlocks(2)), [.full, .dual(5..<13), .full, .dual(13..<21)])
        XCTAssertEqual(blockStarts(.everyBlocks(3)), [.full, .dual(5..<13), .dual(9..<17), .full])
    }

    func testNamesRoundTripAndBadOnesAreRefused() {
        for policy in [CacheRefresh.everyBlock, .keepPrompt, .everyBlocks(2), .everyBlocks(16)] {
            XCTAssertEqual(CacheRefresh(name: policy.description), policy)
        }
        for bad in ["", "every", "every-1-blocks", "every-0-blocks", "every--2-blocks", "every-02-blocks", "every-2-block", "keep"] {
            XCTAssertNil(CacheRefresh(name: bad), bad)
        }
    }

    func testAPolicyOtherThanEveryBlockNeedsTheDualCache() {
        var settings = GenerationSettings()
        settings.refresh = .keepPrompt
        for cache in [CacheMode.none, .prefix] {
            settings.cache = cache
            XCTAssertThrowsError(try DenseLLaDAFamily().validated(settings.validated())) { error in
                XCTAssertTrue((error as! PlanError).message.message.contains("refresh keep-prompt needs cache dual"), "\(error)")
            }
        }
        settings.cache = .dual
        XCTAssertNoThrow(try DenseLLaDAFamily().validated(settings.validated()))
    }

    /// The mechanism under both partial starts: after a full pass fills the cache, a dual pass
    /// over the generated part, or over two blocks, of the same canvas gives the full pass's
    /// logits (f32 cache; only the attention products' shapes differ).
    func testAPartialPassOverAnUnchangedCanvasEqualsTheFullPass() throws {
        let transformer = Transformer(weights: try FixturePaths.transformer().weights)
        let (ids, _) = try PackedTestSupport.goldenInputs()[0]
        let promptLength = ids.count / 2
        let cache = try XCTUnwrap(transformer.makeCache(capacity: ids.count, storage: .f32))
        let positions = Array(promptLength..<ids.count)
        let full = transformer.logits(tokens: ids, rows: 0..<ids.count, context: .full(fill: cache), outputPositions: positions)
        for rows in [promptLength..<ids.count, promptLength..<(promptLength + (ids.count - promptLength) / 2)] {
            let outputs = Array(rows)
            let partial = transformer.logits(tokens: ids, rows: rows, context: .dual(cache, canvasLength: ids.count), outputPositions: outputs)
            var largest: Float = 0, difference: Float = 0
            for (row, position) in outputs.enumerated() {
                for column in 0..<full.cols {
                    let reference = full.row(position - promptLength)[column]
                    largest = max(largest, abs(reference))
                    difference = max(difference, abs(partial.row(row)[column] - reference))
                }
            }
            XCTAssertGreaterThan(largest, 1)
            XCTAssertLessThan(difference, 1e-4 * largest, "rows \(rows)")
        }
    }
}
