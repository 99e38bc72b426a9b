import Foundation
import LLaDAEngine
import LLaDAKernels
import XCTest

/// The kernels' SIMD level, chosen per `KernelContext` (a loaded model's `ComputeContext`), and
/// `--kernel-path`, the CLI option over it: every level the CPU has runs, and gives the same answer.
final class KernelLevelTests: XCTestCase {
    func testEveryLevelTheCPUHasCanBeChosenAndAutoIsTheBest() throws {
        let best = try XCTUnwrap(QuantizedMatmul.supportedPaths.last)
        XCTAssertEqual(KernelLevel.best, best)
        XCTAssertEqual(try KernelContext().level, best)
        for path in QuantizedMatmul.supportedPaths {
            XCTAssertEqual(try KernelContext(threads: 1, level: path).level, path)
        }
    }

    func testALevelTheCPULacksIsRefusedByName() throws {
        guard let missing = QuantizedMatmul.Path.allCases.first(where: { !$0.isSupported }) else {
            throw XCTSkip("this CPU runs every kernel level: none to refuse")
        }
        XCTAssertThrowsError(try KernelContext(level: missing)) { error in
            let message = (error as? LLaDAError)?.message(naming: { "--" + $0.replacingOccurrences(of: "_", with: "-") }) ?? ""
            XCTAssertTrue(message.hasPrefix("--kernel-path \(missing.name): this CPU cannot run it"), message)
        }
    }

    /// Two models loaded with different levels and thread counts keep their own: loading the
    /// second changes nothing of the first, and both give the same answer.
    func testModelsKeepTheirOwnComputeContexts() throws {
        let directory = try PackedTestSupport.temporaryDirectory("compute-contexts")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = try ModelFile.open(try PackedTestSupport.convertFixture(.q4, into: directory, name: "tiny-q4.lpk").path)
        let best = KernelLevel.best
        let first = try file.load(compute: ComputeContext(threads: 1, kernelLevel: .scalar))
        let second = try file.load(compute: ComputeContext(threads: 2, kernelLevel: best))
        XCTAssertEqual(first.compute, ComputeContext(threads: 1, kernelLevel: .scalar))
        XCTAssertEqual(second.compute, ComputeContext(threads: 2, kernelLevel: best))
        XCTAssertEqual(first.transformer.options.kernelLevel, .scalar)
        XCTAssertEqual(second.transformer.options.kernelLevel, best)
        var settings = GenerationSettings()
        (settings.genLength, settings.steps, settings.blockLength) = (16, 16, 8)
        let request = GenerationRequest(prompt: .user("sort: 6 5 9 2 8"), settings: settings)
        // Side by side, from two threads: each on its own pool.
        final class Answers: @unchecked Sendable {
            let lock = NSLock()
            var ids = [[Int]](repeating: [], count: 2)
        }
        let answers = Answers()
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            let ids = (try? (index == 0 ? first : second).generate(request).outputIDs) ?? []
            answers.lock.withLock { answers.ids[index] = ids }
        }
        XCTAssertFalse(answers.ids[0].isEmpty)
        XCTAssertEqual(answers.ids[0], answers.ids[1])
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
