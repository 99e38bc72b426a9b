import Foundation

/// Token string <-> id, with strings compared byte for byte.
///
/// A `[String: Int]` would be wrong as well as slow: Swift's String equality and hashing follow
/// canonical equivalence, so "é" and "e\u{301}" would be the same key, while `tokenizers` (Rust)
/// compares bytes. Keys live in one byte arena and are found by open addressing.
///
/// Ids may have gaps (a vocabulary numbered with holes): a gap id has no string and is never found.
struct TokenTable: Sendable {
    /// Token strings by id ("" for a gap).
    private(set) var strings: [String] = []
    /// Whether each id has a token (false for gaps).
    private(set) var isAssigned: [Bool] = []
    private var arena: [UInt8] = []
    /// Number of ids that have a token.
    private var assignedCount = 0
    /// An open-addressing slot. It repeats the key's hash and location so that a probe costs one
    /// cache miss for the slot plus one for the arena bytes (loading is memory-latency bound).
    private struct Slot {
        /// Hash in the high 32 bits, id + 1 in the low 32 bits; 0 = empty.
        var hashAndID: UInt64 = 0
        /// Arena offset in the high 32 bits, byte length in the low 32 bits.
        var location: UInt64 = 0
    }

    private var slots: [Slot]
    private var mask: Int

    init(expectedCount: Int) {
        var capacity = 16
        while capacity * 3 < expectedCount * 4 { capacity <<= 1 }  // load factor <= 0.75
        slots = Array(repeating: Slot(), count: capacity)
        mask = capacity - 1
        strings.reserveCapacity(expectedCount)
        isAssigned.reserveCapacity(expectedCount)
    }

    /// Size of the id space: one past the highest id (gaps included).
    var count: Int { strings.count }

    /// Multiply-xorshift over 8-byte words: cheap, and mixes every input bit into the low bits used
    /// for the slot index.
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        var i = 0
        let raw = UnsafeRawBufferPointer(bytes)
        while i + 8 <= bytes.count {
            hash = (hash ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            hash ^= hash >> 31
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < bytes.count {
            tail |= UInt64(bytes[i]) << shift
            shift += 8
            i += 1
        }
        hash = (hash ^ tail) &* 0x94D0_49BB_1331_11EB
        hash ^= hash >> 29
        hash = hash &* 0xBF58_476D_1CE4_E5B9
        return Int(truncatingIfNeeded: hash ^ (hash >> 32))
    }

    /// The slot holding `bytes`, or the empty slot where they would go, and the key's hash bits.
    private func slot(for bytes: UnsafeBufferPointer<UInt8>) -> (slot: Int, hashBits: UInt64) {
        let hash = Self.hash(bytes)
        let hashBits = UInt64(UInt32(truncatingIfNeeded: hash >> 32)) << 32
        var slot = hash & mask
        while true {
            let stored = slots[slot]
            if stored.hashAndID == 0 { return (slot, hashBits) }
            if stored.hashAndID & ~0xFFFF_FFFF == hashBits && Int(stored.location & 0xFFFF_FFFF) == bytes.count {
                let start = Int(stored.location >> 32)
                let equal = arena.withUnsafeBufferPointer { arena in
                    bytes.isEmpty || memcmp(arena.baseAddress! + start, bytes.baseAddress!, bytes.count) == 0
                }
                if equal { return (slot, hashBits) }
            }
            slot = (slot + 1) & mask
        }
    }

    func id(forBytes bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        let stored = slots[slot(for: bytes).slot].hashAndID
        return stored == 0 ? nil : Int(stored & 0xFFFF_FFFF) - 1
    }

    func id(for string: String) -> Int? {
        var string = string
        string.makeContiguousUTF8()
        return string.utf8.withContiguousStorageIfAvailable { id(forBytes: $0) } ?? nil
    }

    /// Gives `string` the id `id`: a gap, or any id from `count` on (those in between become gaps).
    /// Returns the existing id instead if the same bytes are already present (nothing is added then).
    @discardableResult
    mutating func insert(_ string: String, id: Int) -> (id: Int, inserted: Bool) {
        precondition(id >= count || !isAssigned[id], "token id \(id) is already taken")
        var string = string
        string.makeContiguousUTF8()
        let (slot, hashBits) = string.utf8.withContiguousStorageIfAvailable { self.slot(for: $0) }!
        let stored = slots[slot].hashAndID
        if stored != 0 { return (Int(stored & 0xFFFF_FFFF) - 1, false) }
        while strings.count <= id {
            strings.append("")
            isAssigned.append(false)
        }
        let start = arena.count
        strings[id] = string
        isAssigned[id] = true
        arena.append(contentsOf: string.utf8)
        slots[slot] = Slot(hashAndID: hashBits | UInt64(id + 1),
                           location: UInt64(start) << 32 | UInt64(arena.count - start))
        assignedCount += 1
        if assignedCount * 4 > slots.count * 3 { rehash() }
        return (id, true)
    }

    private mutating func rehash() {
        let old = slots
        slots = Array(repeating: Slot(), count: old.count * 2)
        mask = slots.count - 1
        for entry in old where entry.hashAndID != 0 {
            let start = Int(entry.location >> 32), length = Int(entry.location & 0xFFFF_FFFF)
            let (slot, _) = arena.withUnsafeBufferPointer { arena in
                self.slot(for: UnsafeBufferPointer(rebasing: arena[start..<(start + length)]))
            }
            slots[slot] = entry
        }
    }
}
