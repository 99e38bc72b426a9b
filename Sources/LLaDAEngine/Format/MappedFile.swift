import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only. Pages are loaded by the OS on first touch and can be dropped
/// again under memory pressure, which is what lets multi-gigabyte checkpoints be streamed.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let size: Int
    public let bytes: UnsafeRawBufferPointer
    /// Kept open while mapped: `pread` through it reads the file that was mapped and checked,
    /// even if the path has since been replaced. −1 for an in-memory copy.
    let descriptor: Int32
    /// True for a copy held in memory (`init(path:contents:)`), which is freed instead of unmapped.
    private let isInMemory: Bool

    public init(path: String) throws {
        self.path = path
        isInMemory = false
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw LLaDAError("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw LLaDAError("cannot stat \(path): \(message)")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw LLaDAError("\(path) is not a regular file")
        }
        size = Int(info.st_size)
        descriptor = fd
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw LLaDAError("cannot memory-map \(path): \(message)")
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    /// The same parsers on bytes that are not in a file (fuzzing): `contents` is copied into
    /// memory this object owns, and `path` only names it in error messages.
    public init(path: String, contents: UnsafeRawBufferPointer) {
        self.path = path
        size = contents.count
        isInMemory = true
        descriptor = -1
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 64)
        if let source = contents.baseAddress { copy.baseAddress!.copyMemory(from: source, byteCount: size) }
        bytes = UnsafeRawBufferPointer(start: copy.baseAddress, count: size)
    }

    deinit {
        if let base = bytes.baseAddress {
            if isInMemory {
                base.deallocate()
            } else {
                munmap(UnsafeMutableRawPointer(mutating: base), size)
            }
        }
        if descriptor >= 0 { close(descriptor) }
    }

    /// Reads `count` bytes at `offset` with pread; false on any failure or short read.
    func read(into destination: UnsafeMutableRawPointer, count: Int, at offset: Int) -> Bool {
        guard descriptor >= 0 else { return false }
        var done = 0
        while done < count {
            let n = pread(descriptor, destination + done, count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            done += n
        }
        return true
    }

    /// Reads a little-endian integer at `offset`; the caller has checked the bounds.
    func loadLittleEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}
