import Foundation
import LLaDAConvert
import LLaDAEngine
import XCTest

/// The llada-quantize executable, run as a process (it is built next to the test bundle).
final class ConverterCLITests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try PackedTestSupport.temporaryDirectory("cli")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    static let binary: URL = {
        // The products live in the build directory that holds the test binary (Linux) or the .xctest
        // bundle (macOS); Bundle.allBundles is asked only when needed, as it leaks on Linux.
        let next = CLITests.executable.deletingLastPathComponent().appendingPathComponent("llada-quantize")
        if FileManager.default.isExecutableFile(atPath: next.path) { return next }
        let bundle = Bundle.allBundles.first { $0.bundlePath.hasSuffix(".xctest") }?.bundleURL
            ?? URL(fileURLWithPath: CommandLine.arguments[0])
        return bundle.deletingLastPathComponent().appendingPathComponent("llada-quantize")
    }()

    struct Run {
        let status: Int32
        let reason: Process.TerminationReason
        let stdout: String
        let stderr: String
    }

    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Run {
        let process = try start(arguments, environment: environment)
        return try finish(process)
    }

    func start(_ arguments: [String], environment: [String: String] = [:]) throws -> Process {
        let binary = Self.binary
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("\(binary.path) is not built (run `swift build -c release` first)")
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = Pipe()
        process.standardError = Pipe()
        try process.run()
        return process
    }

    func finish(_ process: Process) throws -> Run {
        // Read before waiting so a full pipe cannot block the child.
        let out = (process.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile()
        let err = (process.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, reason: process.terminationReason,
                   stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
    }

    func assertOneErrorLine(_ run: Run, _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(run.status, 0, file: file, line: line)
        let lines = run.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "stderr: \(run.stderr)", file: file, line: line)
        XCTAssertTrue(run.stderr.hasPrefix("error: "), run.stderr, file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(run.stderr.contains(fragment), "\"\(run.stderr)\" lacks \"\(fragment)\"", file: file, line: line)
        }
    }

    func testConvertInspectJSONAndVerify() throws {
        let output = directory.appendingPathComponent("model.llada")
        let convert = try run([FixturePaths.model.path, "-o", output.path, "--type", "q4", "--threads", "2"])
        XCTAssertEqual(convert.status, 0, convert.stderr)
        XCTAssertEqual(convert.stderr, "", "no progress bar when stderr is not a terminal")
        XCTAssertTrue(convert.stdout.contains("wrote \(output.path)"))

        let inspect = try run(["inspect", output.path, "--json"])
        XCTAssertEqual(inspect.status, 0, inspect.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])
        let tensors = try XCTUnwrap(json["tensors"] as? [[String: Any]])
        let layout = TensorLayout(config: try HFCheckpoint(directory: FixturePaths.model).config)
        XCTAssertEqual(tensors.map { $0["name"] as? String }, layout.entries.map(\.name))
        for (tensor, entry) in zip(tensors, layout.entries) {
            let type = QuantizationProfile.q4.type(for: entry.role)
            XCTAssertEqual(tensor["type"] as? String, type.description, entry.name)
            XCTAssertEqual(tensor["shape"] as? [Int], entry.shape)
            XCTAssertEqual(tensor["raw_bytes"] as? Int, type.byteCount(elements: entry.shape.reduce(1, *)))
            XCTAssertNotNil(tensor["stored_bytes"] as? Int)
            XCTAssertNotNil(tensor["chunks"] as? Int)
        }
        XCTAssertEqual(json["file_size"] as? Int, try FileManager.default.attributesOfItem(atPath: output.path)[.size] as? Int)
        XCTAssertEqual((json["config"] as? [String: Any])?["d_model"] as? Int, 192)
        XCTAssertEqual(Set((json["types"] as? [String: Any])?.keys.map { $0 } ?? []), ["f32", "q8_0", "q4_0"])

        let table = try run(["inspect", output.path])
        XCTAssertEqual(table.status, 0)
        XCTAssertTrue(table.stdout.contains("model.transformer.blocks.3.ff_out.weight"))

        let verify = try run(["verify", output.path])
        XCTAssertEqual(verify.status, 0, verify.stderr)
        XCTAssertTrue(verify.stdout.hasPrefix("OK: "))
    }

    func testVerifyNamesTheBadTensorAndChunk() throws {
        let output = directory.appendingPathComponent("model.llada")
        XCTAssertEqual(try run([FixturePaths.model.path, "-o", output.path, "--type", "q8", "--chunk-kib", "4"]).status, 0)
        let tensor = try PackedModel(path: output.path).tensors.first { $0.name == "model.transformer.wte.weight" }!
        XCTAssertEqual(tensor.chunks.count, 2)
        try PackedTestSupport.poke(output, at: tensor.chunks[1].offset + 7, 0x5A)
        assertOneErrorLine(try run(["verify", output.path]),
                           [output.path, "tensor model.transformer.wte.weight chunk 1 of 2", "fails its checksum"])
    }

    func testBadInputGivesOneErrorLineAndWritesNothing() throws {
        let out = directory.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let target = out.appendingPathComponent("m.llada").path
        assertOneErrorLine(try run([directory.appendingPathComponent("missing").path, "-o", target]), ["does not exist"])
        assertOneErrorLine(try run([FixturePaths.model.path, "-o", target, "--type", "q3"]), ["--type", "q3"])
        assertOneErrorLine(try run([FixturePaths.model.path, "-o", target, "--threads", "0"]), ["--threads"])
        assertOneErrorLine(try run([FixturePaths.model.path, "-o", out.appendingPathComponent("no/m.llada").path]), ["does not exist"])
        let nan = directory.appendingPathComponent("nan")
        try FileManager.default.createDirectory(at: nan, withIntermediateDirectories: true)
        try PackedTestSupport.writeF32Checkpoint(to: nan) { name, values in
            if name == "model.transformer.ff_out.weight" { values[values.count - 1] = -.infinity }
        }
        assertOneErrorLine(try run([nan.path, "-o", target]), ["model.transformer.ff_out.weight", "[511, 191]", "-inf"])
        let unsupported = directory.appendingPathComponent("unsupported")
        try FileManager.default.createDirectory(at: unsupported, withIntermediateDirectories: true)
        try PackedTestSupport.writeF32Checkpoint(to: unsupported, editConfig: { $0["n_kv_heads"] = 1 })
        assertOneErrorLine(try run([unsupported.path, "-o", target]), ["config.json", "not supported"])
        assertOneErrorLine(try run(["inspect", FixturePaths.model.appendingPathComponent("config.json").path]), ["not a packed LLaDA model"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path), [])
    }

    func testFlipsWithZeroNoiseReproducesTheF32Path() throws {
        let flips = try run(["flips", FixturePaths.model.path, "--tasks", FixturePaths.tasks.path, "--limit", "3",
                             "--variants", "noise:7:0", "--scores-only"])
        XCTAssertEqual(flips.status, 0, flips.stderr)
        let lines = flips.stdout.split(separator: "\n").map(String.init)
        let reference = try XCTUnwrap(lines.first { $0.hasPrefix("f32 path: ") })
        let variant = try XCTUnwrap(lines.first { $0.hasPrefix("noise:7:0: ") })
        XCTAssertTrue(reference.hasSuffix("correct of 3"), reference)
        XCTAssertEqual(variant.dropFirst("noise:7:0: ".count), reference.dropFirst("f32 path: ".count), "noise × 0 is the f32 model")
        XCTAssertEqual(lines.filter { $0.hasSuffix(": 0/3 outputs differ from f32") }.count, 5, flips.stdout)
    }

    func testFlipsRefusesBadVariantsBeforeRunning() throws {
        let base = ["flips", FixturePaths.model.path, "--tasks", FixturePaths.tasks.path, "--variants"]
        assertOneErrorLine(try run(base + ["noise:x"]), ["--variants noise:x", "noise:SEED"])
        assertOneErrorLine(try run(base + ["noise:1:-2"]), ["--variants noise:1:-2"])
        assertOneErrorLine(try run(base + [directory.appendingPathComponent("none.llada").path]), ["none.llada", "not a packed model file"])
        assertOneErrorLine(try run(base + ["act8", "--limit", "0"]), ["--limit"])
    }

    func testInterruptedConversionLeavesNoOutputAndNoTemporaryFile() throws {
        for (signal, label) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            let out = directory.appendingPathComponent(label)
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            // f32 in 4 KiB chunks is ~2000 chunks, a fraction of a second unhindered. Rather than a sleep
            // hook in the converter, the test slows it from outside: it runs the process in ~1 ms slices
            // (SIGCONT … SIGSTOP) and, while it is stopped mid-way through the tensors, queues the signal.
            let process = try start([FixturePaths.model.path, "-o", out.appendingPathComponent("m.llada").path, "--type", "f32", "--chunk-kib", "4"])
            kill(process.processIdentifier, SIGSTOP)   // lands while the runtime is still loading
            let deadline = Date().addingTimeInterval(60)
            var sawTemporary = false
            while Date() < deadline && process.isRunning {
                kill(process.processIdentifier, SIGCONT)
                usleep(1000)
                kill(process.processIdentifier, SIGSTOP)
                let names = try FileManager.default.contentsOfDirectory(atPath: out.path)
                // Interrupt once data has been written (the whole file is ~8 MB).
                if let partial = names.first(where: { $0.hasSuffix(".partial") }),
                   let size = try FileManager.default.attributesOfItem(atPath: out.appendingPathComponent(partial).path)[.size] as? Int,
                   size > 200_000 {
                    sawTemporary = true
                    break
                }
            }
            XCTAssertTrue(sawTemporary, "\(label): the temporary file never appeared")
            XCTAssertTrue(process.isRunning, "\(label): the conversion ended before it could be interrupted")
            kill(process.processIdentifier, signal)   // pending until the process runs again
            kill(process.processIdentifier, SIGCONT)
            let result = try finish(process)
            XCTAssertEqual(result.status, 128 + signal, "\(label): \(result.stderr)")
            XCTAssertEqual(result.reason, .exit, "\(label): died of the signal instead of exiting")
            XCTAssertEqual(result.stderr, "interrupted: no output written\n")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path), [], "\(label) left files behind")
        }
    }
}
