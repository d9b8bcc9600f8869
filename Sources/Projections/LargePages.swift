import Foundation

/// The arrays of megabytes a view builds before it answers (a restored projection's records, its ids'
/// strings, the index of those ids) are asked of the kernel in 2 MB pages (`MADV_HUGEPAGE`) before
/// anything touches them: in 4 KB pages, the restore's arrays made most of the 11,044 page faults of
/// `civic board --unit --overdue` on the sparse store (288,000 problems), whose kernel side was about a
/// quarter of the command (docs/performance.md, "Page faults"). Arrays under 4 MB are not advised. Where
/// the kernel gives no large pages, nothing changes but the advice.
extension Array where Element: BitwiseCopyable {
    /// Makes room for at least `minimumCapacity` elements, at least doubling the room when it grows (as
    /// appending does), in storage asked in large pages.
    mutating func reserveInLargePages(_ minimumCapacity: Int) {
        guard capacity < minimumCapacity else { return }
        var grown = [Element]()
        grown.reserveCapacity(Swift.max(minimumCapacity, capacity * 2))
        grown.adviseLargePages()
        grown.append(contentsOf: self)
        self = grown
    }

    /// Asks for the whole pages of 2 MB inside the array's storage to be large ones; only storage of
    /// 4 MB or more, which holds at least one of them whole.
    private mutating func adviseLargePages() {
        #if os(Linux)
        let bytes = capacity * MemoryLayout<Element>.stride
        guard bytes >= 4 << 20 else { return }
        withUnsafeMutableBufferPointer { storage in
            guard let base = storage.baseAddress else { return }
            let large = 2 << 20
            let start = (Int(bitPattern: base) + large - 1) / large * large
            let end = (Int(bitPattern: base) + bytes) / large * large
            if end > start { _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_HUGEPAGE) }
        }
        #endif
    }
}

extension Array where Element: FixedWidthInteger & BitwiseCopyable {
    /// `count` zeros, in storage asked in large pages.
    init(zerosInLargePages count: Int) {
        self = []
        reserveInLargePages(count)
        append(contentsOf: repeatElement(0, count: count))
    }
}
