import Foundation
import LLaDAEngine
import XCTest

/// Stopping a generation: its flag makes the forward pass skip its remaining layers and the
/// sampler stop within the step; Ctrl-C sets that flag, and `llada` exits 130 with one line.
final class InterruptTests: XCTestCase {
    override func tearDown() {
        Interruption.request(0)
    }

    func testAStopFlagSkipsTheRemainingLayersOfTheForwardPass() throws {
        let transformer = try FixturePaths.transformer()
        let tokens = [480, 279, 25, 472, 66, 67]
        let full = transformer.logits(tokens: tokens)
        let stop = StopFlag()
        stop.stop()
        XCTAssertNotEqual(transformer.logits(tokens: tokens, stop: stop).rowArray(5), full.rowArray(5), "the layers still ran")
        XCTAssertEqual(transformer.logits(tokens: tokens, stop: StopFlag()).rowArray(5), full.rowArray(5), "another flag: the full pass")
    }

    /// A signal in the stoppable phase sets the flag it watches, and only that one.
    func testASignalSetsTheWatchedFlag() throws {
        let watched = StopFlag(), other = StopFlag()
        Interruption.stoppable(watching: watched) { Interruption.request(SIGINT) }
        XCTAssertTrue(watched.isStopped)
        XCTAssertFalse(other.isStopped)
        XCTAssertEqual(Interruption.signal, SIGINT)
    }

    /// A pass cut short commits nothing: a flag set before the run stops it with no model call.
    func testAStoppedRunCommitsNothing() throws {
        let model = try LLaDAModel.load(path: FixturePaths.model.path)
        var settings = GenerationSettings()
        settings.genLength = 32
        settings.steps = 32
        let stop = StopFlag()
        stop.stop()
        let result = try model.generate(promptIDs: model.promptIDs(for: "reverse: abcd", raw: false), settings: settings, stop: stop)
        XCTAssertTrue(result.stopped)
        XCTAssertEqual(result.modelCalls, 0)
        XCTAssertEqual(result.outputIDs, Array(repeating: model.maskID, count: 32))
    }

    /// CPU seconds a child process has used (Linux), to know it is past loading and generating.
    func cpuSeconds(_ pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Starts a long generation, waits until it is generating and sends SIGINT; returns stdout, stderr, status.
    func interruptedGeneration(_ extra: [String] = []) throws -> (stdout: Data, stderr: String, status: Int32) {
        let process = Process()
        process.executableURL = CLITests.executable
        // 224 steps with guidance on one thread: far longer than the wait below.
        process.arguments = ["generate", "--model", FixturePaths.model.path, "--prompt", "reverse: abcd", "--gen-length", "224",
                             "--steps", "224", "--block-length", "224", "--cfg-scale", "1", "--threads", "1", "--no-early-stop"] + extra
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Wait until it is generating (loading the fixture takes a few ms of CPU); without /proc, a while.
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning, Date() < deadline, (cpuSeconds(process.processIdentifier) ?? 0) < 0.5 {
            if cpuSeconds(process.processIdentifier) == nil { Thread.sleep(forTimeInterval: 2); break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertTrue(process.isRunning, "generation ended before it could be interrupted")
        kill(process.processIdentifier, SIGINT)
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .exit, "killed by a signal instead of exiting")
        return (stdout, stderr, process.terminationStatus)
    }

    func testCtrlCDuringGenerationExits130WithOneLine() throws {
        let (stdout, stderr, status) = try interruptedGeneration()
        XCTAssertEqual(status, 130, stderr)
        XCTAssertEqual(stdout.count, 0)
        let lines = stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, stderr)
        // Stopped inside the generation, well before its 224 steps.
        let calls = lines.first.flatMap { $0.wholeMatch(of: /interrupted after (\d+) model calls, nothing printed/) }.flatMap { Int($0.1) }
        XCTAssertNotNil(calls, stderr)
        XCTAssertLessThan(calls ?? .max, 224)
    }

    /// --json-stream ends with an `interrupted` event, after the step events already printed.
    func testCtrlCEndsTheJSONStreamWithAnInterruptedEvent() throws {
        let (stdout, stderr, status) = try interruptedGeneration(["--json-stream"])
        XCTAssertEqual(status, 130, stderr)
        let lines = String(decoding: stdout, as: UTF8.self).split(separator: "\n")
        let events = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let last = try XCTUnwrap(events.last, "no JSON lines")
        XCTAssertEqual(last["event"] as? String, "interrupted")
        XCTAssertEqual(last["signal"] as? Int, 2)
        XCTAssertEqual(last["model_calls"] as? Int, events.filter { $0["event"] as? String == "step" }.count)
        XCTAssertFalse(events.contains { $0["event"] as? String == "done" })
    }
}
