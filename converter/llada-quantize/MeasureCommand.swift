import ArgumentParser
import CLZ4
import Foundation
import LLaDAConvert
import LLaDAEngine
import LLaDAKernels

/// Quality and size measurements of every type against the f32 path (docs/quantization.md).
/// Each variant goes through the real pipeline: convert to a temporary packed file, load it
/// with `PackedModel`, run the forward pass / sampler.
struct MeasureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "measure",
        abstract: "Measure weight error, logits KL / top-1 and generation agreement of each type against f32.",
        shouldDisplay: false)

    @Argument(help: "Checkpoint directory (the f32 reference is read from it).")
    var source: String

    @Option(name: .long, help: "Directory with the golden logits.json and generate.json.")
    var golden: String

    @Flag(name: .long, help: "Print JSON instead of markdown tables.")
    var json = false

    @Option(name: .long, help: "How packed q8/q4 matrices multiply: kernels (int8 activations, the product path) or dequant (f32 activations, the baseline).")
    var linears = LinearBackend.kernels

    @Option(name: .long, help: "OpenBLAS threads (1 is fastest for the tiny fixture's matrices).")
    var threads = 1

    @Flag(name: .long, help: "Skip the generation comparison (faster).")
    var noGenerate = false

    @Option(name: .long, help: "Only the variants whose label contains this text.")
    var only: String?

    @Option(name: .long, help: "JSON array of {\"id\", \"prompt_ids\"} to generate from instead of generate.json's 12 prompts.")
    var promptIds: String?

    @Option(name: .long, help: "Write every variant's generated ids (and the f32 path's) to this JSON file.")
    var dumpGenerations: String?

    struct Variant {
        let label: String
        let profile: QuantizationProfile
    }

    struct Result: Encodable {
        let label: String
        let fileBytes: Int
        /// Per tensor role: RMSE and RMSE relative to the weights' RMS.
        let weightRMSE: [String: Double]
        let weightRelativeRMSE: [String: Double]
        let meanKL: Double
        let maxKL: Double
        let top1: Double
        let top1Masked: Double
        let generationsIdentical: Int?
        let answersIdentical: Int?
        let generations: Int?
        /// Generations whose answer differs from f32's, with "(f32 right)" / "(f32 wrong)".
        let answersDiffering: [String]?
    }

    struct CompressionRow: Encodable {
        let type: String
        let rawBytes: Int
        let lz4Plain: Int
        let lz4Shuffled: Int
    }

    struct Report: Encodable {
        let positions: Int
        let maskedPositions: Int
        let results: [Result]
        let compression: [CompressionRow]
    }

    struct GoldenCase {
        let ids: [Int]
        let masked: [Int]
    }

    func run() throws {
        // The f32 reference runs on OpenBLAS; the packed variants on a context of as many threads.
        OpenBLASThreads.set(threads)
        let kernels = try KernelContext(threads: threads)
        let checkpoint = try HFCheckpoint(directory: URL(fileURLWithPath: source))
        let goldenURL = URL(fileURLWithPath: golden)
        let cases = try loadCases(goldenURL.appendingPathComponent("logits.json"))
        let reference = Transformer(weights: try ModelWeights(checkpoint: checkpoint))
        let referenceLogits = cases.map { reference.logits(tokens: $0.ids) }
        let generation = noGenerate ? nil : try GenerationCheck(url: goldenURL.appendingPathComponent("generate.json"),
                                                                 prompts: promptIds.map { URL(fileURLWithPath: $0) })
        let referenceGenerations = generation?.run(reference)
        var dump: [String: [String: [Int]]] = [:]
        if let generation, let referenceGenerations {
            dump["f32 path"] = Dictionary(uniqueKeysWithValues: zip(generation.cases.map(\.label), referenceGenerations))
        }

        var variants: [Variant] = [
            Variant(label: "f16", profile: .f16),
            Variant(label: "q8", profile: .q8),
            Variant(label: "q4 (default: q4_0, embedding + q/k/v + LM head q8_0)", profile: .q4),
        ]
        var q8F16Ends = QuantizationProfile.q8
        for role in [TensorLayout.Role.embedding, .lmHead] { q8F16Ends.types[role] = .f16 }
        variants.append(Variant(label: "q8 but embedding + LM head f16", profile: q8F16Ends))
        var maxabsMixed = QuantizationProfile.q4
        maxabsMixed.q4Method = .maxabs
        variants.append(Variant(label: "q4 default, plain max-abs/7 scales", profile: maxabsMixed))
        let allQ4 = QuantizationProfile.uniform(.q4_0, name: "q4-all")
        variants.append(Variant(label: "q4_0 everywhere, search scales", profile: allQ4))
        var allQ4MaxAbs = allQ4
        allQ4MaxAbs.q4Method = .maxabs
        variants.append(Variant(label: "q4_0 everywhere, plain max-abs/7 scales", profile: allQ4MaxAbs))
        for role in TensorLayout.Role.allCases where !role.alwaysF32 {
            var profile = allQ4
            profile.types[role] = .q8_0
            variants.append(Variant(label: "q4_0 everywhere but \(role.rawValue) q8_0", profile: profile))
        }
        for roles: [TensorLayout.Role] in [[.embedding, .lmHead], [.embedding, .attentionQKV]] {
            var profile = allQ4
            for role in roles { profile.types[role] = .q8_0 }
            variants.append(Variant(label: "q4_0 everywhere but \(roles.map(\.rawValue).joined(separator: " + ")) q8_0", profile: profile))
        }
        if let only { variants = variants.filter { $0.label.contains(only) } }

        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("llada-measure-\(getpid())")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: temporary) }

        var results: [Result] = []
        var uniformFiles: [WeightType: PackedModel] = [:]
        for (index, variant) in variants.enumerated() {
            let url = temporary.appendingPathComponent("v\(index).llada")
            let summary = try PackedConverter.convert(checkpoint: checkpoint, output: url, profile: variant.profile)
            let model = try PackedModel(path: url.path)
            let transformer = Transformer(weights: try model.makeWeights(backend: linears, kernels: kernels))
            var kls: [Double] = []
            var agree = 0, agreeMasked = 0, masked = 0
            for (golden, expected) in zip(cases, referenceLogits) {
                let logits = transformer.logits(tokens: golden.ids)
                let maskedSet = Set(golden.masked)
                for row in 0..<golden.ids.count {
                    let (kl, same) = compare(expected.rowArray(row), logits.rowArray(row))
                    kls.append(kl)
                    if same { agree += 1 }
                    if maskedSet.contains(row) {
                        masked += 1
                        if same { agreeMasked += 1 }
                    }
                }
            }
            let (rmse, relative) = try weightErrors(model, checkpoint: checkpoint)
            var identical: Int?, answers: Int?, differing: [String]?
            if let generation, let referenceGenerations {
                let outputs = generation.run(transformer)
                dump[variant.label] = Dictionary(uniqueKeysWithValues: zip(generation.cases.map(\.label), outputs))
                identical = zip(outputs, referenceGenerations).filter { $0 == $1 }.count
                answers = zip(outputs, referenceGenerations).filter { generation.answer($0) == generation.answer($1) }.count
                differing = zip(generation.cases, zip(outputs, referenceGenerations))
                    .filter { generation.answer($1.0) != generation.answer($1.1) }
                    .map { c, _ in c.label + (c.referenceCorrect.map { $0 ? " (f32 right)" : " (f32 wrong)" } ?? "") }
            }
            results.append(Result(label: variant.label, fileBytes: summary.fileSize, weightRMSE: rmse, weightRelativeRMSE: relative,
                                  meanKL: kls.reduce(0, +) / Double(kls.count), maxKL: kls.max() ?? 0,
                                  top1: Double(agree) / Double(kls.count), top1Masked: Double(agreeMasked) / Double(max(masked, 1)),
                                  generationsIdentical: identical, answersIdentical: answers, generations: referenceGenerations?.count,
                                  answersDiffering: differing))
            if index < 2 || variant.profile == allQ4 { uniformFiles[variant.profile.type(for: .ffDown)] = model }
        }
        let f32URL = temporary.appendingPathComponent("f32.llada")
        _ = try PackedConverter.convert(checkpoint: checkpoint, output: f32URL, profile: .f32)
        uniformFiles[.f32] = try PackedModel(path: f32URL.path)
        let compression = try WeightType.allCases.compactMap { type in try uniformFiles[type].map { try compressionRow(type, $0) } }
        let report = Report(positions: cases.reduce(0) { $0 + $1.ids.count }, maskedPositions: cases.reduce(0) { $0 + $1.masked.count },
                            results: results, compression: compression)
        if let dumpGenerations {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try encoder.encode(dump).write(to: URL(fileURLWithPath: dumpGenerations))
        }
        if json { try printJSON(report) } else { printMarkdown(report) }
    }

    private func loadCases(_ url: URL) throws -> [GoldenCase] {
        guard let data = try? Data(contentsOf: url), let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let cases = root["cases"] as? [[String: Any]] else {
            throw LLaDAError("\(url.path) is missing or not the golden logits.json (needs \"cases\")")
        }
        return try cases.map {
            guard let ids = $0["input_ids"] as? [Int], let masked = $0["mask_positions"] as? [Int] else {
                throw LLaDAError("\(url.path): a case lacks input_ids / mask_positions")
            }
            return GoldenCase(ids: ids, masked: masked)
        }
    }

    /// KL(p_ref ‖ p_quant) in nats of one row, and whether the argmaxes agree.
    private func compare(_ reference: [Float], _ candidate: [Float]) -> (Double, Bool) {
        func logSoftmax(_ row: [Float]) -> [Double] {
            let peak = Double(row.max()!)
            let logSum = log(row.reduce(0.0) { $0 + exp(Double($1) - peak) }) + peak
            return row.map { Double($0) - logSum }
        }
        let p = logSoftmax(reference), q = logSoftmax(candidate)
        var kl = 0.0
        for i in 0..<p.count { kl += exp(p[i]) * (p[i] - q[i]) }
        let argmax = { (row: [Float]) in row.indices.max { row[$0] < row[$1] }! }
        return (max(kl, 0), argmax(reference) == argmax(candidate))
    }

    private func weightErrors(_ model: PackedModel, checkpoint: HFCheckpoint) throws -> ([String: Double], [String: Double]) {
        var squaredError: [String: Double] = [:], squaredWeight: [String: Double] = [:], counts: [String: Int] = [:]
        for entry in checkpoint.layout.entries where entry.role != .norm {
            let tensor = model.tensors.first { $0.name == entry.name }!
            let data = try model.tensorData(entry.name)
            let reference = try checkpoint.readMatrix(entry.name)
            let count = tensor.elementCount
            let values = UnsafeMutablePointer<Float>.allocate(capacity: count)
            defer { values.deallocate() }
            data.withUnsafeBytes { tensor.type.dequantize($0.baseAddress!, elements: count, into: values) }
            var error = 0.0, weight = 0.0
            for i in 0..<count {
                let w = Double(reference.pointer[i])
                error += (w - Double(values[i])) * (w - Double(values[i]))
                weight += w * w
            }
            squaredError[entry.role.rawValue, default: 0] += error
            squaredWeight[entry.role.rawValue, default: 0] += weight
            counts[entry.role.rawValue, default: 0] += count
        }
        var rmse: [String: Double] = [:], relative: [String: Double] = [:]
        for (role, error) in squaredError {
            rmse[role] = (error / Double(counts[role]!)).squareRoot()
            relative[role] = (error / squaredWeight[role]!).squareRoot()
        }
        return (rmse, relative)
    }

    /// LZ4 on the tensors of one type, as stored (plain) and with the byte-plane shuffle, in chunks
    /// of the converter's default size.
    private func compressionRow(_ type: WeightType, _ model: PackedModel) throws -> CompressionRow {
        var raw = 0, plain = 0, shuffled = 0
        for tensor in model.tensors where tensor.type == type {
            let data = [UInt8](try model.tensorData(tensor.name))
            let chunk = PackedFormat.defaultChunkBytes / type.recordBytes * type.recordBytes
            for start in stride(from: 0, to: data.count, by: chunk) {
                let piece = Array(data[start..<min(data.count, start + chunk)])
                var planes = [UInt8](repeating: 0, count: piece.count)
                llada_shuffle_bytes(piece, &planes, piece.count / type.recordBytes, type.recordBytes)
                raw += piece.count
                plain += min(piece.count, lz4Size(piece))
                shuffled += min(piece.count, lz4Size(planes))
            }
        }
        return CompressionRow(type: type.description, rawBytes: raw, lz4Plain: plain, lz4Shuffled: shuffled)
    }

    private func lz4Size(_ bytes: [UInt8]) -> Int {
        let bound = Int(LZ4_compressBound(Int32(bytes.count)))
        var out = [CChar](repeating: 0, count: bound)
        return bytes.withUnsafeBytes { src in
            Int(LZ4_compress_default(src.baseAddress!.assumingMemoryBound(to: CChar.self), &out, Int32(bytes.count), Int32(bound)))
        }
    }

    private func printMarkdown(_ report: Report) {
        let roles = TensorLayout.Role.allCases.filter { !$0.alwaysF32 }.map(\.rawValue)
        print("Logits over \(report.positions) positions of the 4 golden inputs (\(report.maskedPositions) of them masked).\n")
        print("| variant | file | mean KL | max KL | top-1 | top-1 masked | generations identical | answers identical |")
        print("|---|---|---|---|---|---|---|---|")
        for r in report.results {
            let generations = r.generations.map { "\(r.generationsIdentical!)/\($0)" } ?? "–"
            let answers = r.generations.map { "\(r.answersIdentical!)/\($0)" } ?? "–"
            print("| \(r.label) | \(formatBytes(r.fileBytes)) | \(String(format: "%.2e", r.meanKL)) | \(String(format: "%.2e", r.maxKL)) | "
                  + "\(String(format: "%.4f", r.top1)) | \(String(format: "%.4f", r.top1Masked)) | \(generations) | \(answers) |")
        }
        print("\nGenerated answers that differ from the f32 path's (reference sampler, 12 golden prompts × 4 settings):\n")
        for r in report.results where !(r.answersDiffering ?? []).isEmpty {
            print("- \(r.label): " + r.answersDiffering!.joined(separator: ", "))
        }
        print("\nWeight RMSE relative to the weights' RMS (absolute RMSE in brackets), per tensor class:\n")
        print("| variant | " + roles.joined(separator: " | ") + " |")
        print("|---|" + String(repeating: "---|", count: roles.count))
        for r in report.results {
            let cells = roles.map { String(format: "%.4f (%.2e)", r.weightRelativeRMSE[$0]!, r.weightRMSE[$0]!) }
            print("| \(r.label) | " + cells.joined(separator: " | ") + " |")
        }
        print("\nLZ4 on the stored bytes of each type (all matrices, 4 MiB chunks), compressed / raw:\n")
        print("| type | raw | LZ4 | LZ4 after byte-plane shuffle |")
        print("|---|---|---|---|")
        for c in report.compression {
            print("| \(c.type) | \(formatBytes(c.rawBytes)) | \(String(format: "%.3f", Double(c.lz4Plain) / Double(c.rawBytes))) | "
                  + "\(String(format: "%.3f", Double(c.lz4Shuffled) / Double(c.rawBytes))) |")
        }
    }
}

