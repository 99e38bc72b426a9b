/// Unicode normalisation (NFC, NFD, NFKC, NFKD) as `tokenizers` computes it.
///
/// Neither Foundation's `precomposedStringWithCanonicalMapping` nor the standard library can be used:
/// both skip canonical reordering around U+0F73/U+0F75/U+0F81 (e.g. "_\u{31B}\u{F73}" stays
/// unordered), and `tokenizers` uses Unicode 9.0 tables, so combining marks added later are starters
/// for it and later compatibility characters have no decomposition. This is the textbook algorithm
/// (full decomposition, canonical ordering, then canonical composition for the C forms) over the
/// Unicode 9.0 data in `NFCData` and, for the K forms, the compatibility decompositions in `NFKCData`.
struct UnicodeNormalizer: ByteNormalizer, Sendable {
    static let nfc = UnicodeNormalizer(compatibility: false, composes: true)
    static let nfd = UnicodeNormalizer(compatibility: false, composes: false)
    static let nfkc = UnicodeNormalizer(compatibility: true, composes: true)
    static let nfkd = UnicodeNormalizer(compatibility: true, composes: false)

    private let tables: NormalizationTables
    private let composes: Bool
    /// Scalars whose UTF-8 lead byte is below this are left alone (see `normalize`).
    private let firstAffectedLeadByte: UInt8

    private init(compatibility: Bool, composes: Bool) {
        tables = compatibility ? .compatibility : .canonical
        self.composes = composes
        // Scalars below U+0300 have combining class 0, never compose as the second of a pair and, in
        // NFC, are their own normal form. NFD also decomposes some of them (U+00C0...) and the K forms
        // map some (U+00A0, U+00B2...), so those look at every non-ASCII scalar (lead byte >= 0xC2).
        firstAffectedLeadByte = composes && !compatibility ? 0xCC : 0xC2
    }

    // Hangul syllables compose and decompose arithmetically.
    static let hangulSBase: UInt32 = 0xAC00, hangulLBase: UInt32 = 0x1100
    static let hangulVBase: UInt32 = 0x1161, hangulTBase: UInt32 = 0x11A7
    static let hangulLCount: UInt32 = 19, hangulVCount: UInt32 = 21, hangulTCount: UInt32 = 28
    static let hangulNCount = hangulVCount * hangulTCount, hangulSCount = hangulLCount * hangulNCount

    /// Returns the normal form of UTF-8 `text`, or nil when `text` is already normal (the common case).
    ///
    /// Scalars with a lead byte below `firstAffectedLeadByte` are unchanged by this form, have
    /// combining class 0 and are never the second half of a composition, so normalisation never
    /// reaches across one. Only the stretches around the other scalars (lead bytes >= 0xC2 or 0xCC, values
    /// no continuation byte takes) are normalised, each together with the scalar before it (a starter
    /// the marks may compose with).
    func normalize(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let threshold = firstAffectedLeadByte
        guard var i = text.firstIndex(where: { $0 >= threshold }) else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(text.count + 16)
        var copiedUpTo = 0
        var scalars: [UInt32] = []
        var classes: [UInt8] = []
        while i < text.count {
            guard text[i] >= threshold else {
                i += 1
                continue
            }
            var regionStart = i
            if regionStart > copiedUpTo {
                regionStart -= 1
                while regionStart > copiedUpTo && text[regionStart] & 0xC0 == 0x80 { regionStart -= 1 }
            }
            // Extend over later non-trivial scalars separated by short trivial gaps (fewer regions).
            var regionEnd = i + Self.scalarLength(lead: text[i])
            var j = regionEnd
            while j < text.count && j - regionEnd < 32 {
                if text[j] >= threshold {
                    regionEnd = j + Self.scalarLength(lead: text[j])
                    j = regionEnd
                } else {
                    j += 1
                }
            }
            output.append(contentsOf: text[copiedUpTo..<regionStart])
            decomposeAndOrder(UnsafeBufferPointer(rebasing: text[regionStart..<regionEnd]),
                              into: &scalars, classes: &classes)
            if composes { compose(&scalars, classes: classes) }
            for scalar in scalars { Self.appendUTF8(scalar, to: &output) }
            copiedUpTo = regionEnd
            i = regionEnd
        }
        output.append(contentsOf: text[copiedUpTo...])
        return output
    }


