import Foundation

/// First come, first served: `slots` generations run at once (one by default: they share the
/// cores), at most `capacity` more wait, and a request beyond that is refused at once (503).
///
/// The server admits a request here before it writes any status line: the wait happens while the
/// client's connection is watched, so a client that goes away while it waits leaves the queue at
/// once, and the queue holds live requests only.
actor GenerationQueue {
    struct Full: Error {}

    private let slots: Int
    private let capacity: Int
    private var running = 0
    private var waiting: [(id: Int, continuation: CheckedContinuation<Void, Error>)] = []
    private var nextID = 0

    init(slots: Int = 1, capacity: Int) {
        self.slots = max(1, slots)
        self.capacity = max(0, capacity)
    }

    var depth: Int { waiting.count }
    var active: Int { running }

    /// Waits for a slot and returns it; throws `Full` at once when `capacity` requests already
    /// wait, `CancellationError` when the waiting task is cancelled (it leaves the queue).
    func acquire() async throws -> GenerationSlot {
        if running < slots && waiting.isEmpty {
            running += 1
            return GenerationSlot(queue: self)
        }
        guard waiting.count < capacity else { throw Full() }
        nextID += 1
        let id = nextID
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    waiting.append((id, continuation))
                }
            }
        } onCancel: {
            Task { await self.cancel(id) }
        }
        // The slot was handed over by `release` (running counts it already).
        return GenerationSlot(queue: self)
    }

    /// Frees a slot: the next waiter, if any, takes it over.
    fileprivate func release() {
        if waiting.isEmpty {
            running -= 1
        } else {
            waiting.removeFirst().continuation.resume()
        }
    }

    private func cancel(_ id: Int) {
        guard let index = waiting.firstIndex(where: { $0.id == id }) else { return }
        waiting.remove(at: index).continuation.resume(throwing: CancellationError())
    }
}

/// The right to run one generation, freed exactly once: by `release()` when the run ends, or when
/// the last reference goes (a streamed response whose body never ran because its client left
/// between admission and the first byte).
final class GenerationSlot: @unchecked Sendable {
    private let queue: GenerationQueue
    private let lock = NSLock()
    private var released = false

    fileprivate init(queue: GenerationQueue) { self.queue = queue }

    func release() async {
        let first = lock.withLock { () -> Bool in
            defer { released = true }
            return !released
        }
        if first { await queue.release() }
    }

    deinit {
        if !released {
            let queue = queue
            Task { await queue.release() }
        }
    }
}
