import Foundation
import XCTest

/// A Python check script of Tests/ (Server/, Web/) run by a test: its exit status, output, and
/// the JSON object of measurements it prints last.
enum PythonChecks {
    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String

        var measurements: [String: Any]? {
            stdout.split(separator: "\n").last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
    }

    static func run(_ relativePath: String, _ arguments: [String]) throws -> Run {
        let script = FixturePaths.root.deletingLastPathComponent().appendingPathComponent(relativePath)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path] + arguments
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
        return Run(status: process.terminationStatus, stdout: stdout, stderr: String(decoding: stderr, as: UTF8.self))
    }
}
