import Foundation
import LLaDAEngine

/// One generation in the server, the same road for completions and infill: its turn in the
/// queue, the plan run on the shared model within the time limit, each event handed on as it
/// comes. The output is the engine's own (answer text, answer tokens, how the answer ended);
/// turning it into OpenAI JSON, SSE chunks or the infill object is the caller's.
enum QueuedRun {
    struct Outcome: Sendable {
        let output: GenerationResult
        /// The time limit ended the run before it was complete.
        let timedOut: Bool
    }

    /// Waits for a slot of `queue` (throws `GenerationQueue.Full`, or `CancellationError` when the
    /// waiting task is cancelled). `stop` ends the run within a step: the server's shutdown, or
    /// the caller once its answer is decided.
    static func run(model: LLaDAModel, queue: GenerationQueue, plan: GenerationPlan, timeLimit: Double, stop: StopFlag,
                    onEvent: (GenerationEvent) async throws -> Void) async throws -> Outcome {
        try await queue.acquire()
        let result: Result<Outcome, Error>
        do {
            result = .success(try await generate(model: model, plan: plan, timeLimit: timeLimit, stop: stop, onEvent: onEvent))
        } catch {
            result = .failure(error)
        }
        await queue.release()
        return try result.get()
    }

    private static func generate(model: LLaDAModel, plan: GenerationPlan, timeLimit: Double, stop: StopFlag,
                                 onEvent: (GenerationEvent) async throws -> Void) async throws -> Outcome {
        let stream = model.stream(plan, stop: stop)
        defer { stream.stop() }
        let limit = TimeLimit(timeLimit, stopping: stream)
        defer { limit.cancel() }
        for try await event in stream {
            if case .done(let output) = event { return Outcome(output: output, timedOut: output.stopped && limit.expired) }
            try await onEvent(event)
        }
        // The stream ended without its last event: the consuming task was cancelled.
        throw CancellationError()
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
