/// The Split pre-tokenizer of LLaDA's tokenizer.json, hand-compiled.
///
/// `tokenizers` evaluates the pattern with Oniguruma. Instead of a general regex engine (Swift's
/// Regex, used for other patterns by RegexSplitter, runs at about 1 MB/s), this matcher implements
/// exactly the one pattern LLaDA uses, branch by branch with Oniguruma's semantics, over the UTF-8
/// bytes of already-normalised text.
package enum PreTokenizer {
    /// LLaDA's split pattern: a Split with exactly this pattern uses the matcher below.
    package static let supportedPattern =
        #"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"#

    /// Calls `body` with the byte range of every piece, in order. The pieces tile the whole input:
    /// every character is matched by some branch (letter, number, whitespace, or "other"), so
    /// Oniguruma's find-iterator never leaves a gap for the Isolated behaviour to emit.
    static func forEachPiece(in text: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        guard !text.isEmpty else { return }
        ScalarClass.bmpTable.withUnsafeBufferPointer { table in
            let matcher = Matcher(text: text, bmpClasses: table.baseAddress!)
            var start = 0
            while start < text.count {
                let end = matcher.pieceEnd(from: start)
                body(start..<end)
                start = end
            }
        }
    }

    /// The pieces of `text` as strings (for tests and diagnostics).
    static func split(_ text: String) -> [String] {
        var copy = text
        copy.makeContiguousUTF8()
        return copy.utf8.withContiguousStorageIfAvailable { bytes in
            var pieces: [String] = []
            forEachPiece(in: bytes) { range in
                pieces.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self))
            }
            return pieces
        } ?? []
    }

    private struct Matcher {
        let text: UnsafeBufferPointer<UInt8>
        let bmpClasses: UnsafePointer<UInt8>

        var count: Int { text.count }

        /// Decodes the scalar at `i` (the text is valid UTF-8, so no checks are needed).
        @inline(__always)
        func scalar(at i: Int) -> (value: UInt32, length: Int) {
            UTF8Scalars.decode(text, at: i)
        }

        @inline(__always)
        func classOf(_ value: UInt32) -> UInt8 {
            value < 0x10000 ? bmpClasses[Int(value)] : ScalarClass.compute(value)
        }

        /// End of the piece starting at `i`: the first branch of the pattern (in order) that matches.
        func pieceEnd(from i: Int) -> Int {
            let (c0, length0) = scalar(at: i)
            let class0 = classOf(c0)
            let next = i + length0

            // 1. '(?i:[sdmt]|ll|ve|re)
            if c0 == 0x27, next < count, let end = contractionEnd(after: next) { return end }

            // 2. [^\r\n\p{L}\p{N}]?+\p{L}+ : the optional prefix is any one non-letter, non-number,
            // non-CR/LF character; being possessive it never gives back, which changes nothing here
            // because a letter can never be the prefix.
            if class0 == ScalarClass.letter { return lettersEnd(from: next) }
            if class0 == ScalarClass.other || class0 == ScalarClass.whitespace, next < count {
                let (c1, length1) = scalar(at: next)
                if classOf(c1) == ScalarClass.letter { return lettersEnd(from: next + length1) }
            }

            // 3. \p{N} : a single digit or other number character.
            if class0 == ScalarClass.number { return next }

            // 4. ' ?[^\s\p{L}\p{N}]++[\r\n]*' : an optional literal space, a run of "other" characters,
            // then any CR/LF. (` ?` can backtrack, but without the space the run would have to start
            // on the space itself, which is whitespace, so there is nothing to retry.)
            if class0 == ScalarClass.other { return lineBreaksEnd(from: othersEnd(from: next)) }
            if c0 == 0x20, next < count, classOf(scalar(at: next).value) == ScalarClass.other {
                return lineBreaksEnd(from: othersEnd(from: next))
            }

            // Only whitespace is left (class0 is whitespace or lineBreak). Measure the run once.
            var runEnd = i
            var lastScalarStart = i
            var lastLineBreakEnd = -1
            var runLength = 0
            while runEnd < count {
                let (c, length) = scalar(at: runEnd)
                let cls = classOf(c)
                guard cls == ScalarClass.whitespace || cls == ScalarClass.lineBreak else { break }
                lastScalarStart = runEnd
                runEnd += length
                runLength += 1
                if cls == ScalarClass.lineBreak { lastLineBreakEnd = runEnd }
            }
            // 5. \s*[\r\n] : \s* backtracks until a CR/LF follows, i.e. the match ends after the
            // run's last CR/LF.
            if lastLineBreakEnd >= 0 { return lastLineBreakEnd }
            // 6. \s+(?!\S) : the whole run at the end of the text; otherwise the run minus its last
            // character (which is then followed by whitespace), provided that leaves at least one.
            // 7. \s+ : a lone whitespace character before a non-space.
            if runEnd == count || runLength == 1 { return runEnd }
            return lastScalarStart
        }

        /// Matches `(?i:[sdmt]|ll|ve|re)` at `i` (just after an apostrophe). Oniguruma's case folding
        /// makes `s` also match U+017F LATIN SMALL LETTER LONG S; no other character folds to these.
        private func contractionEnd(after i: Int) -> Int? {
            let (c1, length1) = scalar(at: i)
            switch c1 {
            case 0x73, 0x53, 0x17F, 0x64, 0x44, 0x6D, 0x4D, 0x74, 0x54:  // s S ſ d D m M t T
                return i + length1
            case 0x6C, 0x4C, 0x76, 0x56, 0x72, 0x52:  // l L v V r R
                let j = i + length1
                guard j < count else { return nil }
                // The second letter is ASCII in every alternative: "l" after l, "e" after v or r.
                let expected: UInt8 = (c1 | 0x20) == 0x6C ? 0x6C : 0x65
                return (text[j] | 0x20) == expected ? j + 1 : nil
            default:
                return nil
            }
        }

        private func lettersEnd(from start: Int) -> Int {
            var j = start
            while j < count {
                let (c, length) = scalar(at: j)
                guard classOf(c) == ScalarClass.letter else { break }
                j += length
            }
            return j
        }

        private func othersEnd(from start: Int) -> Int {
            var j = start
            while j < count {
                let (c, length) = scalar(at: j)
                guard classOf(c) == ScalarClass.other else { break }
                j += length
            }
            return j
        }

        private func lineBreaksEnd(from start: Int) -> Int {
            var j = start
            while j < count, text[j] == 0x0A || text[j] == 0x0D { j += 1 }
            return j
        }
    }
}

