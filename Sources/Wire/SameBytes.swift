#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension UnsafeRawBufferPointer {
    /// Whether `other` holds the same bytes: one `memcmp` (the generic `elementsEqual` compares a byte
    /// at a time, and look-ups by id compare on every probe).
    @inlinable
    public func sameBytes(as other: UnsafeRawBufferPointer) -> Bool {
        guard count == other.count else { return false }
        guard count > 0 else { return true }
        return memcmp(baseAddress!, other.baseAddress!, count) == 0
    }

    /// Whether it holds the UTF-8 of `text`.
    @inlinable
    public func sameBytes(as text: String) -> Bool {
        var text = text
        return text.withUTF8 { sameBytes(as: UnsafeRawBufferPointer($0)) }
    }
}
