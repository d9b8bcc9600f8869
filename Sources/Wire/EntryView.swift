/// One stored entry read in place (hash ‖ civic.v1.Entry, Schemas/civic/v1/log.proto): its slices point
/// into the bytes given (the LMDB map, for the log) and are valid only while those are. Scans read it
/// without copying. It lives beside the wire format so that a reader without the store (the offline
/// verifier) reads entries exactly as the log does.
public struct EntryView {
    public private(set) var seq: UInt64 = 0
    public private(set) var version: UInt64 = 0
    public private(set) var previous: UInt64 = 0
    public private(set) var recordedAtMicros: Int64 = 0
    public private(set) var id = UnsafeRawBufferPointer(start: nil, count: 0)
    public private(set) var subject = UnsafeRawBufferPointer(start: nil, count: 0)
    public private(set) var recordedBy = UnsafeRawBufferPointer(start: nil, count: 0)
    /// The event's bytes.
    public private(set) var body = UnsafeRawBufferPointer(start: nil, count: 0)
    /// The stored hash: SHA-256(the previous entry's hash ‖ `entryBytes`).
    public let hash: UnsafeRawBufferPointer
    /// The Entry's bytes, which the hash covers.
    public let entryBytes: UnsafeRawBufferPointer

    /// Reads a stored value of the `log` table as swift-protobuf reads a civic.v1.Entry: a truncated field,
    /// a bad tag or a string that is not UTF-8 is refused; unknown fields, and known ones sent with another
    /// wire type, are skipped; a field given twice keeps the last.
    public init(_ value: UnsafeRawBufferPointer) throws(WireReader.Malformed) {
        guard value.count > 32 else { throw WireReader.Malformed() }
        hash = UnsafeRawBufferPointer(rebasing: value[0..<32])
        entryBytes = UnsafeRawBufferPointer(rebasing: value[32...])
        var r = WireReader(value, from: 32, to: value.count)
        while !r.isAtEnd {
            let (field, wire) = try r.tag()
            switch (field, wire) {
            case (1, 0): seq = try r.varint()
            case (2, 0): version = try r.varint()
            case (3, 0): recordedAtMicros = try r.zigzag()
            case (4, 2): id = try r.utf8()
            case (5, 2): subject = try r.utf8()
            case (6, 2): body = try r.slice()
            case (7, 0): previous = try r.varint()
            case (8, 2): recordedBy = try r.utf8()
            default: try r.skip(wire, field: field)
            }
        }
    }

    public var idString: String { String(decoding: id, as: UTF8.self) }
    public var subjectString: String { String(decoding: subject, as: UTF8.self) }
    public var recordedByString: String { String(decoding: recordedBy, as: UTF8.self) }
}
