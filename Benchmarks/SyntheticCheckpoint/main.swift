// llada-synth: writes a synthetic LLaDA checkpoint of the real 8B (or 1B-class, or tiny) shape, or
// of LLaDA2.0-mini's (or a tiny LLaDA 2), so
// speed and memory can be measured without the real weights. See SyntheticCheckpointWriter.
import ArgumentParser
import Dispatch
import Foundation
import LLaDAEngine
import LLaDASynthetic

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llada-synth",
        abstract: "Write a synthetic LLaDA checkpoint (Hugging Face layout, deterministic from a seed).")

    @Argument(help: "Output directory (must not exist unless --force).")
    var outDir: String

    @Option(name: .long, help: "Model shape: 8b (LLaDA-8B), 1b (d_model 2048, 16 layers, mlp 5632), tiny, llada2-mini (LLaDA2.0-mini: 16.3B MoE) or llada2-tiny.")
    var preset: String?

    @Option(name: .long, help: "Weight seed.")
    var seed: UInt64 = 0

    @Option(name: .long, help: "Number of safetensors shards (default: 6 for 8b, 2 otherwise; 1 = model.safetensors).")
    var shards: Int?

    @Option(name: .long, help: "Copy the tensor-to-shard assignment of this model.safetensors.index.json (e.g. a real LLaDA-8B index; replaces --shards).")
    var index: String?

    @Option(name: .long, help: "Whose published metadata to copy: instruct (LLaDA-8B-Instruct), base (LLaDA-8B-Base: no chat tokens) or 1.5 (LLaDA-1.5).")
    var release = "instruct"

    @Option(name: .long, help: "Weight dtype: bf16, f16 or f32.")
    var dtype = "bf16"

    @Option(name: .customLong("d-model"), help: "Override d_model.")
    var dModel: Int?
    @Option(name: .long, help: "Override n_heads (= n_kv_heads).")
    var heads: Int?
    @Option(name: .long, help: "Override n_layers.")
    var layers: Int?
    @Option(name: .customLong("mlp-hidden"), help: "Override mlp_hidden_size.")
    var mlpHidden: Int?
    @Option(name: .long, help: "Override vocab_size = embedding_size (>= 640; LLaDA's special ids keep their offsets from the end).")
    var vocab: Int?
    @Option(name: .customLong("max-seq-len"), help: "Override max_sequence_length.")
    var maxSeqLen: Int?

    @Option(name: .long, help: "Generator threads (default: all cores).")
    var threads: Int?

    @Flag(name: .long, help: "Replace OUT_DIR if it exists (the old one is removed only after the new one is complete).")
    var force = false

    @Flag(name: .long, help: "After writing, run the f32 forward pass on a short prompt and print per-layer activation RMS.")
    var check = false

    @Flag(name: .customLong("check-only"), help: "Only run the activation check on the existing OUT_DIR.")
    var checkOnly = false

    func validate() throws {
        if !checkOnly && preset == nil { throw ValidationError("--preset is required (8b, 1b, tiny, llada2-mini or llada2-tiny)") }
        if let preset, SyntheticModelShape.Preset(rawValue: preset) == nil && SyntheticLLaDA2Shape.Preset(rawValue: preset) == nil {
            throw ValidationError("--preset must be 8b, 1b, tiny, llada2-mini or llada2-tiny (got \(preset))")
        }
        if let preset, SyntheticLLaDA2Shape.Preset(rawValue: preset) != nil {
            let denseOnly: [(String, Bool)] = [("--d-model", dModel != nil), ("--heads", heads != nil),
                                               ("--mlp-hidden", mlpHidden != nil), ("--max-seq-len", maxSeqLen != nil),
                                               ("--index", index != nil), ("--release", release != "instruct"), ("--check", check || checkOnly)]
            if let option = denseOnly.first(where: \.1) {
                throw ValidationError("\(option.0) applies to the dense LLaDA presets, not to \(preset)")
            }
        }
        if TensorDType(rawValue: dtype.uppercased()).map({ [.bf16, .f16, .f32].contains($0) }) != true {
            throw ValidationError("--dtype must be bf16, f16 or f32 (got \(dtype))")
        }
        if SyntheticRelease(rawValue: release) == nil { throw ValidationError("--release must be instruct, base or 1.5 (got \(release))") }
        if index != nil && shards != nil { throw ValidationError("--index and --shards exclude each other: the index decides the shards") }
        if let threads, threads < 1 || threads > 1024 { throw ValidationError("--threads must be between 1 and 1024 (got \(threads))") }
    }

    func run() throws {
        let destination = URL(fileURLWithPath: outDir)
        if !checkOnly { try generate(destination) }
        if check || checkOnly { try runCheck(destination) }
    }

    private func generate(_ destination: URL) throws {
        if let llada2 = SyntheticLLaDA2Shape.Preset(rawValue: preset!) { return try generateLLaDA2(llada2, destination) }
        let preset = SyntheticModelShape.Preset(rawValue: preset!)!
        var shape = SyntheticModelShape.preset(preset)
        if let dModel { shape.dModel = dModel }
        if let heads { shape.nHeads = heads }
        if let layers { shape.nLayers = layers }
        if let mlpHidden { shape.mlpHiddenSize = mlpHidden }
        if let vocab { shape.vocabSize = vocab }
        if let maxSeqLen { shape.maxSequenceLength = maxSeqLen }
        let options = SyntheticCheckpointOptions(
            shape: shape, dtype: TensorDType(rawValue: dtype.uppercased())!,
            shards: shards ?? SyntheticModelShape.defaultShards(preset), seed: seed,
            threads: threads ?? ProcessInfo.processInfo.activeProcessorCount,
            shardIndex: index.map { URL(fileURLWithPath: $0) }, release: SyntheticRelease(rawValue: release)!)
        let writer = try SyntheticCheckpointWriter(options: options, destination: destination, replaceExisting: force)
        try write(writer, description: "d_model \(shape.dModel), \(shape.nHeads) heads, \(shape.nLayers) layers, mlp \(shape.mlpHiddenSize), "
            + "vocab \(shape.vocabSize)")
    }

    private func generateLLaDA2(_ preset: SyntheticLLaDA2Shape.Preset, _ destination: URL) throws {
        var shape = SyntheticLLaDA2Shape.preset(preset)
        if let layers { shape.layers = layers }
        if let vocab { shape.vocabSize = vocab }
        let options = SyntheticCheckpointOptions(
            model: .llada2(shape), dtype: TensorDType(rawValue: dtype.uppercased())!,
            shards: shards ?? SyntheticLLaDA2Shape.defaultShards(preset), seed: seed,
            threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
        let writer = try SyntheticCheckpointWriter(options: options, destination: destination, replaceExisting: force)
        try write(writer, description: "LLaDA 2 MoE, hidden \(shape.hiddenSize), \(shape.layers) layers, \(shape.experts) experts of \(shape.expertIntermediate), "
            + "top-\(shape.expertsPerToken), vocab \(shape.vocabSize)")
    }

    private func write(_ writer: SyntheticCheckpointWriter, description: String) throws {
        let options = writer.options, destination = writer.destination
        let signals = removeOutputOnSignal(writer)
        defer { signals.forEach { $0.cancel() } }

        log("writing \(destination.path): \(description), \(options.dtype.rawValue), \(options.model.parameterCount) parameters, "
            + "\(writer.plan.shards.count) shard(s), seed \(seed), \(options.threads) threads")
        let start = Date()
        var lastPercent = -1
        let summary = try writer.write { done, total in
            let percent = total > 0 ? done * 100 / total : 100
            if percent / 10 != lastPercent / 10 {
                lastPercent = percent
                log(String(format: "  %3ld%%  %.2f / %.2f GB  %.1f s", percent, Double(done) / 1e9, Double(total) / 1e9, Date().timeIntervalSince(start)))
            }
        }
        let seconds = Date().timeIntervalSince(start)
        print("wrote \(summary.directory.path): \(summary.fileNames.count) files, \(summary.totalBytes) bytes "
            + String(format: "(%.3f GB), %.1f s, %.0f MB/s", Double(summary.totalBytes) / 1e9, seconds, Double(summary.totalBytes) / 1e6 / max(seconds, 1e-9)))
    }

    private func runCheck(_ directory: URL) throws {
        let checkpoint = try HFCheckpoint(directory: directory)
        let tokenizer = try Tokenizer(directory: directory)
        let prompt = "The quick brown fox jumps over the lazy dog. What is 12 + 30?"
        let tokens = tokenizer.encode(prompt)
        OpenBLASThreads.set(threads ?? ProcessInfo.processInfo.activeProcessorCount)
        let start = Date()
        let report = try ActivationProbe.run(checkpoint: checkpoint, tokens: tokens)
        print(String(format: "forward pass (f32, %ld tokens, %.1f s): residual RMS / max |x|", tokens.count, Date().timeIntervalSince(start)))
        for (index, (rms, maxAbs)) in zip(report.residualRMS, report.residualMaxAbs).enumerated() {
            print(String(format: "  %@  %.4f / %.3f", index == 0 ? "embedding" : String(format: "block %2ld ", index - 1), rms, maxAbs))
        }
        print(String(format: "  logits: finite %@, RMS %.3f, max |logit| %.3f",
                     report.logitsAreFinite ? "yes" : "NO", report.logitRMS, report.logitMaxAbs))
        guard report.logitsAreFinite, report.residualRMS.allSatisfy(\.isFinite) else {
            throw LLaDAError("\(directory.path): the forward pass produced non-finite values")
        }
    }

    /// Ctrl-C or kill during generation removes the partial output before exiting.
    private func removeOutputOnSignal(_ writer: SyntheticCheckpointWriter) -> [DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { (number: Int32) -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                writer.discardTemporaryDirectory()
                FileHandle.standardError.write(Data("llada-synth: interrupted; removed \(writer.temporaryDirectory.path)\n".utf8))
                Foundation.exit(128 + number)
            }
            source.resume()
            return source
        }
    }

    private func log(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// Every failure becomes one `error:` line and a non-zero exit, as in the llada CLI.
do {
    var command = try SynthCommand.parseAsRoot()
    try command.run()
} catch let error as LLaDAError {
    FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
    exit(1)
} catch {
    if SynthCommand.exitCode(for: error) == .success { SynthCommand.exit(withError: error) }
    let message = SynthCommand.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
    FileHandle.standardError.write(Data("error: \(message) (see `llada-synth --help`)\n".utf8))
    exit(SynthCommand.exitCode(for: error).rawValue == 0 ? 1 : SynthCommand.exitCode(for: error).rawValue)
}
