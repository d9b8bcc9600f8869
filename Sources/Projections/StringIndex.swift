import Wire

/// Strings numbered from 0 in the order added, kept as UTF-8 bytes one after another, and found by a
/// hash of their bytes in an open-addressing table of numbers (linear probing, at most three quarters
/// full). Nothing is ever removed.
///
/// A fold looks up a problem's id, and often a unit's name, for every event; `Dictionary` hashes each
/// with SipHash, which dominated the fold. Here the few bytes of an id are mixed a word at a time.
/// Strings are the same when their UTF-8 bytes are. The table of numbers is built on the first look-up,
/// so that an index restored from a snapshot costs a copy of its bytes until a fold asks it something.
/// The seed is drawn for each index: where a string lands differs from one index to the next, what the
/// index answers never does.
public struct StringIndex: Sendable {
    /// The strings' bytes, one after another, and where each ends.
    private(set) var bytes: [UInt8] = []
    private(set) var ends: [UInt32] = []
    /// 0: empty; else the high half of the string's hash (compared before the string is read, which
    /// spares a cache miss on most probes that do not match) over its number + 1. Empty until first asked.
    private var buckets: [UInt64] = []
    private let seed = UInt64.random(in: .min ... .max)

    public init() {}

    /// An index of strings given as their bytes and ends (as `bytes` and `ends` give them back).
    /// - Precondition: the strings are distinct.
    init(bytes: [UInt8], ends: [UInt32]) {
        self.bytes = bytes
        self.ends = ends
    }

    public var count: Int { ends.count }

    /// Adds strings given as their bytes and ends (relative to the first of them), without looking them
    /// up: what a snapshot restores. The table of numbers is built again on the next look-up. `room`:
    /// bytes and strings to make room for beyond these.
    /// - Precondition: the strings are new and distinct.
    mutating func append(bytes more: some Collection<UInt8>, ends moreEnds: [UInt32], room: (bytes: Int, ends: Int) = (0, 0)) {
        let base = UInt32(bytes.count)
        // Restored whole, then added to: room from the start spares copying it all.
        let whole = bytes.isEmpty
        bytes.reserveInLargePages(bytes.count + more.count + room.bytes + (whole ? more.count / 4 : 0))
        ends.reserveInLargePages(ends.count + moreEnds.count + room.ends + (whole ? moreEnds.count / 4 : 0))
        bytes.append(contentsOf: more)
        ends.append(contentsOf: moreEnds.lazy.map { $0 + base })
        buckets = []
    }

