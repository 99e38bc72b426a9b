import Foundation
import LLaDAConvert
import LLaDAEngine
import LLaDAKernels
import XCTest

/// LLaDA 2 packed by `llada-quantize`: an f32 file runs every golden generation as the directory
/// does; q8 answers the dev tasks within one answer of f32; q4 is measured (accuracy, agreement).
final class LLaDA2PackedTests: XCTestCase {
    static func convert(_ profile: QuantizationProfile, into directory: URL) throws -> URL {
        let url = directory.appendingPathComponent("llada2-\(profile.name).lpk")
        _ = try PackedConverter.convert(checkpoint: LLaDA2Checkpoint(directory: LLaDA2NetworkTests.model), output: url, profile: profile)
        return url
    }

    func testAnF32FileRunsEveryGoldenGenerationIdentically() throws {
        let directory = try PackedTestSupport.temporaryDirectory("llada2-f32")
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try ModelFile.open(try Self.convert(.f32, into: directory).path).load(compute: ComputeContext(threads: 1))
        XCTAssertEqual(model.shape.architecture, "llada2_moe")
        let golden = try LLaDA2FrontendTests.golden("generate.json")
        let settings = try XCTUnwrap(golden["settings"] as? [String: [String: Any]])
        var runs = 0
        for prompt in try XCTUnwrap(golden["prompts"] as? [[String: Any]]) {
            for (name, setting) in settings {
                var s = GenerationSettings()
                s.genLength = setting["gen_length"] as! Int
                s.blockLength = setting["block_length"] as! Int
                s.stepsPerBlock = setting["steps"] as? Int
                s.threshold = setting["threshold"] as? Double
                let result = try model.generate(GenerationRequest(prompt: .ids(prompt["prompt_ids"] as! [Int]), settings: s))
                let expected = try XCTUnwrap(prompt[name] as? [String: Any])
                let ids = result.outputIDs.firstIndex(of: 481).map { Array(result.outputIDs[...$0]) } ?? result.outputIDs
                XCTAssertEqual(ids, expected["output_ids"] as? [Int], "\(name) \(prompt["id"]!)")
                XCTAssertEqual(result.modelCalls, expected["model_calls"] as? Int, "\(name) \(prompt["id"]!)")
                runs += 1
            }
        }
        XCTAssertEqual(runs, 60)
    }

