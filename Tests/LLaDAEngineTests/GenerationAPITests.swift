import Foundation
import LLaDAConvert
import LLaDAEngine
import XCTest

/// The library's generation API: one loaded model shared by concurrent callers, events as an
/// AsyncSequence, and stopping one generation within a step without touching the others.
final class GenerationAPITests: XCTestCase {
    nonisolated(unsafe) static var directory: URL!
    nonisolated(unsafe) static var packed: LLaDAModel!

    override class func setUp() {
        directory = try! PackedTestSupport.temporaryDirectory("generation-api")
        packed = try! LLaDAModel.load(path: PackedTestSupport.convertFixture(.q4, into: directory).path, compute: ComputeContext(threads: 2))
    }

    override class func tearDown() {
        packed = nil
        try? FileManager.default.removeItem(at: directory)
    }

    func settings(cache: CacheMode, genLength: Int = 32, blockLength: Int = 8) -> GenerationSettings {
        var settings = GenerationSettings()
        settings.genLength = genLength
        settings.steps = genLength
        settings.blockLength = blockLength
        settings.cache = cache
        // Every block runs (the engine's default stops a chat answer early once it ends in padding).
        settings.earlyStop = false
        return settings
    }

    /// Three requests that differ in prompt and cache mode, alone and then all at once on threads
    /// of their own: the same ids (the kernels compute each row the same whatever runs beside them).
    func testConcurrentCallersGetTheSameIDsAsAlone() throws {
        let model = Self.packed!
        let requests = [
            GenerationRequest(prompt: .user("reverse: abcdef"), settings: settings(cache: .dual)),
            GenerationRequest(prompt: .user("sort: 6 5 9 2 8"), settings: settings(cache: .prefix)),
            GenerationRequest(prompt: .user("add: 17 25"), settings: settings(cache: .none, blockLength: 32)),
        ]
        let alone = try requests.map { try model.generate($0).outputIDs }
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var ids: [Int: [Int]] = [:]
        }
        let results = Results()
        // Each request twice, all six at once.
        DispatchQueue.concurrentPerform(iterations: requests.count * 2) { index in
            let ids = (try? model.generate(requests[index % requests.count]).outputIDs) ?? []
            results.lock.withLock { results.ids[index] = ids }
        }
        for index in 0..<(requests.count * 2) {
            XCTAssertEqual(results.ids[index], alone[index % requests.count], "caller \(index)")
        }
    }

    /// The stream: a step event per model call, block texts that join to the answer, `.done` last,
    /// and the same result as the call on this thread.
    func testTheStreamReportsEveryStepAndEndsWithDone() async throws {
        let model = Self.packed!
        let request = GenerationRequest(prompt: .user("reverse: abcdef"), settings: settings(cache: .dual))
        let direct = try model.generate(request)
        var steps = 0, blocks = 0, text = "", done: GenerationResult?
        for try await event in model.stream(request) {
            XCTAssertNil(done, "an event after done")
            switch event {
            case .step: steps += 1
            case .blockDone(_, let piece): blocks += 1; text += piece
            case .done(let output): done = output
            }
        }
        let output = try XCTUnwrap(done)
        XCTAssertEqual(output.outputIDs, direct.outputIDs)
        XCTAssertEqual(output.text, direct.text)
        XCTAssertEqual(text, output.text)
        XCTAssertEqual(steps, output.modelCalls)
        XCTAssertEqual(blocks, 4)
        XCTAssertFalse(output.stopped)
    }

    /// An answer limit cuts the engine's answer text there and ends the run once it is decided.
    func testAnAnswerLimitCutsTheAnswerAndEndsTheRun() throws {
        let prompt = GenerationPrompt.user("reverse: abcdef")
        let full = try Self.packed.generate(GenerationRequest(prompt: prompt, settings: settings(cache: .dual)))
        XCTAssertEqual(full.answerEnd, .endToken)
        XCTAssertGreaterThan(full.answerTokens, 1)
        let cut = full.answerTokens - 1
        let limited = try Self.packed.generate(GenerationRequest(prompt: prompt, settings: settings(cache: .dual), answerLimit: cut))
        XCTAssertEqual(limited.answerEnd, .limit)
        XCTAssertEqual(limited.answerTokens, cut)
        XCTAssertEqual(limited.text, try Self.packed.tokenizer.decode(Array(full.outputIDs.prefix(cut)), skipSpecialTokens: true))
        XCTAssertLessThan(limited.modelCalls, full.modelCalls, "the blocks after the decided answer never run")
        XCTAssertFalse(limited.stopped, "ending itself is not a stop")
        XCTAssertThrowsError(try Self.packed.plan(GenerationRequest(prompt: prompt, answerLimit: 0)))
    }

    /// `stop()` after the first step: the run ends within the next step, leaves masks, and a
    /// generation running beside it is not disturbed.
    func testStoppingOneGenerationLeavesTheOtherRunning() async throws {
        let model = Self.packed!
        let long = GenerationRequest(prompt: .user("reverse: abcdef"), settings: settings(cache: .none, genLength: 128, blockLength: 128))
        let other = GenerationRequest(prompt: .user("sort: 6 5 9 2 8"), settings: settings(cache: .dual))
        let expected = try model.generate(other).outputIDs
        async let besides = Task.detached { try model.generate(other).outputIDs }.value
        let stream = model.stream(long)
        var done: GenerationResult?
        for try await event in stream {
            if case .step = event { stream.stop() }
            if case .done(let output) = event { done = output }
        }
        let output = try XCTUnwrap(done)
        XCTAssertTrue(output.stopped)
        XCTAssertLessThanOrEqual(output.modelCalls, 2, "stopped within the step after the request")
        XCTAssertTrue(output.outputIDs.contains(model.maskID))
        let besidesIDs = try await besides
        XCTAssertEqual(besidesIDs, expected)
    }

    /// Cancelling the task that consumes the stream sets the generation's stop flag.
    func testCancellingTheConsumerStopsTheGeneration() async throws {
        let model = Self.packed!
        let stream = model.stream(GenerationRequest(prompt: .user("reverse: abcdef"), settings: settings(cache: .none, genLength: 128, blockLength: 128)))
        let consumer = Task {
            var steps = 0
            for try await event in stream { if case .step = event { steps += 1 } }
            return steps
        }
        while !stream.isStopped {
            consumer.cancel()
            try await Task.sleep(nanoseconds: 1_000_000)
        }
        _ = try? await consumer.value
        XCTAssertTrue(stream.isStopped)
    }

    /// Engine errors name settings in the library's words; the CLI renders them as its flags.
    func testErrorsNameSettingsInTheLibrarysWords() throws {
        var bad = GenerationSettings()
        bad.genLength = 0
        XCTAssertThrowsError(try Self.packed.generate(GenerationRequest(prompt: .user("x"), settings: bad))) { error in
            // A typed plan error: the setting it names, and the message in the library's words.
            guard case .invalid(let setting, let error) = error as! PlanError else { return XCTFail("\(error)") }
            XCTAssertEqual(setting, "gen_length")
            XCTAssertEqual(error.message, "gen_length must be at least 1 (got 0)")
            XCTAssertEqual(error.message { "--" + $0.replacingOccurrences(of: "_", with: "-") }, "--gen-length must be at least 1 (got 0)")
        }
        XCTAssertThrowsError(try InfillRequest(text: InfillText(parsing: "a [MASK] b"), padding: 4)) { error in
            XCTAssertEqual((error as! PlanError).message.message, "padding applies only with prompt (it follows the answer)")
        }
    }

    /// The infill request is the one the CLI runs: canvas = text with holes + end of answer.
    func testInfillRequestBuildsTheCanvasAndSettings() throws {
        let model = Self.packed!
        let infill = try InfillRequest(text: InfillText(parsing: "[MASK*3] b"), answering: "say it", padding: 4)
        let (request, holes) = try infill.generation(for: model, base: GenerationSettings())
        let canvas = try XCTUnwrap(request.canvas)
        XCTAssertEqual(holes, [0..<3])
        XCTAssertEqual(Array(canvas[0..<3]), Array(repeating: model.maskID, count: 3))
        XCTAssertEqual(Array(canvas.suffix(5)), [model.endOfTurnID!] + Array(repeating: model.eosID!, count: 4))
        XCTAssertEqual(request.settings.genLength, canvas.count)
        XCTAssertEqual(request.settings.blockLength, canvas.count)
        XCTAssertEqual(request.settings.stepsPerBlock, 3)
        XCTAssertEqual(try model.plan(request).settings.steps, 3)
        XCTAssertEqual(request.prompt, .ids(try model.promptIDs(for: .user("say it"))))
    }
}
