import Foundation
import XCTest

/// The normalizers' Unicode tables (Sources/LLaDATokenizer/NFCData.swift and NFKCData.swift) are
/// what Scripts/make-unicode-tables.py writes, byte for byte, and the character ages the script
/// embeds (the code points assigned after Unicode 9.0, which the tables leave out) are the standard
/// library's `Unicode.Scalar.Properties.age`.
final class TokenizerUnicodeTablesTests: XCTestCase {
    static let script = "../Scripts/make-unicode-tables.py"
    static let sources = FixturePaths.root.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/LLaDATokenizer")
    static let tables = ["NFCData.swift", "NFKCData.swift"]

    func testTheGeneratorWritesTheCommittedTables() throws {
        let version = try runGenerator(["--unicode-version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        var committed: [String: Data] = [:]
        for name in Self.tables {
            committed[name] = try Data(contentsOf: Self.sources.appendingPathComponent(name))
        }
        let named = Self.tables.map { Self.unicodeVersion(inHeaderOf: committed[$0]!) }
        XCTAssertEqual(named[0], named[1], "the two tables name different unicodedata versions")
        let expected = try XCTUnwrap(named[0], "no \"unicodedata X.Y.Z\" in the first line of \(Self.tables[0])")
        if version != expected {
            throw XCTSkip("python3's unicodedata is \(version) but the committed tables were made with \(expected), "
                          + "which their headers name: run this test with a Python whose unicodedata is \(expected) (Python 3.11)")
        }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("unicode-tables-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try runGenerator(["--output", directory.path])
        for name in Self.tables {
            let generated = try Data(contentsOf: directory.appendingPathComponent(name))
            XCTAssertTrue(generated == committed[name]!,
                          "\(name) differs from what Scripts/make-unicode-tables.py writes: "
                          + Self.firstDifference(generated, committed[name]!))
        }
    }

    func testTheGeneratorsAgesAreTheStandardLibrarys() throws {
        let lines = try runGenerator(["--ages"]).stdout.split(separator: "\n")
        var listed: [UInt32: String] = [:]
        for line in lines {
            let fields = line.split(separator: " ")
            let first = try XCTUnwrap(UInt32(fields[1], radix: 16)), last = try XCTUnwrap(UInt32(fields[2], radix: 16))
            for value in first...last { listed[value] = String(fields[0]) }
        }
        XCTAssertGreaterThan(listed.count, 10_000)

        // Versions later than the standard library's own data cannot be checked here.
        func age(_ value: UInt32) -> Unicode.Version? { Unicode.Scalar(value)?.properties.age }
        let newest = (0..<UInt32(0x110000)).compactMap(age).max { ($0.major, $0.minor) < ($1.major, $1.minor) }!
        func known(_ version: String) -> Bool {
            let parts = version.split(separator: ".").compactMap { Int($0) }
            return (parts[0], parts[1]) <= (newest.major, newest.minor)
        }
        var mismatches: [String] = []
        for value in UInt32(0)..<0x110000 {
            let stdlib = age(value).map { "\($0.major).\($0.minor)" }
            let afterNine = age(value).map { ($0.major, $0.minor) > (9, 0) } ?? false
            if let version = listed[value] {
                if known(version) ? stdlib != version : stdlib != nil {
                    mismatches.append("U+\(Self.hex(value)): listed in \(version), age \(stdlib ?? "none")")
                }
            } else if afterNine {
                mismatches.append("U+\(Self.hex(value)): age \(stdlib!), not listed")
            }
        }
        XCTAssertEqual(mismatches.count, 0, "AGES_AFTER_9_0 of \(Self.script) against Unicode.Scalar.Properties.age "
                       + "(Unicode \(newest.major).\(newest.minor)): " + mismatches.prefix(10).joined(separator: "; "))
    }

    /// Runs the generator; skips the test when python3 is not installed.
    private func runGenerator(_ arguments: [String]) throws -> PythonChecks.Run {
        let run = try PythonChecks.run(Self.script, arguments)
        if run.status == 127 && run.stderr.contains("python3") {
            throw XCTSkip("python3 is not installed, so Scripts/make-unicode-tables.py cannot run")
        }
        guard run.status == 0 else {
            throw GeneratorFailure(description: "\(Self.script) \(arguments.joined(separator: " ")) exited with \(run.status): \(run.stderr)")
        }
        return run
    }

    struct GeneratorFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// X.Y.Z of "unicodedata X.Y.Z" in the first line.
    static func unicodeVersion(inHeaderOf data: Data) -> String? {
        let header = String(decoding: data.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        guard let range = header.range(of: "unicodedata ") else { return nil }
        let version = header[range.upperBound...].prefix { $0.isNumber || $0 == "." }
        return version.isEmpty ? nil : String(version.hasSuffix(".") ? version.dropLast() : version)
    }

    static func firstDifference(_ generated: Data, _ committed: Data) -> String {
        let new = String(decoding: generated, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let old = String(decoding: committed, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        for (line, (a, b)) in zip(new, old).enumerated() where a != b {
            return "line \(line + 1) is \"\(a)\", committed \"\(b)\""
        }
        return "\(new.count) lines generated, \(old.count) committed"
    }

    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
