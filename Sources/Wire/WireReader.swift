/// A reader of the protobuf wire format over bytes in place (the LMDB map): varints, zigzag numbers,
/// length-delimited slices. The log reads its `civic.v1.Entry` with it; the layer above reads the
/// `civic.v1.Event` inside with the same primitives. Nothing is copied until a caller asks for a value.
public struct WireReader {
    @usableFromInline let bytes: UnsafeRawBufferPointer
    @usableFromInline var i: Int
    @usableFromInline let end: Int
    /// When set, `string()` checks that the bytes are UTF-8 and returns "" without building a String:
    /// for checking that a message decodes (verify) without paying for its text.
    public var checkingOnly = false
    /// When set, `text()` skips its field and returns "": for folds, which read ids, times and states
    /// but none of the free text (descriptions, reasons, evidence) that the log keeps for people.
    public var skippingText = false
    /// With `skippingText`: the text skipped is still checked to be UTF-8 (verify, which reads what
    /// folds read and checks every byte).
    public var checkingSkippedText = false

    public struct Malformed: Error {
        public init() {}
    }

    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        i = 0
        end = bytes.count
    }

    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer, from: Int, to: Int) {
        self.bytes = bytes
        i = from
        end = to
    }

    @inlinable
    public var isAtEnd: Bool { i >= end }

    @inlinable
    public mutating func varint() throws(Malformed) -> UInt64 {
        var v: UInt64 = 0, shift: UInt64 = 0
        while true {
            guard i < end, shift < 64 else { throw Malformed() }
            let b = bytes[i]
            i += 1
            v |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return v }
            shift += 7
        }
    }

    /// The next field's number and wire type, read as swift-protobuf reads a message's tags: at most
    /// five bytes (the fifth at most 15), a field number from 1, a wire type from 0 to 5; an end-group
    /// tag outside a group is refused.
    @inlinable
    public mutating func tag() throws(Malformed) -> (field: Int, wire: UInt8) {
        guard i < end else { throw Malformed() }
        let c0 = bytes[i]
        let wire = c0 & 7
        guard wire <= 5, wire != 4 else { throw Malformed() }
        var field = Int(c0 & 0x7F) >> 3
        var k = 1
        var last = c0
        while last & 0x80 != 0 {
            guard i + k < end, k < 5 else { throw Malformed() }
            last = bytes[i + k]
            if k == 4 { guard last <= 15 else { throw Malformed() } }
            field |= Int(last & 0x7F) << (7 * k - 3)
            k += 1
        }
        i += k
        guard field != 0 else { throw Malformed() }
        return (field, wire)
    }

    @inlinable
    public mutating func zigzag() throws(Malformed) -> Int64 {
        Self.unzig(try varint())
    }

    @inlinable
    public mutating func zigzag32() throws(Malformed) -> Int32 {
        guard let v = Int32(exactly: try zigzag()) else { throw Malformed() }
        return v
    }

    @inlinable
    public static func unzig(_ v: UInt64) -> Int64 { Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1) }

    /// The bytes of the next length-delimited field, as offsets into the buffer.
    @inlinable
    public mutating func length() throws(Malformed) -> Range<Int> {
        let n = try varint()
        guard n <= UInt64(end - i) else { throw Malformed() }
        let range = i..<(i + Int(n))
        i += Int(n)
        return range
    }

    /// The bytes of the next length-delimited field, in place.
    @inlinable
    public mutating func slice() throws(Malformed) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[try length()])
    }

    /// The next string field, refused unless it is UTF-8 (as swift-protobuf refuses it). When checking
    /// only, "" is returned without building a String.
    @inlinable
    public mutating func string() throws(Malformed) -> String {
        let text = try utf8()
        return checkingOnly ? "" : String(decoding: text, as: UTF8.self)
    }

    /// The next string field when it is free text: "" when skipping text.
    @inlinable
    public mutating func text() throws(Malformed) -> String {
        guard skippingText else { return try string() }
        if checkingSkippedText { _ = try utf8() } else { _ = try length() }
        return ""
    }

    @inlinable
    public mutating func message() throws(Malformed) -> WireReader {
        let r = try length()
        var sub = WireReader(bytes, from: r.lowerBound, to: r.upperBound)
        sub.checkingOnly = checkingOnly
        sub.skippingText = skippingText
        sub.checkingSkippedText = checkingSkippedText
        return sub
    }

    @inlinable
    public mutating func double() throws(Malformed) -> Double {
        guard end - i >= 8 else { throw Malformed() }
        let v = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
        i += 8
        return Double(bitPattern: v)
    }

    /// Skips the value of a field this reader does not take (unknown, or sent with another wire type),
    /// as swift-protobuf skips it: groups to their matching end, at most 100 deep.
    @inlinable
    public mutating func skip(_ wire: UInt8, field: Int) throws(Malformed) {
        try skip(wire, field: field, depth: 0)
    }

    @usableFromInline
    mutating func skip(_ wire: UInt8, field: Int, depth: Int) throws(Malformed) {
        switch wire {
        case 0: _ = try varint()
        case 1: guard end - i >= 8 else { throw Malformed() }; i += 8
        case 2: _ = try length()
        case 3:
            guard depth < 100 else { throw Malformed() }
            while true {
                // Inside a group, swift-protobuf reads each tag as a plain varint.
                let t = try varint()
                guard t < UInt64(UInt32.max), t >> 3 != 0, t & 7 <= 5 else { throw Malformed() }
                let (inner, innerWire) = (Int(t >> 3), UInt8(t & 7))
                if innerWire == 4 {
                    guard inner == field else { throw Malformed() }
                    return
                }
                try skip(innerWire, field: inner, depth: depth + 1)
            }
        case 5: guard end - i >= 4 else { throw Malformed() }; i += 4
        default: throw Malformed()
        }
    }

    /// The bytes of the next length-delimited field, refused unless they are UTF-8 (a `string` field).
    @inlinable
    public mutating func utf8() throws(Malformed) -> UnsafeRawBufferPointer {
        let text = try slice()
        guard UTF8Check.isValid(text) else { throw Malformed() }
        return text
    }

    // MARK: untagged values, for civic's own derived data (docs/storage.md)

    /// One byte.
    @inlinable
    public mutating func byte() throws(Malformed) -> UInt8 {
        guard i < end else { throw Malformed() }
        defer { i += 1 }
        return bytes[i]
    }

    /// A length-prefixed string, refused unless it is UTF-8.
    @inlinable
    public mutating func validString() throws(Malformed) -> String {
        let text = try slice()
        guard let s = String(validating: text, as: UTF8.self) else { throw Malformed() }
        return s
    }

    /// A varint that must fit an `Int` no larger than `limit`.
    @inlinable
    public mutating func count(atMost limit: Int) throws(Malformed) -> Int {
        let v = try varint()
        guard v <= UInt64(limit) else { throw Malformed() }
        return Int(v)
    }

    /// The next `count` bytes, in place.
    @inlinable
    public mutating func fixed(_ count: Int) throws(Malformed) -> UnsafeRawBufferPointer {
        guard count <= end - i else { throw Malformed() }
        defer { i += count }
        return UnsafeRawBufferPointer(rebasing: bytes[i..<(i + count)])
    }

    /// How many bytes are left.
    @inlinable
    public var remaining: Int { end - i }
}
