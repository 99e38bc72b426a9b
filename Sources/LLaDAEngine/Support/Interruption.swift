import LLaDAKernels

/// Ctrl-C and SIGTERM for the command-line tools (llada_interrupt.h). Once installed, a signal
/// ends the process at once with "interrupted" on stderr, except inside `stoppable`: there the
/// first signal only sets `signal`, the forward pass skips its remaining layers, `observer` stops
/// the sampler after the step, and the caller reports and exits cleanly.
public enum Interruption {
    public static func install() { llada_interrupt_install() }

    /// Runs `body` as the stoppable phase.
    public static func stoppable<T>(_ body: () throws -> T) rethrows -> T {
        llada_interrupt_defer(1)
        defer { llada_interrupt_defer(0) }
        return try body()
    }

    /// The signal received during a stoppable phase, if any.
    public static var signal: Int32? {
        let number = llada_interrupt_requested()
        return number == 0 ? nil : number
    }

    /// A sampler observer that stops the run once a signal has arrived.
    public static var observer: SamplerObserver { { _ in signal == nil ? .proceed : .stop } }

    /// Sets (or with 0 clears) the flag as a signal would: for tests and programs that embed the engine.
    public static func request(_ signal: Int32) { llada_interrupt_request(signal) }
}
