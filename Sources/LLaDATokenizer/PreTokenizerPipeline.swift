/// The `pre_tokenizer` of a tokenizer.json: Split steps (any pattern, behavior and invert) then one
/// ByteLevel step, alone or in a (possibly nested) Sequence, cutting text into the words BPE encodes.
///
/// Every step works on each piece the previous steps left, as `tokenizers`' PreTokenizedString does.
/// ByteLevel must come last: after it the text would be byte symbols, which a later Split would see.
struct PreTokenizerPipeline: Sendable {
    /// tokenizers' SplitDelimiterBehavior.
    enum Behavior: String, Sendable {
        case isolated = "Isolated", removed = "Removed", mergedWithPrevious = "MergedWithPrevious"
        case mergedWithNext = "MergedWithNext", contiguous = "Contiguous"
    }

    struct Split: Sendable {
        let matcher: SplitMatcher
        let behavior: Behavior
        let invert: Bool
    }

    let splits: [Split]
    /// ByteLevel's add_prefix_space: a space before every piece that does not start with one.
    let addPrefixSpace: Bool
    /// ByteLevel's use_regex: GPT-2's pattern splits each piece (Isolated).
    let byteLevelSplit: SplitMatcher?
    /// Exactly LLaDA's pipeline, whose scanner's pieces are the words (the fast path).
    let isLLaDA: Bool

    static let supported = "Split and ByteLevel, alone or in a Sequence that ends with its one ByteLevel"

    init(json: JSONValue?, fail: (String) -> LLaDAError) throws {
        guard let json, !json.isNull else { throw fail("missing pre_tokenizer (supported: \(Self.supported))") }
        var steps: [JSONValue] = []
        func flatten(_ value: JSONValue) throws {
            if value["type"]?.stringValue == "Sequence" {
                guard let inner = value["pretokenizers"]?.arrayValue else {
                    throw fail("pre_tokenizer Sequence lacks its \"pretokenizers\" array")
                }
                for step in inner { try flatten(step) }
            } else {
                steps.append(value)
            }
        }
        try flatten(json)

        var splits: [Split] = []
        var byteLevel: JSONValue?
        for step in steps {
            let type = step["type"]?.stringValue
            if byteLevel != nil {
                throw fail("unsupported pre_tokenizer \(TokenizerDefinition.describe(step)) after ByteLevel (supported: \(Self.supported))")
            }
            switch type {
            case "Split":
                guard let name = step["behavior"]?.stringValue, let behavior = Behavior(rawValue: name) else {
                    throw fail("unsupported Split behavior \(TokenizerDefinition.describe(step["behavior"])) (supported: Isolated, Removed, MergedWithPrevious, MergedWithNext, Contiguous)")
                }
                guard step["invert"] == nil || step["invert"]?.boolValue != nil else {
                    throw fail("Split invert must be true or false")
                }
                splits.append(Split(matcher: try SplitMatcher(pattern: step["pattern"], fail: fail), behavior: behavior,
                                    invert: step["invert"]?.boolValue ?? false))
            case "ByteLevel":
                byteLevel = step
            default:
                throw fail("unsupported pre_tokenizer \(TokenizerDefinition.describe(step)) (supported: \(Self.supported))")
            }
        }
        guard let byteLevel else {
            throw fail("pre_tokenizer has no ByteLevel step (byte-level BPE needs one; supported: \(Self.supported))")
        }
        self.splits = splits
        // Missing options as the engine always read them (tokenizers requires add_prefix_space and
        // defaults use_regex to true).
        addPrefixSpace = byteLevel["add_prefix_space"]?.boolValue ?? false
        byteLevelSplit = byteLevel["use_regex"]?.boolValue ?? true
            ? .regex(try RegexSplitter(onigurumaPattern: SplitMatcher.byteLevelPattern, fail: fail)) : nil
        if splits.count == 1, case .llada = splits[0].matcher, splits[0].behavior == .isolated, !splits[0].invert,
           !addPrefixSpace, byteLevelSplit == nil {
            isLLaDA = true
        } else {
            isLLaDA = false
        }
    }

