import Foundation
import LLaDASynthetic
import XCTest

/// The `llada-synth` executable: writes a loadable checkpoint, refuses bad input with one line.
final class SyntheticCLITests: XCTestCase {
    static var executable: URL {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return [directory, directory.deletingLastPathComponent()].map { $0.appendingPathComponent("llada-synth") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? directory.appendingPathComponent("llada-synth")
    }

    func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    func testWritesAndChecksATinyCheckpoint() throws {
        let directory = try temporaryTestDirectory().appendingPathComponent("tiny").path
        let result = try run([directory, "--preset", "tiny", "--seed", "3", "--layers", "3", "--check"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("wrote \(directory): 8 files"), result.stdout)
        XCTAssertTrue(result.stdout.contains("block  2"), result.stdout)
        XCTAssertTrue(result.stdout.contains("logits: finite yes"), result.stdout)
    }

    func testBadInputsGiveOneErrorLine() throws {
        let existing = try temporaryTestDirectory().path
        for (arguments, phrase) in [([existing + "/x", "--preset", "3b"], "--preset must be 8b, 1b, tiny, llada2-mini or llada2-tiny"),
                                    ([existing + "/x"], "--preset is required"),
                                    ([existing + "/x", "--preset", "tiny", "--dtype", "i8"], "--dtype must be"),
                                    ([existing + "/x", "--preset", "tiny", "--vocab", "100"], "too small"),
                                    ([existing, "--preset", "tiny"], "already exists")] {
            let result = try run(arguments)
            XCTAssertNotEqual(result.status, 0, "\(arguments)")
            XCTAssertTrue(result.stderr.hasPrefix("error: ") && result.stderr.contains(phrase), "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        }
    }
}
