/// What a Split pre-tokenizer (or ByteLevel's built-in regex) looks for, and where it finds it: the
/// matches of Oniguruma's find-iterator, as byte ranges of UTF-8 text.
enum SplitMatcher: Sendable {
    /// LLaDA's pattern, by the hand-written scanner (`PreTokenizer`); its matches tile the text.
    case llada
    /// A non-empty `{"String": ...}` pattern: its non-overlapping occurrences, leftmost first.
    case literal([UInt8])
    /// Any other pattern, translated to Swift's Regex.
    case regex(RegexSplitter)

    /// GPT-2's pattern, which the ByteLevel pre-tokenizer uses when `use_regex` is true.
    static let byteLevelPattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    /// The matcher for a Split `pattern` object; a pattern that cannot be reproduced is refused.
    init(pattern: JSONValue?, fail: (String) -> LLaDAError) throws {
        if let literal = pattern?["String"]?.stringValue {
            // tokenizers escapes the string and compiles it as a regex; an empty one matches
            // everywhere, which the regex path reproduces.
            self = literal.isEmpty ? .regex(try RegexSplitter(onigurumaPattern: "", fail: fail)) : .literal(Array(literal.utf8))
        } else if let regex = pattern?["Regex"]?.stringValue {
            self = regex == PreTokenizer.supportedPattern ? .llada : .regex(try RegexSplitter(onigurumaPattern: regex, fail: fail))
        } else {
            throw fail("Split pre-tokenizer lacks a {\"String\": ...} or {\"Regex\": ...} pattern")
        }
    }

    /// Calls `body` with each match, in order.
    func forEachMatch(in text: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        switch self {
        case .llada:
            PreTokenizer.forEachPiece(in: text, body)
        case .literal(let needle):
            var i = 0
            while i + needle.count <= text.count {
                if text[i] == needle[0] && (1..<needle.count).allSatisfy({ text[i + $0] == needle[$0] }) {
                    body(i..<(i + needle.count))
                    i += needle.count
                } else {
                    i += 1
                }
            }
        case .regex(let splitter):
            splitter.forEachMatch(in: text, body)
        }
    }
}

/// A Split pattern compiled with Swift's Regex after `OnigurumaPattern` has rewritten it.
///
/// A class so that the compiled regex is shared: `Regex` compiles its program on first use, which is
/// forced here at load time, and after that it is only read, so concurrent matching is safe.
final class RegexSplitter: @unchecked Sendable {
    private let regex: Regex<AnyRegexOutput>

    init(onigurumaPattern pattern: String, fail: (String) -> LLaDAError) throws {
        func refuse(_ reason: String) -> LLaDAError {
            fail("unsupported Split pattern \(TokenizerDefinition.quote(pattern)): \(reason)")
        }
        let translated: String
        do {
            translated = try OnigurumaPattern.translate(pattern)
        } catch let error as OnigurumaPattern.Unsupported {
            throw refuse(error.reason)
        } catch {
            throw refuse("\(error)")
        }
        do {
            // Oniguruma matches code points; Swift would otherwise match grapheme clusters.
            regex = try Regex(translated).matchingSemantics(.unicodeScalar)
        } catch {
            throw refuse("Swift's Regex cannot compile it (\(error))")
        }
        _ = "warm up".firstMatch(of: regex)
    }

    func forEachMatch(in text: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        let string = String(decoding: text, as: UTF8.self)  // valid UTF-8, so offsets are unchanged
        let utf8 = string.utf8
        var previousEnd: Int?
        for match in string.matches(of: regex) {
            let start = utf8.distance(from: utf8.startIndex, to: match.range.lowerBound)
            let end = utf8.distance(from: utf8.startIndex, to: match.range.upperBound)
            // Oniguruma's iterator drops an empty match where the previous match ended (Swift's
            // keeps it); both then go on one character later.
            if start == end && previousEnd == end { continue }
            body(start..<end)
            previousEnd = end
        }
    }
}
