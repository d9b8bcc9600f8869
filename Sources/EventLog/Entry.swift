import Crypto
import Transparency
import Wire

/// One stored event, copied out of the log: where it stands (`seq`, `version`, the entry before it in its
/// stream), the store's clock, who recorded it, its id and subject, the event's own bytes (opaque to the
/// log), and the chain (`prevHash`, `hash`).
public struct LogEntry: Sendable, Equatable {
    /// Global position, gapless from 1.
    public var seq: UInt64
    /// Position in the subject's stream, from 1.
    public var version: UInt64
    /// The seq of the subject's entry before this one; 0 for the first of its stream.
    public var previous: UInt64
    /// The store's clock at append: microseconds since the Unix epoch, UTC.
    public var recordedAtMicros: Int64
    /// Who wrote it into the log: an account, or `local:<user>` for the command line; "" when not
    /// recorded (a store migrated from the first format).
    public var recordedBy: String
    public var id: String
    public var subject: String
    /// The event, encoded by the layer above; the log never looks inside.
    public var body: [UInt8]
    /// The hash of the entry before (32 zero bytes for seq 1).
    public var prevHash: [UInt8]
    /// SHA-256(prevHash ‖ the stored bytes of the entry).
    public var hash: [UInt8]
    /// The bytes the hash covers: the Entry as stored (Schemas/civic/v1/log.proto).
    public var entryBytes: [UInt8]
}

extension EntryView {
    /// The entry copied out, with the hash of the entry before it.
    public func copied(prevHash: [UInt8]) -> LogEntry {
        LogEntry(seq: seq, version: version, previous: previous, recordedAtMicros: recordedAtMicros,
                 recordedBy: recordedByString, id: idString, subject: subjectString, body: Array(body),
                 prevHash: prevHash, hash: Array(hash), entryBytes: Array(entryBytes))
    }
}

/// A new entry as the log stores it (hash ‖ Entry), chained to the hash of the entry before. Made apart
/// from the write: the hash is computed once, where the entry is made.
public struct ChainedEntry: Sendable {
    public let seq: UInt64
    public let id: String
    public let recordedAtMicros: Int64
    /// The hash of the entry before, and this entry's.
    public let prevHash: [UInt8], hash: [UInt8]
    /// The stored value: hash ‖ Entry.
    let value: [UInt8]

    /// The Entry's bytes: what the chain hashes and the Merkle tree takes as a leaf.
    public var entryBytes: ArraySlice<UInt8> { value[32...] }
    /// Its leaf hash in the Merkle tree: SHA-256(0x00 ‖ the Entry's bytes), computed where it is made.
    public let leafHash: [UInt8]

    public init(seq: UInt64, version: UInt64, previous: UInt64, recordedAtMicros: Int64, recordedBy: String,
                id: String, subject: String, body: some Collection<UInt8>, after prevHash: [UInt8]) {
        // hash ‖ Entry in one buffer: the Entry as swift-protobuf writes it (fields by number, zeros and
        // empty fields left out), then the hash over it put in front.
        var writer = WireWriter(into: [UInt8](repeating: 0, count: 32),
                                capacity: 32 + 48 + id.utf8.count + subject.utf8.count + recordedBy.utf8.count + body.count)
        writer.varint(field: 1, seq)
        writer.varint(field: 2, version)
        writer.zigzag(field: 3, recordedAtMicros)
        writer.bytes(field: 4, id.utf8)
        writer.bytes(field: 5, subject.utf8)
        writer.bytes(field: 6, body)
        writer.varint(field: 7, previous)
        writer.bytes(field: 8, recordedBy.utf8)
        var value = writer.bytes
        writer = WireWriter()  // the buffer has one owner again: no copy when the hash goes in front
        var hasher = SHA256()
        hasher.update(data: prevHash)
        value.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[32...])) }
        let hash = hasher.finalize().withUnsafeBytes { [UInt8]($0) }
        hash.withUnsafeBytes { digest in value.withUnsafeMutableBytes { $0.copyMemory(from: digest) } }
        (self.seq, self.id, self.recordedAtMicros) = (seq, id, recordedAtMicros)
        (self.prevHash, self.hash, self.value) = (prevHash, hash, value)
        leafHash = Merkle.leafHash(value[32...])
    }
}

/// The head of the log: the last seq and its hash (seq 0 and 32 zero bytes when the log is empty).
public struct LogHead: Sendable, Equatable, CustomStringConvertible {
    public var seq: UInt64
    public var hash: [UInt8]
    /// The store's clock of the last entry, 0 when empty.
    public var recordedAtMicros: Int64

    public static let empty = LogHead(seq: 0, hash: EventLog.genesisHash, recordedAtMicros: 0)

    public init(seq: UInt64, hash: [UInt8], recordedAtMicros: Int64) {
        self.seq = seq; self.hash = hash; self.recordedAtMicros = recordedAtMicros
    }

    /// `SEQ:HEX`, the form people record and `verify --expect-head` reads.
    public var description: String { "\(seq):\(hash.hex)" }

    /// A head written `SEQ:HEX` (64 hex digits), or nil.
    public static func parse(_ text: String) -> (seq: UInt64, hash: [UInt8])? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let seq = UInt64(parts[0]), parts[1].utf8.count == 64,
              let hash = [UInt8](hex: parts[1]) else { return nil }
        return (seq, hash)
    }
}

/// What the log found wrong, naming the first seq that does not hold.
public struct LogDamage: Error, Sendable, Equatable, CustomStringConvertible {
    public var seq: UInt64
    public var problem: String
    public init(seq: UInt64, problem: String) { self.seq = seq; self.problem = problem }
    public var description: String { "seq \(seq): \(problem)" }
}

extension UInt64 {
    /// The 8-byte big-endian form used for keys, so that byte order is numeric order.
    public var bigEndianBytes: [UInt8] { withUnsafeBytes(of: bigEndian) { Array($0) } }

    /// The number in the first 8 bytes of `bytes`, big-endian.
    public init(bigEndianBytes bytes: UnsafeRawBufferPointer) {
        var v: UInt64 = 0
        for b in bytes.prefix(8) { v = v << 8 | UInt64(b) }
        self = v
    }
}
