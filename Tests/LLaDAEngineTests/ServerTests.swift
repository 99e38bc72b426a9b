import Foundation
import LLaDAConvert
import LLaDAEngine
import XCTest

/// `llada serve` against the real `openai` Python client (Tests/Server/openai-checks.py, which
/// starts its servers on 127.0.0.1 port 0): answers equal to `llada generate`'s, streamed and
/// not, every error case, a mid-stream disconnect, a full queue, SIGTERM, 8 clients × 25 tasks.
final class ServerTests: XCTestCase {
    func testTheOpenAIClientAgainstTheServer() throws {
        let directory = try PackedTestSupport.temporaryDirectory("serve")
        defer { try? FileManager.default.removeItem(at: directory) }
        let packed = try PackedTestSupport.convertFixture(.q4, into: directory, name: "tiny-q4.lpk")
        let run = try PythonChecks.run("Server/openai-checks.py", [CLITests.executable.path, packed.path, FixturePaths.tasks.path])
        XCTAssertFalse(run.stderr.contains("No module named 'openai'"), "the openai package is missing: run bash .ci/setup")
        XCTAssertEqual(run.status, 0, run.stderr.suffix(3000) + run.stdout)
        // The measurements line (latencies are reported, not asserted).
        let measured = try XCTUnwrap(run.measurements, run.stdout)
        XCTAssertEqual(measured["load_requests"] as? Int, 200)
        print("llada serve measurements: \(run.stdout)")
    }
}

/// The same server on the tiny LLaDA 2 (Tests/Server/openai-llada2-checks.py): answers equal to
/// `llada generate`'s, its defaults, whole-block events, its refusals as 400s, 4 clients.
final class LLaDA2ServerTests: XCTestCase {
    func testTheOpenAIClientAgainstTheServerOnLLaDA2() throws {
        let run = try PythonChecks.run("Server/openai-llada2-checks.py",
                                       [CLITests.executable.path, LLaDA2NetworkTests.model.path, FixturePaths.tasks.path])
        XCTAssertFalse(run.stderr.contains("No module named 'openai'"), "the openai package is missing: run bash .ci/setup")
        XCTAssertEqual(run.status, 0, run.stderr.suffix(3000) + run.stdout)
        let measured = try XCTUnwrap(run.measurements, run.stdout)
        XCTAssertEqual(measured["load_requests"] as? Int, 40)
        print("llada serve (LLaDA 2) measurements: \(run.stdout)")
    }
}
