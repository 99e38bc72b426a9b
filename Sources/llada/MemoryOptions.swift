import ArgumentParser
import Foundation
import LLaDAEngine

/// `--force` and the memory check `generate`, `bench` and `chat` run before loading weights
/// (chat checks a first turn; its later turns grow. `infill` has no check: its canvas length is
/// known only once the text is tokenized).
struct MemoryOptions: ParsableArguments {
    @Flag(name: .long, help: "Run even when the memory estimate exceeds the memory available (MemAvailable, or LLADA_MEMORY_LIMIT_BYTES when set).")
    var force = false

    /// Throws one error line when the planned run's estimate does not fit (unless --force).
    func check(_ estimate: MemoryEstimate?) throws {
        guard let estimate, !force else { return }
        try estimate.check(against: try AvailableMemory.current(environment: ProcessInfo.processInfo.environment))
    }
}