    public subscript(number: Int32) -> String {
        withBytes(of: Int(number)) { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with the bytes of string `number`.
    public func withBytes<R>(of number: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let start = number == 0 ? 0 : Int(ends[number - 1])
        return bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[start..<Int(ends[number])])) }
    }

    /// The strings from number `first` on, as bytes and ends relative to the first of them.
    func suffix(from first: Int) -> (bytes: ArraySlice<UInt8>, ends: [UInt32]) {
        let base = first == 0 ? 0 : ends[first - 1]
        return (bytes[Int(base)...], ends[first...].map { $0 - base })
    }

    /// The number of `string`, nil when it was never added.
    public mutating func number(of string: String) -> Int32? {
        var string = string
        return string.withUTF8 { number(of: UnsafeRawBufferPointer($0)) }
    }

    /// The number of `string`, nil when it was never added, without building the table of numbers (a
    /// scan when it is not built: for small indexes, or a single question).
    func lookup(_ string: String) -> Int32? {
        var string = string
        return string.withUTF8 { key in
            let key = UnsafeRawBufferPointer(key)
            if !buckets.isEmpty { return find(key, hash(key)).number }
            for n in 0..<ends.count where withBytes(of: n, { $0.sameBytes(as: key) }) { return Int32(n) }
            return nil
        }
    }

    /// The number of the string of these UTF-8 bytes, nil when it was never added.
    public mutating func number(of key: UnsafeRawBufferPointer) -> Int32? {
        if buckets.isEmpty {
            guard !ends.isEmpty else { return nil }
            rebuild()
        }
        return find(key, hash(key)).number
    }

    /// The number of `string`, given the next one when it has none.
    public mutating func intern(_ string: String) -> Int32 {
        var string = string
        return string.withUTF8 { intern(UnsafeRawBufferPointer($0)) }
    }

    /// The number of the string of these bytes, given the next one when it has none.
    public mutating func intern(_ key: UnsafeRawBufferPointer) -> Int32 {
        if buckets.isEmpty || (ends.count + 1) * 4 > buckets.count * 3 { rebuild() }
        let h = hash(key)
        let (found, slot) = find(key, h)
        if let found { return found }
        let n = Int32(ends.count)
        bytes.append(contentsOf: key)
        ends.append(UInt32(bytes.count))
        buckets[slot] = (h >> 32) << 32 | UInt64(n + 1)
        return n
    }

    /// The number of the key if present, else nil and the empty bucket where it would go.
    private func find(_ key: UnsafeRawBufferPointer, _ h: UInt64) -> (number: Int32?, slot: Int) {
        let mask = buckets.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let b = buckets[i]
            if b == 0 { return (nil, i) }
            if b >> 32 == h >> 32 {
                let n = Int(b & 0xFFFF_FFFF) - 1
                if withBytes(of: n, { $0.sameBytes(as: key) }) { return (Int32(n), i) }
            }
            i = (i + 1) & mask
        }
    }

    private mutating func rebuild() {
        var size = 16
        while (ends.count + 1) * 4 > size * 3 { size *= 2 }
        let mask = size - 1, seed = seed
        // Each string's bucket, then the numbers placed a region of the table at a time (counted and
        // sorted by the top bits of their bucket): placed in the order added, each would write somewhere
        // in a table of megabytes and miss the cache. The strings read one after another through their
        // pointers. (A restored index of 288,000 ids is built by the first look-up of a view's fold.)
        let count = ends.count
        let regionBits = max(0, min(10, size.trailingZeroBitCount - 9))
        let shift = size.trailingZeroBitCount - regionBits
        var hashes = [UInt64](repeating: 0, count: count)
        var starts = [Int](repeating: 0, count: (1 << regionBits) + 1)
        bytes.withUnsafeBytes { all in
            ends.withUnsafeBufferPointer { ends in
                var start = 0
                for n in 0..<count {
                    let end = Int(ends[n])
                    let h = Self.hash(UnsafeRawBufferPointer(rebasing: all[start..<end]), seed: seed)
                    hashes[n] = h
                    starts[((Int(truncatingIfNeeded: h) & mask) >> shift) + 1] += 1
                    start = end
                }
            }
        }
        for r in 1..<starts.count { starts[r] += starts[r - 1] }
        var order = [UInt32](repeating: 0, count: count)
        var next = starts
        for n in 0..<count {
            let r = (Int(truncatingIfNeeded: hashes[n]) & mask) >> shift
            order[next[r]] = UInt32(n)
            next[r] += 1
        }
        var table = [UInt64](zerosInLargePages: size)
        table.withUnsafeMutableBufferPointer { buckets in
            for n in order {
                let h = hashes[Int(n)]
                var i = Int(truncatingIfNeeded: h) & mask
                while buckets[i] != 0 { i = (i + 1) & mask }
                buckets[i] = (h >> 32) << 32 | UInt64(n + 1)
            }
        }
        buckets = table
    }

    private func hash(_ key: UnsafeRawBufferPointer) -> UInt64 { Self.hash(key, seed: seed) }

    private static func hash(_ key: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        var h = seed ^ (UInt64(key.count) &* 0x9E37_79B9_7F4A_7C15)
        @inline(__always) func mix(_ word: UInt64) {
            h = (h ^ word) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
        }
        var k = 0
        while k + 8 <= key.count {
            mix(UInt64(littleEndian: key.loadUnaligned(fromByteOffset: k, as: UInt64.self)))
            k += 8
        }
        var last: UInt64 = 0
        var j = key.count
        while j > k { j -= 1; last = last << 8 | UInt64(key[j]) }
        mix(last)
        h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
        return h ^ (h >> 31)
    }
}