    /// The answers of `llada eval --json` on the 60 dev tasks (block 8, 8 steps per block, τ 0.95).
    func answers(_ model: String) throws -> [String] {
        let run = try CLIRunner.run(["eval", "--model", model, "--tasks", FixturePaths.tasks.path, "--json", "--gen-length", "32",
                                     "--block-length", "8", "--steps-per-block", "8", "--threshold", "0.95"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let lines = run.stdoutLines.filter { !$0.isEmpty }.dropLast()
        return try lines.map { line in
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return "\(object["correct"] as? Bool == true ? "✓" : "✗") \(object["text"] as? String ?? "")"
        }
    }

    func testQ8IsWithinOneAnswerOfF32AndQ4IsMeasured() throws {
        let directory = try PackedTestSupport.temporaryDirectory("llada2-quant")
        defer { try? FileManager.default.removeItem(at: directory) }
        let reference = try answers(LLaDA2NetworkTests.model.path)
        XCTAssertEqual(reference.count, 60)
        let correct = { (answers: [String]) in answers.count { $0.hasPrefix("✓") } }
        var report: [String] = []
        for profile in [QuantizationProfile.q8, .q4, .q4Lean] {
            let file = try Self.convert(profile, into: directory)
            let quantized = try answers(file.path)
            let agree = zip(reference, quantized).count { $0 == $1 }
            report.append("\(profile.name): \(correct(quantized))/60 correct (f32 \(correct(reference))), \(agree)/60 answers identical to f32, file \(try FileManager.default.attributesOfItem(atPath: file.path)[.size] as! Int) bytes")
            if profile == .q8 { XCTAssertLessThanOrEqual(abs(correct(quantized) - correct(reference)), 1, report.last!) }
            XCTAssertGreaterThanOrEqual(correct(quantized), correct(reference) - 6, "\(profile.name) lost more than 10% of the answers: \(report.last!)")
        }
        print("LLaDA 2 quantized dev tasks: " + report.joined(separator: "; "))
    }

    /// The grouped expert kernel (every routed expert and the shared one in two calls per layer)
    /// gives the logits of running the experts one by one, bit for bit, on every kernel path this
    /// CPU has, for q4 and q8 files.
    func testGroupedExpertsMatchExpertByExpertBitForBit() throws {
        let directory = try PackedTestSupport.temporaryDirectory("llada2-grouped")
        defer { try? FileManager.default.removeItem(at: directory) }
        let golden = try LLaDA2FrontendTests.golden("generate.json")
        let prompt = try XCTUnwrap((golden["prompts"] as? [[String: Any]])?.first?["prompt_ids"] as? [Int])
        // The prompt, then two blocks of masks with a few committed tokens among them.
        let tokens = prompt + (0..<16).map { $0 % 5 == 0 ? 17 + $0 : 482 }
        for profile in [QuantizationProfile.q4, .q8] {
            let file = try Self.convert(profile, into: directory)
            for path in QuantizedMatmul.supportedPaths {
                let kernels = try KernelContext(threads: 2, level: path)
                let weights = try PackedModel(path: file.path).makeLLaDA2Weights(kernels: kernels)
                let config = weights.config
                XCTAssertEqual(weights.expertBankCount, config.numHiddenLayers - config.firstKDenseReplace, "\(profile.name) \(path.name)")
                let grouped = LLaDA2Network(weights: weights).logits(tokens: tokens, blockLength: 8)
                let oneByOne = LLaDA2Network(weights: weights.withoutExpertBanks()).logits(tokens: tokens, blockLength: 8)
                XCTAssertEqual(weights.withoutExpertBanks().expertBankCount, 0)
                let count = grouped.rows * grouped.cols
                XCTAssertEqual(count, tokens.count * config.vocabSize)
                XCTAssertEqual(memcmp(grouped.pointer, oneByOne.pointer, count * 4), 0, "\(profile.name) \(path.name): grouped experts differ")
            }
        }
    }

    func testInfoAndInspectDescribeAPackedLLaDA2File() throws {
        let directory = try PackedTestSupport.temporaryDirectory("llada2-info")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = try Self.convert(.q4, into: directory)
        let run = try CLIRunner.run(["info", file.path, "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["format"] as? String, "packed")
        XCTAssertEqual((object["config"] as? [String: Any])?["architecture"] as? String, "llada2_moe")
        let groups = try XCTUnwrap(object["tensor_types"] as? [[String: Any]])
        func type(_ role: String) -> String? { groups.first { $0["role"] as? String == role }?["type"] as? String }
        XCTAssertEqual(type("router"), "f32")
        XCTAssertEqual(type("experts gate/up"), "q4_0")
        XCTAssertEqual(type("query_key_value"), "q8_0")
        let inspect = try CLIRunner.run(["inspect", file.path], executable: ConverterCLITests.binary)
        XCTAssertEqual(inspect.status, 0, inspect.stderr)
        XCTAssertTrue(inspect.stdout.contains("packed LLaDA 2 (llada2_moe) model"), inspect.stdout)
    }

    /// A LLaDA 2 file is version 3; the same bytes labelled version 2 (preamble checksum resealed)
    /// are refused as corrupt, naming what is wrong.
    func testALLaDA2FileIsVersion3() throws {
        let directory = try PackedTestSupport.temporaryDirectory("llada2-version")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = try Self.convert(.q8, into: directory)
        XCTAssertEqual(try PackedModel(path: file.path).formatVersion, PackedFormat.llada2Version)
        var bytes = [UInt8](try Data(contentsOf: file))
        bytes[8] = 2
        let crc = bytes.withUnsafeBytes { llada_crc32c(0, $0.baseAddress, PackedFormat.preambleSize - 4) }
        withUnsafeBytes(of: crc.littleEndian) { for (i, b) in $0.enumerated() { bytes[PackedFormat.preambleSize - 4 + i] = b } }
        try Data(bytes).write(to: file)
        XCTAssertThrowsError(try PackedModel(path: file.path)) { error in
            XCTAssertTrue("\(error)".contains("a LLaDA 2 config section in a version 2 file"), "\(error)")
        }
    }
}
