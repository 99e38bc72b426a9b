import ArgumentParser
import Foundation
import LLaDAEngine

/// `--force` and the memory check `generate`, `bench` and `chat` run before loading weights
/// (chat checks a first turn; its later turns grow. `infill` has no check: its canvas length is
/// known only once the text is tokenized).
struct MemoryOptions: ParsableArguments {
    @Flag(name: .long, help: "Run even when the memory estimate exceeds the memory available (MemAvailable, or LLADA_MEMORY_LIMIT_BYTES when set).")
    var force = false

    /// Throws one error line when the run's estimate does not fit (unless --force).
    func check(_ estimate: MemoryEstimate) throws {
        if !force { try estimate.check(against: try AvailableMemory.current(environment: ProcessInfo.processInfo.environment)) }
    }

    /// The estimate for a run; throws when it does not fit (unless --force).
    @discardableResult
    func check(_ footprint: WeightFootprint, settings: GenerationSettings, promptLength: Int) throws -> MemoryEstimate {
        let estimate = MemoryEstimate(footprint: footprint, settings: settings, promptLength: promptLength, pageSize: ProcessMemory.pageSize)
        try check(estimate)
        return estimate
    }
}
