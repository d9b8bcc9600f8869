import Crypto
import Foundation
import LMDB
import SwiftProtobuf

/// The kinds of checkpoint the layer above keeps, each in a database of its own (named by the raw value).
public enum CheckpointKind: String, Sendable, CaseIterable {
    /// What the views start from.
    case views = "checkpoints"
    /// What the rules of an append start from.
    case rules = "checkpoints.rules"
}

/// One stored event, as the log holds it: its place (`seq`, `version`), the store's clock, its id and
/// subject, the event's own bytes (opaque to the log), and the chain (`prevHash`, `hash`).
public struct LogEntry: Sendable, Equatable {
    /// Global position, gapless from 1.
    public var seq: UInt64
    /// Position in the subject's stream, from 1.
    public var version: UInt64
    /// The store's clock at append: microseconds since the Unix epoch, UTC.
    public var recordedAtMicros: Int64
    public var id: String
    public var subject: String
    /// The event, encoded by the layer above (a civic.v1.Event); the log never looks inside.
    public var body: [UInt8]
    /// The hash of the entry before (32 zero bytes for seq 1).
    public var prevHash: [UInt8]
    /// SHA-256(prevHash ‖ the stored bytes of the entry).
    public var hash: [UInt8]
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
}

/// What the log found wrong, naming the first seq that does not hold.
public struct LogDamage: Error, Sendable, Equatable, CustomStringConvertible {
    public var seq: UInt64
    public var problem: String
    public init(seq: UInt64, problem: String) { self.seq = seq; self.problem = problem }
    public var description: String { "seq \(seq): \(problem)" }
}

/// The append-only, hash-chained log of opaque events in an LMDB environment.
///
/// Databases:
/// - `log`: seq (8 bytes big-endian) → hash (32 bytes) ‖ civic.v1.Entry (protobuf).
/// - `ids`: event id (UTF-8) → seq (8 bytes big-endian): the idempotency index.
/// - `checkpoints` and `checkpoints.rules`: seq (8 bytes big-endian) → opaque bytes of the layer above
///   (`CheckpointKind`): derived data, written apart from appends, never chained, and safe to lose.
///
/// Entries are never changed or deleted. Every append runs in one LMDB write transaction, so a crash
/// at any instant leaves the log as it was before or after the whole append, never between.
public final class EventLog: @unchecked Sendable {
    /// The previous hash of seq 1.
    public static let genesisHash = [UInt8](repeating: 0, count: 32)

    public let environment: Environment
    let log: Database
    let ids: Database
    /// Absent in a store opened read-only that was made before that kind of checkpoint existed.
    let checkpoints: [CheckpointKind: Database]

    /// Opens the log in folder `path` (with `create`, creating folder and databases).
    /// - Throws: `LMDBError` (`.noSuchFile` when there is no store there, `.notFound` when the folder
    ///   holds an LMDB environment that is not a civic log).
    public init(path: String, readOnly: Bool = false, create: Bool = false, mapSize: Int = 64 << 20,
                maximumMapSize: Int = 1 << 40) throws {
        environment = try Environment(path: path, readOnly: readOnly, mapSize: mapSize,
                                      maximumMapSize: maximumMapSize, maxDatabases: 8, create: create)
        log = try environment.database("log", create: create)
        ids = try environment.database("ids", create: create)
        var found: [CheckpointKind: Database] = [:]
        for kind in CheckpointKind.allCases {
            do {
                found[kind] = try environment.database(kind.rawValue, create: !readOnly)
            } catch let error as LMDBError where error.code == .notFound {
                continue
            }
        }
        checkpoints = found
    }

    /// Stores `bytes` as the checkpoint of `seq`, in a transaction of its own.
    @available(*, noasync)
    public func storeCheckpoint(_ seq: UInt64, _ bytes: [UInt8], kind: CheckpointKind = .views) throws {
        guard let db = checkpoints[kind] else { return }
        try environment.write { txn in try txn.put(db, key: seq.bigEndianBytes, value: bytes) }
    }

