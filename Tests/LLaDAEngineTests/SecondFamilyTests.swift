import Foundation
import LLaDAEngine
import XCTest

/// The road a second model family takes, before one exists: the sampler run against a hand-made
/// family with LLaDA 2's shape — block-causal attention with blocks cut from position 0, an
/// exact block cache, and the threshold-or-top-k commit rule — through the same protocol the
/// dense family uses, with no `if family` anywhere.
final class SecondFamilyTests: XCTestCase {
    static let blockLength = 4, vocabulary = 6, maskID = 5

    struct BlockCausalFamily: ModelFamily {
        var attention: AttentionStructure { .blockCausal }
        var caches: [CacheMode: CacheExactness] { [.none: .exact, .prefix: .exact] }
        func commitRule(for settings: GenerationSettings) -> any CommitRule { ThresholdOrTopKCommitRule(threshold: 0.6) }
        func blockSteps(for settings: GenerationSettings) -> BlockSteps { .untilUnmasked }
        func resolveDefaults(_ settings: inout GenerationSettings, prompt: GenerationPrompt, packed: Bool) {
            if settings.cache == .automatic { settings.cache = .prefix }
            if settings.earlyStop == nil { settings.earlyStop = false }
        }
    }

    /// A network whose logits at a position depend on every token it may see (its own block and
    /// the blocks before it) through a per-position "key" h(token, position), which the cache
    /// holds for the positions a pass does not compute. Records what every call computed.
    final class BlockCausalNetwork: MaskPredictor {
        var calls: [(rows: Range<Int>, positions: [Int], cached: Bool)] = []

        static func key(_ token: Int, _ position: Int) -> Float { Float((token * 7 + position * 3) % 11) / 4 }

        /// The last position (exclusive) a position sees.
        static func visibleEnd(_ position: Int, count: Int) -> Int { min((position / blockLength + 1) * blockLength, count) }

        func rowLogits(_ keys: (Int) -> Float, position: Int, count: Int) -> [Float] {
            let sum = (0..<Self.visibleEnd(position, count: count)).reduce(Float(0)) { $0 + keys($1) }
            return (0..<vocabulary).map { token in token == maskID ? 0 : 5 * sin(sum * 0.7 + Float(position) * 1.3 + Float(token) * 2.1) }
        }

        func matrix(_ positions: [Int], count: Int, keys: (Int) -> Float) -> FloatMatrix {
            let m = FloatMatrix(rows: positions.count, cols: vocabulary)
            for (row, position) in positions.enumerated() {
                for (column, value) in rowLogits(keys, position: position, count: count).enumerated() { m.row(row)[column] = value }
            }
            return m
        }

        func logits(tokens: [Int], positions: [Int], stop: StopFlag?) -> FloatMatrix {
            calls.append((0..<tokens.count, positions, false))
            return matrix(positions, count: tokens.count) { Self.key(tokens[$0], $0) }
        }

        func logits(tokens: [Int], rows: Range<Int>, context: AttentionContext, positions: [Int], stop: StopFlag?) -> FloatMatrix {
            let cache: KVCache
            switch context {
            case .full(let fill?): cache = fill
            case .prefix(let prefix): cache = prefix
            default: XCTFail("the block-causal family runs no \(context) pass"); return FloatMatrix(rows: positions.count, cols: vocabulary)
            }
            XCTAssertTrue(positions.allSatisfy(rows.contains), "positions outside the computed rows")
            var fresh = [Float](repeating: 0, count: rows.count)
            for position in rows {
                fresh[position - rows.lowerBound] = Self.key(tokens[position], position)
                cache.write(layer: 0, .key, start: position, rows: 1, from: [fresh[position - rows.lowerBound]])
            }
            var cached = [Float](repeating: 0, count: max(rows.lowerBound, 1))
            if rows.lowerBound > 0 { cache.read(layer: 0, .key, head: 0, start: 0, rows: rows.lowerBound, into: &cached) }
            calls.append((rows, positions, true))
            return matrix(positions, count: rows.upperBound) { $0 < rows.lowerBound ? cached[$0] : fresh[$0 - rows.lowerBound] }
        }

        func makeCache(capacity: Int, storage: KVCache.Storage) -> KVCache? {
            KVCache(layers: 1, capacity: capacity, width: 1, heads: 1, storage: .f32)
        }
    }

    func settings(cache: CacheMode) -> GenerationSettings {
        var settings = GenerationSettings()
        (settings.genLength, settings.steps, settings.blockLength, settings.cache) = (15, 10, Self.blockLength, cache)
        return settings
    }