    /// Full canonical decomposition followed by canonical ordering (a stable sort of each run of
    /// non-starters by combining class, done by insertion as scalars arrive).
    private func decomposeAndOrder(_ text: UnsafeBufferPointer<UInt8>, into scalars: inout [UInt32],
                                   classes: inout [UInt8]) {
        scalars.removeAll(keepingCapacity: true)
        classes.removeAll(keepingCapacity: true)
        func append(_ scalar: UInt32, _ cls: UInt8) {
            scalars.append(scalar)
            classes.append(cls)
            guard cls != 0 else { return }
            var k = scalars.count - 1
            while k > 0 && classes[k - 1] > cls {
                scalars.swapAt(k - 1, k)
                classes.swapAt(k - 1, k)
                k -= 1
            }
        }
        var i = 0
        while i < text.count {
            let (scalar, length) = UTF8Scalars.decode(text, at: i)
            i += length
            guard tables.hasProperties.contains(scalar) else {
                let sIndex = scalar &- Self.hangulSBase
                if sIndex < Self.hangulSCount {
                    append(Self.hangulLBase + sIndex / Self.hangulNCount, 0)
                    append(Self.hangulVBase + (sIndex % Self.hangulNCount) / Self.hangulTCount, 0)
                    if sIndex % Self.hangulTCount != 0 { append(Self.hangulTBase + sIndex % Self.hangulTCount, 0) }
                } else {
                    append(scalar, 0)
                }
                continue
            }
            let packed = tables.properties[scalar]!
            let count = Int(packed >> 40)
            if count == 0 {
                append(scalar, UInt8(truncatingIfNeeded: packed))
                continue
            }
            let start = Int((packed >> 8) & 0xFFFF_FFFF)
            for part in tables.decompositionStorage[start..<(start + count)] { append(part, tables.combiningClass(of: part)) }
        }
    }

    private func primaryComposite(_ first: UInt32, _ second: UInt32) -> UInt32? {
        guard tables.mayComposeAsSecond.contains(second) else { return nil }
        let lIndex = first &- Self.hangulLBase, vIndex = second &- Self.hangulVBase
        if lIndex < Self.hangulLCount && vIndex < Self.hangulVCount {
            return Self.hangulSBase + (lIndex * Self.hangulVCount + vIndex) * Self.hangulTCount
        }
        let sIndex = first &- Self.hangulSBase, tIndex = second &- Self.hangulTBase
        if sIndex < Self.hangulSCount && sIndex % Self.hangulTCount == 0 && tIndex > 0 && tIndex < Self.hangulTCount {
            return first + tIndex
        }
        return tables.compositions[UInt64(first) << 32 | UInt64(second)]
    }

    /// Canonical composition: each scalar joins the last starter unless a scalar in between has
    /// class 0 or a class >= its own ("blocked"); a starter directly after the last starter may
    /// compose with it too (Hangul LV + T, some Indic vowel signs).
    private func compose(_ scalars: inout [UInt32], classes: [UInt8]) {
        var kept = 0
        var starter = -1  // index (in the kept prefix) of the last starter
        var lastClass = -1  // class of the last kept scalar after `starter`; -1 if none
        for k in 0..<scalars.count {
            let scalar = scalars[k]
            let cls = Int(classes[k])
            if starter >= 0 && (lastClass == -1 || lastClass < cls),
               let composite = primaryComposite(scalars[starter], scalar) {
                scalars[starter] = composite
                continue
            }
            scalars[kept] = scalar
            if cls == 0 {
                starter = kept
                lastClass = -1
            } else {
                lastClass = cls
            }
            kept += 1
        }
        scalars.removeLast(scalars.count - kept)
    }

    private static func scalarLength(lead: UInt8) -> Int {
        lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
    }

    static func appendUTF8(_ scalar: UInt32, to output: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            output.append(UInt8(scalar))
        case 0x80..<0x800:
            output.append(UInt8(0xC0 | scalar >> 6))
            output.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            output.append(UInt8(0xE0 | scalar >> 12))
            output.append(UInt8(0x80 | (scalar >> 6) & 0x3F))
            output.append(UInt8(0x80 | scalar & 0x3F))
        default:
            output.append(UInt8(0xF0 | scalar >> 18))
            output.append(UInt8(0x80 | (scalar >> 12) & 0x3F))
            output.append(UInt8(0x80 | (scalar >> 6) & 0x3F))
            output.append(UInt8(0x80 | scalar & 0x3F))
        }
    }
}

/// Decomposition data of one family of forms (canonical for NFC/NFD, compatibility for NFKC/NFKD),
/// built once on first use. A class so that the four normalisers share two copies.
final class NormalizationTables: Sendable {
    static let canonical = NormalizationTables(compatibility: false)
    static let compatibility = NormalizationTables(compatibility: true)

    /// Scalar -> canonical combining class (non-zero only) and full decomposition (if any), packed as
    /// class | start << 8 | count << 40 into `decompositionStorage`.
    let properties: [UInt32: UInt64]
    let decompositionStorage: [UInt32]
    /// first << 32 | second -> primary composite (canonical compositions only, for every form).
    let compositions: [UInt64: UInt32]
    /// One bit per scalar: set if it is in `properties` (non-zero class or a decomposition). Most
    /// scalars in a region (CJK, Greek or Cyrillic letters...) are clear and skip the dictionary.
    let hasProperties: Bitset
    /// One bit per scalar: set if it can be the second of a composing pair (Hangul jamo included).
    let mayComposeAsSecond: Bitset

