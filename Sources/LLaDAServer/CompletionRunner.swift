import Foundation
import LLaDAEngine

/// What one completion produced.
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

/// Runs a completion on the shared model: the answer text as blocks become final, cut at
/// max_tokens tokens and before a stop string. The generation stops as soon as the answer is
/// decided, on the time limit, and within a step when the calling task is cancelled.
enum CompletionRunner {
    /// Waits for a slot of `queue` first; `stop` (the server's shutdown) ends it within a step.
    static func run(model: LLaDAModel, queue: GenerationQueue, request: CompletionRequest, plan: GenerationPlan, timeLimit: Double,
                    stop: StopFlag, onText: (String) async throws -> Void,
                    onStep: (SamplerStepEvent) async throws -> Void) async throws -> CompletionOutcome {
        try await queue.acquire()
        let result: Result<CompletionOutcome, Error>
        do {
            result = .success(try await generate(model: model, request: request, plan: plan, timeLimit: timeLimit,
                                                 stop: stop, onText: onText, onStep: onStep))
        } catch {
            result = .failure(error)
        }
        await queue.release()
        return try result.get()
    }

    private static func generate(model: LLaDAModel, request: CompletionRequest, plan: GenerationPlan, timeLimit: Double,
                                 stop: StopFlag, onText: (String) async throws -> Void,
                                 onStep: (SamplerStepEvent) async throws -> Void) async throws -> CompletionOutcome {
        var outcome = CompletionOutcome(promptTokens: plan.promptIDs.count)
        let start = Date()
        let stream = model.stream(plan, stop: stop)
        defer { stream.stop() }
        let limit = TimeLimit(timeLimit, stopping: stream)
        defer { limit.cancel() }
        var answer = AnswerStream(model: model)
        var stops = StopStrings(request.stops)
        let stopIDs = answer.stopIDs
        var fed = 0, done = false
        for try await event in stream {
            switch event {
            case .step(let step):
                try await onStep(step)
            case .blockDone(let block, _):
                guard !answer.ended, !stops.matched, fed < request.maxTokens else { continue }
                let ids = Array(block.ids.prefix(request.maxTokens - fed))
                fed += ids.count
                outcome.answerTokens += ids.firstIndex(where: stopIDs.contains) ?? ids.count
                let last = block.isLast || fed >= request.maxTokens
                let shown = stops.append(try answer.append(ids, final: last), final: last)
                if !shown.isEmpty { try await onText(shown) }
                // Decided: what is left of the canvas cannot change the answer.
                if answer.ended || stops.matched || fed >= request.maxTokens { stream.stop() }
            case .done(let output):
                outcome.modelCalls = output.result.modelCalls
                done = true
            }
        }
        guard done else { throw CancellationError() }
        if limit.expired && !(answer.ended || stops.matched || fed >= request.maxTokens) {
            outcome.timedOut = true
        }
        let rest = stops.append(try answer.append([], final: true), final: true)
        if !rest.isEmpty { try await onText(rest) }
        outcome.text = stops.shownText
        outcome.finishReason = answer.ended || stops.matched ? "stop" : "length"
        outcome.seconds = Date().timeIntervalSince(start)
        return outcome
    }
}

/// Stops a generation's stream when the server's time limit has passed.
struct TimeLimit {
    private let flag = Flag()
    private let timer: Task<Void, Error>

    init(_ seconds: Double, stopping stream: GenerationStream) {
        let flag = flag
        timer = Task {
            try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            flag.set()
            stream.stop()
        }
    }

    /// True once the limit stopped the stream.
    var expired: Bool { flag.isSet }

    func cancel() { timer.cancel() }

    private final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set() { lock.withLock { value = true } }
        var isSet: Bool { lock.withLock { value } }
    }
}
