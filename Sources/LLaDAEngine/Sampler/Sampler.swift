import Foundation

/// The outcome of one generation.
public struct GenerationResult: Sendable {
    public var promptIDs: [Int]
    /// All gen_length generated ids, padding included.
    public var outputIDs: [Int]
    /// Per generated position, the index of the model call whose prediction was committed there.
    public var decodedAtStep: [Int]
    /// Forward passes run (a CFG step counts once although it runs two sequences).
    public var modelCalls: Int
}

/// LLaDA's reverse process (ML-GSAI/LLaDA `generate.py`): start from prompt + gen_length masks;
/// go through the blocks left to right; at each step predict every masked position up to the
/// end of the current block and commit the `k` most confident predictions, `k` from
/// `TransferSchedule.linear`.
///
/// Tie-break rule: among equal confidences the positions torch.topk would keep are committed
/// (`ReferenceTopK`, run over the whole sequence with −inf outside the candidates), so the
/// order of commits, not only the final tokens, follows the reference.
/// Masks inside the prompt are eligible in every block, as in the reference.
public struct Sampler {
    public let settings: GenerationSettings
    public let maskID: Int
    /// Ids for the EOS options (`<|endoftext|>` and `<|eot_id|>` from the tokenizer).
    public let eosID: Int?
    public let eotID: Int?

    public init(settings: GenerationSettings, maskID: Int, eosID: Int? = nil, eotID: Int? = nil) {
        self.settings = settings
        self.maskID = maskID
        self.eosID = eosID
        self.eotID = eotID
    }

    public func generate(prompt: [Int], model: MaskPredictor) -> GenerationResult {
        var random = SamplerRandom(seed: settings.seed)
        let promptLength = prompt.count
        var x = prompt + Array(repeating: maskID, count: settings.genLength)
        let isPrompt = x.map { $0 != maskID }
        var decodedAt = Array(repeating: -1, count: x.count)
        var calls = 0

        for block in 0..<settings.blockCount {
            let blockStart = promptLength + block * settings.blockLength
            let blockEnd = blockStart + settings.blockLength
            let blockMasks = x[blockStart..<blockEnd].lazy.filter { $0 == maskID }.count
            let counts = TransferSchedule.linear(masks: blockMasks, steps: settings.stepsPerBlock)
            for count in counts {
                // Positions after the block have confidence −inf in the reference: never chosen.
                let candidates = (0..<blockEnd).filter { x[$0] == maskID }
                guard count > 0, !candidates.isEmpty else { continue }
                let logits = guidedLogits(x: x, isPrompt: isPrompt, positions: candidates, model: model)
                let predictions = predict(logits, random: &random)
                var confidence = [Double](repeating: -.infinity, count: x.count)
                for (row, position) in candidates.enumerated() { confidence[position] = Double(predictions.confidence[row]) }
                let chosen = ReferenceTopK.select(confidence, k: min(count, candidates.count))
                for (row, position) in candidates.enumerated() where chosen.contains(position) {
                    x[position] = predictions.tokens[row]
                    decodedAt[position] = calls
                }
                calls += 1
            }
        }
        return GenerationResult(promptIDs: prompt, outputIDs: Array(x[promptLength...]),
                                decodedAtStep: Array(decodedAt[promptLength...]), modelCalls: calls)
    }

    /// Conditional logits, or with classifier-free guidance `un + (s + 1)(cond − un)` where the
    /// unconditional sequence has every prompt position replaced by the mask id.
    func guidedLogits(x: [Int], isPrompt: [Bool], positions: [Int], model: MaskPredictor) -> FloatMatrix {
        let conditional = model.logits(tokens: x, positions: positions)
        guard settings.cfgScale > 0 else { return conditional }
        let unconditionalInput = zip(x, isPrompt).map { $1 ? maskID : $0 }
        let unconditional = model.logits(tokens: unconditionalInput, positions: positions)
        let scale = Float(settings.cfgScale + 1)
        let count = conditional.rows * conditional.cols
        for i in 0..<count {
            let un = unconditional.pointer[i]
            conditional.pointer[i] = un + scale * (conditional.pointer[i] - un)
        }
        return conditional
    }

    /// The token predicted at each row and its confidence.
    func predict(_ logits: FloatMatrix, random: inout SamplerRandom) -> (tokens: [Int], confidence: [Float]) {
        var tokens: [Int] = []
        var confidence: [Float] = []
        for r in 0..<logits.rows {
            let row = UnsafeMutableBufferPointer(start: logits.row(r), count: logits.cols)
            if settings.logitsEOSInf, let eos = eosID, eos < row.count { row[eos] = -.infinity }
            let token = settings.temperature > 0
                ? TokenChoice.gumbelArgmax(UnsafeBufferPointer(row), temperature: settings.temperature, random: &random)
                : TokenChoice.argmax(UnsafeBufferPointer(row))
            if settings.confidenceEOSEOTInf, let eot = eotID, eot < row.count { row[eot] = -.infinity }
            tokens.append(token)
            switch settings.remasking {
            case .lowConfidence: confidence.append(TokenChoice.probability(of: token, in: UnsafeBufferPointer(row)))
            case .random: confidence.append(Float(random.nextUnitOpen()))
            }
        }
        return (tokens, confidence)
    }
}