    private init(compatibility: Bool) {
        var combiningClass: [UInt32: UInt8] = [:]
        let ranges = NFCData.combiningClassRanges
        for i in stride(from: 0, to: ranges.count, by: 3) {
            for scalar in ranges[i]...ranges[i + 1] { combiningClass[scalar] = UInt8(ranges[i + 2]) }
        }

        var mapping: [UInt32: [UInt32]] = [:]
        var compositions: [UInt64: UInt32] = [:]
        let excluded = Set(NFCData.compositionExclusions)
        let table = NFCData.decompositions
        for i in stride(from: 0, to: table.count, by: 3) {
            let (scalar, first, second) = (table[i], table[i + 1], table[i + 2])
            mapping[scalar] = second == 0 ? [first] : [first, second]
            if second != 0 && !excluded.contains(scalar) {
                compositions[UInt64(first) << 32 | UInt64(second)] = scalar
            }
        }
        func fullDecomposition(_ scalar: UInt32) -> [UInt32] {
            guard let parts = mapping[scalar] else { return [scalar] }
            return parts.flatMap(fullDecomposition)
        }
        var decompositions: [UInt32: [UInt32]] = [:]
        for scalar in mapping.keys { decompositions[scalar] = fullDecomposition(scalar) }
        if compatibility {
            // Already full (and canonically ordered) NFKD mappings; they replace the canonical ones.
            let data = NFKCData.compatibilityDecompositions
            var i = 0
            while i < data.count {
                let count = Int(data[i + 1])
                decompositions[data[i]] = Array(data[(i + 2)..<(i + 2 + count)])
                i += 2 + count
            }
        }

        var properties: [UInt32: UInt64] = [:]
        var storage: [UInt32] = []
        for (scalar, cls) in combiningClass { properties[scalar] = UInt64(cls) }
        for (scalar, full) in decompositions {
            properties[scalar, default: 0] |= UInt64(storage.count) << 8 | UInt64(full.count) << 40
            storage.append(contentsOf: full)
        }
        self.properties = properties
        self.decompositionStorage = storage
        self.compositions = compositions
        var hasProperties = Bitset(count: 0x110000)
        for scalar in properties.keys { hasProperties.insert(scalar) }
        self.hasProperties = hasProperties
        var mayComposeAsSecond = Bitset(count: 0x110000)
        for key in compositions.keys { mayComposeAsSecond.insert(UInt32(truncatingIfNeeded: key)) }
        let hangulV = UnicodeNormalizer.hangulVBase..<(UnicodeNormalizer.hangulVBase + UnicodeNormalizer.hangulVCount)
        let hangulT = (UnicodeNormalizer.hangulTBase + 1)..<(UnicodeNormalizer.hangulTBase + UnicodeNormalizer.hangulTCount)
        for scalar in hangulV { mayComposeAsSecond.insert(scalar) }
        for scalar in hangulT { mayComposeAsSecond.insert(scalar) }
        self.mayComposeAsSecond = mayComposeAsSecond
    }

    func combiningClass(of scalar: UInt32) -> UInt8 {
        guard hasProperties.contains(scalar) else { return 0 }
        return properties[scalar].map { UInt8(truncatingIfNeeded: $0) } ?? 0
    }
}


/// A fixed-size set of small integers (here: scalar values), one bit each.
struct Bitset: Sendable {
    private var words: [UInt64]

    init(count: Int) {
        words = Array(repeating: 0, count: (count + 63) / 64)
    }

    mutating func insert(_ value: UInt32) {
        words[Int(value >> 6)] |= 1 << UInt64(value & 63)
    }

    @inline(__always)
    func contains(_ value: UInt32) -> Bool {
        words[Int(value >> 6)] & (1 << UInt64(value & 63)) != 0
    }
}

/// Decoding of well-formed UTF-8 (text that came from a Swift String), without validation.
enum UTF8Scalars {
    @inline(__always)
    static func decode(_ text: UnsafeBufferPointer<UInt8>, at i: Int) -> (value: UInt32, length: Int) {
        let b0 = UInt32(text[i])
        if b0 < 0x80 { return (b0, 1) }
        if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(text[i + 1] & 0x3F), 2) }
        if b0 < 0xF0 {
            return ((b0 & 0x0F) << 12 | UInt32(text[i + 1] & 0x3F) << 6 | UInt32(text[i + 2] & 0x3F), 3)
        }
        return ((b0 & 0x07) << 18 | UInt32(text[i + 1] & 0x3F) << 12 | UInt32(text[i + 2] & 0x3F) << 6
                    | UInt32(text[i + 3] & 0x3F), 4)
    }
}