/// The reference sampler on the golden prompts (generate.json), every setting without CFG.
struct GenerationCheck {
    struct Case {
        let label: String
        let prompt: [Int]
        let settings: GenerationSettings
        /// Whether the reference (f32) answer is right, from generate.json (nil for other prompts).
        let referenceCorrect: Bool?
    }

    let cases: [Case]
    let maskID: Int
    /// End-of-turn / end-of-text ids of the fixture tokenizer: the answer ends at either.
    let stops: Set<Int> = [481, 495]

    init(url: URL, prompts promptsURL: URL? = nil) throws {
        guard let data = try? Data(contentsOf: url), let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let settings = root["settings"] as? [[String: Any]], var prompts = root["prompts"] as? [[String: Any]],
              let maskID = root["mask_token_id"] as? Int else {
            throw LLaDAError("\(url.path) is missing or not the golden generate.json")
        }
        if let promptsURL {
            guard let data = try? Data(contentsOf: promptsURL), let list = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
                throw LLaDAError("\(promptsURL.path) is missing or not a JSON array of {\"id\", \"prompt_ids\"}")
            }
            prompts = list
        }
        self.maskID = maskID
        var cases: [Case] = []
        for setting in settings where ((setting["cfg_scale"] as? Double) ?? 0) == 0 {
            var s = GenerationSettings()
            s.genLength = setting["gen_length"] as? Int ?? 32
            s.steps = setting["steps"] as? Int ?? 32
            s.blockLength = setting["block_length"] as? Int ?? 32
            let name = setting["name"] as? String ?? "?"
            for prompt in prompts {
                guard let ids = prompt["prompt_ids"] as? [Int] else { throw LLaDAError("\(url.path): a prompt lacks prompt_ids") }
                let output = (prompt["outputs"] as? [String: Any])?[name] as? [String: Any]
                cases.append(Case(label: "\(prompt["id"] as? String ?? "?")/\(name)", prompt: ids, settings: s,
                                  referenceCorrect: output?["correct"] as? Bool))
            }
        }
        self.cases = cases
    }

    func run(_ model: Transformer) -> [[Int]] {
        cases.map { Sampler(settings: $0.settings, maskID: maskID).generate(prompt: $0.prompt, model: model).outputIDs }
    }

    func answer(_ output: [Int]) -> [Int] {
        Array(output.prefix { !stops.contains($0) })
    }
}

