import Foundation

/// Merge rules keyed by the ids of the two symbols, in an open-addressing table: the merge lookup is
/// the innermost operation of BPE and Swift's Dictionary (SipHash) is several times slower.
struct MergeTable: Sendable {
    /// A found merge: its priority (the rule's index in tokenizer.json, lower first) and the id of the
    /// merged symbol.
    struct Merge {
        let rank: UInt32
        let mergedID: Int32
    }

    private static let emptyKey = UInt64.max

    /// Key and value side by side: one cache miss per probe.
    private struct Entry {
        /// left << 32 | right, or `emptyKey`.
        var key: UInt64 = MergeTable.emptyKey
        /// rank << 32 | merged id.
        var value: UInt64 = 0
    }

    private var entries: [Entry]
    private let mask: Int
    private(set) var count = 0

    init(expectedCount: Int) {
        var capacity = 16
        while capacity * 3 < expectedCount * 4 { capacity <<= 1 }  // load factor <= 0.75
        entries = Array(repeating: Entry(), count: capacity)
        mask = capacity - 1
    }

    @inline(__always)
    private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    @inline(__always)
    private static func slot(for key: UInt64, mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// Adds a rule; a repeated pair keeps the later rank, as `tokenizers` does (its merge map is built
    /// by collecting into a HashMap, where the last insert wins).
    mutating func insert(left: Int32, right: Int32, rank: UInt32, mergedID: Int32) {
        let key = Self.key(left, right)
        var slot = Self.slot(for: key, mask: mask)
        while entries[slot].key != Self.emptyKey && entries[slot].key != key { slot = (slot + 1) & mask }
        if entries[slot].key == Self.emptyKey { count += 1 }
        entries[slot] = Entry(key: key, value: UInt64(rank) << 32 | UInt64(UInt32(bitPattern: mergedID)))
    }

    @inline(__always)
    func lookup(_ left: Int32, _ right: Int32) -> Merge? {
        let key = Self.key(left, right)
        return entries.withUnsafeBufferPointer { entries in
            var slot = Self.slot(for: key, mask: mask)
            while true {
                let entry = entries[slot]
                if entry.key == key {
                    return Merge(rank: UInt32(truncatingIfNeeded: entry.value >> 32),
                                 mergedID: Int32(bitPattern: UInt32(truncatingIfNeeded: entry.value)))
                }
                if entry.key == Self.emptyKey { return nil }
                slot = (slot + 1) & mask
            }
        }
    }
}

/// Byte-pair encoding of one pre-tokenized word, with the semantics of `tokenizers`' `Word::merge_all`
/// (no dropout): repeatedly apply the applicable merge of lowest rank, the leftmost one among equal
/// ranks, until none applies.
enum BPE {
    /// Words up to this many symbols use the quadratic scan (fastest for the short words that make up
    /// nearly all text); longer ones use a heap so that a pathological multi-kilobyte "word" (a long
    /// run of punctuation, an unbroken CJK paragraph) stays O(n log n).
    static let quadraticScanLimit = 64

    /// Merges `symbols` in place; on return it holds the final token ids.
    static func merge(_ symbols: inout [Int32], using merges: MergeTable) {
        if symbols.count < 2 { return }
        if symbols.count <= quadraticScanLimit {
            mergeByScanning(&symbols, using: merges)
        } else {
            mergeWithHeap(&symbols, using: merges)
        }
    }

    /// Keeps the rank of every adjacent pair and rescans for the minimum after each merge; only the
    /// two pairs touching the merged symbol need a new lookup.
    static func mergeByScanning(_ symbols: inout [Int32], using merges: MergeTable) {
        var count = symbols.count
        let noMerge = UInt32.max
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: count) { ranks in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: count) { mergedIDs in
                symbols.withUnsafeMutableBufferPointer { symbols in
                    func refreshPair(at p: Int) {
                        if let merge = merges.lookup(symbols[p], symbols[p + 1]) {
                            ranks[p] = merge.rank
                            mergedIDs[p] = merge.mergedID
                        } else {
                            ranks[p] = noMerge
                        }
                    }
                    for p in 0..<(count - 1) { refreshPair(at: p) }
                    while count > 1 {
                        var best = -1
                        var bestRank = noMerge
                        for p in 0..<(count - 1) where ranks[p] < bestRank {
                            bestRank = ranks[p]
                            best = p
                        }
                        if best < 0 { break }
                        symbols[best] = mergedIDs[best]
                        // Close the gap left by the right symbol of the merged pair.
                        var q = best + 1
                        while q < count - 1 {
                            symbols[q] = symbols[q + 1]
                            q += 1
                        }
                        q = best + 1
                        while q < count - 2 {
                            ranks[q] = ranks[q + 1]
                            mergedIDs[q] = mergedIDs[q + 1]
                            q += 1
                        }
                        count -= 1
                        if best + 1 < count { refreshPair(at: best) }
                        if best > 0 { refreshPair(at: best - 1) }
                    }
                }
            }
        }
        symbols.removeLast(symbols.count - count)
    }

    /// The algorithm of `tokenizers`: a doubly linked list of symbols and a min-heap of candidate
    /// merges ordered by (rank, position); entries made stale by an earlier merge are skipped.
    static func mergeWithHeap(_ symbols: inout [Int32], using merges: MergeTable) {
        let count = symbols.count
        var previous = [Int32](repeating: -1, count: count)
        var next = [Int32](repeating: -1, count: count)
        var removed = [Bool](repeating: false, count: count)
        for i in 0..<count {
            previous[i] = Int32(i - 1)
            next[i] = i + 1 < count ? Int32(i + 1) : -1
        }
        // Entries are rank << 32 | position, so integer order is (rank, position) order.
        var heap = MinHeap()
        for i in 0..<(count - 1) {
            if let merge = merges.lookup(symbols[i], symbols[i + 1]) {
                heap.push(UInt64(merge.rank) << 32 | UInt64(i))
            }
        }
        while let top = heap.pop() {
            let rank = UInt32(truncatingIfNeeded: top >> 32)
            let position = Int(UInt32(truncatingIfNeeded: top))
            if removed[position] { continue }
            let right = Int(next[position])
            if right < 0 { continue }
            // Stale if the pair at this position changed since the entry was pushed; ranks identify
            // merge rules uniquely, so comparing ranks compares the rules.
            guard let merge = merges.lookup(symbols[position], symbols[right]), merge.rank == rank else {
                continue
            }
            symbols[position] = merge.mergedID
            removed[right] = true
            let afterRight = next[right]
            next[position] = afterRight
            if afterRight >= 0 { previous[Int(afterRight)] = Int32(position) }
            let left = Int(previous[position])
            if left >= 0, let leftMerge = merges.lookup(symbols[left], symbols[position]) {
                heap.push(UInt64(leftMerge.rank) << 32 | UInt64(left))
            }
            if afterRight >= 0, let rightMerge = merges.lookup(symbols[position], symbols[Int(afterRight)]) {
                heap.push(UInt64(rightMerge.rank) << 32 | UInt64(position))
            }
        }
        var kept = 0
        for i in 0..<count where !removed[i] {
            symbols[kept] = symbols[i]
            kept += 1
        }
        symbols.removeLast(count - kept)
    }
}

