import Foundation
import LLaDABenchmarks
import LLaDAEngine
import XCTest

/// `llada bench --model`, `llada info` and the memory check, run as users run them.
final class BenchInfoCLITests: XCTestCase {
    let model = FixturePaths.model.path
    /// The documented override of the available memory, spelled as users type it.
    let limitVariable = "LLADA_MEMORY_LIMIT_BYTES"

    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> CLITests.Run {
        let result = try CLIRunner.run(arguments, environment: environment)
        return CLITests.Run(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }

    func assertOneErrorLine(_ result: CLITests.Run, _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(result.status, 0, result.stderr, file: file, line: line)
        XCTAssertEqual(result.stdout, "", file: file, line: line)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr, file: file, line: line)
        XCTAssertTrue(result.stderr.hasPrefix("error: "), result.stderr, file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(result.stderr.contains(fragment), "\(result.stderr) lacks \(fragment)", file: file, line: line)
        }
    }

    /// The level `--kernel-path auto` runs: the best this CPU has.
    var bestLevel: String { QuantizedMatmul.supportedPaths.last?.name ?? "scalar" }

    func json(_ result: CLITests.Run, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        XCTAssertEqual(result.status, 0, result.stderr, file: file, line: line)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], file: file, line: line)
    }

    // MARK: Memory check

    func testRunsThatDoNotFitAreRefusedUnlessForced() throws {
        let limit = [limitVariable: "1000000"]
        let generate = ["generate", "--model", model, "--prompt", "reverse: abcd", "--gen-length", "32", "--steps", "32", "--threads", "1"]
        assertOneErrorLine(try run(generate, environment: limit),
                           ["needs about", "but only 1.0 MB is available (LLADA_MEMORY_LIMIT_BYTES)", "--gen-length", "--force"])
        assertOneErrorLine(try run(["bench", "--model", model, "--gen-length", "16", "--steps", "16", "--block-length", "8"], environment: limit),
                           ["needs about", "LLADA_MEMORY_LIMIT_BYTES", "--force"])
        let forced = try run(generate + ["--force"], environment: limit)
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertEqual(forced.stdout, "dcba\n")
        // A limit above the estimate lets the run through.
        XCTAssertEqual(try run(generate, environment: [limitVariable: "\(1 << 40)"]).stdout, "dcba\n")
        assertOneErrorLine(try run(generate, environment: [limitVariable: "lots"]), ["LLADA_MEMORY_LIMIT_BYTES", "\"lots\""])
        // chat checks before loading too (stdin is not a terminal: nothing is prompted).
        let chat = ["chat", "--model", model, "--gen-length", "32", "--steps", "32", "--threads", "1"]
        assertOneErrorLine(try run(chat, environment: limit), ["needs about", "LLADA_MEMORY_LIMIT_BYTES", "--force"])
        XCTAssertEqual(try run(chat + ["--force"], environment: limit).status, 0)
    }

    // MARK: bench

    /// Field names of the "llada bench --json fields" table in Benchmarks/README.md.
    func documentedBenchFields() throws -> Set<String> {
        let readme = FixturePaths.root.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Benchmarks/README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let after = try XCTUnwrap(text.components(separatedBy: "## llada bench --json fields").dropFirst().first,
                                  "Benchmarks/README.md has no \"## llada bench --json fields\" section")
        let section = after.components(separatedBy: "\n## ").first ?? after   // up to the next section
        var fields = Set<String>()
        for line in section.split(separator: "\n") where line.hasPrefix("| `") {
            let cell = line.split(separator: "|")[0]
            fields.formUnion(cell.split(separator: "`").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) })
        }
        return fields
    }

    func testBenchJSONHasEveryDocumentedFieldWithSaneValues() throws {
        let result = try run(["bench", "--model", model, "--json", "--prompt-length", "8", "--gen-length", "16", "--steps", "16",
                              "--block-length", "8", "--cache", "dual", "--threads", "1", "--repetitions", "2"])
        let object = try json(result)
        let documented = try documentedBenchFields()
        XCTAssertGreaterThan(documented.count, 30)
        XCTAssertEqual(Set(object.keys), documented, "fields and Benchmarks/README.md differ")

        XCTAssertEqual(object["format"] as? String, "checkpoint")
        XCTAssertEqual(object["prompt_length"] as? Int, 8)
        XCTAssertEqual(object["gen_length"] as? Int, 16)
        XCTAssertEqual(object["cache"] as? String, "dual")
        XCTAssertEqual(object["kv_type"] as? String, "f16")
        XCTAssertEqual(object["threads"] as? Int, 1)
        XCTAssertTrue(object["threshold"] is NSNull)
        XCTAssertEqual((object["run_seconds"] as? [Double])?.count, 2)
        XCTAssertGreaterThanOrEqual(object["model_calls"] as? Int ?? 0, 2)
        XCTAssertEqual(object["kv_cache_bytes"] as? Int, 4 * 2 * (8 + 16) * 192 * 2)
        for name in ["load_seconds", "prefill_seconds", "generation_seconds", "step_seconds_median", "step_seconds_p90",
                     "tokens_per_second", "forward_seconds", "matmul_seconds", "lm_head_seconds", "attention_seconds"] {
            let value = try XCTUnwrap(object[name] as? Double, name)
            XCTAssertTrue(value.isFinite && value > 0, "\(name) = \(value)")
        }
        let shares = try ["matmul_share", "attention_share", "other_forward_share", "sampler_share"].map { try XCTUnwrap(object[$0] as? Double, $0) }
        XCTAssertTrue(shares.allSatisfy { $0 >= 0 && $0 <= 1 }, "\(shares)")
        XCTAssertEqual(shares.reduce(0, +), 1, accuracy: 1e-9)
        // The median step's own split: its parts add up to that step, which is the median step time.
        // (A checkpoint runs no int8 kernels: no peak; its floor is its weights at the bandwidth.)
        XCTAssertTrue(object["int8_peak_gops"] is NSNull)
        let checkpointMultiples = try XCTUnwrap(object["step_floor_multiples"] as? [Double])
        XCTAssertFalse(checkpointMultiples.isEmpty)
        XCTAssertTrue(checkpointMultiples.allSatisfy { $0 > 0 && $0.isFinite }, "\(checkpointMultiples)")
        XCTAssertEqual((object["median_step"] as? [String: Any])?["floor_bound"] as? String, "memory")
        let step = try XCTUnwrap((object["median_step"] as? [String: Any])?.compactMapValues { $0 as? Double })
        XCTAssertEqual(step["seconds"], object["step_seconds_median"] as? Double)
        let parts = ["matmul_seconds", "attention_seconds", "other_forward_seconds", "sampler_seconds"].map { step[$0] ?? -1 }
        XCTAssertTrue(parts.allSatisfy { $0 >= 0 }, "\(step)")
        XCTAssertEqual(parts.reduce(0, +), step["seconds"] ?? 0, accuracy: 1e-6)
        XCTAssertGreaterThan(step["matmul_seconds"] ?? 0, 0)
        XCTAssertEqual(["matmul_share", "attention_share", "other_forward_share", "sampler_share"].map { step[$0] ?? -1 }.reduce(0, +), 1, accuracy: 1e-9)
        for name in ["peak_rss_bytes", "memory_estimate_bytes", "rss_after_load_bytes", "rss_after_run_bytes", "rss_anon_after_run_bytes",
                     "available_memory_bytes"] {
            XCTAssertGreaterThan(object[name] as? Int ?? 0, 0, name)
        }
        XCTAssertEqual(object["peak_rss_source"] as? String, "VmHWM")
        // The CPU and kernel level the run measured.
        XCTAssertEqual(object["kernel_path"] as? String, bestLevel)
        let cpu = try XCTUnwrap(object["cpu"] as? [String: Any])
        XCTAssertEqual(Set(cpu.keys), ["vendor", "family", "model", "model_name", "microarchitecture", "flags", "description"])
        XCTAssertEqual(cpu["vendor"] as? String, HostCPU.current.vendor)
        XCTAssertEqual(cpu["family"] as? Int, HostCPU.current.family)
        XCTAssertEqual(cpu["model"] as? Int, HostCPU.current.model)
        XCTAssertEqual(cpu["model_name"] as? String, HostCPU.current.modelName)
        XCTAssertEqual(cpu["flags"] as? [String], HostCPU.current.flags)
        XCTAssertEqual(cpu["description"] as? String, HostCPU.current.description)
        XCTAssertNotEqual(cpu["model_name"] as? String, "")
    }

    /// A packed file on the int8 kernels: the run measures the path's peak and reports every
    /// step's multiple of its floor (the floor's work counted from the shapes).
    func testBenchJSONReportsThePeakAndEachStepsFloorMultiple() throws {
        let directory = try PackedTestSupport.temporaryDirectory("bench-floor")
        defer { try? FileManager.default.removeItem(at: directory) }
        let packed = try PackedTestSupport.convertFixture(.q4, into: directory, name: "tiny-q4.lpk")
        let result = try run(["bench", "--model", packed.path, "--json", "--prompt-length", "8", "--gen-length", "16", "--steps", "16",
                              "--block-length", "8", "--cache", "dual", "--threads", "1"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try json(result)
        let median = try XCTUnwrap(object["median_step"] as? [String: Any]), full = try XCTUnwrap(object["full_pass"] as? [String: Any])
        // The work of the first full pass: 24 rows through the 4 layers' seven matrices, and the LM head.
        let config = try LLaDAConfig.load(from: FixturePaths.model.appendingPathComponent("config.json"))
        let d = config.dModel, hidden = config.ffHiddenSize
        let perLayer: Int = 4 * d * d + 3 * d * hidden
        let perRow: Int = config.nLayers * perLayer
        let headRow = Double(2 * d * config.paddedVocabSize)
        let fullOperations = try XCTUnwrap(full["operations"] as? Double)
        XCTAssertGreaterThanOrEqual(fullOperations, Double(2 * 24 * perRow))
        XCTAssertEqual((fullOperations - Double(2 * 24 * perRow)).truncatingRemainder(dividingBy: headRow), 0)
        XCTAssertLessThan(try XCTUnwrap(median["operations"] as? Double), fullOperations)   // a cached step runs 8 rows
        let multiples = try XCTUnwrap(object["step_floor_multiples"] as? [Double])
        if ["avx2", "avx512"].contains(object["kernel_path"] as? String) {
            let peak = try XCTUnwrap(object["int8_peak_gops"] as? Double)
            XCTAssertGreaterThan(peak, 1)
            XCTAssertEqual(multiples.count, 16)
            XCTAssertTrue(multiples.allSatisfy { $0 > 1 && $0.isFinite }, "a step faster than its floor: \(multiples)")
            // The floor is the larger of the work at the peak and the weights at the bandwidth.
            let compute = try XCTUnwrap(median["compute_floor_seconds"] as? Double)
            XCTAssertEqual(compute, (median["operations"] as? Double ?? 0) / (peak * 1e9), accuracy: compute * 1e-9)
            let streaming = try XCTUnwrap(median["streaming_floor_seconds"] as? Double)
            let floor = try XCTUnwrap(median["floor_seconds"] as? Double)
            XCTAssertEqual(floor, max(compute, streaming), accuracy: floor * 1e-12)
            XCTAssertEqual(median["floor_bound"] as? String, streaming > compute ? "memory" : "compute")
            XCTAssertEqual(median["floor_multiple"] as? Double ?? 0, (median["seconds"] as? Double ?? 0) / floor, accuracy: 1e-9)
        } else {
            XCTAssertTrue(object["int8_peak_gops"] is NSNull)
            XCTAssertTrue(multiples.allSatisfy { $0 > 0 && $0.isFinite }, "\(multiples)")
        }
    }

    func testBenchTableAndBadOptions() throws {
        let table = try run(["bench", "--model", model, "--prompt", "reverse: abcd", "--gen-length", "8", "--steps", "8",
                             "--block-length", "8", "--threads", "1"])
        XCTAssertEqual(table.status, 0, table.stderr)
        for label in ["cpu", "load", "prefill", "step", "tokens/s", "time split", "median step", "KV cache", "peak RSS", "estimate"] {
            XCTAssertTrue(table.stdout.contains("\n\(label) "), "\(table.stdout) lacks \(label)")
        }
        // The CPU row, and the level in the model row (the CLI runs the best level this CPU has).
        let cpuRow = try XCTUnwrap(table.stdout.split(separator: "\n").first { $0.hasPrefix("cpu ") }, table.stdout)
        XCTAssertEqual(cpuRow.dropFirst(4).trimmingCharacters(in: .whitespaces), HostCPU.current.description)
        XCTAssertTrue(table.stdout.contains(", \(bestLevel) kernels\n"), table.stdout)
        XCTAssertTrue(table.stdout.contains("prompt 15, gen 8"), table.stdout)   // the chat template's 15 ids
        let cases: [([String], String)] = [
            (["bench"], "--kernels, or --model"),
            (["bench", "--kernels", "--model", model], "one of --kernels and --model"),
            (["bench", "--model", model, "--prompt", "hi", "--prompt-length", "4"], "not both"),
            (["bench", "--model", model, "--prompt-length", "0"], "--prompt-length"),
            (["bench", "--model", model, "--repetitions", "0"], "--repetitions"),
            (["bench", "--model", model, "--prompt-length", "250", "--gen-length", "32", "--steps", "32"], "max_sequence_length"),
            (["bench", "--model", model, "--cache", "sideways"], "--cache"),
            (["bench", "--model", "/nonexistent/model"], "does not exist"),
        ]
        for (arguments, fragment) in cases {
            assertOneErrorLine(try run(arguments), [fragment])
        }
    }

    // MARK: info

    func testInfoOnTheCheckpointDirectory() throws {
        let object = try json(try run(["info", model, "--json"]))
        XCTAssertEqual(object["format"] as? String, "checkpoint")
        let config = try XCTUnwrap(object["config"] as? [String: Any])
        XCTAssertEqual(config["architecture"] as? String, "llada")
        XCTAssertEqual(config.compactMapValues { $0 as? Int }, ["layers": 4, "d_model": 192, "heads": 3, "kv_heads": 3, "head_dim": 64,
                                                               "mlp_hidden_size": 576, "vocab_size": 512, "max_sequence_length": 256,
                                                               "mask_id": 492, "eos_id": 481, "parameters": 2_115_264,
                                                               "active_parameters": 2_115_264])
        XCTAssertNil(config["experts"] as? [String: Any])
        let groups = try XCTUnwrap(object["tensor_types"] as? [[String: Any]])
        XCTAssertEqual(groups.map { $0["role"] as! String },
                       ["embedding", "norms", "q_proj/k_proj/v_proj", "attn_out", "ff_proj/up_proj", "ff_out", "lm_head"])
        XCTAssertTrue(groups.allSatisfy { $0["type"] as? String == "bf16" && ($0["memory_bytes"] as! Int) == 2 * ($0["file_bytes"] as! Int) })
        XCTAssertEqual(groups.reduce(0) { $0 + ($1["memory_bytes"] as! Int) }, 8_461_056)
        let estimate = try XCTUnwrap(object["memory_estimate"] as? [String: Any])
        XCTAssertEqual(estimate["cache"] as? String, "none")
        XCTAssertEqual(estimate["gen_length"] as? Int, 128)
        XCTAssertEqual(estimate["canvas_length"] as? Int, 64 + 128)
        XCTAssertEqual(estimate["weights_bytes"] as? Int, 8_461_056)
        XCTAssertEqual(estimate["kv_cache_bytes"] as? Int, 0)
        let parts = ["weights_bytes", "embedding_bytes", "kv_cache_bytes", "activation_bytes", "logits_bytes", "kernel_scratch_bytes", "overhead_bytes"]
        XCTAssertEqual(parts.reduce(0) { $0 + (estimate[$1] as! Int) }, estimate["total_bytes"] as? Int)

        let text = try run(["info", model])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("q_proj/k_proj/v_proj  bf16  ×12"), text.stdout)
        XCTAssertTrue(text.stdout.contains("4 layers, d_model 192, 3 heads"), text.stdout)
        XCTAssertTrue(text.stdout.contains("memory for a run (prompt 64, gen 128, block 32, cache none, kv f16)"), text.stdout)
    }

    func testInfoOnAQ4File() throws {
        let directory = try PackedTestSupport.temporaryDirectory("info")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("tiny-q4.lpk")
        let convert = Process()
        convert.executableURL = ConverterCLITests.binary
        convert.arguments = [model, "-o", file.path, "--type", "q4"]
        convert.standardOutput = Pipe()
        try convert.run()
        _ = (convert.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile()
        convert.waitUntilExit()
        XCTAssertEqual(convert.terminationStatus, 0)

        let object = try json(try run(["info", file.path, "--json"]))
        XCTAssertEqual(object["format"] as? String, "packed")
        XCTAssertEqual(object["file_bytes"] as? Int, try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int)
        let groups = try XCTUnwrap(object["tensor_types"] as? [[String: Any]])
        XCTAssertEqual(groups.reduce(0) { $0 + ($1["tensors"] as! Int) }, 39)
        XCTAssertTrue(groups.contains { $0["type"] as? String == "q4_0" }, "\(groups)")
        XCTAssertTrue(groups.allSatisfy { ["q4_0", "q8_0", "f16", "f32"].contains($0["type"] as! String) })
        XCTAssertEqual(groups.first { $0["role"] as? String == "norms" }?["type"] as? String, "f32")
        let estimate = try XCTUnwrap(object["memory_estimate"] as? [String: Any])
        XCTAssertEqual(estimate["cache"] as? String, "dual")
        XCTAssertEqual(estimate["kv_cache_bytes"] as? Int, 4 * 2 * (64 + 128) * 192 * 2)
        let embedding = try XCTUnwrap(groups.first { $0["role"] as? String == "embedding" })
        XCTAssertLessThanOrEqual(estimate["embedding_bytes"] as! Int, embedding["file_bytes"] as! Int)

        assertOneErrorLine(try run(["info", file.path, "--gen-length", "\(1 << 40)", "--block-length", "32"]), ["max_sequence_length"])
        assertOneErrorLine(try run(["info", file.path, "--kv-type", "f8"]), ["--kv-type"])
        let text = try run(["info", file.path, "--cache", "none", "--gen-length", "32"])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("packed file"), text.stdout)
        XCTAssertTrue(text.stdout.contains("gen 32, block 32, cache none"), text.stdout)
        XCTAssertTrue(text.stdout.contains("embedding    "), text.stdout)
    }
}
