import Foundation

/// The outcome of one generation.
public struct GenerationResult: Sendable {
    public var promptIDs: [Int]
    /// All gen_length generated ids, padding included.
    public var outputIDs: [Int]
    /// Per generated position, the index of the model call whose prediction was committed there
    /// (−1 for positions filled by early stop).
    public var decodedAtStep: [Int]
    /// Forward passes run (a CFG step counts once although it runs two sequences).
    public var modelCalls: Int
    /// Steps not run because early stop filled the rest of the canvas with padding.
    public var stepsSaved = 0
    /// Bytes of the key/value cache (0 without one) and per canvas position.
    public var cacheBytes = 0
    public var cacheBytesPerToken = 0
}

/// LLaDA's reverse process: start from prompt + gen_length masks; go through the blocks left to
/// right; at each step predict the masked positions up to the end of the current block and
/// commit the most confident predictions.
///
/// Two loops, chosen by the settings:
/// - the reference (ML-GSAI/LLaDA `generate.py`, no cache, no threshold): exactly
///   steps/blocks steps per block, `TransferSchedule.linear` commits per step, f32 softmax
///   confidence;
/// - Fast-dLLM's (`generate`, `generate_with_prefix_cache`, `generate_with_dual_cache`): the
///   first step of a block is a full pass (which fills the cache), later steps run only the rows
///   the cache mode leaves and consider only the block's masks; a block runs until it has no
///   masks; commits per step from the schedule or the threshold; f64 softmax confidence.
///
/// Tie-break rule: among equal confidences the positions torch.topk would keep are committed
/// (`ReferenceTopK`, run over the whole canvas with −inf outside the candidates), so the order of
/// commits, not only the final tokens, follows the reference. Masks inside the prompt are
/// eligible at every full-pass step, as in the reference.
public struct Sampler {
    public let settings: GenerationSettings
    public let maskID: Int
    /// `<|endoftext|>`: padding, the EOS options and early stop.
    public let eosID: Int?
    /// `<|eot_id|>`: the EOS options and early stop.
    public let eotID: Int?

    public init(settings: GenerationSettings, maskID: Int, eosID: Int? = nil, eotID: Int? = nil) {
        self.settings = settings
        self.maskID = maskID
        self.eosID = eosID
        self.eotID = eotID
    }

    public func generate(prompt: [Int], model: MaskPredictor) -> GenerationResult {
        var state = CanvasState(prompt: prompt, genLength: settings.genLength, maskID: maskID)
        var random = SamplerRandom(seed: settings.seed)
        let cache = settings.cache == .none ? nil : model.makeCache(capacity: state.x.count, storage: settings.kvStorage)
        var result = GenerationResult(promptIDs: prompt, outputIDs: [], decodedAtStep: [], modelCalls: 0,
                                      cacheBytes: cache?.totalBytes ?? 0, cacheBytesPerToken: cache?.bytesPerToken ?? 0)

        for block in 0..<settings.blockCount {
            let blockStart = prompt.count + block * settings.blockLength
            let blockRange = blockStart..<(blockStart + settings.blockLength)
            let counts = TransferSchedule.linear(masks: state.masks(in: blockRange), steps: settings.stepsPerBlock)
            if settings.isReferenceLoop {
                for count in counts {
                    step(&state, block: blockRange, fullPass: true, count: count, cache: nil, model: model, random: &random)
                }
            } else {
                var stepInBlock = 0
                while stepInBlock == 0 || state.masks(in: blockRange) > 0 {
                    // Fast-dLLM indexes the schedule by step. When prompt masks took some of the
                    // commits, the schedule can run out (or reach a 0) with block masks left, where
                    // Fast-dLLM would fail or loop forever; one token per step finishes the block.
                    let count = max(1, stepInBlock < counts.count ? counts[stepInBlock] : 1)
                    step(&state, block: blockRange, fullPass: stepInBlock == 0, count: count,
                         cache: cache, model: model, random: &random)
                    stepInBlock += 1
                }
            }
            if settings.earlyStop, block + 1 < settings.blockCount, endsInPadding(state, through: blockRange.upperBound),
               let eosID {
                let rest = blockRange.upperBound..<state.x.count
                for position in rest where state.x[position] == maskID { state.x[position] = eosID }
                let remainingBlocks = settings.blockCount - block - 1
                result.stepsSaved = remainingBlocks * settings.stepsPerBlock
                break
            }
        }
        result.outputIDs = Array(state.x[prompt.count...])
        result.decodedAtStep = Array(state.decodedAt[prompt.count...])
        result.modelCalls = state.calls
        return result
    }

    /// The canvas and its bookkeeping.
    struct CanvasState {
        var x: [Int]
        let isPrompt: [Bool]
        let promptLength: Int
        let maskID: Int
        var decodedAt: [Int]
        var calls = 0

        init(prompt: [Int], genLength: Int, maskID: Int) {
            x = prompt + Array(repeating: maskID, count: genLength)
            isPrompt = x.map { $0 != maskID }
            promptLength = prompt.count
            self.maskID = maskID
            decodedAt = Array(repeating: -1, count: x.count)
        }

        func masks(in range: Range<Int>) -> Int { x[range].lazy.filter { $0 == maskID }.count }
    }

