import Foundation
import LLaDAEngine

/// What one infill produced: the whole filled text and each hole's fill, as `llada infill --json`.
struct InfillOutcome: Sendable {
    var text = ""
    var fills: [String] = []
    var promptTokens = 0
    /// The tokens filled: the holes (the text and padding around them were given).
    var filledTokens = 0
    var modelCalls = 0
    var seconds = 0.0
    var timedOut = false

    func object(id: String, created: Int, model: String) -> [String: Any] {
        ["id": id, "object": "llada.infill", "created": created, "model": model, "text": text, "fills": fills,
         "model_calls": modelCalls,
         "usage": ["prompt_tokens": promptTokens, "completion_tokens": filledTokens, "total_tokens": promptTokens + filledTokens]]
    }
}

/// Runs an infill on the shared model after its turn in the queue, within the time limit;
/// `stop` (the server's shutdown) or a cancelled task ends it within a step.
enum InfillRunner {
    static func run(model: LLaDAModel, queue: GenerationQueue, plan: GenerationPlan, holes: [Range<Int>], timeLimit: Double,
                    stop: StopFlag, onStep: (SamplerStepEvent) async throws -> Void) async throws -> InfillOutcome {
        try await queue.acquire()
        let result: Result<InfillOutcome, Error>
        do {
            result = .success(try await fill(model: model, plan: plan, holes: holes, timeLimit: timeLimit, stop: stop, onStep: onStep))
        } catch {
            result = .failure(error)
        }
        await queue.release()
        return try result.get()
    }

    private static func fill(model: LLaDAModel, plan: GenerationPlan, holes: [Range<Int>], timeLimit: Double,
                             stop: StopFlag, onStep: (SamplerStepEvent) async throws -> Void) async throws -> InfillOutcome {
        let stream = model.stream(plan, stop: stop)
        defer { stream.stop() }
        let limit = TimeLimit(timeLimit, stopping: stream)
        defer { limit.cancel() }
        var finished: GenerationOutput?
        for try await event in stream {
            switch event {
            case .step(let step): try await onStep(step)
            case .blockDone: break
            case .done(let output): finished = output
            }
        }
        guard let output = finished else { throw CancellationError() }
        var outcome = InfillOutcome(promptTokens: output.result.promptIDs.count, filledTokens: holes.reduce(0) { $0 + $1.count },
                                    modelCalls: output.result.modelCalls, seconds: output.seconds)
        if output.stopped {
            guard limit.expired else { throw CancellationError() }
            outcome.timedOut = true
            return outcome
        }
        let ids = output.result.outputIDs
        outcome.text = try model.tokenizer.decode(ids, skipSpecialTokens: true)
        outcome.fills = try holes.map { try model.tokenizer.decode(Array(ids[$0]), skipSpecialTokens: true) }
        return outcome
    }
}
