import Foundation

/// The outcome of one generation, the one result type: what the sampler did (ids, calls, step
/// times, the cache) and, filled in by the engine, the answer (its text, tokens and end).
public struct GenerationResult: Sendable {
    public var promptIDs: [Int]
    /// All gen_length generated ids, padding included.
    public var outputIDs: [Int]
    /// Per generated position, the index of the model call whose prediction was committed there
    /// (−1 for positions filled by early stop).
    public var decodedAtStep: [Int]
    /// Generated positions the model committed (early stop's padding excluded): what tokens/s counts.
    public var producedTokens: Int { decodedAtStep.count { $0 >= 0 } }
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
    /// True when the stop flag ended the run before the canvas was complete, unless the run
    /// ended itself because its answer limit made the answer decided.
    public var stopped = false
    /// The answer: generated ids up to the first end token (and the answer limit), decoded without
    /// specials; after a stop, the text of the blocks finished before it.
    public var text = ""
    /// Answer tokens (before the end token, within the answer limit).
    public var answerTokens = 0
    /// Why the answer ended.
    public var answerEnd = AnswerEnd.open
    /// Wall time of the whole generation.
    public var seconds = 0.0
}

/// LLaDA's reverse process: start from prompt + gen_length masks; go through the blocks left to
/// right; at each step predict the masked positions up to the end of the current block and
/// commit the most confident predictions.
///
/// One loop for every mode; what differs is asked of strategies:
/// - `CachePasses`: which rows a step runs and through which cache context (none, prefix, dual
///   with its refresh policy, block: exact under block-causal attention);
/// - the family's `CommitRule`: which candidates a step commits;
/// - how long a block runs: the reference (ML-GSAI/LLaDA `generate.py`, no cache, no threshold)
///   runs exactly steps/blocks steps with the schedule's count each and f32 softmax confidence;
///   Fast-dLLM's loop (`generate`, `generate_with_prefix_cache`, `generate_with_dual_cache`)
///   runs a block until it has no masks, considers only the block's masks after its first step,
///   and uses f64 confidence.
///
/// Tie-break rule: among equal confidences the positions torch.topk would keep are committed
/// (`ReferenceTopK`, run over the whole canvas with −inf outside the candidates), so the order of
/// commits, not only the final tokens, follows the reference. Masks inside the prompt are
/// eligible at every full-pass step, as in the reference.
///
/// Stopping is the generation's `StopFlag` only: a pass cut short by it commits nothing, a step
/// that ran to its end is reported first (so every counted model call has its event), then the
/// loop ends with `stopped` set and the uncommitted positions still masked.
public struct Sampler {
    public let settings: GenerationSettings
    public let maskID: Int
    /// `<|endoftext|>`: padding, the EOS options and early stop.
    public let eosID: Int?
    /// `<|eot_id|>`: the EOS options and early stop.
    public let eotID: Int?
    /// Ids at or above this (logit rows past the tokenizer's vocabulary) are never predicted.
    public let tokenLimit: Int?
    public let family: any ModelFamily
    let rule: any CommitRule
    let steps: BlockSteps
    let prediction: PredictionRule

    /// Besides the rows past `tokenLimit`, the mask id is never predicted: a predicted mask would
    /// leave its position masked, and a loop that runs until the block has no masks would never
    /// end. The reference allows both; neither happens in its golden outputs (tests).
    public init(settings: GenerationSettings, maskID: Int, eosID: Int? = nil, eotID: Int? = nil, tokenLimit: Int? = nil,
                family: any ModelFamily = DenseLLaDAFamily()) {
        self.settings = settings
        self.maskID = maskID
        self.eosID = eosID
        self.eotID = eotID
        self.tokenLimit = tokenLimit
        self.family = family
        rule = family.commitRule(for: settings)
        steps = family.blockSteps(for: settings)
        prediction = family.prediction(for: settings)
    }

    public func generate(prompt: [Int], model: MaskPredictor, stop: StopFlag? = nil,
                         onEvent: ((GenerationEvent) -> Void)? = nil) -> GenerationResult {
        generate(prompt: prompt, canvas: Array(repeating: maskID, count: family.canvasLength(promptLength: prompt.count, settings: settings)),
                 model: model, stop: stop, onEvent: onEvent)
    }

