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
    private var buckets: [Int32] = []  // a number, or -1: empty
    private let seed = UInt64.random(in: .min ... .max)

    init() {}

    var count: Int { strings.count }

    subscript(number: Int32) -> String { strings[Int(number)] }

    /// The number of `string`, nil when it was never added.
    func number(of string: String) -> Int32? {
        guard !buckets.isEmpty else { return nil }
        let mask = buckets.count - 1
        var i = hash(string) & mask
        while true {
            let n = buckets[i]
            if n < 0 { return nil }
            if Self.same(strings[Int(n)], string) { return n }
            i = (i + 1) & mask
        }
    }

    /// The number of `string`, given the next one when it has none.
    mutating func intern(_ string: String) -> Int32 {
        if (strings.count + 1) * 4 > buckets.count * 3 { grow() }
        let mask = buckets.count - 1
        var i = hash(string) & mask
        while true {
            let n = buckets[i]
            if n < 0 { break }
            if Self.same(strings[Int(n)], string) { return n }
            i = (i + 1) & mask
        }
        let n = Int32(strings.count)
        strings.append(string)
        buckets[i] = n
        return n
    }

    private mutating func grow() {
        buckets = [Int32](repeating: -1, count: max(16, buckets.count * 2))
        let mask = buckets.count - 1
        for (n, string) in strings.enumerated() {
            var i = hash(string) & mask
            while buckets[i] >= 0 { i = (i + 1) & mask }
            buckets[i] = Int32(n)
        }
    }

    private static func same(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && a.utf8.elementsEqual(b.utf8)
    }

    private func hash(_ string: String) -> Int {
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
        return Int(truncatingIfNeeded: h ^ (h >> 31))
    }
}
