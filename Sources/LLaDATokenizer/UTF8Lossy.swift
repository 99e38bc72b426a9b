/// Bytes to String the way Rust's `String::from_utf8_lossy` does it (which `tokenizers`' ByteLevel
/// decoder uses): each maximal prefix of a would-be valid sequence that turns out invalid becomes one
/// U+FFFD, and a byte that cannot start any sequence becomes one U+FFFD. For example E2 82 41 gives
/// "\u{FFFD}A" (one replacement for E2 82), and F0 80 gives two (80 is not a valid second byte after F0).
package enum UTF8Lossy {
    package static func string(from bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { bytes in
            var repaired: [UInt8] = []
            repaired.reserveCapacity(bytes.count)
            var i = 0
            while i < bytes.count {
                let length = validSequenceLength(bytes, at: i)
                if length.isValid {
                    repaired.append(contentsOf: bytes[i..<(i + length.consumed)])
                } else {
                    repaired.append(contentsOf: [0xEF, 0xBF, 0xBD])
                }
                i += length.consumed
            }
            return String(decoding: repaired, as: UTF8.self)
        }
    }

    /// Whether `bytes` are well-formed UTF-8 (used to check tokenizer files).
    static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let raw = UnsafeRawBufferPointer(bytes)
        var i = 0
        while i < bytes.count {
            // Skip ASCII eight bytes at a time: tokenizer files are mostly ASCII.
            if i + 8 <= bytes.count && raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                i += 8
                continue
            }
            let length = validSequenceLength(bytes, at: i)
            if !length.isValid { return false }
            i += length.consumed
        }
        return true
    }

    /// How many leading bytes can be converted now without changing what later bytes would make
    /// of them: all but a final sequence that is valid so far and only lacks bytes. The lossy text
    /// of that prefix is then a prefix of the lossy text of any continuation (for streaming).
    package static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBufferPointer { bytes in
            var i = 0
            while i < bytes.count {
                let length = validSequenceLength(bytes, at: i)
                if !length.isValid && length.truncated { return i }
                i += length.consumed
            }
            return bytes.count
        }
    }

    /// Follows Rust's `Utf8Chunks`: how many bytes starting at `i` form a valid scalar, or, if they do
    /// not, how many bytes the single replacement character stands for (at least one).
    @inline(__always)
    /// `truncated`: invalid only because the bytes ended before the sequence did.
    private static func validSequenceLength(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int)
        -> (consumed: Int, isValid: Bool, truncated: Bool) {
        let lead = bytes[i]
        if lead < 0x80 { return (1, true, false) }
        func byte(_ offset: Int) -> UInt8? { i + offset < bytes.count ? bytes[i + offset] : nil }
        func isContinuation(_ b: UInt8?) -> Bool { b.map { $0 & 0xC0 == 0x80 } ?? false }
        let width: Int
        let secondByteRange: ClosedRange<UInt8>
        switch lead {
        case 0xC2...0xDF: width = 2; secondByteRange = 0x80...0xBF
        case 0xE0: width = 3; secondByteRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: width = 3; secondByteRange = 0x80...0xBF
        case 0xED: width = 3; secondByteRange = 0x80...0x9F  // excludes surrogates
        case 0xF0: width = 4; secondByteRange = 0x90...0xBF
        case 0xF1...0xF3: width = 4; secondByteRange = 0x80...0xBF
        case 0xF4: width = 4; secondByteRange = 0x80...0x8F  // up to U+10FFFF
        default: return (1, false, false)  // continuation byte, C0, C1 or F5...FF
        }
        guard let second = byte(1) else { return (1, false, true) }
        guard secondByteRange.contains(second) else { return (1, false, false) }
        for offset in 2..<width where !isContinuation(byte(offset)) {
            return (offset, false, byte(offset) == nil)
        }
        return (width, true, false)
    }
}
