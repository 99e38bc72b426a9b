import Foundation
import LLaDAEngine
import LLaDAKernels
import XCTest

/// `KernelLevel` (the library's one switch for the kernels' SIMD level) and `--kernel-path`, the
/// CLI option over it: every level the CPU has runs, and gives the same answer.
final class KernelLevelTests: XCTestCase {
    func testEveryLevelTheCPUHasCanBeChosenAndAutoRestoresTheBest() throws {
        defer { try? KernelLevel.use(.auto) }
        let best = try XCTUnwrap(QuantizedMatmul.supportedPaths.last)
        XCTAssertEqual(KernelLevel.current, best)
        for path in QuantizedMatmul.supportedPaths {
            try KernelLevel.use(path)
            XCTAssertEqual(KernelLevel.current, path)
            XCTAssertEqual(String(cString: llada_kernels_path()), path.name)
            // The products follow the level unless a test forced their own path.
            XCTAssertEqual(QuantizedMatmul.currentPath, path)
        }
        try KernelLevel.use(.auto)
        XCTAssertEqual(KernelLevel.current, best)
    }

    func testALevelTheCPULacksIsRefusedAndChangesNothing() throws {
        guard let missing = QuantizedMatmul.Path.allCases.first(where: { !$0.isSupported }) else {
            throw XCTSkip("this CPU runs every kernel level: none to refuse")
        }
        let before = KernelLevel.current
        XCTAssertThrowsError(try KernelLevel.use(missing)) { error in
            let message = (error as? LLaDAError)?.message(naming: { "--" + $0.replacingOccurrences(of: "_", with: "-") }) ?? ""
            XCTAssertTrue(message.hasPrefix("--kernel-path \(missing.name): this CPU cannot run it"), message)
        }
        XCTAssertEqual(KernelLevel.current, before)
    }

    func testTheCLIRunsEachLevelWithTheSameAnswerAndRefusesBadNames() throws {
        let directory = try PackedTestSupport.temporaryDirectory("kernel-path")
        defer { try? FileManager.default.removeItem(at: directory) }
        let packed = try PackedTestSupport.convertFixture(.q4, into: directory, name: "tiny-q4.lpk").path
        let generate = ["generate", "--model", packed, "--prompt", "sort: 6 5 9 2 8", "--gen-length", "32", "--steps", "32",
                        "--block-length", "8", "--threads", "2", "--json"]
        var answers: [String: String] = [:]
        for path in QuantizedMatmul.supportedPaths {
            let run = try CLIRunner.run(generate + ["--kernel-path", path.name])
            XCTAssertEqual(run.status, 0, run.stderr)
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            answers[path.name] = "\(object["output_ids"] as? [Int] ?? []) \(object["text"] as? String ?? "")"
            let bench = try CLIRunner.run(["bench", "--model", packed, "--json", "--prompt-length", "8", "--gen-length", "8",
                                           "--steps", "8", "--block-length", "8", "--threads", "1", "--kernel-path", path.name])
            XCTAssertEqual(bench.status, 0, bench.stderr)
            let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bench.stdout.utf8)) as? [String: Any])
            XCTAssertEqual(report["kernel_path"] as? String, path.name)
        }
        XCTAssertGreaterThan(answers.count, 0)
        XCTAssertEqual(Set(answers.values).count, 1, "answers differ between kernel levels: \(answers)")
        XCTAssertTrue(answers.values.first?.contains("2 5 6 8 9") ?? false, "\(answers)")

        var bad: [([String], String)] = [(generate + ["--kernel-path", "turbo"], "--kernel-path must be one of auto, scalar")]
        if let missing = QuantizedMatmul.Path.allCases.first(where: { !$0.isSupported }) {
            bad.append((generate + ["--kernel-path", missing.name], "--kernel-path \(missing.name): this CPU cannot run it"))
            bad.append((["bench", "--kernels", "--kernel-path", missing.name], "--kernel-path \(missing.name): this CPU cannot run it"))
        }
        for (arguments, fragment) in bad {
            let run = try CLIRunner.run(arguments)
            XCTAssertNotEqual(run.status, 0)
            XCTAssertEqual(run.stdout, "")
            XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
            XCTAssertTrue(run.stderr.contains(fragment), "\(run.stderr) lacks \(fragment)")
        }
    }
}
