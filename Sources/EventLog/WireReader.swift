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

    /// The next field's number and wire type.
    @inlinable
    public mutating func tag() throws(Malformed) -> (field: Int, wire: UInt8) {
        let t = try varint()
        guard t <= UInt32.max, t >> 3 != 0 else { throw Malformed() }  // field numbers are 1 to 2^29 - 1
        return (Int(t >> 3), UInt8(t & 7))
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

    /// The next string field. When checking only, refused unless it is UTF-8 (as swift-protobuf
    /// refuses it); otherwise ill-formed bytes become U+FFFD (a fold reads what verify has checked).
    @inlinable
    public mutating func string() throws(Malformed) -> String {
        let text = try slice()
        guard checkingOnly else { return String(decoding: text, as: UTF8.self) }
        guard UTF8Check.isValid(text) else { throw Malformed() }
        return ""
    }

    /// The next string field when it is free text: "" when skipping text.
    @inlinable
    public mutating func text() throws(Malformed) -> String {
        guard skippingText else { return try string() }
        _ = try length()
        return ""
    }

    @inlinable
    public mutating func message() throws(Malformed) -> WireReader {
        let r = try length()
        var sub = WireReader(bytes, from: r.lowerBound, to: r.upperBound)
        sub.checkingOnly = checkingOnly
        sub.skippingText = skippingText
        return sub
    }

    @inlinable
    public mutating func double() throws(Malformed) -> Double {
        guard end - i >= 8 else { throw Malformed() }
        let v = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
        i += 8
        return Double(bitPattern: v)
    }

    @inlinable
    public mutating func skip(_ wire: UInt8) throws(Malformed) {
        switch wire {
        case 0: _ = try varint()
        case 1: guard end - i >= 8 else { throw Malformed() }; i += 8
        case 2: _ = try length()
        case 5: guard end - i >= 4 else { throw Malformed() }; i += 4
        default: throw Malformed()
        }
    }
}

/// UTF-8 validity (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF), without
/// building a String.
public enum UTF8Check {
    @inlinable
    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = bytes.count
        while i < n {
            // ASCII eight bytes at a time.
            while i + 8 <= n, bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 { i += 8 }
            guard i < n else { return true }
            let b0 = bytes[i]
            if b0 < 0x80 { i += 1; continue }
            // Most of the text is Chinese: three bytes, E1–EC lead, two continuation bytes.
            if b0 >= 0xE1, b0 <= 0xEC, i + 3 <= n, bytes[i + 1] & 0xC0 == 0x80, bytes[i + 2] & 0xC0 == 0x80 {
                i += 3
                continue
            }
            let count: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF  // the range of the second byte
            switch b0 {
            case 0xC2...0xDF: count = 2
            case 0xE0: count = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: count = 3
            case 0xED: count = 3; high = 0x9F
            case 0xF0: count = 4; low = 0x90
            case 0xF1...0xF3: count = 4
            case 0xF4: count = 4; high = 0x8F
            default: return false
            }
            guard i + count <= n else { return false }
            let b1 = bytes[i + 1]
            guard b1 >= low && b1 <= high else { return false }
            for k in 2..<count where bytes[i + k] & 0xC0 != 0x80 { return false }
            i += count
        }
        return true
    }
}

/// A writer of the protobuf wire format for proto3 messages as swift-protobuf writes them: fields in
/// the order they are written (callers write them by number), fields at their zero value left out.
public struct WireWriter {
    /// What has been written. (Every method is inlinable: a caller in another module gets them
    /// specialized for its strings and its closures inlined, rather than generic calls per field.)
    public var bytes: [UInt8]

    @inlinable
    public init(into bytes: [UInt8] = [], capacity: Int = 0) {
        self.bytes = bytes
        self.bytes.reserveCapacity(capacity)
    }

    @inlinable
    mutating func raw(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// A uint64 (or an enum's number) field; nothing when 0.
    @inlinable
    public mutating func varint(field: Int, _ value: UInt64) {
        guard value != 0 else { return }
        raw(UInt64(field) << 3)
        raw(value)
    }

    /// A sint64 field; nothing when 0.
    @inlinable
    public mutating func zigzag(field: Int, _ value: Int64) {
        varint(field: field, UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// A field with presence (`optional`, a repeated element): written even when empty.
    @inlinable
    public mutating func present(field: Int, _ value: some Collection<UInt8>) {
        raw(UInt64(field) << 3 | 2)
        raw(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// An `optional double` field (written when set, even at 0).
    @inlinable
    public mutating func double(field: Int, _ value: Double) {
        raw(UInt64(field) << 3 | 1)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// An embedded message, written when set (even empty): `body` writes its fields.
    @inlinable
    public mutating func message(field: Int, _ body: (inout WireWriter) -> Void) {
        raw(UInt64(field) << 3 | 2)
        // Written in place, then its length (a varint of its own size) put in front of it.
        let start = bytes.count
        body(&self)
        let length = UInt64(bytes.count - start)
        var size = 1
        while length >> (7 * size) != 0 { size += 1 }
        bytes.insert(contentsOf: repeatElement(0, count: size), at: start)
        for k in 0..<size {
            let group = UInt8(truncatingIfNeeded: length >> (7 * k)) & 0x7F
            bytes[start + k] = k == size - 1 ? group : group | 0x80
        }
    }

    /// A string, bytes or embedded-message field; nothing when empty.
    @inlinable
    public mutating func bytes(field: Int, _ value: some Collection<UInt8>) {
        guard !value.isEmpty else { return }
        raw(UInt64(field) << 3 | 2)
        raw(UInt64(value.count))
        bytes.append(contentsOf: value)
    }
}