    /// Removes the checkpoint of `seq` (one found damaged).
    @available(*, noasync)
    public func discardCheckpoint(_ seq: UInt64, kind: CheckpointKind = .views) throws {
        guard let db = checkpoints[kind] else { return }
        try environment.write { txn in try txn.delete(db, key: seq.bigEndianBytes) }
    }

    /// Runs `body` on a consistent snapshot of the log; appends made meanwhile are not seen.
    @available(*, noasync)
    public func read<R>(_ body: (borrowing LogReader) throws -> R) throws -> R {
        let reader = LogReader(txn: try environment.beginRead(), log: log, ids: ids, checkpoints: checkpoints)
        return try body(reader)
    }

    /// Runs `body` in the one write transaction and commits what it appended, all or nothing.
    ///
    /// If `body` throws, nothing is stored. `body` may be run again from the start when the map grows,
    /// so it must begin from what it reads, not from what a former run did.
    @available(*, noasync)
    public func write<R>(_ body: (inout LogWriter) throws -> R) throws -> R {
        try environment.writing {
            var writer = try LogWriter(reader: LogReader(txn: try environment.beginWrite(), log: log, ids: ids,
                                                         checkpoints: checkpoints))
            let result = try body(&writer)
            try writer.commit()
            return result
        }
    }

    /// The head of the log as committed now.
    public func head() throws -> LogHead {
        try read { try $0.head() }
    }

    /// Re-reads every stored byte: keys gapless from 1, each entry decodable with its own seq, the hash
    /// chain, the store's clock never going backwards, the stream versions, and the id index both ways.
    /// `check` is called on every entry, with the reader of the same snapshot, for the layer above to
    /// check its body and what it derived; it returns a problem or nil.
    /// - Returns: the head, when everything holds.
    /// - Throws: `LogDamage` naming the first seq that does not hold; `LMDBError` when reading fails.
    public func verify(check: (LogEntry, borrowing LogReader) -> String? = { _, _ in nil }) throws -> LogHead {
        try read { reader in
            var expected: UInt64 = 1
            var prev = EventLog.genesisHash
            var lastClock = Int64.min
            var versions: [String: UInt64] = [:]
            var head = LogHead.empty
            try reader.txn.forEach(reader.log) { key, value in
                guard key.count == 8 else { throw LogDamage(seq: expected, problem: "key of \(key.count) bytes") }
                let seq = UInt64(bigEndianBytes: key)
                guard seq == expected else {
                    throw LogDamage(seq: expected, problem: "missing: the next stored seq is \(seq)")
                }
                let entry: LogEntry
                do { entry = try LogReader.decode(value, prevHash: prev) } catch {
                    throw LogDamage(seq: seq, problem: "entry does not decode (\(error))")
                }
                guard entry.seq == seq else {
                    throw LogDamage(seq: seq, problem: "entry stored under seq \(seq) says seq \(entry.seq)")
                }
                let computed = EventLog.chain(prev, value[32...])
                guard computed == entry.hash else {
                    throw LogDamage(seq: seq, problem: "hash mismatch: stored \(entry.hash.hex), computed \(computed.hex)")
                }
                guard entry.recordedAtMicros >= lastClock else {
                    throw LogDamage(seq: seq, problem: "recordedat goes backwards")
                }
                let version = (versions[entry.subject] ?? 0) + 1
                guard entry.version == version else {
                    throw LogDamage(seq: seq, problem: "version \(entry.version) of \(entry.subject), expected \(version)")
                }
                versions[entry.subject] = version
                guard try reader.seq(ofID: entry.id) == seq else {
                    throw LogDamage(seq: seq, problem: "id index does not point \(entry.id) to this seq")
                }
                if let problem = check(entry, reader) { throw LogDamage(seq: seq, problem: problem) }
                prev = entry.hash
                lastClock = entry.recordedAtMicros
                head = LogHead(seq: seq, hash: entry.hash, recordedAtMicros: entry.recordedAtMicros)
                expected += 1
                return true
            }
            let indexed = try reader.txn.count(reader.ids)
            guard UInt64(indexed) == head.seq else {
                throw LogDamage(seq: head.seq + 1, problem: "id index holds \(indexed) ids for \(head.seq) events")
            }
            return head
        }
    }

