/// First come, first served: `slots` generations run at once (one by default: they share the
/// cores), at most `capacity` more wait, and a request beyond that is refused at once (503).
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
    var isFull: Bool { running >= slots && waiting.count >= capacity }

    /// Waits for a slot; throws `Full` when the queue is full, `CancellationError` when the
    /// waiting task is cancelled (a client that went away leaves the queue).
    func acquire() async throws {
        if running < slots && waiting.isEmpty {
            running += 1
            return
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
    }

    /// Frees a slot: the next waiter, if any, takes it over.
    func release() {
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
