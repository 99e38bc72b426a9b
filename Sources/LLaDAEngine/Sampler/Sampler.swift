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
    /// Steps not run because early stop filled the rest of the canvas with padding (0 with a
    /// threshold, whose step counts are not fixed; see `blocksSkipped`).
    public var stepsSaved = 0
    /// Blocks early stop filled with padding instead of running.
    public var blocksSkipped = 0
    /// Committed tokens taken back by `remaskCommitted`.
    public var remasked = 0
    /// Wall time of every step (model call and token choice), in order.
    public var stepSeconds: [Double] = []
    /// Bytes of the key/value cache (0 without one) and per canvas position.
    public var cacheBytes = 0
    public var cacheBytesPerToken = 0
    /// True when an observer or the stop flag ended the run before the canvas was complete.
    public var stopped = false
}

/// LLaDA's reverse process: start from prompt + gen_length masks; go through the blocks left to
/// right; at each step predict the masked positions up to the end of the current block and
/// commit the most confident predictions.
///
/// Two loops, chosen by the settings:
/// - the reference (ML-GSAI/LLaDA `generate.py`, no cache, no threshold): exactly
///   steps/blocks steps per block, the schedule's count per step, f32 softmax confidence;
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
    /// Ids at or above this (logit rows past the tokenizer's vocabulary) are never predicted.
    public let tokenLimit: Int?

    /// Besides the rows past `tokenLimit`, the mask id is never predicted: a predicted mask would
    /// leave its position masked, and a loop that runs until the block has no masks would never
    /// end. The reference allows both; neither happens in its golden outputs (tests).
    public init(settings: GenerationSettings, maskID: Int, eosID: Int? = nil, eotID: Int? = nil, tokenLimit: Int? = nil) {
        self.settings = settings
        self.maskID = maskID
        self.eosID = eosID
        self.eotID = eotID
        self.tokenLimit = tokenLimit
    }

    public func generate(prompt: [Int], model: MaskPredictor, observer: SamplerObserver? = nil, stop: StopFlag? = nil) -> GenerationResult {
        generate(prompt: prompt, canvas: Array(repeating: maskID, count: settings.genLength), model: model, observer: observer, stop: stop)
    }

    /// Generation from a given start of the generated part: `canvas` holds gen_length ids, the mask
    /// id where a token is to be filled (infilling). All masks is the reference; fixed ids are
    /// treated like the prompt (context, and masked in the unconditional input of guidance), and a
    /// block's schedule counts only its own masks.
    ///
    /// Setting `stop` ends the run within the current step: a pass cut short commits nothing,
    /// and the result has `stopped` set with the uncommitted positions still masked.
    public func generate(prompt: [Int], canvas: [Int], model: MaskPredictor, observer: SamplerObserver? = nil,
                         stop: StopFlag? = nil) -> GenerationResult {
        precondition(canvas.count == settings.genLength, "the canvas must hold gen_length ids")
        var state = CanvasState(prompt: prompt, canvas: canvas, maskID: maskID, seed: settings.seed, stop: stop)
        let cache = settings.cache == .none ? nil : model.makeCache(capacity: state.x.count, storage: settings.kvStorage)
        var result = GenerationResult(promptIDs: prompt, outputIDs: [], decodedAtStep: [], modelCalls: 0,
                                      cacheBytes: cache?.totalBytes ?? 0, cacheBytesPerToken: cache?.bytesPerToken ?? 0)

        blocks: for block in 0..<settings.blockCount {
            let blockStart = prompt.count + block * settings.blockLength
            let blockRange = blockStart..<(blockStart + settings.blockLength)
            let counts = settings.schedule.counts(masks: state.masks(in: blockRange), steps: settings.stepsPerBlock)
            state.remaskBudget = settings.remaskCommitted?.budgetPerBlock ?? 0
            if settings.isReferenceLoop {
                for (index, count) in counts.enumerated() {
                    let last = index == counts.count - 1
                    // Tokens taken back earlier are owed on top of the schedule; with remasking the
                    // last step commits every candidate left, so the block always ends complete.
                    let wanted = last && settings.remaskCommitted != nil ? state.x.count : count + state.owed
                    step(&state, block: blockRange, fullPass: true, count: wanted, lastStep: last, cache: nil, model: model)
                    // A step that ran to its end is reported even when the flag was set meanwhile,
                    // so the events seen always match the model calls counted.
                    let control = report(&state, block: block, observer)
                    if stop.isStopped { result.stopped = state.masks(in: prompt.count..<state.x.count) > 0; break blocks }
                    if control == .stop {
                        result.stopped = !last || block + 1 < settings.blockCount
                        break blocks
                    }
                }
            } else {
                var stepInBlock = 0
                while stepInBlock == 0 || state.masks(in: blockRange) > 0 {
                    // Fast-dLLM indexes the schedule by step. When prompt masks took some of the
                    // commits, the schedule can run out (or reach a 0) with block masks left, where
                    // Fast-dLLM would fail or loop forever; one token per step finishes the block.
                    let count = max(1, (stepInBlock < counts.count ? counts[stepInBlock] : 1) + state.owed)
                    // A block start is a full pass unless the dual cache's refresh policy runs fewer rows.
                    let startRows = stepInBlock == 0 && settings.cache == .dual
                        ? settings.refresh.startRows(block: block, range: blockRange, promptLength: prompt.count, canvasLength: state.x.count)
                        : nil
                    step(&state, block: blockRange, fullPass: stepInBlock == 0 && startRows == nil, rows: startRows, count: count,
                         lastStep: false, cache: cache, model: model)
                    stepInBlock += 1
                    let control = report(&state, block: block, observer)
                    if stop.isStopped { result.stopped = state.masks(in: prompt.count..<state.x.count) > 0; break blocks }
                    if control == .stop {
                        // A stop on the run's very last step stopped nothing.
                        result.stopped = state.masks(in: blockRange) > 0 || block + 1 < settings.blockCount
                        break blocks
                    }
                }
            }
            var ended = false
            if settings.earlyStop, block + 1 < settings.blockCount, endsInPadding(state, through: blockRange.upperBound),
               let eosID {
                for position in blockRange.upperBound..<state.x.count where state.x[position] == maskID { state.x[position] = eosID }
                // Exact for the fixed-step loops; with a threshold a block's step count is not
                // known in advance, so the blocks skipped are reported instead.
                result.blocksSkipped = settings.blockCount - block - 1
                if settings.threshold == nil { result.stepsSaved = result.blocksSkipped * settings.stepsPerBlock }
                ended = true
            }
            if let observer {
                let range = (blockRange.lowerBound - prompt.count)..<(blockRange.upperBound - prompt.count)
                let event = SamplerBlockEvent(block: block, range: range, ids: Array(state.x[blockRange]), endsGeneration: ended)
                if observer(.blockDone(event)) == .stop, !ended, block + 1 < settings.blockCount { result.stopped = true; break }
            }
            if ended { break }
        }
        result.outputIDs = Array(state.x[prompt.count...])
        result.decodedAtStep = Array(state.decodedAt[prompt.count...])
        result.modelCalls = state.calls
        result.remasked = state.remasked
        result.stepSeconds = state.stepSeconds
        return result
    }

    /// Tells the observer about the step just run.
    func report(_ state: inout CanvasState, block: Int, _ observer: SamplerObserver?) -> SamplerControl {
        guard let observer, state.calls > state.reportedCalls else { return .proceed }
        state.reportedCalls = state.calls
        let offset = state.promptLength
        let generated = Array(state.x[offset...])
        let event = SamplerStepEvent(call: state.calls, block: block,
                                     committed: state.lastCommitted.map { $0 - offset }.filter { $0 >= 0 },
                                     remasked: state.lastRemasked.map { $0 - offset },
                                     generated: generated, masksLeft: generated.lazy.filter { $0 == maskID }.count,
                                     seconds: state.stepSeconds.last ?? 0)
        return observer(.step(event))
    }

    /// The canvas and its bookkeeping.
    struct CanvasState {
        var x: [Int]
        let isPrompt: [Bool]
        let promptLength: Int
        let maskID: Int
        var decodedAt: [Int]
        var calls = 0
        var random: SamplerRandom
        /// Commits owed to the schedule for tokens taken back at the previous step.
        var owed = 0
        var remaskBudget = 0
        var remasked = 0
        var stepSeconds: [Double] = []
        /// What the last step changed, for the observer.
        var lastCommitted: [Int] = []
        var lastRemasked: [Int] = []
        var reportedCalls = 0
        let stop: StopFlag?

        init(prompt: [Int], canvas: [Int], maskID: Int, seed: UInt64, stop: StopFlag?) {
            self.stop = stop
            x = prompt + canvas
            isPrompt = x.map { $0 != maskID }
            promptLength = prompt.count
            self.maskID = maskID
            decodedAt = Array(repeating: -1, count: x.count)
            random = SamplerRandom(seed: seed)
        }

        func masks(in range: Range<Int>) -> Int { x[range].lazy.filter { $0 == maskID }.count }
    }

    /// One denoising step: predict, commit, and optionally take back weak committed tokens.
    /// `rows`: the canvas rows a dual-cached pass runs (the block when nil).
    func step(_ state: inout CanvasState, block: Range<Int>, fullPass: Bool, rows: Range<Int>? = nil, count: Int, lastStep: Bool,
              cache: KVCache?, model: MaskPredictor) {
        // A full pass may commit any mask up to the block's end (prompt masks included); a cached
        // pass only the block's own masks. Positions after the block are never candidates.
        let searchRange = fullPass ? 0..<block.upperBound : block
        let candidates = searchRange.filter { state.x[$0] == maskID }
        let wanted = settings.threshold == nil ? count : candidates.count
        state.lastCommitted = []
        state.lastRemasked = []
        guard wanted > 0, !candidates.isEmpty else { return }
        let started = DispatchTime.now().uptimeNanoseconds
        var cut = false
        defer { if !cut { state.stepSeconds.append(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9) } }
        let reviewing = settings.remaskCommitted != nil && !lastStep && state.remaskBudget > 0
            ? block.filter { state.x[$0] != maskID } : []

        let logits = forward(state, positions: candidates + reviewing, fullPass: fullPass, rows: rows, block: block, cache: cache,
                             model: model)
        // A pass cut short by the stop flag is not a prediction.
        if state.stop.isStopped { cut = true; return }
        state.calls += 1
        let predictions = predict(logits, rows: candidates.count, random: &state.random)
        let chosen: [Int]
        if let threshold = settings.threshold {
            chosen = Self.aboveThreshold(predictions.confidence, threshold: threshold)
        } else if settings.positionTemperature > 0 {
            chosen = Self.gumbelTopK(predictions.confidence, count: count, temperature: settings.positionTemperature,
                                     random: &state.random)
        } else {
            chosen = referenceTopK(predictions.confidence, candidates: candidates, canvas: state.x.count, count: count)
        }
        for row in chosen {
            state.x[candidates[row]] = predictions.tokens[row]
            state.decodedAt[candidates[row]] = state.calls - 1
        }
        state.lastCommitted = chosen.map { candidates[$0] }
        state.owed = 0
        if !reviewing.isEmpty, let policy = settings.remaskCommitted {
            let taken = weakCommitted(logits, reviewing: reviewing, firstRow: candidates.count, state: state, policy: policy)
            for position in taken {
                state.x[position] = maskID
                state.decodedAt[position] = -1
            }
            state.lastRemasked = taken
            state.owed += taken.count
            state.remaskBudget -= taken.count
            state.remasked += taken.count
        }
    }

    /// Logits at `positions` from the pass the step calls for.
    func forward(_ state: CanvasState, positions: [Int], fullPass: Bool, rows: Range<Int>?, block: Range<Int>, cache: KVCache?,
                 model: MaskPredictor) -> FloatMatrix {
        if fullPass { return guidedLogits(state, positions: positions, cache: cache, model: model) }
        guard let cache else { return guidedLogits(state, positions: positions, cache: nil, model: model) }
        switch settings.cache {
        case .prefix:
            return model.logits(tokens: state.x, rows: block.lowerBound..<state.x.count, context: .prefix(cache), positions: positions, stop: state.stop)
        case .dual, .none:
            return model.logits(tokens: state.x, rows: rows ?? block, context: .dual(cache, canvasLength: state.x.count),
                                positions: positions, stop: state.stop)
        }
    }

    /// Committed positions whose token's probability under the current prediction is below the
    /// policy's threshold, lowest first, within the per-step and per-block limits.
    func weakCommitted(_ logits: FloatMatrix, reviewing: [Int], firstRow: Int, state: CanvasState,
                       policy: CommittedRemasking) -> [Int] {
        var weak: [(position: Int, probability: Double)] = []
        for (offset, position) in reviewing.enumerated() {
            let row = UnsafeBufferPointer(start: logits.row(firstRow + offset), count: logits.cols)
            let probability = TokenChoice.probability64(of: state.x[position], in: row)
            if probability < policy.threshold { weak.append((position, probability)) }
        }
        weak.sort { $0.probability != $1.probability ? $0.probability < $1.probability : $0.position < $1.position }
        return weak.prefix(min(policy.perStep, state.remaskBudget)).map(\.position)
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

    /// Position temperature: the `count` rows with the largest confidence/τ + Gumbel noise, i.e.
    /// `count` draws without replacement from softmax(confidence/τ). τ → 0 is plain top-k.
    public static func gumbelTopK(_ confidence: [Double], count: Int, temperature: Double, random: inout SamplerRandom) -> [Int] {
        let keys = confidence.map { $0 / temperature - log(-log(random.nextUnitOpen())) }
        let order = keys.indices.sorted { keys[$0] != keys[$1] ? keys[$0] > keys[$1] : $0 < $1 }
        return Array(order.prefix(count)).sorted()
    }

    /// Conditional logits of a full pass (filling the cache when there is one), or with
    /// classifier-free guidance `un + (s + 1)(cond − un)` where the unconditional canvas has every
    /// prompt position replaced by the mask id.
    func guidedLogits(_ state: CanvasState, positions: [Int], cache: KVCache?, model: MaskPredictor) -> FloatMatrix {
        let conditional = cache.map {
            model.logits(tokens: state.x, rows: 0..<state.x.count, context: .full(fill: $0), positions: positions, stop: state.stop)
        } ?? model.logits(tokens: state.x, positions: positions, stop: state.stop)
        guard settings.cfgScale > 0 else { return conditional }
        let unconditionalInput = zip(state.x, state.isPrompt).map { $1 ? maskID : $0 }
        let unconditional = model.logits(tokens: unconditionalInput, positions: positions, stop: state.stop)
        let scale = Float(settings.cfgScale + 1)
        for i in 0..<(conditional.rows * conditional.cols) {
            let un = unconditional.pointer[i]
            conditional.pointer[i] = un + scale * (conditional.pointer[i] - un)
        }
        return conditional
    }

    /// The token predicted at each of the first `rows` rows and its confidence (as f64; the
    /// reference loop's f32 probabilities are exact in f64).
    func predict(_ logits: FloatMatrix, rows: Int, random: inout SamplerRandom) -> (tokens: [Int], confidence: [Double]) {
        var tokens: [Int] = []
        var confidence: [Double] = []
        var choices = [Float](repeating: 0, count: logits.cols)
        for r in 0..<rows {
            let row = UnsafeMutableBufferPointer(start: logits.row(r), count: logits.cols)
            if settings.logitsEOSInf, let eos = eosID, eos < row.count { row[eos] = -.infinity }
            // The token is chosen from a copy without the ids that must never be predicted; the
            // confidence comes from the row itself, as the reference computes it.
            let token: Int = choices.withUnsafeMutableBufferPointer { copy in
                _ = copy.update(fromContentsOf: row)
                if maskID < copy.count { copy[maskID] = -.infinity }
                if let tokenLimit { for id in min(tokenLimit, copy.count)..<copy.count { copy[id] = -.infinity } }
                guard settings.temperature > 0 else { return TokenChoice.argmax(UnsafeBufferPointer(copy)) }
                TokenChoice.filter(copy, topK: settings.topK, topP: settings.topP, temperature: settings.temperature)
                return TokenChoice.gumbelArgmax(UnsafeBufferPointer(copy), temperature: settings.temperature, random: &random)
            }
            if settings.confidenceEOSEOTInf, let eot = eotID, eot < row.count { row[eot] = -.infinity }
            tokens.append(token)
            let values = UnsafeBufferPointer(row)
            switch settings.remasking {
            case .lowConfidence:
                confidence.append(settings.usesReferenceConfidence
                    ? Double(TokenChoice.probability(of: token, in: values))
                    : TokenChoice.probability64(of: token, in: values))
            case .margin: confidence.append(TokenChoice.margin(values))
            case .entropy: confidence.append(TokenChoice.negativeEntropy(values))
            case .random: confidence.append(random.nextUnitOpen())
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
