import Foundation
import LLaDAConvert
import LLaDAEngine
import XCTest

/// Examples/StreamAndCancel, built with the package, runs as an app would: its streamed answer is
/// the one `llada generate` prints, and its second generation stops halfway.
final class ExampleTests: XCTestCase {
    func testTheEmbeddingExampleStreamsAndStops() throws {
        let directory = try PackedTestSupport.temporaryDirectory("example")
        defer { try? FileManager.default.removeItem(at: directory) }
        let packed = try PackedTestSupport.convertFixture(.q4, into: directory)
        let example = CLITests.executable.deletingLastPathComponent().appendingPathComponent("stream-and-cancel")
        let run = try CLIRunner.run([packed.path], executable: example)
        XCTAssertEqual(run.status, 0, run.stderr)
        let cli = try CLIRunner.run(["generate", "--model", packed.path, "--prompt", "reverse: abcd", "--gen-length", "32",
                                     "--steps", "32", "--block-length", "8", "--cache", "dual", "--no-early-stop"])
        XCTAssertEqual(cli.status, 0, cli.stderr)
        XCTAssertEqual(run.stdoutLines.first, cli.stdoutLines.first)
        XCTAssertEqual(run.stdoutLines.first, "dcba")
        // Stopped once 16 of 32 positions were committed: within the step after that.
        let stopped = try XCTUnwrap(run.stdoutLines.dropFirst().first?.wholeMatch(of: /stopped: true, model calls: (\d+) of 32/), run.stdout)
        XCTAssertTrue((16...17).contains(Int(stopped.1) ?? 0), run.stdout)
        let usage = try CLIRunner.run([], executable: example)
        XCTAssertEqual(usage.status, 2)
        XCTAssertEqual(usage.stderr, "usage: stream-and-cancel MODEL.lpk\n")
    }
}
