import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Memory the machine can still give this process.
public struct AvailableMemory: Sendable, Equatable {
    public var bytes: Int
    /// Where the number comes from, for messages ("MemAvailable in /proc/meminfo", ...).
    public var source: String

    public init(bytes: Int, source: String) {
        self.bytes = bytes
        self.source = source
    }

    /// Overrides the measurement (tests, or to budget a share of a shared machine).
    public static let limitVariable = "LLADA_MEMORY_LIMIT_BYTES"

    /// `LLADA_MEMORY_LIMIT_BYTES` when `environment` (the frontend's, passed explicitly) sets it;
    /// else MemAvailable from /proc/meminfo (Linux: free memory plus the page cache and other
    /// memory the kernel can reclaim); else physical memory.
    public static func current(environment: [String: String]) throws -> AvailableMemory {
        if let text = environment[limitVariable] {
            guard let bytes = Int(text.trimmingCharacters(in: .whitespaces)), bytes > 0 else {
                throw LLaDAError("\(limitVariable) must be a positive number of bytes (got \"\(text)\"); unset it to use the memory available")
            }
            return AvailableMemory(bytes: bytes, source: limitVariable)
        }
        if let kilobytes = ProcessMemory.procField("/proc/meminfo", "MemAvailable") {
            return AvailableMemory(bytes: kilobytes * 1024, source: "MemAvailable in /proc/meminfo")
        }
        return AvailableMemory(bytes: Int(clamping: ProcessInfo.processInfo.physicalMemory), source: "physical memory")
    }
}

/// This process's resident memory.
public enum ProcessMemory {
    public static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Peak resident set size: VmHWM from /proc/self/status on Linux, else getrusage's
    /// ru_maxrss (kilobytes on Linux, bytes on macOS). Both count mapped file pages while mapped.
    public static func peakResidentBytes() -> (bytes: Int, source: String) {
        if let kilobytes = procField("/proc/self/status", "VmHWM") { return (kilobytes * 1024, "VmHWM") }
        var usage = rusage()
        #if canImport(Darwin)
        getrusage(RUSAGE_SELF, &usage)
        return (Int(usage.ru_maxrss), "ru_maxrss")
        #else
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return (Int(usage.ru_maxrss) * 1024, "ru_maxrss")
        #endif
    }

    /// Current resident set size (VmRSS), nil where /proc is missing.
    public static func residentBytes() -> Int? {
        procField("/proc/self/status", "VmRSS").map { $0 * 1024 }
    }

    /// Resident memory not backed by a file (RssAnon): what the kernel cannot drop without swap.
    public static func anonymousResidentBytes() -> Int? {
        procField("/proc/self/status", "RssAnon").map { $0 * 1024 }
    }

    /// The number of a "Name:   1234 kB" line of a /proc file.
    static func procField(_ path: String, _ name: String) -> Int? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            return Int(line.dropFirst(name.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
        }
        return nil
    }
}
