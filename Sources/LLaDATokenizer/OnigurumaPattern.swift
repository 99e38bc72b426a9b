/// Rewrites a Split pattern written for Oniguruma (Ruby syntax, as `tokenizers` compiles it) into
/// Swift Regex syntax that matches exactly the same text, or says why it cannot.
///
/// Swift's Regex and Oniguruma differ in ways that change matches, so nothing is passed through
/// unchecked:
/// - Oniguruma 6.9.10 (in tokenizers 0.22) has Unicode 16.0 tables, Swift 6.3 has 17.0: every
///   property is intersected with `\p{age=16.0}` (characters assigned later are unassigned, Cn).
/// - `\s`, `\d`, `\w`, `\h` and `.` are spelled out as the sets Oniguruma uses (Swift's `\d` takes
///   "²", its `.` stops at "\r", its `\h` is horizontal space).
/// - Case-insensitive scopes are expanded by hand: Oniguruma folds "ſ" (U+017F) to "s" and "K" (U+212A)
///   to "k", Swift does not. Only ASCII may appear there, and letter pairs that a ligature folds to
///   ("ss" = "ß", "st", "ff", "fi", "fl") are refused.
/// - Every non-ASCII literal becomes `\u{...}`, so the pattern source is never read as graphemes.
/// Constructs outside this checked subset (anchors, lookbehind, backreferences, POSIX brackets,
/// nested classes, script properties...) are refused.
///
/// Tests/Fixtures/tokenizer-components checks the result against tokenizers on the GPT-2, GPT-4
/// (cl100k), GPT-4o (o200k) and LLaDA patterns and an empty-matching one.
struct OnigurumaPattern {
    struct Unsupported: Error {
        let reason: String
    }

    /// The Unicode version of Oniguruma's tables in tokenizers (the same one the LLaDA scanner uses).
    static let ageLimit = "\(ScalarClass.onigurumaUnicodeVersion.major).\(ScalarClass.onigurumaUnicodeVersion.minor)"

    static func translate(_ pattern: String) throws -> String {
        var translator = OnigurumaPattern(pattern)
        return try translator.run()
    }

    private let scalars: [Unicode.Scalar]
    private var position = 0
    private var output = ""
    /// Case-insensitivity of the enclosing groups (restored at each ")"); `ignoreCase` is the current one.
    private var groupStack: [Bool] = []
    private var ignoreCase = false
    /// The previous atom, if it was a letter in a case-insensitive scope (to spot "ss", "fi"...).
    private var previousFoldedLetter: Unicode.Scalar?

    private init(_ pattern: String) {
        scalars = Array(pattern.unicodeScalars)
    }

    private func fail(_ reason: String) -> Unsupported { Unsupported(reason: reason) }