    /// Whether the words hold every byte of the text and nothing else: false when a Split removes
    /// text or ByteLevel adds prefix spaces.
    var keepsText: Bool { !addPrefixSpace && !splits.contains { $0.behavior == .removed } }

    /// Calls `body` with every word of `text` (non-empty), in order.
    func forEachWord(in text: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        guard !text.isEmpty else { return }
        if isLLaDA {
            PreTokenizer.forEachPiece(in: text) { body(UnsafeBufferPointer(rebasing: text[$0])) }
            return
        }
        var scratch: [UInt8] = []
        apply(step: 0, to: text, scratch: &scratch, body)
    }

    private func apply(step: Int, to piece: UnsafeBufferPointer<UInt8>, scratch: inout [UInt8],
                       _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        guard step < splits.count else {
            finishByteLevel(piece, scratch: &scratch, body)
            return
        }
        splits[step].forEachPiece(of: piece) { range in
            apply(step: step + 1, to: UnsafeBufferPointer(rebasing: piece[range]), scratch: &scratch, body)
        }
    }

    private func finishByteLevel(_ piece: UnsafeBufferPointer<UInt8>, scratch: inout [UInt8],
                                 _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        func split(_ piece: UnsafeBufferPointer<UInt8>) {
            guard let byteLevelSplit else { return body(piece) }
            Split(matcher: byteLevelSplit, behavior: .isolated, invert: false).forEachPiece(of: piece) {
                body(UnsafeBufferPointer(rebasing: piece[$0]))
            }
        }
        guard addPrefixSpace && piece.first != 0x20 else { return split(piece) }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(0x20)
        scratch.append(contentsOf: piece)
        scratch.withUnsafeBufferPointer { split($0) }  // the last step: nothing else touches scratch
    }
}

extension PreTokenizerPipeline.Split {
    /// The non-empty pieces this step cuts `piece` into, as tokenizers' NormalizedString.split does:
    /// the matches and the stretches between them, flagged (and the flags inverted if asked), then
    /// kept, dropped or merged by the behavior.
    func forEachPiece(of piece: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        if behavior == .isolated {
            // Every stretch is kept as it is: no need to collect them.
            var previous = 0
            matcher.forEachMatch(in: piece) { match in
                if previous < match.lowerBound { body(previous..<match.lowerBound) }
                if !match.isEmpty { body(match) }
                previous = match.upperBound
            }
            if previous < piece.count { body(previous..<piece.count) }
            return
        }
        var marked: [(range: Range<Int>, isMatch: Bool)] = []
        var previous = 0
        matcher.forEachMatch(in: piece) { match in
            if previous != match.lowerBound { marked.append((previous..<match.lowerBound, invert)) }
            marked.append((match, !invert))
            previous = match.upperBound
        }
        if previous != piece.count { marked.append((previous..<piece.count, invert)) }

        var kept: [Range<Int>] = []
        switch behavior {
        case .isolated:
            kept = marked.map(\.range)
        case .removed:
            kept = marked.filter { !$0.isMatch }.map(\.range)
        case .contiguous:
            // Runs of stretches with the same flag become one piece.
            var previousMatch = false
            for (range, isMatch) in marked {
                if isMatch == previousMatch, let last = kept.last {
                    kept[kept.count - 1] = last.lowerBound..<range.upperBound
                } else {
                    kept.append(range)
                }
                previousMatch = isMatch
            }
        case .mergedWithPrevious:
            var previousMatch = false
            for (range, isMatch) in marked {
                if isMatch && !previousMatch, let last = kept.last {
                    kept[kept.count - 1] = last.lowerBound..<range.upperBound
                } else {
                    kept.append(range)
                }
                previousMatch = isMatch
            }
        case .mergedWithNext:
            // The same from the end: a match joins the stretch after it.
            var previousMatch = false
            for (range, isMatch) in marked.reversed() {
                if isMatch && !previousMatch, let last = kept.last {
                    kept[kept.count - 1] = range.lowerBound..<last.upperBound
                } else {
                    kept.append(range)
                }
                previousMatch = isMatch
            }
            kept.reverse()
        }
        for range in kept where !range.isEmpty { body(range) }
    }
}