    /// SHA-256(prev ‖ stored).
    static func chain(_ prev: [UInt8], _ stored: some DataProtocol) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: prev)
        hasher.update(data: stored)
        return Array(hasher.finalize())
    }
}

/// Reads of the log inside one transaction.
public struct LogReader: ~Copyable {
    var txn: Transaction
    let log: Database
    let ids: Database
    let checkpoints: [CheckpointKind: Database]

    /// Visits stored checkpoints from the last at or before `seq` backwards, until `body` returns false.
    public func checkpoints(atOrBefore seq: UInt64, kind: CheckpointKind = .views,
                            _ body: (UInt64, UnsafeRawBufferPointer) throws -> Bool) throws {
        guard let db = checkpoints[kind] else { return }
        try txn.forEachBackward(db, from: seq.bigEndianBytes) { key, value in
            try body(UInt64(bigEndianBytes: key), value)
        }
    }

    /// The bytes of the checkpoint stored at exactly `seq`, or nil.
    public func checkpoint(_ seq: UInt64, kind: CheckpointKind = .views) throws -> [UInt8]? {
        guard let db = checkpoints[kind] else { return nil }
        return try txn.get(db, key: seq.bigEndianBytes)
    }

    /// The seqs of every stored checkpoint, ascending.
    public func checkpointSeqs(kind: CheckpointKind = .views) throws -> [UInt64] {
        guard let db = checkpoints[kind] else { return [] }
        var seqs: [UInt64] = []
        try txn.forEach(db) { key, _ in seqs.append(UInt64(bigEndianBytes: key)); return true }
        return seqs
    }

    /// The last seq recorded at or before `micros` (0 when none): the store's clock never goes
    /// backwards, so a binary search over seqs finds it.
    public func lastSeq(recordedAtOrBefore micros: Int64) throws -> UInt64 {
        var low: UInt64 = 0, high = try head().seq  // invariant: low is at or before, everything after high is after
        while low < high {
            let mid = low + (high - low + 1) / 2
            guard let entry = try entry(mid) else { throw LogDamage(seq: mid, problem: "missing") }
            if entry.recordedAtMicros <= micros { low = mid } else { high = mid - 1 }
        }
        return low
    }

    /// The head: last seq, its hash and clock.
    public func head() throws -> LogHead {
        try txn.withLast(log) { last in
            guard let last else { return LogHead.empty }
            let entry = try Self.decode(last.value, prevHash: [])
            return LogHead(seq: entry.seq, hash: entry.hash, recordedAtMicros: entry.recordedAtMicros)
        }
    }

    /// The seq of the event with `id`, or nil.
    public func seq(ofID id: String) throws -> UInt64? {
        try txn.withValue(ids, key: Array(id.utf8)) { value in
            guard let value, value.count == 8 else { return nil }
            return UInt64(bigEndianBytes: value)
        }
    }

    /// The entry at `seq`, or nil.
    public func entry(_ seq: UInt64) throws -> LogEntry? {
        guard seq >= 1 else { return nil }
        let prev: [UInt8] = seq == 1 ? EventLog.genesisHash
            : try txn.withValue(log, key: (seq - 1).bigEndianBytes) { $0.map { Array($0.prefix(32)) } } ?? []
        return try txn.withValue(log, key: seq.bigEndianBytes) { value in
            try value.map { try Self.decode($0, prevHash: prev) }
        }
    }

    /// Visits entries in seq order from `after + 1` until `body` returns false.
    public func forEach(after: UInt64 = 0, _ body: (LogEntry) throws -> Bool) throws {
        guard after < UInt64.max else { return }
        var prev: [UInt8] = after == 0 ? EventLog.genesisHash
            : try txn.withValue(log, key: after.bigEndianBytes) { $0.map { Array($0.prefix(32)) } } ?? []
        try txn.forEach(log, from: (after + 1).bigEndianBytes) { _, value in
            let entry = try Self.decode(value, prevHash: prev)
            prev = entry.hash
            return try body(entry)
        }
    }

