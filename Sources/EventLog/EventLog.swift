import Crypto
import Foundation
import LMDB

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

/// One stored entry read in place (hash ‖ civic.v1.Entry), for scans that copy nothing: its slices
/// point into the LMDB map and are valid only during the call that hands them out.
public struct StoredEntry {
    public var seq: UInt64 = 0
    public var version: UInt64 = 0
    public var recordedAtMicros: Int64 = 0
    public var id = UnsafeRawBufferPointer(start: nil, count: 0)
    public var subject = UnsafeRawBufferPointer(start: nil, count: 0)
    /// The event's bytes (a civic.v1.Event).
    public var body = UnsafeRawBufferPointer(start: nil, count: 0)
    /// The stored hash: SHA-256(the previous entry's hash ‖ `entryBytes`).
    public var hash: UnsafeRawBufferPointer
    /// The Entry's bytes, which the hash covers.
    public var entryBytes: UnsafeRawBufferPointer

    /// Reads a stored value of the `log` database as swift-protobuf would read a civic.v1.Entry: a
    /// truncated field, a field number 0 or an id or subject that is not UTF-8 is refused; unknown
    /// fields, and known ones of another wire type, are skipped.
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
            case (4, 2):
                id = try r.slice()
                guard UTF8Check.isValid(id) else { throw WireReader.Malformed() }
            case (5, 2):
                subject = try r.slice()
                guard UTF8Check.isValid(subject) else { throw WireReader.Malformed() }
            case (6, 2): body = try r.slice()
            default: try r.skip(wire)  // unknown, or a known field of another wire type: kept aside, as swift-protobuf does
            }
        }
    }

    public var idString: String { String(decoding: id, as: UTF8.self) }
    public var subjectString: String { String(decoding: subject, as: UTF8.self) }
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
    /// `check` is called on every entry in seq order, with the reader of the same snapshot, for the layer
    /// above to check its body and what it derived; it returns a problem or nil.
    /// - Returns: the head, when everything holds.
    /// - Throws: `LogDamage` naming the first seq that does not hold; `LMDBError` when reading fails.
    public func verify(check: (StoredEntry, borrowing LogReader) -> String? = { _, _ in nil }) throws -> LogHead {
        try read { reader in
            let count = UInt64(try reader.count())
            guard count > 0 else {
                try Self.throwFirst(nil, Self.idIndexDamage(reader, stretches: [], count: 0, before: .max))
                return LogHead.empty
            }
            let stretch = try Stretch(reader, seqs: 1...count, check: check)
            let damage = Self.damage { try stretch.conclude() }
            try Self.throwFirst(damage, Self.idIndexDamage(reader, stretches: [stretch], count: count,
                                                           before: damage?.seq ?? .max))
            return try reader.head()
        }
    }

    /// `verify` with the log cut into `parts` stretches checked at once, one a thread: every link of the
    /// chain holds by itself (the hash of the entry before is stored), and what joins the stretches
    /// (versions, the clock) is checked after. `check` sees each entry in its stretch's order only.
    /// Logs shorter than `smallestPart` × 2 are read as one stretch.
    ///
    /// Each stretch reads in a read transaction of its own, and no thread waits for another while it
    /// holds one (a map grown by another process is adopted only when no transaction of ours is open).
    public func verify(parts: Int, smallestPart: UInt64 = 50_000,
                       check: @escaping @Sendable (StoredEntry) -> String? = { _ in nil }) throws -> LogHead {
        let count = UInt64(try read { try $0.count() })
        guard count > 0 else { return try verify { entry, _ in check(entry) } }
        let parts = Int(min(UInt64(max(1, parts)), max(1, count / max(smallestPart, 1))))
        let size = (count + UInt64(parts) - 1) / UInt64(parts)
        let ranges = stride(from: 1, through: count, by: Int(size)).map { first in first...min(count, first + size - 1) }
        let others = Results()
        let group = DispatchGroup()
        for (k, seqs) in ranges.enumerated().dropFirst() {
            DispatchQueue.global().async(group: group) {
                // Later appends may be seen; a stretch reads only up to `count`.
                others.put(k, Result { try self.read { try Stretch($0, seqs: seqs, check: { entry, _ in check(entry) }) } })
            }
        }
        let first = Result { try read { try Stretch($0, seqs: ranges[0], check: { entry, _ in check(entry) }) } }
        group.wait()
        var stretches = [try first.get()]
        for k in 1..<ranges.count { stretches.append(try others.take(k).get()) }
        // The first damage in seq order: a stretch's own, or where it fails to join the ones before.
        var versions: [String: UInt64] = [:]
        var lastClock = Int64.min
        var damage: LogDamage?
        for (k, stretch) in stretches.enumerated() {
            damage = Self.damage { try stretch.join(versions: &versions, lastClock: lastClock, isLast: k == stretches.count - 1) }
            if damage != nil { break }
            lastClock = stretch.lastClock
        }
        return try read { reader in
            try Self.throwFirst(damage, Self.idIndexDamage(reader, stretches: stretches, count: count,
                                                           before: damage?.seq ?? .max))
            return try reader.entry(count).map { LogHead(seq: $0.seq, hash: $0.hash, recordedAtMicros: $0.recordedAtMicros) }
                ?? LogHead.empty
        }
    }

    private static func damage(_ body: () throws -> Void) -> LogDamage? {
        do { try body(); return nil } catch { return error as? LogDamage ?? LogDamage(seq: 0, problem: "\(error)") }
    }

    private static func throwFirst(_ a: LogDamage?, _ b: LogDamage?) throws {
        switch (a, b) {
        case (let a?, let b?): throw b.seq < a.seq ? b : a
        case (let a?, nil): throw a
        case (nil, let b?): throw b
        case (nil, nil): return
        }
    }

    /// The id index both ways: every seq below `before` is named by its own id, and (when the log was
    /// read whole) the index names nothing else. Ids are compared byte for byte with those the stretches
    /// copied. The index may hold the ids of later appends (a later snapshot): those are looked up.
    /// - Returns: the damage at the first seq that does not hold, or nil.
    private static func idIndexDamage(_ reader: borrowing LogReader, stretches: [Stretch], count: UInt64,
                                      before: UInt64) throws -> LogDamage? {
        var named = [Bool](repeating: false, count: Int(count))
        var ghost: String?
        try reader.txn.forEach(reader.ids) { id, value in
            let seq = value.count == 8 ? UInt64(bigEndianBytes: value) : 0
            if seq >= 1, seq <= count, let stretch = stretches.first(where: { $0.seqs.contains(seq) }) {
                switch stretch.hasID(id, at: seq) {
                case true?: named[Int(seq - 1)] = true
                case false?: if ghost == nil { ghost = String(decoding: id, as: UTF8.self) }
                case nil: break  // past the damage its stretch stopped at
                }
            } else if seq > count, let entry = try reader.entry(seq), entry.id.utf8.elementsEqual(id) {
                // appended after the stretches were read
            } else if ghost == nil {
                ghost = String(decoding: id, as: UTF8.self)
            }
            return true
        }
        if let missing = named.firstIndex(of: false), UInt64(missing) + 1 < before,
           let stretch = stretches.first(where: { $0.seqs.contains(UInt64(missing) + 1) }) {
            let seq = UInt64(missing) + 1
            return LogDamage(seq: seq, problem: "id index does not point \(stretch.id(at: seq)) to this seq")
        }
        if before == .max, let ghost { return LogDamage(seq: count + 1, problem: "id index holds \(ghost), which no entry has") }
        return nil
    }

    /// The stretches' results, handed between threads.
    private final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var results: [Int: Result<Stretch, any Error>] = [:]
        func put(_ k: Int, _ result: Result<Stretch, any Error>) { lock.lock(); results[k] = result; lock.unlock() }
        func take(_ k: Int) -> Result<Stretch, any Error> {
            lock.lock(); defer { lock.unlock() }
            return results[k] ?? .failure(LogDamage(seq: 0, problem: "a part of the log was not checked"))
        }
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
        var key = id
        return try key.withUTF8 { bytes in
            try txn.withValue(ids, key: UnsafeRawBufferPointer(bytes)) { value in
                guard let value, value.count == 8 else { return nil }
                return UInt64(bigEndianBytes: value)
            }
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
        let stored = try StoredEntry(value)
        return LogEntry(seq: stored.seq, version: stored.version, recordedAtMicros: stored.recordedAtMicros,
                        id: stored.idString, subject: stored.subjectString, body: Array(stored.body),
                        prevHash: prevHash, hash: Array(stored.hash))
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
    /// - Returns: its seq.
    /// - Throws: `LMDBError` (`.keyExists` if the id is stored already, `.mapFull` handled by `write`).
    @discardableResult
    public mutating func append(id: String, subject: String, version: UInt64, recordedAtMicros: Int64,
                                body: [UInt8]) throws -> UInt64 {
        try append(ChainedEntry(seq: head.seq + 1, version: version, recordedAtMicros: recordedAtMicros,
                                id: id, subject: subject, body: body, after: head.hash))
    }

    /// Appends `entry`, made (on any thread) to follow the head.
    /// - Precondition: `entry` has the next seq and is chained to the head's hash.
    /// - Returns: its seq.
    /// - Throws: `LMDBError` (`.keyExists` if its id is stored already, `.mapFull` handled by `write`).
    @discardableResult
    public mutating func append(_ entry: ChainedEntry) throws -> UInt64 {
        precondition(entry.seq == head.seq + 1 && entry.prevHash == head.hash, "entry \(entry.seq) does not follow the head \(head)")
        // The id is claimed first: if it is taken, nothing of this event has been written.
        var key = entry.id
        try key.withUTF8 { idBytes in
            try withUnsafeBytes(of: entry.seq.bigEndian) { seqKey in
                try reader.txn.put(reader.ids, key: UnsafeRawBufferPointer(idBytes), value: seqKey, options: .noOverwrite)
                try reader.txn.put(reader.log, key: seqKey, value: entry.value, options: .append)
            }
        }
        head = LogHead(seq: entry.seq, hash: entry.hash, recordedAtMicros: entry.recordedAtMicros)
        return entry.seq
    }
}

