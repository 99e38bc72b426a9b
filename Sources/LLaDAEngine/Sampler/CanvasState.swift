/// The canvas of one generation: prompt and generated positions, which were given, when each
/// was decided, and the sampler's random source.
struct CanvasState {
    var x: [Int]
    /// Positions given before the run (the prompt, an infill text's known tokens).
    let isGiven: [Bool]
    let promptLength: Int
    let maskID: Int
    /// Per position, the model call whose prediction was committed there (−1: not decided).
    var decodedAt: [Int]
    var random: SamplerRandom
    /// Commits owed to the schedule for tokens taken back at the previous step.
    var owed = 0
    var remaskBudget = 0
    var remasked = 0

    init(prompt: [Int], canvas: [Int], maskID: Int, seed: UInt64) {
        x = prompt + canvas
        isGiven = x.map { $0 != maskID }
        promptLength = prompt.count
        self.maskID = maskID
        decodedAt = Array(repeating: -1, count: x.count)
        random = SamplerRandom(seed: seed)
    }

    func masks(in range: Range<Int>) -> Int { x[range].lazy.filter { $0 == maskID }.count }

    /// Masks left in the generated part.
    var generatedMasks: Int { masks(in: promptLength..<x.count) }
}

/// What the steps did, for the events and the result: model calls, step times, and the last
/// step's commits. A model call is counted here and reported before the loop looks at the stop
/// flag, so every counted call has its event.
struct StepRecord {
    var calls = 0
    var stepSeconds: [Double] = []
    var committed: [Int] = []
    var probabilities: [Double] = []
    var remasked: [Int] = []
    private var reportedCalls = 0

    mutating func beginStep() {
        committed = []
        probabilities = []
        remasked = []
    }

    /// The event of the step just run, once (nil when the step made no model call).
    mutating func event(block: Int, canvas: CanvasState) -> SamplerStepEvent? {
        guard calls > reportedCalls else { return nil }
        reportedCalls = calls
        let offset = canvas.promptLength
        let generated = Array(canvas.x[offset...])
        let shown = committed.indices.filter { committed[$0] >= offset }
        return SamplerStepEvent(call: calls, block: block, committed: shown.map { committed[$0] - offset },
                                probabilities: shown.map { probabilities[$0] }, remasked: remasked.map { $0 - offset },
                                generated: generated, masksLeft: generated.lazy.filter { $0 == canvas.maskID }.count,
                                seconds: stepSeconds.last ?? 0)
    }
}