    private var atEnd: Bool { position >= scalars.count }
    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        position + offset < scalars.count ? scalars[position + offset] : nil
    }
    private mutating func next() -> Unicode.Scalar {
        defer { position += 1 }
        return scalars[position]
    }

    private mutating func run() throws -> String {
        while !atEnd {
            let c = next()
            var letter: Unicode.Scalar?
            switch c {
            case "\\":
                output += try escapeOutsideClass()
            case "[":
                output += try characterClass()
            case "(":
                try openGroup()
            case ")":
                guard let outer = groupStack.popLast() else { throw fail("unbalanced \")\"") }
                ignoreCase = outer
                output += ")"
            case ".":
                output += #"[^\n]"#  // Ruby syntax: any character but "\n" (Swift's "." also stops at "\r")
            case "^", "$":
                throw fail("the anchor \"\(c)\" (Oniguruma's Ruby syntax makes it match at every line break)")
            case "|", "*", "+", "?":
                output.unicodeScalars.append(c)
            case "{":
                output += try interval()
            case "}", "]":
                output += Self.literal(c)  // a literal in Oniguruma
            default:
                if ignoreCase, c.isASCII, c.properties.isAlphabetic {
                    try checkFoldedPair(c)
                    letter = c
                    output += "[" + Self.caseVariants(of: c) + "]"
                } else {
                    if ignoreCase { try checkCaseless(c) }
                    output += Self.literal(c)
                }
            }
            previousFoldedLetter = letter
        }
        guard groupStack.isEmpty else { throw fail("unbalanced \"(\"") }
        return output
    }

    // MARK: - Groups and quantifiers

    private mutating func openGroup() throws {
        groupStack.append(ignoreCase)
        guard peek() == "?" else {
            output += "(?:"  // captures are irrelevant to splitting (backreferences are refused)
            return
        }
        position += 1
        switch peek() {
        case ":":
            position += 1
            output += "(?:"
        case "=", "!", ">":
            output += "(?" + String(next())
        case "<":
            if peek(1) == "=" || peek(1) == "!" { throw fail("lookbehind (Swift's Regex has none)") }
            // A named group: its name does not matter.
            while !atEnd, next() != ">" {}
            output += "(?:"
        default:
            // Flags: (?i:...), (?-i:...), or (?i) / (?-i) for the rest of the group.
            var on = true
            var flag = ignoreCase
            while let c = peek(), c != ":" && c != ")" {
                position += 1
                switch c {
                case "-": on = false
                case "i": flag = on
                default: throw fail("the group option \"\(c)\" (only i is supported)")
                }
            }
            guard let end = peek() else { throw fail("unterminated group") }
            position += 1
            if end == ":" {
                ignoreCase = flag
                output += "(?:"
            } else {
                // "(?i)": applies to the rest of the enclosing group, which opened nothing new.
                groupStack.removeLast()
                ignoreCase = flag
            }
        }
    }

    /// `{n}`, `{n,}`, `{n,m}` or `{,m}`; anything else is a literal "{" in Oniguruma.
    private mutating func interval() throws -> String {
        var j = position
        var text = ""
        while j < scalars.count, scalars[j] != "}" {
            text.unicodeScalars.append(scalars[j])
            j += 1
        }
        let parts = text.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false)
        let isInterval = j < scalars.count && !text.isEmpty && parts.count <= 2
            && parts.allSatisfy { $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
            && !(parts.count == 1 && parts[0].isEmpty) && !(parts.count == 2 && parts[0].isEmpty && parts[1].isEmpty)
        guard isInterval else { return Self.literal("{") }
        position = j + 1
        if peek() == "+" {
            // In Ruby syntax "{n,m}+" repeats the repetition; Swift would read it as possessive.
            throw fail("an interval followed by \"+\"")
        }
        return "{" + text + "}"
    }

    // MARK: - Escapes

    private mutating func escapeOutsideClass() throws -> String {
        guard !atEnd else { throw fail("a trailing backslash") }
        let c = next()
        if let set = try classEscape(c) {
            if ignoreCase { throw fail("\"\\\(c)\" inside a case-insensitive group") }
            return set
        }
        let scalar = try literalEscape(c)
        if ignoreCase { try checkCaseless(scalar) }
        return Self.literal(scalar)
    }

    /// A set escape (`\s`, `\p{L}`...) as a Swift class, or nil if `c` is not one.
    private mutating func classEscape(_ c: Unicode.Scalar) throws -> String? {
        switch c {
        case "s": return Self.space
        case "S": return "[^" + Self.spaceMembers + "]"
        case "d": return Self.property("Nd", negated: false)
        case "D": return Self.property("Nd", negated: true)
        case "w": return Self.word
        case "W": return "[^" + Self.word + "]"
        case "h": return "[0-9a-fA-F]"
        case "H": return "[^0-9a-fA-F]"
        case "p", "P":
            guard peek() == "{" else { throw fail("\"\\\(c)\" without {...}") }
            position += 1
            var name = ""
            while !atEnd, peek() != "}" { name.unicodeScalars.append(next()) }
            guard !atEnd else { throw fail("an unterminated \\\(c){") }
            position += 1
            var negated = c == "P"
            if name.hasPrefix("^") {
                negated.toggle()
                name.removeFirst()
            }
            guard let category = Self.generalCategory(name) else {
                throw fail("the property \\\(c){\(name)} (only general categories such as L, Lu, N, P are supported)")
            }
            return Self.property(category, negated: negated)
        default:
            return nil
        }
    }

    /// The character an escape stands for (`\n`, `\x{41}`, `\.`...).
    private mutating func literalEscape(_ c: Unicode.Scalar) throws -> Unicode.Scalar {
        switch c {
        case "n": return "\n"
        case "r": return "\r"
        case "t": return "\t"
        case "f": return "\u{C}"
        case "v": return "\u{B}"
        case "a": return "\u{7}"
        case "e": return "\u{1B}"
        case "x":
            if peek() == "{" {
                position += 1
                return try hexScalar(until: "}")
            }
            return try hexScalar(count: 1...2)
        case "u":
            return try hexScalar(count: 4...4)
        default:
            // Other letter or digit escapes are anchors (\b, \A, \z...), backreferences or Oniguruma
            // specials (\R, \X, \K...): none is supported. An escaped symbol is the symbol itself.
            if c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c)) {
                throw fail("the escape \"\\\(c)\"")
            }
            return c
        }
    }

    private mutating func hexScalar(count: ClosedRange<Int>) throws -> Unicode.Scalar {
        var digits = ""
        while digits.count < count.upperBound, let c = peek(), c.properties.isASCIIHexDigit {
            digits.unicodeScalars.append(next())
        }
        guard count.contains(digits.count) else { throw fail("a malformed hexadecimal escape") }
        return try scalar(hex: digits)
    }

    private mutating func hexScalar(until terminator: Unicode.Scalar) throws -> Unicode.Scalar {
        var digits = ""
        while let c = peek(), c != terminator {
            digits.unicodeScalars.append(next())
        }
        guard !atEnd else { throw fail("a malformed hexadecimal escape") }
        position += 1
        return try scalar(hex: digits)
    }

    private func scalar(hex: String) throws -> Unicode.Scalar {
        guard !hex.isEmpty, hex.count <= 6, let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value) else {
            throw fail("a malformed hexadecimal escape")
        }
        return scalar
    }

    // MARK: - Character classes

    /// `[...]` (after the "["): members copied with the same translations; ranges checked.
    private mutating func characterClass() throws -> String {
        var result = "["
        if peek() == "^" {
            position += 1
            result += "^"
        }
        if peek() == "]" { throw fail("a class starting with \"]\"") }
        var letters = Set<Unicode.Scalar>()  // ASCII letters covered, for case-insensitive scopes
        var members = ""
        while true {
            guard !atEnd else { throw fail("an unterminated character class") }
            let c = next()
            if c == "]" { break }
            if c == "[" { throw fail("a nested class or POSIX bracket inside [...]") }
            if c == "&", peek() == "&" { throw fail("a class intersection (&&)") }
            var low: Unicode.Scalar
            if c == "\\" {
                guard !atEnd else { throw fail("a trailing backslash") }
                let e = next()
                if let set = try classEscape(e) {
                    if ignoreCase { throw fail("\"\\\(e)\" inside a case-insensitive group") }
                    members += set  // a nested class, which Swift accepts inside a class
                    continue
                }
                low = try literalEscape(e)
            } else {
                low = c
            }
            // A range "low-high" (a "-" before "]" is a literal).
            if peek() == "-", let after = peek(1), after != "]" {
                position += 1
                var high = next()
                if high == "\\" {
                    guard !atEnd else { throw fail("a trailing backslash") }
                    let e = next()
                    if try classEscape(e) != nil { throw fail("a range ending in a set escape") }
                    high = try literalEscape(e)
                }
                guard low.value <= high.value else { throw fail("an inverted range") }
                if ignoreCase { try checkCaselessRange(low, high, letters: &letters) }
                members += Self.range(low, high)
            } else {
                if ignoreCase {
                    if low.isASCII && low.properties.isAlphabetic {
                        letters.insert(low)
                    } else {
                        try checkCaseless(low)
                    }
                }
                members += Self.literal(low)
            }
        }
        for letter in letters.sorted(by: { $0.value < $1.value }) { members += Self.caseVariants(of: letter) }
        guard !members.isEmpty else { throw fail("an empty class") }
        return result + members + "]"
    }

    private func checkCaselessRange(_ low: Unicode.Scalar, _ high: Unicode.Scalar, letters: inout Set<Unicode.Scalar>) throws {
        for value in low.value...high.value {
            guard let scalar = Unicode.Scalar(value) else { continue }
            if scalar.isASCII && scalar.properties.isAlphabetic {
                letters.insert(scalar)
            } else {
                try checkCaseless(scalar)
            }
        }
    }

    // MARK: - Case folding

    /// Only ASCII may appear in a case-insensitive scope: Oniguruma's folding of other characters
    /// (and of letters followed by combining marks, "i\u{307}" matching "İ") is not reproduced.
    private func checkCaseless(_ c: Unicode.Scalar) throws {
        if !c.isASCII {
            throw fail("the non-ASCII character \(Self.literal(c)) inside a case-insensitive group")
        }
    }

    /// Oniguruma also matches a ligature for these letter pairs (e.g. "(?i:ss)" matches "ß").
    private func checkFoldedPair(_ c: Unicode.Scalar) throws {
        guard let previous = previousFoldedLetter else { return }
        let pair = String(Character(previous)).lowercased() + String(Character(c)).lowercased()
        if ["ss", "st", "ff", "fi", "fl"].contains(pair) {
            throw fail("the letters \"\(pair)\" inside a case-insensitive group (Oniguruma also matches a ligature there)")
        }
    }

    /// Both cases of an ASCII letter and the other characters Oniguruma folds to it.
    private static func caseVariants(of letter: Unicode.Scalar) -> String {
        let lower = Character(letter).lowercased(), upper = Character(letter).uppercased()
        switch lower {
        case "s": return lower + upper + #"\u{17F}"#
        case "k": return lower + upper + #"\u{212A}"#
        default: return lower + upper
        }
    }

    // MARK: - Spelling

    /// Oniguruma's \s: U+0009...U+000D, space, U+0085 and the Zs, Zl, Zp characters. (U+2000 and U+2001
    /// are listed alone: Swift refuses them as range bounds, since NFC maps them to U+2002 and U+2003.)
    private static let spaceMembers = #"\u{9}-\u{D}\u{20}\u{85}\u{A0}\u{1680}\u{2000}\u{2001}\u{2002}-\u{200A}\u{2028}\u{2029}\u{202F}\u{205F}\u{3000}"#
    private static let space = "[" + spaceMembers + "]"
    /// Oniguruma's \w: Alphabetic, marks, decimal digits, connector punctuation, and the Latin-1
    /// number characters ¹²³¼½¾, which its tables count as word characters.
    private static let word = #"[[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\u{B2}\u{B3}\u{B9}\u{BC}-\u{BE}]&&\p{age="# + ageLimit + "}]"

    private static let categories: [String: String] = {
        var table: [String: String] = [:]
        for short in ["L", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "Mn", "Mc", "Me", "N", "Nd", "Nl", "No", "P", "Pc",
                      "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "S", "Sm", "Sc", "Sk", "So", "Z", "Zs", "Zl", "Zp",
                      "C", "Cc", "Cf", "Cs", "Co", "Cn"] {
            table[short.lowercased()] = short
        }
        let long = ["letter": "L", "mark": "M", "number": "N", "punctuation": "P", "symbol": "S",
                    "separator": "Z", "other": "C", "uppercaseletter": "Lu", "lowercaseletter": "Ll",
                    "decimalnumber": "Nd", "unassigned": "Cn", "control": "Cc", "format": "Cf"]
        table.merge(long) { first, _ in first }
        return table
    }()

    /// Oniguruma ignores case, spaces, "_" and "-" in property names.
    private static func generalCategory(_ name: String) -> String? {
        categories[String(name.lowercased().filter { $0 != " " && $0 != "_" && $0 != "-" })]
    }

    /// A general category as Oniguruma's Unicode 16.0 tables have it.
    private static func property(_ category: String, negated: Bool) -> String {
        // Characters assigned after 16.0 are unassigned (Cn) there: Cn and C gain them, the others lose them.
        let set = category == "C" || category == "Cn"
            ? #"[\p{"# + category + #"}\P{age="# + ageLimit + "}]"
            : #"[\p{"# + category + #"}&&\p{age="# + ageLimit + "}]"
        return negated ? "[^" + set + "]" : set
    }

    /// A class range; a bound that Swift refuses (a character NFC maps elsewhere) is listed alone and
    /// the range starts or ends one character further in.
    private static func range(_ low: Unicode.Scalar, _ high: Unicode.Scalar) -> String {
        var members = ""
        var low = low.value, high = high.value
        while low < high, !acceptedAsBound(low) {
            members += literal(Unicode.Scalar(low)!)
            low += 1
            while Unicode.Scalar(low) == nil { low += 1 }
        }
        var tail = ""
        while low < high, !acceptedAsBound(high) {
            tail = literal(Unicode.Scalar(high)!) + tail
            high -= 1
            while Unicode.Scalar(high) == nil { high -= 1 }
        }
        members += low == high ? literal(Unicode.Scalar(low)!) : literal(Unicode.Scalar(low)!) + "-" + literal(Unicode.Scalar(high)!)
        return members + tail
    }

    private static func acceptedAsBound(_ value: UInt32) -> Bool {
        let scalar = literal(Unicode.Scalar(value)!)
        return (try? Regex("[" + scalar + "-" + scalar + "]")) != nil
    }

    /// One character as a Swift regex literal: ASCII letters, digits and space as themselves, all
    /// else as \u{...} (never a metacharacter, never joined with a neighbour into a grapheme).
    static func literal(_ c: Unicode.Scalar) -> String {
        if c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || c == " ") { return String(c) }
        return "\\u{" + String(c.value, radix: 16, uppercase: true) + "}"
    }
}
