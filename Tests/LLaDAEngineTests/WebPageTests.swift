import Foundation
import XCTest

/// The page `llada serve` serves at `/`, in headless Chromium driven by Selenium
/// (Tests/Web/page-checks.py, which starts its servers on 127.0.0.1): answers equal to
/// `llada generate` / `llada infill`, the canvas's masked states, Stop, a bad setting, a restart.
final class WebPageTests: XCTestCase {
    func testThePageInHeadlessChromium() throws {
        let directory = try PackedTestSupport.temporaryDirectory("web")
        defer { try? FileManager.default.removeItem(at: directory) }
        let packed = try PackedTestSupport.convertFixture(.q4, into: directory, name: "tiny-q4.lpk")
        let run = try PythonChecks.run("Web/page-checks.py", [CLITests.executable.path, packed.path, FixturePaths.tasks.path])
        XCTAssertFalse(run.stderr.contains("No module named 'selenium'"), "selenium is missing: run bash .ci/setup")
        XCTAssertEqual(run.status, 0, run.stderr.suffix(3000) + run.stdout)
        let measured = try XCTUnwrap(run.measurements, run.stdout)
        XCTAssertLessThan(measured["stopped_after_calls"] as? Int ?? 224, 224, "Stop did not end the generation")
        print("web page measurements: \(run.stdout)")
    }
}

/// The same page on the tiny LLaDA 2 (`page-checks.py --llada2`): answers equal to `llada
/// generate`, the canvas in the server's whole blocks, its refusals shown, Stop, a restart.
final class LLaDA2WebPageTests: XCTestCase {
    func testThePageOnLLaDA2() throws {
        let run = try PythonChecks.run("Web/page-checks.py",
                                       [CLITests.executable.path, LLaDA2NetworkTests.model.path, FixturePaths.tasks.path, "--llada2"])
        XCTAssertFalse(run.stderr.contains("No module named 'selenium'"), "selenium is missing: run bash .ci/setup")
        XCTAssertEqual(run.status, 0, run.stderr.suffix(3000) + run.stdout)
        let measured = try XCTUnwrap(run.measurements, run.stdout)
        XCTAssertLessThan(measured["stopped_after_calls"] as? Int ?? 224, 224, "Stop did not end the generation")
        print("web page (LLaDA 2) measurements: \(run.stdout)")
    }
}