    /// Generation from a given start of the generated part: `canvas` holds the family's canvas
    /// length of ids (gen_length for dense LLaDA; whole blocks for LLaDA 2), the mask
    /// id where a token is to be filled (infilling). All masks is the reference; fixed ids are
    /// treated like the prompt (context, and masked in the unconditional input of guidance), and a
    /// block's schedule counts only its own masks. `onEvent` hears `.step` after every model call
    /// and `.blockDone` (with no text: the engine adds it) when a block is final.
    public func generate(prompt: [Int], canvas: [Int], model: MaskPredictor, stop: StopFlag? = nil,
                         onEvent: ((GenerationEvent) -> Void)? = nil) -> GenerationResult {
        precondition(canvas.count == family.canvasLength(promptLength: prompt.count, settings: settings),
                     "the canvas must hold the family's canvas length of ids")
        var state = CanvasState(prompt: prompt, canvas: canvas, maskID: maskID, seed: settings.seed)
        var record = StepRecord()
        let passes = CachePasses(settings: settings, attention: family.attention, make: model.makeCache, capacity: state.x.count)
        var result = GenerationResult(promptIDs: prompt, outputIDs: [], decodedAtStep: [], modelCalls: 0,
                                      cacheBytes: passes.cache?.totalBytes ?? 0, cacheBytesPerToken: passes.cache?.bytesPerToken ?? 0)
        let blocks = family.blocks(promptLength: prompt.count, settings: settings)
        let fixedSteps = steps == .fixed

        for (index, block) in blocks.enumerated() {
            let scheduled = family.schedulesWholeBlocks ? settings.blockLength : state.masks(in: block)
            let counts = settings.schedule.counts(masks: scheduled, steps: settings.scheduleSteps)
            state.remaskBudget = settings.remaskCommitted?.budgetPerBlock ?? 0
            var step = 0
            while fixedSteps ? step < counts.count
                    : (step == 0 || state.masks(in: block) > 0) && (steps != .untilUnmaskedWithinSchedule || step < counts.count) {
                let count: Int, last: Bool
                if fixedSteps {
                    last = step == counts.count - 1
                    // Tokens taken back earlier are owed on top of the schedule; with remasking the
                    // last step commits every candidate left, so the block always ends complete.
                    count = last && settings.remaskCommitted != nil ? state.x.count : counts[step] + state.owed
                } else {
                    // Fast-dLLM indexes the schedule by step. When prompt masks took some of the
                    // commits, the schedule can run out (or reach a 0) with block masks left, where
                    // Fast-dLLM would fail or loop forever; one token per step finishes the block.
                    last = false
                    count = max(1, (step < counts.count ? counts[step] : 1) + state.owed)
                }
                let pass = passes.pass(block: block, index: index, previous: index > 0 ? blocks[index - 1] : nil, step: step,
                                       promptLength: prompt.count, length: state.x.count)
                // A full pass may commit any mask up to the block's end (prompt masks included); a
                // cached pass, and Fast-dLLM's later steps, only the block's own masks.
                let wide = pass.isFull && (fixedSteps || step == 0)
                self.step(&state, &record, pass: pass, candidatesIn: wide ? 0..<block.upperBound : block, block: block,
                          count: count, lastStep: last, model: model, stop: stop)
                step += 1
                if let event = record.event(block: index, canvas: state) { onEvent?(.step(event)) }
                if stop.isStopped {
                    result.stopped = state.generatedMasks > 0
                    return finish(result, state, record)
                }
                if family.endRule == .firstEndSettled, settings.earlyStop == true, endSettled(state, committed: record.committed, through: block.upperBound) {
                    break
                }
            }
            var ended = false
            if family.endRule == .firstEndSettled, let eosID, state.x[state.promptLength..<block.upperBound].contains(eosID) {
                // LLaDA 2 stops after a block whose answer holds an end token (mid-block too, when
                // the step above found it settled): the rest of the canvas is padding.
                for position in state.promptLength..<state.x.count where state.x[position] == maskID { state.x[position] = eosID }
                result.blocksSkipped = blocks.count - index - 1
                ended = true
            } else if family.endRule == .paddingAfterBlock, settings.earlyStop == true, index + 1 < blocks.count,
                      endsInPadding(state, through: block.upperBound), let eosID {
                for position in block.upperBound..<state.x.count where state.x[position] == maskID { state.x[position] = eosID }
                // Exact for the fixed-step loops; with a threshold a block's step count is not
                // known in advance, so the blocks skipped are reported instead.
                result.blocksSkipped = blocks.count - index - 1
                if settings.threshold == nil { result.stepsSaved = result.blocksSkipped * settings.scheduleSteps }
                ended = true
            }
            // The answer's part of the block: after the prompt, and (LLaDA 2's whole blocks) not past gen_length.
            let generatedRange = max(0, block.lowerBound - prompt.count)..<min(block.upperBound - prompt.count, settings.genLength)
            onEvent?(.blockDone(SamplerBlockEvent(block: index, range: generatedRange,
                                                  ids: Array(state.x[(prompt.count + generatedRange.lowerBound)..<(prompt.count + generatedRange.upperBound)]),
                                                  endsGeneration: ended, isLast: ended || index + 1 == blocks.count), text: ""))
            if ended { break }
        }
        return finish(result, state, record)
    }

