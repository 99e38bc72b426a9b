import LLaDAKernels

/// Stops one generation from outside it: another task or thread calls `stop()`, the forward
/// pass checks between layers (the rest of the pass is skipped and its result discarded) and the
/// sampler between steps. Each generation has its own flag, so stopping one leaves the others
/// running. The int lives at a fixed address so a signal handler can set it too
/// (`Interruption.stoppable(watching:)`).
public final class StopFlag: @unchecked Sendable {
    let storage: UnsafeMutablePointer<Int32>

    public init() {
        storage = .allocate(capacity: 1)
        storage.initialize(to: 0)
    }

    deinit { storage.deallocate() }

    public func stop() { llada_stop_flag_set(storage, 1) }

    public var isStopped: Bool { llada_stop_flag_get(storage) != 0 }
}

extension Optional where Wrapped == StopFlag {
    var isStopped: Bool { self?.isStopped ?? false }
}