/// An entry as the log stores it (hash ‖ Entry), chained to the hash of the entry before. Made apart
/// from the write, so that a large append can hash on one core while it checks events on the other.
public struct ChainedEntry: Sendable {
    public let seq: UInt64
    public let id: String
    public let recordedAtMicros: Int64
    /// The hash of the entry before, and this entry's.
    public let prevHash: [UInt8], hash: [UInt8]
    /// The stored value: hash ‖ Entry.
    let value: [UInt8]

    public init(seq: UInt64, version: UInt64, recordedAtMicros: Int64, id: String, subject: String,
                body: [UInt8], after prevHash: [UInt8]) {
        // hash ‖ Entry, written in one buffer: the Entry's bytes as swift-protobuf writes them (fields in
        // order, zeros and empty fields left out), then the hash over them put in front.
        var writer = WireWriter(into: [UInt8](repeating: 0, count: 32),
                                capacity: 32 + 40 + id.utf8.count + subject.utf8.count + body.count)
        writer.varint(field: 1, seq)
        writer.varint(field: 2, version)
        writer.zigzag(field: 3, recordedAtMicros)
        writer.bytes(field: 4, id.utf8)
        writer.bytes(field: 5, subject.utf8)
        writer.bytes(field: 6, body)
        var value = writer.bytes
        writer = WireWriter()  // the buffer has one owner again: no copy when the hash goes in front
        var hasher = SHA256()
        hasher.update(data: prevHash)
        value.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[32...])) }
        let hash = hasher.finalize().withUnsafeBytes { [UInt8]($0) }
        hash.withUnsafeBytes { digest in value.withUnsafeMutableBytes { $0.copyMemory(from: digest) } }
        (self.seq, self.id, self.recordedAtMicros) = (seq, id, recordedAtMicros)
        (self.prevHash, self.hash, self.value) = (prevHash, hash, value)
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

