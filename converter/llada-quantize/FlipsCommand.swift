import ArgumentParser
import Foundation
import LLaDAConvert
import LLaDAEngine

/// Which dev-task answers a variant changes against the f32 path, and why (docs/quantization.md,
/// "Why q8 is not always equal to f32"). For every task and reference setting whose answer's
/// correctness differs, it finds the first step whose commits differ and prints, from both
/// models' predictions on the canvas they still shared, whether a token or the choice of
/// positions changed and by how much f32 preferred its own choice.
struct FlipsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flips",
        abstract: "Dev-task answers a variant flips against the f32 path, with the first divergent step of each.",
        shouldDisplay: false)

    @Argument(help: "Checkpoint directory (the f32 reference and the tokenizer).")
    var source: String

    @Option(name: .long, help: "JSONL task file (id, task, prompt, answer).")
    var tasks: String

    @Option(name: .long, parsing: .upToNextOption,
            help: "Variants: a packed file, act8 (f32 weights, activations rounded as the kernels do), noise:SEED[:FACTOR] (f32 weights plus uniform noise of FACTOR × the q8_0 rounding step).")
    var variants: [String]

    @Option(name: .long, help: "How packed q8/q4 matrices multiply: kernels (int8 activations, the product path) or dequant (f32 activations, the baseline).")
    var linears = LinearBackend.kernels

    @Option(name: .long, help: "OpenBLAS threads.")
    var threads = 1

    @Option(name: .long, help: "Only the first N tasks.")
    var limit: Int?

    @Flag(name: .long, help: "Only the accuracy table, no divergence analysis.")
    var scoresOnly = false

    /// The five reference settings of the accuracy table of docs/quantization.md: gen, steps, block, cfg.
    static let settings: [(Int, Int, Int, Double)] = [(32, 32, 32, 0), (32, 16, 8, 0), (32, 32, 16, 0), (32, 12, 8, 0), (32, 32, 32, 1)]

    struct Run {
        let output: [Int]
        /// The generated part after every step.
        let trajectory: [[Int]]
        let blocks: [Int]
        let correct: Bool
    }

    func run() throws {
        let parsed = try variants.map(Variant.init)
        if let limit, limit < 1 { throw LLaDAError("--limit must be at least 1 (got \(limit))") }
        var items = try FlipTasks.read(tasks)
        if let limit { items = Array(items.prefix(limit)) }
        let reference = try LLaDAModel.load(path: source, compute: ComputeContext(threads: threads))
        let prompts = try items.map { try reference.promptIDs(for: $0.prompt, raw: false) }
        let referenceRuns = try runAll(reference, items: items, prompts: prompts)
        print("f32 path: " + scoreLine(referenceRuns))
        for (spec, variant) in zip(variants, parsed) {
            let model = try load(variant)
            let runs = try runAll(model, items: items, prompts: prompts)
            print("\n\(spec): " + scoreLine(runs))
            for (s, setting) in Self.settings.enumerated() {
                let changed = zip(runs[s], referenceRuns[s]).filter { $0.output != $1.output }.count
                print("  \(label(setting)): \(changed)/\(items.count) outputs differ from f32")
                guard !scoresOnly else { continue }
                for (t, item) in items.enumerated() where runs[s][t].correct != referenceRuns[s][t].correct {
                    let note = try explain(prompt: prompts[t], settings: makeSettings(setting), reference: (reference, referenceRuns[s][t]),
                                       variant: (model, runs[s][t]))
                    print("    \(item.id) f32 \(referenceRuns[s][t].correct ? "right" : "wrong") → \(runs[s][t].correct ? "right" : "wrong"): \(note)")
                }
            }
        }
    }

    private func label(_ s: (Int, Int, Int, Double)) -> String {
        "gen \(s.0) steps \(s.1) block \(s.2)" + (s.3 > 0 ? " cfg \(Int(s.3))" : "")
    }

    private func scoreLine(_ runs: [[Run]]) -> String {
        runs.map { "\($0.filter(\.correct).count)" }.joined(separator: " / ") + " correct of \(runs[0].count)"
    }

    private func makeSettings(_ s: (Int, Int, Int, Double)) -> GenerationSettings {
        var settings = GenerationSettings()
        (settings.genLength, settings.steps, settings.blockLength, settings.cfgScale) = s
        settings.cache = .none
        return settings
    }

    private func runAll(_ model: LLaDAModel, items: [FlipTasks.Item], prompts: [[Int]]) throws -> [[Run]] {
        try Self.settings.map { setting in
            try zip(items, prompts).map { item, prompt in
                var trajectory: [[Int]] = [], blocks: [Int] = []
                let plan = try model.plan(GenerationRequest(prompt: .ids(prompt), settings: makeSettings(setting)))
                let result = try model.run(plan) { event in
                    if case .step(let step) = event { trajectory.append(step.generated); blocks.append(step.block) }
                }
                let text = try model.tokenizer.decode(result.outputIDs, skipSpecialTokens: true)
                return Run(output: result.outputIDs, trajectory: trajectory, blocks: blocks,
                           correct: text.trimmingCharacters(in: .whitespacesAndNewlines) == item.answer)
            }
        }
    }

    enum Variant {
        case packed(String)
        case activationRounding
        case noise(seed: UInt64, factor: Float)

        init(_ spec: String) throws {
            if spec == "act8" { self = .activationRounding; return }
            guard spec.hasPrefix("noise:") else {
                guard PackedModel.isPackedFile(atPath: spec) else {
                    throw LLaDAError("--variants \(spec): not a packed model file, act8 or noise:SEED[:FACTOR]")
                }
                self = .packed(spec)
                return
            }
            let parts = spec.split(separator: ":", omittingEmptySubsequences: false)
            guard (2...3).contains(parts.count), let seed = UInt64(parts[1]), let factor = parts.count == 3 ? Float(parts[2]) : 1,
                  factor >= 0, factor.isFinite else {
                throw LLaDAError("--variants \(spec): expected noise:SEED or noise:SEED:FACTOR (SEED an integer ≥ 0, FACTOR ≥ 0)")
            }
            self = .noise(seed: seed, factor: factor)
        }
    }

    private func load(_ variant: Variant) throws -> LLaDAModel {
        switch variant {
        case .packed(let path): try LLaDAModel.load(path: path, compute: ComputeContext(threads: threads), backend: linears)
        case .activationRounding: try WeightPerturbation.activationRounding(source: source)
        case .noise(let seed, let factor): try WeightPerturbation.q8SizedNoise(source: source, seed: seed, factor: factor)
        }
    }

    /// The first step whose commits differ, analysed on the canvas both runs still shared.
    private func explain(prompt: [Int], settings: GenerationSettings, reference: (LLaDAModel, Run), variant: (LLaDAModel, Run)) throws -> String {
        let (f32, a) = reference, (other, b) = variant
        guard let step = a.trajectory.indices.first(where: { $0 >= b.trajectory.count || a.trajectory[$0] != b.trajectory[$0] }) else { return "no divergent step" }
        let maskID = f32.maskID
        let before = step == 0 ? [Int](repeating: maskID, count: settings.genLength) : a.trajectory[step - 1]
        let canvas = prompt + before
        let blockEnd = prompt.count + (a.blocks[step] + 1) * settings.blockLength
        let candidates = (0..<blockEnd).filter { canvas[$0] == maskID }
        let p = try predictions(f32, canvas: canvas, prompt: prompt.count, candidates: candidates, cfg: settings.cfgScale)
        let q = try predictions(other, canvas: canvas, prompt: prompt.count, candidates: candidates, cfg: settings.cfgScale)
        let committedA = Set(candidates.indices.filter { a.trajectory[step][candidates[$0] - prompt.count] != maskID })
        let committedB = Set(candidates.indices.filter { b.trajectory[step][candidates[$0] - prompt.count] != maskID })
        var notes = ["step \(step + 1) of \(a.trajectory.count), \(committedA.count) commit(s) among \(candidates.count) masks"]
        for row in committedA.intersection(committedB).sorted() where p[row].token != q[row].token {
            notes.append(String(format: "token at %d: f32 %d (p %.4f, logit gap to 2nd %.4f) vs %d", candidates[row] - prompt.count,
                                p[row].token, p[row].confidence, p[row].gap, q[row].token))
        }
        if committedA != committedB {
            let order = candidates.indices.sorted { p[$0].confidence > p[$1].confidence }
            let k = committedA.count
            let onlyA = committedA.subtracting(committedB).sorted(), onlyB = committedB.subtracting(committedA).sorted()
            func describe(_ rows: [Int]) -> String {
                rows.map { String(format: "%d (f32 %.9f, variant %.9f)", candidates[$0] - prompt.count, p[$0].confidence, q[$0].confidence) }
                    .joined(separator: ", ")
            }
            let boundary = k < order.count
                ? String(format: "; f32 confidences at the cut: #%d %.9f, #%d %.9f (log ratio %.2e, %d f32 ulps)", k,
                         p[order[k - 1]].confidence, k + 1, p[order[k]].confidence,
                         log(p[order[k - 1]].confidence / p[order[k]].confidence),
                         Float(p[order[k - 1]].confidence).bitPattern - Float(p[order[k]].confidence).bitPattern)
                : ""
            notes.append("positions: f32 commits \(describe(onlyA)), variant commits \(describe(onlyB))" + boundary)
        }
        let deltas = candidates.indices.map { abs(p[$0].confidence - q[$0].confidence) }
        notes.append(String(format: "max |Δ confidence| over the masks %.2e", deltas.max() ?? 0))
        return notes.joined(separator: "; ")
    }

    struct Prediction {
        let token: Int
        let confidence: Double
        /// Logit of the chosen token minus the runner-up's.
        let gap: Float
    }

    /// The reference sampler's token and confidence per candidate (CFG as `Sampler.guidedLogits`).
    private func predictions(_ model: LLaDAModel, canvas: [Int], prompt: Int, candidates: [Int], cfg: Double) throws -> [Prediction] {
        let transformer = try model.denseTransformer()
        let logits = transformer.logits(tokens: canvas, outputPositions: candidates)
        if cfg > 0 {
            let unconditional = transformer.logits(tokens: canvas.enumerated().map { $0.offset < prompt ? model.maskID : $0.element },
                                                         outputPositions: candidates)
            for i in 0..<(logits.rows * logits.cols) {
                let un = unconditional.pointer[i]
                logits.pointer[i] = un + Float(cfg + 1) * (logits.pointer[i] - un)
            }
        }
        let limit = min(model.tokenizer.vocabularySize, logits.cols)
        return candidates.indices.map { row in
            let values = UnsafeBufferPointer(start: logits.row(row), count: logits.cols)
            let allowed = (0..<limit).filter { $0 != model.maskID }.sorted { values[$0] != values[$1] ? values[$0] > values[$1] : $0 < $1 }
            let token = allowed[0]
            return Prediction(token: token, confidence: Double(TokenChoice.probability(of: token, in: values)),
                              gap: values[token] - values[allowed[1]])
        }
    }
}

enum FlipTasks {
    struct Item: Decodable {
        let id: String
        let prompt: String
        let answer: String
    }

    static func read(_ path: String) throws -> [Item] {
        guard let data = FileManager.default.contents(atPath: path) else { throw LLaDAError("cannot read task file \(path)") }
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated().compactMap { number, line in
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
            do { return try JSONDecoder().decode(Item.self, from: Data(line.utf8)) } catch {
                throw LLaDAError("\(path):\(number + 1): not a task object with id, prompt and answer")
            }
        }
    }
}

extension LinearBackend: ExpressibleByArgument {}
