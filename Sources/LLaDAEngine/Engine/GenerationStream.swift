import Foundation

/// A generation as an `AsyncSequence` of `GenerationEvent`s, ending with `.done`.
///
/// The model runs on a thread of its own (a forward pass blocks for milliseconds to seconds, too
/// long for Swift's cooperative pool). Cancelling the consuming task, dropping the iterator or
/// calling `stop()` sets this generation's `StopFlag`: the run ends within the current step and
/// `.done` carries `stopped`. Other generations on the same model go on.
///
/// The generation waits for the consumer to take each event before it goes on, so the consumer
/// never lags behind: a consumer that stops on seeing step N's event gets exactly N model calls,
/// and a slow consumer (a client on a slow link) slows the generation instead of queueing events.
public struct GenerationStream: AsyncSequence, Sendable {
    public typealias Element = GenerationEvent
    private let events: AsyncThrowingStream<GenerationEvent, Error>
    private let flag: StopFlag
    /// Signalled once per event the consumer has taken.
    private let taken = DispatchSemaphore(value: 0)

    /// Runs `generation` (which reports its events to the closure it is given and honours the
    /// flag) on a thread of its own.
    init(stop flag: StopFlag, _ generation: @escaping @Sendable (StopFlag, @escaping (GenerationEvent) -> Void) throws -> GenerationResult) {
        self.flag = flag
        let taken = self.taken
        events = AsyncThrowingStream(bufferingPolicy: .unbounded) { continuation in
            continuation.onTermination = { _ in
                flag.stop()
                taken.signal()   // the generation may be waiting on an event nobody will take
            }
            let thread = Thread {
                do {
                    let output = try generation(flag) { event in
                        guard case .enqueued = continuation.yield(event) else { return }
                        taken.wait()
                    }
                    continuation.yield(.done(output))
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Stops the generation within the current step; the stream still ends with `.done`.
    public func stop() { flag.stop() }

    /// True once `stop()` was called or the consumer went away.
    public var isStopped: Bool { flag.isStopped }

    public struct Iterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<GenerationEvent, Error>.AsyncIterator
        let taken: DispatchSemaphore

        public mutating func next() async throws -> GenerationEvent? {
            let event = try await base.next()
            // `.done` is the last event: nothing waits for it to be taken.
            if let event, !event.isDone { taken.signal() }
            return event
        }
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(base: events.makeAsyncIterator(), taken: taken)
    }
}

extension GenerationEvent {
    var isDone: Bool {
        if case .done = self { return true }
        return false
    }
}
