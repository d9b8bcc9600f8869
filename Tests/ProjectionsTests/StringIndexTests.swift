import Testing
@testable import Projections

@Suite("StringIndex: strings numbered in the order added, found by their bytes")
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
        #expect(index.strings == unique)
        for (n, string) in unique.enumerated() {
            #expect(index.number(of: string) == Int32(n))
            #expect(index.intern(string) == Int32(n))
            #expect(index[Int32(n)] == string)
        }
        #expect(index.number(of: "P-5000") == nil)
        #expect(index.number(of: "P-2026-1-整") == nil)
        #expect(StringIndex().number(of: "") == nil)
    }

    @Test("two indexes (two seeds) number the same strings the same")
    func numbersDoNotDependOnTheSeed() {
        var a = StringIndex(), b = StringIndex()
        var reserved = StringIndex()
        reserved.reserve(1_000)
        for n in 0..<1_000 {
            #expect(a.intern("U-\(n)") == b.intern("U-\(n)"))
            #expect(reserved.intern("U-\(n)") == Int32(n))
        }
        #expect(a.strings == b.strings && a.strings == reserved.strings)
    }
}
