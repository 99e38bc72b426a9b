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
        let script = FixturePaths.root.deletingLastPathComponent().appendingPathComponent("Server/openai-checks.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, CLITests.executable.path, packed.path, FixturePaths.tasks.path]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        nonisolated(unsafe) var stderr = Data()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { stderr = err.fileHandleForReading.readDataToEndOfFile() }
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        group.wait()
        process.waitUntilExit()
        let errors = String(decoding: stderr, as: UTF8.self)
        XCTAssertFalse(errors.contains("No module named 'openai'"), "the openai package is missing: run bash .ci/setup")
        XCTAssertEqual(process.terminationStatus, 0, errors.suffix(3000) + stdout)
        // The measurements line (latencies are reported, not asserted).
        let measured = try XCTUnwrap(stdout.split(separator: "\n").last.flatMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }, stdout)
        XCTAssertEqual(measured["load_requests"] as? Int, 200)
        print("llada serve measurements: \(stdout)")
    }
}