    func run(_ cache: CacheMode, prompt: [Int]) -> (result: GenerationResult, events: [GenerationEvent], network: BlockCausalNetwork) {
        let network = BlockCausalNetwork()
        var events: [GenerationEvent] = []
        let sampler = Sampler(settings: settings(cache: cache), maskID: Self.maskID, family: BlockCausalFamily())
        let result = sampler.generate(prompt: prompt, model: network) { events.append($0) }
        return (result, events, network)
    }

    func testBlocksAreCutFromPositionZeroAndSeeNothingAfterThemselves() {
        let prompt = [1, 2, 3, 4, 0]   // 5 tokens: the first block is positions 4..<8, one of them prompt
        let (result, events, network) = run(.none, prompt: prompt)
        let blocks = events.compactMap { if case .blockDone(let block, _) = $0 { block } else { nil } }
        XCTAssertEqual(blocks.map(\.range), [0..<3, 3..<7, 7..<11, 11..<15], "generated offsets of blocks 4..<8, 8..<12, …")
        XCTAssertEqual(blocks.map(\.isLast), [false, false, false, true])
        XCTAssertFalse(result.outputIDs.contains(Self.maskID))
        // Without a cache every pass covers the canvas up to the current block's end, no further.
        for call in network.calls {
            XCTAssertEqual(call.rows.upperBound % Self.blockLength == 0 || call.rows.upperBound == prompt.count + 15, true)
            XCTAssertTrue(call.positions.allSatisfy { $0 < call.rows.upperBound })
        }
    }

    /// Exact: the block cache gives the uncached run's every commit, step by step, while its
    /// passes compute only the current block (and, at a block's start, the block just finished).
    func testTheBlockCacheIsExact() {
        let prompt = [1, 2, 3, 4, 0]
        let plain = run(.none, prompt: prompt), cached = run(.prefix, prompt: prompt)
        XCTAssertEqual(cached.result.outputIDs, plain.result.outputIDs)
        XCTAssertEqual(cached.result.decodedAtStep, plain.result.decodedAtStep)
        func commits(_ events: [GenerationEvent]) -> [[Int]] { events.compactMap { if case .step(let s) = $0 { s.committed } else { nil } } }
        XCTAssertEqual(commits(cached.events), commits(plain.events))
        XCTAssertEqual(cached.network.calls.first?.rows, 0..<8, "the first pass fills the cache up to the first block's end")
        for call in cached.network.calls.dropFirst() {
            XCTAssertLessThanOrEqual(call.rows.count, 2 * Self.blockLength, "a cached pass computes at most two blocks: \(call.rows)")
        }
        XCTAssertTrue(cached.network.calls.contains { $0.rows == 4..<12 }, "block 8..<12 starts by recomputing block 4..<8")
    }

    /// LLaDA 2's rule: every position above τ when at least the schedule's count pass, else the
    /// schedule's top-k. Both branches happen in this run.
    func testTheThresholdOrTopKRuleDecidesTheCommits() {
        let (_, events, _) = run(.prefix, prompt: [1, 2, 3, 4, 0])
        let steps = events.compactMap { if case .step(let s) = $0 { s } else { nil } }
        XCTAssertTrue(steps.contains { $0.committed.count > 1 && $0.probabilities.allSatisfy { $0 > 0.6 } },
                      "a step commits every position above the threshold")
        XCTAssertTrue(steps.contains { $0.probabilities.contains { $0 <= 0.6 } }, "a step falls back to the top-k")
        for step in steps { XCTAssertEqual(step.probabilities.count, step.committed.count) }

        var random = SamplerRandom(seed: 0)
        let rule = ThresholdOrTopKCommitRule(threshold: 0.9)
        XCTAssertEqual(rule.chosen([0.95, 0.5, 0.97, 0.3], candidates: [0, 1, 2, 3], canvasLength: 4, count: 2, random: &random), [0, 2])
        XCTAssertEqual(rule.chosen([0.95, 0.5, 0.7, 0.3], candidates: [0, 1, 2, 3], canvasLength: 4, count: 2, random: &random).sorted(), [0, 2])
        XCTAssertEqual(rule.chosen([0.95, 0.93, 0.97, 0.3], candidates: [0, 1, 2, 3], canvasLength: 4, count: 1, random: &random), [0, 1, 2])
    }

    /// The family's defaults and caches go through the plan-time checks the dense family's do.
    func testTheFamilyDecidesTheDefaults() {
        var settings = settings(cache: .automatic)
        BlockCausalFamily().resolveDefaults(&settings, prompt: .ids([1]), packed: false)
        XCTAssertEqual(settings.cache, .prefix)
        XCTAssertEqual(BlockCausalFamily().caches[.dual], nil, "no dual cache in this family")
    }
}