    /// One denoising step; returns whether it committed anything.
    @discardableResult
    func step(_ state: inout CanvasState, block: Range<Int>, fullPass: Bool, count: Int, cache: KVCache?,
              model: MaskPredictor, random: inout SamplerRandom) -> Bool {
        // A full pass may commit any mask up to the block's end (prompt masks included); a cached
        // pass only the block's own masks. Positions after the block are never candidates.
        let searchRange = fullPass ? 0..<block.upperBound : block
        let candidates = searchRange.filter { state.x[$0] == maskID }
        let wanted = settings.threshold == nil ? count : candidates.count
        guard wanted > 0, !candidates.isEmpty else { return false }

        let logits: FloatMatrix
        if fullPass {
            logits = guidedLogits(state, positions: candidates, cache: cache, model: model)
        } else if let cache {
            switch settings.cache {
            case .prefix:
                logits = model.logits(tokens: state.x, rows: block.lowerBound..<state.x.count, context: .prefix(cache), positions: candidates)
            case .dual, .none:
                logits = model.logits(tokens: state.x, rows: block, context: .dual(cache, canvasLength: state.x.count), positions: candidates)
            }
        } else {
            logits = model.logits(tokens: state.x, positions: candidates)
        }
        state.calls += 1
        let predictions = predict(logits, random: &random)
        let chosen = settings.threshold.map { Self.aboveThreshold(predictions.confidence, threshold: $0) }
            ?? referenceTopK(predictions.confidence, candidates: candidates, canvas: state.x.count, count: count)
        for row in chosen {
            state.x[candidates[row]] = predictions.tokens[row]
            state.decodedAt[candidates[row]] = state.calls - 1
        }
        return !chosen.isEmpty
    }

    /// Rows torch.topk keeps, run as the reference runs it: over the whole canvas.
    func referenceTopK(_ confidence: [Double], candidates: [Int], canvas: Int, count: Int) -> [Int] {
        var full = [Double](repeating: -.infinity, count: canvas)
        for (row, position) in candidates.enumerated() { full[position] = confidence[row] }
        let chosen = Set(ReferenceTopK.select(full, k: min(count, candidates.count)))
        return candidates.indices.filter { chosen.contains(candidates[$0]) }
    }

    /// Fast-dLLM's parallel decoding: every row at or above the threshold, and always the most
    /// confident one (the first on ties).
    public static func aboveThreshold(_ confidence: [Double], threshold: Double) -> [Int] {
        guard let best = confidence.indices.max(by: { confidence[$0] < confidence[$1] || (confidence[$0] == confidence[$1] && $0 > $1) }) else { return [] }
        return confidence.indices.filter { $0 == best || confidence[$0] >= threshold }
    }

    /// Conditional logits of a full pass (filling the cache when there is one), or with
    /// classifier-free guidance `un + (s + 1)(cond − un)` where the unconditional canvas has every
    /// prompt position replaced by the mask id.
    func guidedLogits(_ state: CanvasState, positions: [Int], cache: KVCache?, model: MaskPredictor) -> FloatMatrix {
        let conditional = cache.map {
            model.logits(tokens: state.x, rows: 0..<state.x.count, context: .full(fill: $0), positions: positions)
        } ?? model.logits(tokens: state.x, positions: positions)
        guard settings.cfgScale > 0 else { return conditional }
        let unconditionalInput = zip(state.x, state.isPrompt).map { $1 ? maskID : $0 }
        let unconditional = model.logits(tokens: unconditionalInput, positions: positions)
        let scale = Float(settings.cfgScale + 1)
        for i in 0..<(conditional.rows * conditional.cols) {
            let un = unconditional.pointer[i]
            conditional.pointer[i] = un + scale * (conditional.pointer[i] - un)
        }
        return conditional
    }

    /// The token predicted at each row and its confidence (as f64; the reference loop's f32
    /// values are exact in f64).
    func predict(_ logits: FloatMatrix, random: inout SamplerRandom) -> (tokens: [Int], confidence: [Double]) {
        var tokens: [Int] = []
        var confidence: [Double] = []
        for r in 0..<logits.rows {
            let row = UnsafeMutableBufferPointer(start: logits.row(r), count: logits.cols)
            if settings.logitsEOSInf, let eos = eosID, eos < row.count { row[eos] = -.infinity }
            let token = settings.temperature > 0
                ? TokenChoice.gumbelArgmax(UnsafeBufferPointer(row), temperature: settings.temperature, random: &random)
                : TokenChoice.argmax(UnsafeBufferPointer(row))
            if settings.confidenceEOSEOTInf, let eot = eotID, eot < row.count { row[eot] = -.infinity }
            tokens.append(token)
            switch settings.remasking {
            case .lowConfidence:
                confidence.append(settings.isReferenceLoop
                    ? Double(TokenChoice.probability(of: token, in: UnsafeBufferPointer(row)))
                    : TokenChoice.probability64(of: token, in: UnsafeBufferPointer(row)))
            case .random:
                confidence.append(random.nextUnitOpen())
            }
        }
        return (tokens, confidence)
    }

    /// True when the generated text up to `end` holds an end token and nothing but end tokens
    /// after the first one: the answer is over and the rest would be padding.
    func endsInPadding(_ state: CanvasState, through end: Int) -> Bool {
        let ends = Set([eosID, eotID].compactMap { $0 })
        let generated = state.x[state.promptLength..<end]
        guard let first = generated.firstIndex(where: { ends.contains($0) }) else { return false }
        return generated[first...].allSatisfy { ends.contains($0) }
    }
}