/// The character classes the split pattern distinguishes. In Oniguruma's Unicode mode `\s` is the
/// White_Space property (so NBSP, U+3000 and U+0085 are spaces, but ZWSP and BOM are not), `\p{L}` is
/// general category L* and `\p{N}` is N*. These sets are disjoint.
enum ScalarClass {
    static let other: UInt8 = 0
    static let letter: UInt8 = 1
    static let number: UInt8 = 2
    /// White_Space other than CR and LF.
    static let whitespace: UInt8 = 3
    /// CR or LF, the `[\r\n]` of the pattern (also whitespace).
    static let lineBreak: UInt8 = 4

    /// Classes of every BMP scalar, computed once: the Unicode property lookups are too slow for the
    /// inner loop. Surrogate code points never occur in Swift strings and stay "other".
    static let bmpTable: [UInt8] = (0..<0x10000).map { compute(UInt32($0)) }

    /// `tokenizers` links Oniguruma with Unicode 16.0 tables; to it, characters assigned later are
    /// unassigned (class "other"). Swift's own tables may be newer (6.3 has Unicode 17.0).
    static let onigurumaUnicodeVersion: Unicode.Version = (major: 16, minor: 0)

    static func compute(_ value: UInt32) -> UInt8 {
        guard let scalar = Unicode.Scalar(value) else { return other }
        let properties = scalar.properties
        let result: UInt8
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            result = letter
        case .decimalNumber, .letterNumber, .otherNumber:
            result = number
        case .spaceSeparator, .lineSeparator, .paragraphSeparator, .control:
            // White_Space lies within these categories (Cc only for U+0009...U+000D and U+0085).
            guard properties.isWhitespace else { return other }
            result = value == 0x0A || value == 0x0D ? lineBreak : whitespace
        default:
            return other
        }
        // The age is the slowest property; only letters, numbers and spaces need it.
        guard let age = properties.age,
              age.major < onigurumaUnicodeVersion.major
                || (age.major == onigurumaUnicodeVersion.major && age.minor <= onigurumaUnicodeVersion.minor) else {
            return other
        }
        return result
    }
}
