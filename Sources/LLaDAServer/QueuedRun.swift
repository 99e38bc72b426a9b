import Foundation
import LLaDAEngine

/// One generation in the server, the same road for completions and infill: the plan run on the
/// shared model within the time limit in the slot the request was admitted to, each event handed
/// on as it comes. The output is the engine's own (answer text, answer tokens, how the answer ended);
/// turning it into OpenAI JSON, SSE chunks or the infill object is the caller's.
enum QueuedRun {
    struct Outcome: Sendable {
        let output: GenerationResult
        /// The time limit ended the run before it was complete.
        let timedOut: Bool
    }

    /// Runs in `slot` and frees it at the end. `stop` ends the run within a step: the server's
    /// shutdown, or the caller once its answer is decided.
    static func run(model: LLaDAModel, slot: GenerationSlot, plan: GenerationPlan, timeLimit: Double, stop: StopFlag,
                    onEvent: (GenerationEvent) async throws -> Void) async throws -> Outcome {
        let result: Result<Outcome, Error>
        do {
            result = .success(try await generate(model: model, plan: plan, timeLimit: timeLimit, stop: stop, onEvent: onEvent))
        } catch {
            result = .failure(error)
        }
        await slot.release()
        return try result.get()
    }

    private static func generate(model: LLaDAModel, plan: GenerationPlan, timeLimit: Double, stop: StopFlag,
                                 onEvent: (GenerationEvent) async throws -> Void) async throws -> Outcome {
        let stream = model.stream(plan, stop: stop)
        defer { stream.stop() }
        // The time limit is checked at every event, that is every model call, and stops the run
        // within the next one. No timer task per request: a cancelled `Task.sleep` keeps its
        // task's memory until its deadline passes (600 s by default), which made the server's
        // memory grow with the request rate (issue 29).
        let deadline = Deadline(seconds: timeLimit)
        var expired = false
        for try await event in stream {
            if case .done(let output) = event { return Outcome(output: output, timedOut: output.stopped && expired) }
            if !expired && deadline.hasPassed {
                expired = true
                stream.stop()
            }
            try await onEvent(event)
        }
        // The stream ended without its last event: the consuming task was cancelled.
        throw CancellationError()
    }
}

/// A point on the monotonic clock, `seconds` from now.
struct Deadline {
    private let nanoseconds: UInt64

    init(seconds: Double) {
        let now = DispatchTime.now().uptimeNanoseconds
        let span = seconds * 1e9
        nanoseconds = span >= Double(UInt64.max - now) ? .max : now + UInt64(max(0, span))
    }

    var hasPassed: Bool { DispatchTime.now().uptimeNanoseconds >= nanoseconds }
}
