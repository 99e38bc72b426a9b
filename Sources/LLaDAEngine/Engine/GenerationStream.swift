import Foundation

/// A generation as an `AsyncSequence` of `GenerationEvent`s, ending with `.done`.
///
/// The model runs on a thread of its own (a forward pass blocks for milliseconds to seconds, too
/// long for Swift's cooperative pool). Cancelling the consuming task, dropping the iterator or
/// calling `stop()` sets this generation's `StopFlag`: the run ends within the current step and
/// `.done` carries `stopped`. Other generations on the same model go on.
public struct GenerationStream: AsyncSequence, Sendable {
    public typealias Element = GenerationEvent
    private let events: AsyncThrowingStream<GenerationEvent, Error>
    private let flag: StopFlag

    init(model: LLaDAModel, request: GenerationRequest, stop flag: StopFlag) {
        self.flag = flag
        events = AsyncThrowingStream(bufferingPolicy: .unbounded) { continuation in
            continuation.onTermination = { _ in flag.stop() }
            let thread = Thread {
                do {
                    let output = try model.generate(request, stop: flag) { continuation.yield($0) }
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

    public func makeAsyncIterator() -> AsyncThrowingStream<GenerationEvent, Error>.AsyncIterator {
        events.makeAsyncIterator()
    }
}
