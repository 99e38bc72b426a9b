import LLaDAEngine
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file written at explicit offsets (pwrite), so several threads can fill disjoint ranges of it
/// without a shared position and without holding the data in memory.
final class OutputFile: @unchecked Sendable {
    let path: String
    private var descriptor: Int32

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw Self.error("cannot create", path) }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Writes all `count` bytes at `offset` (retrying short writes and interrupted calls).
    func write(_ bytes: UnsafeRawPointer, count: Int, at offset: Int) throws {
        var done = 0
        while done < count {
            let written = pwrite(descriptor, bytes + done, count - done, off_t(offset + done))
            if written < 0 {
                if errno == EINTR { continue }
                throw Self.error("cannot write", path)
            }
            done += written
        }
    }

    func write(_ data: Data, at offset: Int) throws {
        guard !data.isEmpty else { return }
        try data.withUnsafeBytes { try write($0.baseAddress!, count: $0.count, at: offset) }
    }

    /// Flushes to disk and closes: a checkpoint is only renamed into place once its bytes are durable.
    func syncAndClose() throws {
        guard fsync(descriptor) == 0 else { throw Self.error("cannot flush", path) }
        let result = close(descriptor)
        descriptor = -1
        guard result == 0 else { throw Self.error("cannot close", path) }
    }

    static func error(_ action: String, _ path: String) -> LLaDAError {
        LLaDAError("\(action) \(path): \(String(cString: strerror(errno)))")
    }

    /// Writes a small text file in one go, durably.
    static func writeText(_ text: String, to path: String) throws {
        let file = try OutputFile(path: path)
        try file.write(Data(text.utf8), at: 0)
        try file.syncAndClose()
    }
}
