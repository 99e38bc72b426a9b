import LLaDAEngine
/// The BPE part of the synthetic tokenizer: the 256 byte-level symbols (sorted by code point, as in
/// LLaDA) and one merge per further id, merge i creating id 256 + i. Deterministic and independent
/// of the weight seed.
///
/// The first merges come from real BPE training on a small Zipf-weighted list of common English
/// words, so English text tokenizes into plausible pieces; the rest join random pairs of existing
/// letter tokens (a word-start token with a continuation), which keeps every merge reachable by
/// LLaDA's pre-tokenizer. Every merge creates a new, distinct string.
struct SyntheticMerges {
    /// Token strings by id (byte-level symbols, e.g. "Ġthe").
    private(set) var tokens: [String] = []
    /// (left id, right id) of each merge, in rank order.
    private(set) var merges: [(left: Int, right: Int)] = []
    private var ids: [String: Int] = [:]

    init(count: Int) {
        precondition(count >= 256, "a byte-level vocabulary holds at least the 256 byte symbols")
        tokens.reserveCapacity(count)
        ids.reserveCapacity(count)
        for scalar in ByteLevel.scalarForByte.sorted(by: { $0.value < $1.value }) {
            add(String(Character(scalar)))
        }
        trainOnWordList(until: count)
        addRandomMerges(until: count)
    }

    private mutating func add(_ token: String) {
        ids[token] = tokens.count
        tokens.append(token)
    }

    // MARK: - Phase 1: BPE training on common words

    private struct Word {
        var symbols: [Int]
        let weight: Int
    }

    private mutating func trainOnWordList(until count: Int) {
        var words = Self.trainingWords().map { text, weight in
            Word(symbols: ByteLevel.symbols(forBytes: text.utf8).unicodeScalars.map { ids[String(Character($0))]! }, weight: weight)
        }
        while tokens.count < count {
            var counts: [Int: Int] = [:]
            for word in words where word.symbols.count > 1 {
                for j in 0..<(word.symbols.count - 1) {
                    counts[word.symbols[j] << 32 | word.symbols[j + 1], default: 0] += word.weight
                }
            }
            // Highest count, ties to the smaller pair of ids: independent of Dictionary's order.
            guard let best = counts.max(by: { ($0.value, -$0.key) < ($1.value, -$1.key) })?.key else { return }
            let (left, right) = (best >> 32, best & 0xFFFF_FFFF)
            let merged = tokens[left] + tokens[right]
            // A string reachable by two different pairs becomes a token once; the later pair is
            // applied to the training words but not emitted, so every merge creates a new token.
            let mergedID: Int
            if let existing = ids[merged] {
                mergedID = existing
            } else {
                mergedID = tokens.count
                add(merged)
                merges.append((left, right))
            }
            for w in words.indices where words[w].symbols.count > 1 {
                var symbols = words[w].symbols, j = 0
                while j < symbols.count - 1 {
                    if symbols[j] == left && symbols[j + 1] == right {
                        symbols[j] = mergedID
                        symbols.remove(at: j + 1)
                    }
                    j += 1
                }
                words[w].symbols = symbols
            }
        }
    }

    /// Running text puts most words after a space ("Ġthe"); capitalised and bare forms are rarer.
    /// Whitespace and punctuation runs are pieces LLaDA's pre-tokenizer produces.
    private static func trainingWords() -> [(String, Int)] {
        var result: [(String, Int)] = []
        for (rank, word) in commonWords.split(separator: " ").enumerated() {
            let weight = 100_000 / (rank + 10)
            result.append((" " + word, weight))
            result.append((String(word), weight / 4))
            result.append((" " + word.prefix(1).uppercased() + word.dropFirst(), weight / 8))
        }
        for (piece, weight) in [("\n\n", 20_000), ("  ", 4_000), ("    ", 3_000), ("        ", 2_000), ("\t\t", 1_000),
                                (".\n", 3_000), (",", 5_000), (" (", 1_500), ("();\n", 500), (" {\n", 800), ("...", 600)] {
            result.append((piece, weight))
        }
        return result
    }

    private static let commonWords = """
        the of and to in is was for that on as with by it he at from his an were are which this be or has \
        had not first one their its new after but who they have her she two been other when there all also \
        into during time more most can only over would some years may about such year out many no up these \
        where than three then later them used between both made under him world people city known season \
        through well national state while however including team being part could school united since four \
        second film century series what each game music found before high group did government like work \
        life several number became area called against because now early name our will history five around \
        use system those back until very same any within family public main band left another should \
        university war day began development north south east west company following american english water \
        language different small large important example question answer problem thinking reasoning \
        therefore solution result value function return string integer data model training generate token \
        sequence diffusion process information program computer science mathematics calculate total equal \
        every find given step next final
        """
}

// MARK: - Phase 2: random merges of letter tokens

extension SyntheticMerges {
    private static func isLetters<S: StringProtocol>(_ text: S) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy { ($0.value >= 0x41 && $0.value <= 0x5A) || ($0.value >= 0x61 && $0.value <= 0x7A) }
    }

    /// "Ġ" followed by letters: a word start after a space.
    private static func isSpacedWord(_ text: String) -> Bool {
        text.hasPrefix("Ġ") && isLetters(text.dropFirst())
    }

    fileprivate mutating func addRandomMerges(until count: Int) {
        var continuations: [Int] = []  // letters only: may follow anything
        var starts: [Int] = []         // letters or Ġ+letters: may begin a merge
        var lengths = tokens.map(\.unicodeScalars.count)
        for (id, token) in tokens.enumerated() {
            if Self.isLetters(token) { continuations.append(id); starts.append(id) }
            else if Self.isSpacedWord(token) || token == "Ġ" { starts.append(id) }
        }
        var random = SplitMix64(seed: 0x5EED_70C3)
        // The smaller of two uniform draws favours early (short, common) tokens, like real merges.
        func pick(_ pool: [Int]) -> Int {
            pool[min(Int(random.next() % UInt64(pool.count)), Int(random.next() % UInt64(pool.count)))]
        }
        while tokens.count < count {
            let left = pick(starts), right = pick(continuations)
            guard lengths[left] + lengths[right] <= Self.maximumLength else { continue }
            let merged = tokens[left] + tokens[right]
            guard ids[merged] == nil else { continue }
            let id = tokens.count
            add(merged)
            lengths.append(lengths[left] + lengths[right])
            merges.append((left, right))
            starts.append(id)
            if Self.isLetters(merged) { continuations.append(id) }
        }
    }

    /// Longest random token, in characters (real BPE vocabularies are mostly shorter than this).
    private static let maximumLength = 12
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough for synthetic data.
struct SplitMix64 {
    static let increment: UInt64 = 0x9E37_79B9_7F4A_7C15
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= Self.increment
        return Self.mix(state)
    }

    /// The output function: a bijective 64-bit finaliser, also used as a counter-based generator.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