/// One stretch of the log, checked entry by entry: keys, decoding, each link of the chain, the clock
/// and the versions within it; with what it takes to join it to the stretches before (each subject's
/// first version in it, the clock at its ends) and a copy of each entry's id for the id index.
struct Stretch: Sendable {
    let seqs: ClosedRange<UInt64>
    /// The first damage found inside it (the scan stops there).
    var damage: LogDamage?
    var firstClock = Int64.min
    var lastClock = Int64.min
    /// Per subject: its first version here and the seq of that entry, and its last version here.
    var versions: [String: (first: UInt64, seq: UInt64, last: UInt64)] = [:]
    /// The ids of its entries, one after another, and where each ends.
    private var ids: [UInt8] = []
    private var idEnds: [Int] = []

    init(_ reader: borrowing LogReader, seqs: ClosedRange<UInt64>,
         check: (StoredEntry, borrowing LogReader) -> String?) throws {
        self.seqs = seqs
        idEnds.reserveCapacity(seqs.count)
        ids.reserveCapacity(seqs.count * 24)
        var previous = EventLog.genesisHash
        if seqs.lowerBound > 1 {
            previous = try reader.txn.withValue(reader.log, key: (seqs.lowerBound - 1).bigEndianBytes) { value in
                value.map { Array($0.prefix(32)) }
            } ?? []
            guard previous.count == 32 else {
                damage = LogDamage(seq: seqs.lowerBound - 1, problem: "missing")
                return
            }
        }
        var expected = seqs.lowerBound
        let last = seqs.upperBound
        do {
            try previous.withUnsafeBytes { genesis in
                var prev = genesis
                try reader.txn.forEach(reader.log, from: seqs.lowerBound.bigEndianBytes) { key, value in
                    guard key.count == 8 else { throw LogDamage(seq: expected, problem: "key of \(key.count) bytes") }
                    let seq = UInt64(bigEndianBytes: key)
                    guard seq == expected else {
                        throw LogDamage(seq: expected, problem: "missing: the next stored seq is \(seq)")
                    }
                    let entry: StoredEntry
                    do { entry = try StoredEntry(value) } catch {
                        throw LogDamage(seq: seq, problem: "entry does not decode (not a civic.v1.Entry)")
                    }
                    guard entry.seq == seq else {
                        throw LogDamage(seq: seq, problem: "entry stored under seq \(seq) says seq \(entry.seq)")
                    }
                    var hasher = SHA256()
                    hasher.update(bufferPointer: prev)
                    hasher.update(bufferPointer: entry.entryBytes)
                    let computed = hasher.finalize()
                    guard computed.withUnsafeBytes({ $0.elementsEqual(entry.hash) }) else {
                        throw LogDamage(seq: seq, problem: "hash mismatch: stored \(entry.hash.hex), computed \(Array(computed).hex)")
                    }
                    guard entry.recordedAtMicros >= lastClock else {
                        throw LogDamage(seq: seq, problem: "recordedat goes backwards")
                    }
                    if firstClock == .min { firstClock = entry.recordedAtMicros }
                    let subject = entry.subjectString
                    if let known = versions.index(forKey: subject) {
                        let next = versions.values[known].last + 1
                        guard entry.version == next else {
                            throw LogDamage(seq: seq, problem: "version \(entry.version) of \(subject), expected \(next)")
                        }
                        versions.values[known].last = entry.version
                    } else {
                        versions[subject] = (entry.version, seq, entry.version)
                    }
                    ids.append(contentsOf: entry.id)
                    idEnds.append(ids.count)
                    if let problem = check(entry, reader) { throw LogDamage(seq: seq, problem: problem) }
                    prev = entry.hash
                    lastClock = entry.recordedAtMicros
                    expected += 1
                    return seq < last
                }
            }
        } catch let found as LogDamage {
            damage = found
        }
        if damage == nil, expected <= last { damage = LogDamage(seq: expected, problem: "missing") }
    }