/// A binary min-heap of packed (rank, position) keys.
struct MinHeap {
    private var items: [UInt64] = []

    mutating func push(_ item: UInt64) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if items[parent] <= items[child] { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() -> UInt64? {
        guard let last = items.popLast() else { return nil }
        guard !items.isEmpty else { return last }
        let top = items[0]
        items[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            if left >= items.count { break }
            let right = left + 1
            let smaller = right < items.count && items[right] < items[left] ? right : left
            if items[parent] <= items[smaller] { break }
            items.swapAt(parent, smaller)
            parent = smaller
        }
        return top
    }
}

/// Token ids of words already encoded during one `encode` call. Text repeats its words heavily, so
/// this skips most BPE work; keyed by the word's raw bytes in a flat arena to avoid an allocation
/// per lookup.
struct WordCache {
    /// Bounds memory on huge inputs; when full the cache starts over.
    static let maximumEntries = 1 << 16
    /// Longer words are rarely repeated and would bloat the arena.
    static let maximumWordLength = 64

    private struct Entry {
        var hash: UInt64
        var keyStart: Int32
        var keyLength: Int32
        var idStart: Int32
        var idCount: Int32
    }

    /// Open-addressing slots holding entry index + 1 (0 = empty).
    private var slots: [Int32]
    private var mask: Int
    private var entries: [Entry] = []
    private var keyArena: [UInt8] = []
    private var idArena: [Int] = []

    init() {
        slots = Array(repeating: 0, count: 1024)
        mask = 1023
    }

    /// 64-bit FNV-1a: cheap for the short keys stored here.
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }

    @inline(__always)
    private static func slot(for hash: UInt64, mask: Int) -> Int {
        Int(truncatingIfNeeded: hash ^ (hash >> 29)) & mask
    }

    /// Appends the cached ids of `word` to `output` and returns true, or returns false if not cached.
    func appendIDs(of word: UnsafeBufferPointer<UInt8>, hash: UInt64, to output: inout [Int]) -> Bool {
        var slot = Self.slot(for: hash, mask: mask)
        while true {
            let stored = Int(slots[slot])
            if stored == 0 { return false }
            let entry = entries[stored - 1]
            if entry.hash == hash && Int(entry.keyLength) == word.count {
                let equal = keyArena.withUnsafeBufferPointer { keys in
                    memcmp(keys.baseAddress! + Int(entry.keyStart), word.baseAddress!, word.count) == 0
                }
                if equal {
                    let ids = Int(entry.idStart)..<Int(entry.idStart + entry.idCount)
                    output.append(contentsOf: idArena[ids])
                    return true
                }
            }
            slot = (slot + 1) & mask
        }
    }

    mutating func insert(_ word: UnsafeBufferPointer<UInt8>, hash: UInt64, ids: ArraySlice<Int>) {
        if entries.count >= Self.maximumEntries { self = WordCache() }
        if (entries.count + 1) * 2 > slots.count { grow() }
        entries.append(Entry(hash: hash, keyStart: Int32(keyArena.count), keyLength: Int32(word.count),
                             idStart: Int32(idArena.count), idCount: Int32(ids.count)))
        keyArena.append(contentsOf: word)
        idArena.append(contentsOf: ids)
        place(entry: entries.count - 1)
    }

    private mutating func place(entry: Int) {
        var slot = Self.slot(for: entries[entry].hash, mask: mask)
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(entry + 1)
    }

    private mutating func grow() {
        slots = Array(repeating: 0, count: slots.count * 2)
        mask = slots.count - 1
        for entry in 0..<entries.count { place(entry: entry) }
    }
}