/// Load time, resident memory and one forward pass of a packed file (hidden; for the docs' numbers).
struct LoadBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-load",
        abstract: "Time loading a packed file (verify + decompress + build) and one forward pass.",
        shouldDisplay: false)

    @Argument(help: "Packed model file.")
    var file: String

    @Option(name: .long, help: "Tokens in the forward pass (0 = skip it).")
    var tokens = 64

    @Option(name: .long, help: "Compute threads (default: all cores).")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    func run() throws {
        OpenBLASThreads.set(threads)
        let kernels = try KernelContext(threads: threads)
        let start = Date()
        let model = try PackedModel(path: file)
        guard let config = model.denseConfig else { throw LLaDAError("\(file): bench-load measures dense LLaDA files; this one is LLaDA 2") }
        let opened = Date()
        let weights = try model.makeWeights(kernels: kernels)
        let loaded = Date()
        print(String(format: "open %.3f s, verify + decompress + build %.3f s, RSS after load %@, peak %@",
                     opened.timeIntervalSince(start), loaded.timeIntervalSince(opened),
                     formatBytes(residentBytes("VmRSS")), formatBytes(residentBytes("VmHWM"))))
        guard tokens > 0 else { return }
        let transformer = Transformer(weights: weights)
        let ids = (0..<min(tokens, config.maxSequenceLength)).map { $0 % config.vocabSize }
        let before = Date()
        _ = transformer.logits(tokens: ids, outputPositions: [0])
        print(String(format: "forward pass of %d tokens: %.3f s, peak RSS %@", ids.count, Date().timeIntervalSince(before),
                     formatBytes(residentBytes("VmHWM"))))
    }

    /// A field of /proc/self/status in bytes (0 where there is no /proc).
    private func residentBytes(_ field: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
            return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
        }
        return 0
    }
}
