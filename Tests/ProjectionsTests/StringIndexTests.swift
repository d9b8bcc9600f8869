import Testing
@testable import Projections

@Suite("StringIndex: strings numbered in the order added, found and told apart by their bytes")
struct StringIndexTests {
    @Test("every string keeps its number as the table grows, and is found again; others are not found")
    func numbersSurviveGrowth() {
        // Lengths around the 8-byte words the hash reads, Chinese, the empty string, near-twins.
        let strings = [""] + (0..<5_000).flatMap { n in
            ["P-\(n)", "P-2026-\(n)-整改", String(repeating: "x", count: n % 24) + "\(n)", "\(n)"]
        }
        var unique: [String] = []
        var index = StringIndex()
        for string in strings {
            let before = index.count
            let n = index.intern(string)
            if n == Int32(before) { unique.append(string) } else { #expect(unique[Int(n)] == string) }
        }
        #expect(index.count == Set(strings).count)
        #expect((0..<index.count).map { index[Int32($0)] } == unique)
        for (n, string) in unique.enumerated() {
            #expect(index.number(of: string) == Int32(n))
            #expect(index.intern(string) == Int32(n))
            #expect(index[Int32(n)] == string)
        }
        #expect(index.number(of: "P-5000") == nil)
        #expect(index.number(of: "P-2026-1-整") == nil)
        var empty = StringIndex()
        #expect(empty.number(of: "") == nil)
    }

    @Test("an index restored whole (its strings appended, no table) finds every string on its first look-up")
    func restoredIndexFound() {
        let strings = (0..<120_000).map { "P-\($0 % 7)-\($0)" }
        var bytes: [UInt8] = [], ends: [UInt32] = []
        for string in strings { bytes += Array(string.utf8); ends.append(UInt32(bytes.count)) }
        var index = StringIndex()
        index.append(bytes: bytes, ends: ends)
        for (n, string) in strings.enumerated() where n % 97 == 0 || n == strings.count - 1 { #expect(index.number(of: string) == Int32(n)) }
        #expect(index.number(of: "P-0-120000") == nil && index.number(of: "") == nil)
        #expect(index.intern("P-new") == Int32(strings.count))
        #expect(strings.indices.allSatisfy { index.number(of: strings[$0]) == Int32($0) })
    }

    @Test("two indexes (two seeds) number the same strings the same")
    func numbersDoNotDependOnTheSeed() {
        var a = StringIndex(), b = StringIndex()
        for n in 0..<1_000 { #expect(a.intern("U-\(n)") == b.intern("U-\(n)")) }
        #expect((0..<a.count).map { a[Int32($0)] } == (0..<b.count).map { b[Int32($0)] })
    }

    @Test("strings are the same when their bytes are: canonically equivalent spellings are two strings, whatever the seed")
    func bytesDecide() {
        let composed = "U-\u{E9}", decomposed = "U-e\u{301}"  // é, and e with a combining acute accent
        #expect(composed == decomposed)  // as String compares them
        for _ in 0..<20 {
            var index = StringIndex()
            #expect(index.intern(composed) == 0)
            #expect(index.intern(decomposed) == 1)
            #expect(index.number(of: composed) == 0 && index.number(of: decomposed) == 1)
        }
    }
}

@Suite("Arrays of megabytes asked in large pages keep what they hold")
struct LargePagesTests {
    @Test("growing keeps the elements in order and at least doubles the room; zeros are zeros")
    func growsAndKeeps() {
        var bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let before = bytes
        bytes.reserveInLargePages(8 << 20)
        #expect(bytes == before)
        #expect(bytes.capacity >= 8 << 20)
        let room = bytes.capacity
        bytes.reserveInLargePages(room + 1)
        #expect(bytes.capacity >= 2 * room)
        #expect(bytes == before)
        bytes.reserveInLargePages(10)
        #expect(bytes.capacity >= 2 * room)
        let zeros = [UInt64](zerosInLargePages: 1 << 20)
        #expect(zeros.count == 1 << 20)
        #expect(zeros.allSatisfy { $0 == 0 })
    }
}
