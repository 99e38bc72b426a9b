import Foundation
import LLaDAEngine

/// What one completion produced, shaped for the OpenAI responses.
struct CompletionOutcome: Sendable {
    var text = ""
    /// "stop" (the answer ended, or a stop string) or "length" (max_tokens reached first).
    var finishReason = "length"
    var promptTokens = 0
    var answerTokens = 0
    var modelCalls = 0
    var seconds = 0.0
    var timedOut = false
}

/// A completion: the queued run of its plan (whose answer limit is max_tokens: the engine cuts
/// the answer there and ends the run once the answer is decided), with OpenAI's stop strings
/// applied to the engine's answer text as blocks become final. `onText` gets what may be shown.
enum CompletionRunner {
    static func run(model: LLaDAModel, slot: GenerationSlot, request: CompletionRequest, plan: GenerationPlan, timeLimit: Double,
                    stop: StopFlag, onText: (String) async throws -> Void,
                    onStep: (SamplerStepEvent) async throws -> Void) async throws -> CompletionOutcome {
        var stops = StopStrings(request.stops)
        let run = try await QueuedRun.run(model: model, slot: slot, plan: plan, timeLimit: timeLimit, stop: stop) { event in
            switch event {
            case .step(let step):
                try await onStep(step)
            case .blockDone(let block, let text):
                let shown = stops.append(text, final: block.isLast)
                if !shown.isEmpty { try await onText(shown) }
                // A stop string decides the answer: what is left of the canvas cannot change it.
                if stops.matched { stop.stop() }
            case .done:
                break
            }
        }
        let output = run.output
        let rest = stops.append("", final: true)
        if !rest.isEmpty { try await onText(rest) }
        return CompletionOutcome(text: stops.shownText, finishReason: output.answerEnd == .endToken || stops.matched ? "stop" : "length",
                                 promptTokens: plan.promptIDs.count, answerTokens: output.answerTokens,
                                 modelCalls: output.modelCalls, seconds: output.seconds,
                                 timedOut: run.timedOut && output.answerEnd == .open && !stops.matched)
    }
}

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

    /// The queued run of an infill plan, its canvas decoded whole and hole by hole.
    static func run(model: LLaDAModel, slot: GenerationSlot, plan: GenerationPlan, holes: [Range<Int>], timeLimit: Double,
                    stop: StopFlag, onStep: (SamplerStepEvent) async throws -> Void) async throws -> InfillOutcome {
        let run = try await QueuedRun.run(model: model, slot: slot, plan: plan, timeLimit: timeLimit, stop: stop) { event in
            if case .step(let step) = event { try await onStep(step) }
        }
        let output = run.output
        var outcome = InfillOutcome(promptTokens: plan.promptIDs.count, filledTokens: holes.reduce(0) { $0 + $1.count },
                                    modelCalls: output.modelCalls, seconds: output.seconds, timedOut: run.timedOut)
        if output.stopped {
            guard run.timedOut else { throw CancellationError() }
            return outcome
        }
        let ids = output.outputIDs
        outcome.text = try model.tokenizer.decode(ids, skipSpecialTokens: true)
        outcome.fills = try holes.map { try model.tokenizer.decode(Array(ids[$0]), skipSpecialTokens: true) }
        return outcome
    }

    func object(id: String, created: Int, model: String) -> [String: Any] {
        ["id": id, "object": "llada.infill", "created": created, "model": model, "text": text, "fills": fills,
         "model_calls": modelCalls,
         "usage": ["prompt_tokens": promptTokens, "completion_tokens": filledTokens, "total_tokens": promptTokens + filledTokens]]
    }
}
