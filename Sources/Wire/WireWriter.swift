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

    // MARK: untagged values, for civic's own derived data (docs/storage.md)

    /// A varint with no field tag.
    @inlinable
    public mutating func varint(_ value: UInt64) { raw(value) }

    /// A zigzag varint with no field tag.
    @inlinable
    public mutating func zigzag(_ value: Int64) { raw(UInt64(bitPattern: (value << 1) ^ (value >> 63))) }

    /// A length, then the bytes.
    @inlinable
    public mutating func lengthPrefixed(_ value: some Collection<UInt8>) {
        raw(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// A length, then the UTF-8.
    @inlinable
    public mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { lengthPrefixed($0) }
    }

    /// One byte.
    @inlinable
    public mutating func byte(_ value: UInt8) { bytes.append(value) }

    /// Eight bytes, little-endian.
    @inlinable
    public mutating func fixed64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
}
