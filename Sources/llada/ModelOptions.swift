import ArgumentParser
import Foundation
import LLaDAEngine

/// Options every model-using subcommand shares.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Model: a packed file from llada-quantize, or a Hugging Face checkpoint directory (dense LLaDA, or LLaDA 2: llada2_moe, run in f32).")
    var model: String

    @Option(name: .long, parsing: .unconditional, help: "Compute threads (default: all cores).")
    var threads: Int?

    @OptionGroup var kernels: KernelPathOption

    func validate() throws {
        if let threads, threads < 1 || threads > 1024 {
            throw ValidationError("--threads must be between 1 and 1024 (got \(threads))")
        }
    }

    /// Opens the model once: header, config, footprint and tokenizer (no weights yet).
    func open() throws -> ModelFile {
        try ModelFile.open(model)
    }

    /// The threads and kernel level the model computes with.
    var compute: ComputeContext {
        ComputeContext(threads: threads ?? ProcessInfo.processInfo.activeProcessorCount, kernelLevel: kernels.level)
    }

    func load(_ file: ModelFile) throws -> LLaDAModel {
        try file.load(compute: compute)
    }
}

/// Only the model path, for tokenize/detokenize (they read the tokenizer and run nothing).
struct TokenizerOptions: ParsableArguments {
    @Option(name: .long, help: "Model: a packed file from llada-quantize, or a Hugging Face checkpoint directory.")
    var model: String

    func loadTokenizer() throws -> Tokenizer {
        try ModelFile.tokenizer(at: model)
    }
}

/// The sampler's options, named as in generate.py. Numbers are parsed `.unconditional`ly, so
/// `--gen-length -8` reaches validation ("must be at least 1") instead of reading as an option.
struct SamplingOptions: ParsableArguments {
    // Optional so infill can tell them unset (its length comes from the text); the defaults are
    // generate.py's and chat.py's.
    @Option(name: .long, parsing: .unconditional, help: "Number of tokens to generate (default: 128); for LLaDA 2 an upper bound (it runs whole blocks and stops at its end token).")
    var genLength: Int?

    @Option(name: .long, parsing: .unconditional, help: "Dense LLaDA: denoising steps in total, divided evenly among blocks (default: --gen-length, one token per step). LLaDA 2 refuses it: use --steps-per-block.")
    var steps: Int?

    @Option(name: .long, parsing: .unconditional, help: "Denoising steps per block (LLaDA 2's steps, default 32; dense LLaDA: steps = this × blocks).")
    var stepsPerBlock: Int?

    @Option(name: .long, parsing: .unconditional, help: "Block length (default: 32); dense LLaDA: must divide --gen-length; LLaDA 2: its blocks are cut from position 0.")
    var blockLength: Int?

    @Option(name: .long, parsing: .unconditional, help: "Token temperature (0 = argmax; > 0 = Gumbel-max sampling).")
    var temperature = 0.0

    @Option(name: .long, parsing: .unconditional, help: "Classifier-free guidance scale (0 = off).")
    var cfgScale = 0.0

    @Option(name: .long, help: "Confidence that decides which predictions are committed first: low-confidence, margin, entropy or random.")
    var remasking = "low-confidence"

    @Option(name: .long, help: "Unmask schedule within a block: linear (reference), cosine or exp.")
    var schedule = "linear"

    @Option(name: .long, parsing: .unconditional, help: "With --temperature > 0: sample only among the K most likely tokens.")
    var topK: Int?

    @Option(name: .long, parsing: .unconditional, help: "With --temperature > 0: sample only among the most likely tokens holding this probability mass.")
    var topP: Double?

    @Option(name: .long, parsing: .unconditional, help: "Choose the positions to commit by Gumbel-top-k over the confidences at this temperature (0 = plain top-k).")
    var positionTemperature = 0.0

    @Flag(name: .long, help: "Take back committed tokens of the current block whose probability fell below --remask-threshold.")
    var remaskCommitted = false

    @Option(name: .long, parsing: .unconditional, help: "With --remask-committed: probability below which a committed token is masked again.")
    var remaskThreshold = 0.3

    @Option(name: .long, parsing: .unconditional, help: "With --remask-committed: at most this many tokens taken back per step.")
    var remaskMax = 1

    @Option(name: .long, parsing: .unconditional, help: "With --remask-committed: at most this many tokens taken back per block (keeps generation finite).")
    var remaskBudget = 4

    @Option(name: .long, parsing: .unconditional, help: "Seed for temperature sampling and random remasking.")
    var seed: UInt64 = 0

    @Flag(name: .long, help: "Never predict EOS (generate.py's logits_eos_inf).")
    var logitsEosInf = false

    @Flag(name: .long, help: "Give end-of-turn predictions no confidence (generate.py's confidence_eos_eot_inf).")
    var confidenceEosEotInf = false

    @Option(name: .long, help: "Key/value cache between the steps of a block. Dense LLaDA: none (the exact reference; default for checkpoint directories and with --cfg-scale), prefix, or dual (default for packed files). LLaDA 2: block (exact, the default) or none.")
    var cache: String?

    @Option(name: .long, help: "With --cache dual: which block starts recompute the cache: every-block (Fast-dLLM, default), keep-prompt (a full pass at the first block only, later blocks rerun the generated part), or every-K-blocks (a full pass every K blocks).")
    var refresh = "every-block"

    @Option(name: .long, parsing: .unconditional, help: "Parallel decoding: commit every masked position of the block with confidence ≥ this (0 < τ ≤ 1; LLaDA 2: > this, default 0.95).")
    var threshold: Double?

    @Flag(name: .long, help: "Run every block even after the answer has ended (early stop is on for chat prompts, and always for LLaDA 2).")
    var noEarlyStop = false

    @Option(name: .long, help: "Element type of cached keys/values: f16 or f32.")
    var kvType = "f16"

    /// The flags as settings, decoded the one way every frontend decodes them
    /// (`GenerationSettings.decode`); what no flag sets (the cache, early stop) is left to the
    /// engine's plan.
    func settings() throws -> GenerationSettings {
        var fields: [(name: String, value: Any)] = [
            ("temperature", temperature), ("cfg_scale", cfgScale), ("remasking", remasking), ("schedule", schedule),
            ("position_temperature", positionTemperature), ("seed", seed), ("logits_eos_inf", logitsEosInf),
            ("confidence_eos_eot_inf", confidenceEosEotInf), ("refresh", refresh), ("kv_type", kvType),
            ("remask_committed", remaskCommitted), ("remask_threshold", remaskThreshold), ("remask_max", remaskMax),
            ("remask_budget", remaskBudget),
        ]
        let optional: [(String, Any?)] = [("gen_length", genLength), ("steps", steps), ("steps_per_block", stepsPerBlock),
                                          ("block_length", blockLength),
                                          ("top_k", topK), ("top_p", topP), ("cache", cache), ("threshold", threshold)]
        for case let (name, value?) in optional { fields.append((name, value)) }
        if noEarlyStop { fields.append(("early_stop", false)) }
        return try GenerationSettings.decode(fields: fields)
    }
}
