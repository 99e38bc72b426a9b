import Foundation
import LLaDAEngine
import XCTest

/// The sampler's events: one step event per model call, a block event when a block is final, and
/// the stop flag, set from the callback, ending the run after the current step.
final class SamplerEventTests: XCTestCase {
    func model() -> SamplerTests.FakeModel {
        SamplerTests.FakeModel(vocabulary: 4) { _, position in
            var logits: [Float] = [0, 0, 0, -20]
            logits[1] = Float(position)
            return logits
        }
    }

    func settings() -> GenerationSettings {
        var settings = GenerationSettings()
        settings.genLength = 4
        settings.steps = 4
        settings.blockLength = 2
        return settings
    }

    func testStepAndBlockEventsFollowTheRun() {
        var events: [GenerationEvent] = []
        let result = Sampler(settings: settings(), maskID: 3).generate(prompt: [0], model: model()) { events.append($0) }
        let steps = events.compactMap { if case .step(let s) = $0 { s } else { nil } }
        let blocks = events.compactMap { if case .blockDone(let b, _) = $0 { b } else { nil } }
        XCTAssertEqual(steps.map(\.call), [1, 2, 3, 4])
        XCTAssertEqual(steps.map(\.committed), [[1], [0], [3], [2]])
        XCTAssertEqual(steps.map(\.masksLeft), [3, 2, 1, 0])
        XCTAssertEqual(steps[0].generated, [3, 1, 3, 3])
        XCTAssertEqual(blocks.map(\.range), [0..<2, 2..<4])
        XCTAssertEqual(blocks.last?.ids, Array(result.outputIDs[2..<4]))
        XCTAssertFalse(result.stopped)
        // The block event comes after the block's last step and before the next block's first.
        guard case .blockDone = events[2] else { return XCTFail("expected block 0 done third, got \(events[2])") }
    }

    func testStopEndsTheRunAfterTheCurrentStep() {
        var calls = 0
        let stop = StopFlag()
        let result = Sampler(settings: settings(), maskID: 3).generate(prompt: [0], model: model(), stop: stop) { event in
            if case .step = event { calls += 1 }
            if calls == 3 { stop.stop() }
        }
        XCTAssertTrue(result.stopped)
        XCTAssertEqual(result.modelCalls, 3)
        XCTAssertEqual(result.outputIDs.filter { $0 == 3 }.count, 1, "one position left masked")
    }
}
