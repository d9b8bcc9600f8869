/// Strings numbered from 0 in the order added, found by a hash of their bytes in an open-addressing
/// table of numbers (linear probing, at most three quarters full). Nothing is ever removed.
///
/// A fold looks up a problem's id, and often a unit's name, for every event; `Dictionary` hashes each
/// with SipHash, which dominated the fold. Here the few bytes of an id are mixed a word at a time.
/// Strings are the same when their UTF-8 bytes are, as the ids restored from a checkpoint are found
/// (by binary search over their bytes): two spellings that `String`'s `==` takes as canonically
/// equivalent are two strings here. The seed is drawn for each index, so that where a string lands
/// differs from one index to the next; what the index answers never depends on it.
struct StringIndex: Sendable {
    /// The strings, by number.
    private(set) var strings: [String] = []
    /// 0: empty; else the high half of the string's hash (compared before the string is read, which
    /// spares a cache miss on most probes that do not match) over its number + 1.
    private var buckets: [UInt64] = []
    private let seed = UInt64.random(in: .min ... .max)

    init() {}

    var count: Int { strings.count }

    subscript(number: Int32) -> String { strings[Int(number)] }

    /// The number of `string`, nil when it was never added.
    func number(of string: String) -> Int32? {
        guard !buckets.isEmpty else { return nil }
        let h = hash(string)
        let mask = buckets.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let b = buckets[i]
            if b == 0 { return nil }
            if b >> 32 == h >> 32, Self.same(strings[Int(b & 0xFFFF_FFFF) - 1], string) { return Int32(b & 0xFFFF_FFFF) - 1 }
            i = (i + 1) & mask
        }
    }

    /// The number of `string`, given the next one when it has none.
    mutating func intern(_ string: String) -> Int32 {
        if (strings.count + 1) * 4 > buckets.count * 3 { grow() }
        let h = hash(string)
        let mask = buckets.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let b = buckets[i]
            if b == 0 { break }
            if b >> 32 == h >> 32, Self.same(strings[Int(b & 0xFFFF_FFFF) - 1], string) { return Int32(b & 0xFFFF_FFFF) - 1 }
            i = (i + 1) & mask
        }
        let n = Int32(strings.count)
        strings.append(string)
        buckets[i] = (h >> 32) << 32 | UInt64(n + 1)
        return n
    }

    private mutating func grow() {
        buckets = [UInt64](repeating: 0, count: max(16, buckets.count * 2))
        let mask = buckets.count - 1
        for (n, string) in strings.enumerated() {
            let h = hash(string)
            var i = Int(truncatingIfNeeded: h) & mask
            while buckets[i] != 0 { i = (i + 1) & mask }
            buckets[i] = (h >> 32) << 32 | UInt64(n + 1)
        }
    }

    private static func same(_ a: String, _ b: String) -> Bool {
        var (a, b) = (a, b)  // withUTF8 reads a native string in place (a small one from the stack)
        return a.withUTF8 { x in b.withUTF8 { y in x.count == y.count && x.elementsEqual(y) } }
    }

    private func hash(_ string: String) -> UInt64 {
        var h = seed ^ (UInt64(string.utf8.count) &* 0x9E37_79B9_7F4A_7C15)
        func mix(_ word: UInt64) {
            h = (h ^ word) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
        }
        let done: Void? = string.utf8.withContiguousStorageIfAvailable { bytes in
            let raw = UnsafeRawBufferPointer(bytes)
            var k = 0
            while k + 8 <= bytes.count {
                mix(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: k, as: UInt64.self)))
                k += 8
            }
            var last: UInt64 = 0
            for b in bytes[k...].reversed() { last = last << 8 | UInt64(b) }
            mix(last)
        }
        if done == nil {
            var word: UInt64 = 0, filled = 0
            for b in string.utf8 {
                word |= UInt64(b) << (8 * filled)
                filled += 1
                if filled == 8 { mix(word); word = 0; filled = 0 }
            }
            mix(word)
        }
        h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
        return h ^ (h >> 31)
    }
}
