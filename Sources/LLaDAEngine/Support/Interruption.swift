import LLaDAKernels

/// Ctrl-C and SIGTERM for the command-line tools (llada_interrupt.h). Once installed, a signal
/// ends the process at once with "interrupted" on stderr, except inside `stoppable`: there the
/// first signal only records `signal` and sets the generation's `StopFlag`, which stops it
/// within the step, and the caller reports and exits cleanly.
public enum Interruption {
    public static func install() { llada_interrupt_install() }

    /// Runs `body` as the stoppable phase; a signal then sets `flag`.
    public static func stoppable<T>(watching flag: StopFlag, _ body: () throws -> T) rethrows -> T {
        llada_interrupt_watch(flag.storage)
        llada_interrupt_defer(1)
        defer {
            llada_interrupt_defer(0)
            llada_interrupt_watch(nil)
        }
        return try body()
    }

    /// The signal received during a stoppable phase, if any.
    public static var signal: Int32? {
        let number = llada_interrupt_requested()
        return number == 0 ? nil : number
    }

    /// Records a signal as the handler would, setting the watched flag (or with 0 clears the
    /// record): for tests.
    public static func request(_ signal: Int32) { llada_interrupt_request(signal) }
}