    /// Throws the first damage of a log read as one stretch from seq 1: its own, or a subject whose
    /// stream does not begin at version 1.
    func conclude() throws {
        var first = damage
        for (subject, v) in versions where v.first != 1 && v.seq < first?.seq ?? .max {
            first = LogDamage(seq: v.seq, problem: "version \(v.first) of \(subject), expected 1")
        }
        if let first { throw first }
    }

    /// Checks that this stretch continues the ones before it (whose last versions and clock are given),
    /// then takes its own last versions into `versions`. Throws the first damage in seq order.
    func join(versions known: inout [String: UInt64], lastClock before: Int64, isLast: Bool) throws {
        if seqs.lowerBound == 1 {
            try conclude()
            if !isLast { known = versions.mapValues(\.last) }
            return
        }
        var first: LogDamage? = damage
        func note(_ found: LogDamage) { if first.map({ found.seq < $0.seq }) ?? true { first = found } }
        if firstClock != .min, firstClock < before {
            note(LogDamage(seq: seqs.lowerBound, problem: "recordedat goes backwards"))
        }
        for (subject, v) in versions {
            let expected = (known[subject] ?? 0) + 1
            if v.first != expected {
                note(LogDamage(seq: v.seq, problem: "version \(v.first) of \(subject), expected \(expected)"))
            }
            if !isLast { known[subject] = v.last }
        }
        if let first { throw first }
    }

    /// Whether the entry at `seq` (in this stretch) has the id `id`; nil when the stretch stopped before it.
    func hasID(_ id: UnsafeRawBufferPointer, at seq: UInt64) -> Bool? {
        let k = Int(seq - seqs.lowerBound)
        guard k < idEnds.count else { return nil }
        let start = k == 0 ? 0 : idEnds[k - 1]
        return ids[start..<idEnds[k]].elementsEqual(id)
    }

    /// The id of the entry at `seq`, as this stretch copied it.
    func id(at seq: UInt64) -> String {
        let k = Int(seq - seqs.lowerBound)
        guard k < idEnds.count else { return "?" }
        return String(decoding: ids[(k == 0 ? 0 : idEnds[k - 1])..<idEnds[k]], as: UTF8.self)
    }
}