    private func finish(_ result: GenerationResult, _ state: CanvasState, _ record: StepRecord) -> GenerationResult {
        var result = result
        // The canvas may run past gen_length to the end of a block (LLaDA 2): the answer stops there.
        let end = min(state.x.count, state.promptLength + settings.genLength)
        result.outputIDs = Array(state.x[state.promptLength..<end])
        result.decodedAtStep = Array(state.decodedAt[state.promptLength..<end])
        result.modelCalls = record.calls
        result.remasked = state.remasked
        result.stepSeconds = record.stepSeconds
        return result
    }

    /// One denoising step: predict, commit, and optionally take back weak committed tokens.
    func step(_ state: inout CanvasState, _ record: inout StepRecord, pass: ForwardPass, candidatesIn searchRange: Range<Int>,
              block: Range<Int>, count: Int, lastStep: Bool, model: MaskPredictor, stop: StopFlag?) {
        let candidates = searchRange.filter { state.x[$0] == maskID }
        let wanted = settings.threshold == nil ? count : candidates.count
        record.beginStep()
        guard wanted > 0, !candidates.isEmpty else { return }
        let started = DispatchTime.now().uptimeNanoseconds
        let reviewing = settings.remaskCommitted != nil && !lastStep && state.remaskBudget > 0
            ? block.filter { state.x[$0] != maskID } : []

        let logits = forward(pass, state, positions: candidates + reviewing, model: model, stop: stop)
        // A pass cut short by the stop flag is not a prediction.
        if stop.isStopped { return }
        record.calls += 1
        let predictions = predict(logits, rows: candidates.count, random: &state.random)
        let chosen = rule.chosen(predictions.confidence, candidates: candidates, canvasLength: state.x.count, count: count,
                                 random: &state.random)
        for row in chosen {
            state.x[candidates[row]] = predictions.tokens[row]
            state.decodedAt[candidates[row]] = record.calls - 1
        }
        record.committed = chosen.map { candidates[$0] }
        // Each committed token's probability as it was committed (the confidence itself unless
        // another remasking strategy ranked the positions).
        record.probabilities = chosen.map { row in
            settings.remasking == .lowConfidence ? predictions.confidence[row]
                : TokenChoice.probability64(of: predictions.tokens[row], in: UnsafeBufferPointer(start: logits.row(row), count: logits.cols))
        }
        state.owed = 0
        if !reviewing.isEmpty, let policy = settings.remaskCommitted {
            let taken = weakCommitted(logits, reviewing: reviewing, firstRow: candidates.count, state: state, policy: policy)
            for position in taken {
                state.x[position] = maskID
                state.decodedAt[position] = -1
            }
            record.remasked = taken
            state.owed += taken.count
            state.remaskBudget -= taken.count
            state.remasked += taken.count
        }
        record.stepSeconds.append(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
    }

    /// Logits at `positions` from the step's pass; full passes go through guidance.
    func forward(_ pass: ForwardPass, _ state: CanvasState, positions: [Int], model: MaskPredictor, stop: StopFlag?) -> FloatMatrix {
        guard case .full(let fill) = pass.context else {
            return model.logits(tokens: state.x, rows: pass.rows, context: pass.context, positions: positions, stop: stop)
        }
        // What the pass sees: the whole canvas, or under block-causal attention up to the block's end.
        let tokens = pass.rows.upperBound == state.x.count ? state.x : Array(state.x[..<pass.rows.upperBound])
        let conditional = fill.map {
            model.logits(tokens: tokens, rows: pass.rows, context: .full(fill: $0), positions: positions, stop: stop)
        } ?? model.logits(tokens: tokens, positions: positions, stop: stop)
        guard settings.cfgScale > 0 else { return conditional }
        // Classifier-free guidance `un + (s + 1)(cond − un)`: the unconditional canvas has every
        // given position replaced by the mask id.
        let unconditionalInput = zip(tokens, state.isGiven).map { $1 ? maskID : $0 }
        let unconditional = model.logits(tokens: unconditionalInput, positions: positions, stop: stop)
        let scale = Float(settings.cfgScale + 1)
        for i in 0..<(conditional.rows * conditional.cols) {
            let un = unconditional.pointer[i]
            conditional.pointer[i] = un + scale * (conditional.pointer[i] - un)
        }
        return conditional
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

    /// The token predicted at each of the first `rows` rows and its confidence (as f64; the
    /// reference loop's f32 probabilities are exact in f64).
    func predict(_ logits: FloatMatrix, rows: Int, random: inout SamplerRandom) -> (tokens: [Int], confidence: [Double]) {
        var tokens: [Int] = []
        var confidence: [Double] = []
        var choices = [Float](repeating: 0, count: logits.cols)
        for r in 0..<rows {
            let row = UnsafeMutableBufferPointer(start: logits.row(r), count: logits.cols)
            if settings.logitsEOSInf, let eos = eosID, eos < row.count { row[eos] = -.infinity }
            if prediction.unrestrictedArgmax && settings.temperature > 0 {
                // LLaDA 2's reference: logits / T, top-k, top-p, softmax, one draw; the confidence
                // is the drawn token's probability under that same distribution.
                let (token, probability) = choices.withUnsafeMutableBufferPointer { copy in
                    let scale = Float(1 / settings.temperature)
                    for i in 0..<copy.count { copy[i] = row[i] * scale }
                    TokenChoice.filter(copy, topK: settings.topK, topP: settings.topP, temperature: 1)
                    let token = TokenChoice.categorical(UnsafeBufferPointer(copy), random: &random)
                    return (token, TokenChoice.probability(of: token, in: UnsafeBufferPointer(copy)))
                }
                tokens.append(token)
                confidence.append(Double(probability))
                continue
            }
            if prediction.unrestrictedArgmax {
                let token = TokenChoice.argmax(UnsafeBufferPointer(row))
                tokens.append(token)
                confidence.append(prediction.confidenceInF64 ? TokenChoice.probability64(of: token, in: UnsafeBufferPointer(row))
                                  : Double(TokenChoice.probability(of: token, in: UnsafeBufferPointer(row))))
                continue
            }
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
                confidence.append(prediction.confidenceInF64
                    ? TokenChoice.probability64(of: token, in: values)
                    : Double(TokenChoice.probability(of: token, in: values)))
            case .margin: confidence.append(TokenChoice.margin(values))
            case .entropy: confidence.append(TokenChoice.negativeEntropy(values))
            case .random: confidence.append(random.nextUnitOpen())
            }
        }
        return (tokens, confidence)
    }

    /// LLaDA 2's early stop after a step: it committed an end token, and no mask is left between
    /// the prompt and the first end token of the answer so far.
    func endSettled(_ state: CanvasState, committed: [Int], through end: Int) -> Bool {
        guard let eosID, committed.contains(where: { state.x[$0] == eosID }),
              let first = state.x[state.promptLength..<end].firstIndex(of: eosID) else { return false }
        return !state.x[state.promptLength..<first].contains(maskID)
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