    /// Visits the stored values (hash ‖ Entry bytes) in seq order from `after + 1`, until `body` returns
    /// false: for readers of the stored format that need no copy. The buffers are valid only during each call.
    public func forEachStored(after: UInt64 = 0, _ body: (UnsafeRawBufferPointer) throws -> Bool) throws {
        guard after < UInt64.max else { return }
        try txn.forEach(log, from: (after + 1).bigEndianBytes) { _, value in try body(value) }
    }

    /// How many entries the log holds.
    public func count() throws -> Int { try txn.count(log) }

    static func decode(_ value: UnsafeRawBufferPointer, prevHash: [UInt8]) throws -> LogEntry {
        guard value.count > 32 else { throw LogDamage(seq: 0, problem: "value of \(value.count) bytes") }
        let stored = try Civic_V1_Entry(serializedBytes: Array(value[32...]))
        return LogEntry(seq: stored.seq, version: stored.version, recordedAtMicros: stored.recordedAtUs,
                        id: stored.id, subject: stored.subject, body: Array(stored.event),
                        prevHash: prevHash, hash: Array(value[0..<32]))
    }
}

/// Appends inside the one write transaction; also reads, seeing what it appended so far.
public struct LogWriter: ~Copyable {
    var reader: LogReader
    /// The head including what this transaction appended.
    public private(set) var head: LogHead

    init(reader: consuming LogReader) throws {
        head = try reader.head()
        self.reader = reader
    }

    mutating func commit() throws {
        try reader.txn.commit()
    }

    /// Reads, as of this transaction (appends made in it included).
    public var read: LogReader { _read { yield reader } }

    /// The store's clock for an append made at `now`: never before the last entry's.
    public func clock(now: Int64) -> Int64 { max(now, head.recordedAtMicros) }

    /// Appends one event at the next seq, chained to the head.
    /// - Precondition: `id` is not in the log (check with `read.seq(ofID:)` first).
    /// - Throws: `LMDBError` (`.keyExists` if the id is stored already, `.mapFull` handled by `write`).
    @discardableResult
    public mutating func append(id: String, subject: String, version: UInt64, recordedAtMicros: Int64,
                                body: [UInt8]) throws -> LogEntry {
        var stored = Civic_V1_Entry()
        stored.seq = head.seq + 1
        stored.version = version
        stored.recordedAtUs = recordedAtMicros
        stored.id = id
        stored.subject = subject
        stored.event = Data(body)
        let bytes: [UInt8] = try stored.serializedBytes()
        let hash = EventLog.chain(head.hash, bytes)
        // The id is claimed first: if it is taken, nothing of this event has been written.
        try reader.txn.put(reader.ids, key: Array(id.utf8), value: stored.seq.bigEndianBytes, options: .noOverwrite)
        try reader.txn.put(reader.log, key: stored.seq.bigEndianBytes, value: hash + bytes, options: .append)
        let entry = LogEntry(seq: stored.seq, version: version, recordedAtMicros: recordedAtMicros, id: id,
                             subject: subject, body: body, prevHash: head.hash, hash: hash)
        head = LogHead(seq: entry.seq, hash: hash, recordedAtMicros: recordedAtMicros)
        return entry
    }
}

extension UInt64 {
    /// The 8-byte big-endian form used for keys, so that byte order is numeric order.
    public var bigEndianBytes: [UInt8] { withUnsafeBytes(of: bigEndian) { Array($0) } }

    init(bigEndianBytes bytes: UnsafeRawBufferPointer) {
        var v: UInt64 = 0
        for b in bytes.prefix(8) { v = v << 8 | UInt64(b) }
        self = v
    }
}

extension Sequence<UInt8> {
    /// Lowercase hex.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for b in self { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
