import Foundation
import Projections
import Campaign
import EventLog
import Wire

/// The names of the derived tables the ledger keeps beside the log (docs/storage.md).
enum Tables {
    /// Subject id → its record (`SubjectRecord`): what the rules consult, and where each trail ends.
    static let subjects = "subjects"
    /// Unit id ‖ 0 ‖ subject id → the seq and business time of the first event that made the subject
    /// concern the unit: which problems, cases and streams a unit's trail covers. And, under keys no unit
    /// can have (`#f` or `#r`, an evidence hash, 0, subject id), the first fix or report of each subject that
    /// named the file: where `reused-evidence` looks; under `#c`, a problem id, 0, a case id, the
    /// accountability cases recorded for each problem (docs/storage.md).
    static let unitLinks = "unit-links"
    /// Seq → a snapshot of the projection (`ProjectionSnapshot`).
    static let snapshots = "snapshots"
    static let all = [subjects, unitLinks, snapshots]
}

/// A subject that concerns a unit, and since when.
struct UnitLink: Sendable, Equatable {
    /// The seq and business time of the first event that linked them.
    var seq: UInt64
    var time: Int64

    var encoded: [UInt8] {
        var w = WireWriter(capacity: 16)
        w.varint(seq)
        w.zigzag(time)
        return w.bytes
    }

    init(seq: UInt64, time: Int64) { self.seq = seq; self.time = time }

    init(stored bytes: UnsafeRawBufferPointer) throws(WireReader.Malformed) {
        var r = WireReader(bytes)
        seq = try r.varint()
        time = try r.zigzag()
        guard r.isAtEnd else { throw WireReader.Malformed() }
    }

    /// The units an event makes its subject concern (`Event.unitsConcerned`), and the evidence it names
    /// (`#f<sha256>` for a fix, `#r<sha256>` for a report: `#` begins no unit id).
    static func units(of event: Event) -> [String] {
        var keys = event.unitsConcerned
        for (hash, use) in EvidenceUse.made(by: event, seq: 0) { keys.append(evidenceKey(hash, byFix: use.byFix)) }
        if case .accountabilityRecorded(let a) = event.data { keys += a.problems.map { "#c" + $0 } }
        return keys
    }

    /// The pseudo-unit of a file's uses: `#f` (by fixes) or `#r` (by reports), then its hash.
    static func evidenceKey(_ hash: String, byFix: Bool) -> String { (byFix ? "#f" : "#r") + hash }

    /// How an entry is read where links are made from stored events: what folds read, and the evidence
    /// of reports and fixes.
    static func reading(_ entry: EntryView) -> EventCodec.Reading {
        switch EventCodec.type(of: entry.body) {
        case .rectificationSubmitted?, .problemReported?: .forLinks
        default: .forFolds
        }
    }

    /// The key of the link of `subject` to `unit`.
    static func key(unit: String, subject: String) -> [UInt8] {
        var key: [UInt8] = []
        key.reserveCapacity(unit.utf8.count + 1 + subject.utf8.count)
        key.append(contentsOf: unit.utf8)
        key.append(0)
        key.append(contentsOf: subject.utf8)
        return key
    }

    /// The first key of `unit`'s links.
    static func prefix(_ unit: String) -> [UInt8] { Array(unit.utf8) + [0] }
}

/// The latest record of every subject and the links of subjects to units, as of the log's head: kept in
/// the derived tables `subjects` and `unit-links` up to a seq (the stamp, the `meta` fact
/// `subjects.seq`), with what was appended after it folded in memory (the tail). The tables are written
/// in batches (`flush`) rather than with every append: an append writes the log and its id index, and
/// now and then also what the tail holds.
///
/// A process that appends starts from the tables and folds only the tail, so it starts in a time that
/// does not grow with the log. Not thread-safe: the ledger uses it under its lock.
final class SubjectIndex: @unchecked Sendable {
    let subjects: DerivedTable?
    let links: DerivedTable?
    /// The tail is written to the tables once it holds this many events.
    let flushEvery: UInt64

    /// The seq up to which the tables hold every record.
    private(set) var stamp: UInt64 = 0
    /// The records and links changed after the stamp, up to `known`.
    private(set) var tail: [String: SubjectRecord] = [:]
    private(set) var tailLinks: [[UInt8]: UnitLink] = [:]
    /// The head the tail is folded to; nil before the first catch-up (or after an append that wrote the
    /// tables and did not commit: they must be read again).
    private(set) var known: UInt64?

    static let stampFact = "subjects.seq"

    /// Without `readingTables`, the tables are left unread: every record and link is folded from the log
    /// (a ledger opened `fromLog`).
    init(log: EventLog, flushEvery: UInt64 = 10_000, readingTables: Bool = true) {
        subjects = readingTables ? log.table(Tables.subjects) : nil
        links = readingTables ? log.table(Tables.unitLinks) : nil
        self.flushEvery = flushEvery
    }

    /// The stamp stored in `reader`'s snapshot of the store (0 when none).
    static func storedStamp(_ reader: borrowing LogReader) throws -> UInt64 {
        guard let bytes = try reader.fact(stampFact), bytes.count == 8 else { return 0 }
        return bytes.withUnsafeBytes { UInt64(bigEndianBytes: $0) }
    }

    /// Folds into the tail whatever the log holds after what it knows, reading the stamp again: another
    /// process may have appended, or written the tables, since.
    func catchUp(_ reader: borrowing LogReader) throws {
        let stored = subjects == nil ? 0 : try Self.storedStamp(reader)
        let head = try reader.head().seq
        if known == nil || stored != stamp || known! > head {
            stamp = stored
            tail = [:]
            tailLinks = [:]
            known = stored
        }
        guard known! < head else { return }
        try reader.forEach(after: known!) { entry in
            let recorded = try EventCodec.recorded(entry, reading: UnitLink.reading(entry))
            take(recorded.event, seq: entry.seq, before: try record(entry.subjectString, reader))
            return true
        }
        known = head
    }

    /// Takes an event into the tail: its subject's new record and its links.
    private func take(_ event: Event, seq: UInt64, before: SubjectRecord?) {
        tail[event.subject] = Rules.evolve(before, event, seq: seq)
        for unit in UnitLink.units(of: event) {
            let key = UnitLink.key(unit: unit, subject: event.subject)
            if tailLinks[key] == nil { tailLinks[key] = UnitLink(seq: seq, time: event.time.micros) }
        }
    }

    /// The record of `subject` as of the head folded: from the tail, else the table.
    /// - Throws: `DerivedDamage` when the table's record does not decode.
    func record(_ subject: String, _ reader: borrowing LogReader) throws -> SubjectRecord? {
        if let found = tail[subject] { return found }
        return try Self.stored(subject, in: subjects, reader)
    }

    /// The record the table `subjects` holds for `subject`.
    static func stored(_ subject: String, in table: DerivedTable?, _ reader: borrowing LogReader) throws -> SubjectRecord? {
        var key = subject
        return try key.withUTF8 { bytes in
            try reader.withValue(table, UnsafeRawBufferPointer(bytes)) { value in
                guard let value else { return nil }
                do { return try SubjectRecord(stored: value) } catch {
                    throw DerivedDamage(table: Tables.subjects, key: subject, problem: "the record does not decode")
                }
            }
        }
    }

    /// Whether the link of `subject` to `unit` is known (the tail's, or the table's).
    func hasLink(_ key: [UInt8], _ reader: borrowing LogReader) throws -> Bool {
        if tailLinks[key] != nil { return true }
        return try reader.withValue(links, key) { $0 != nil }
    }

    /// What an append adds, once committed: its records and links become the tail's.
    func committed(records: [String: SubjectRecord], links: [[UInt8]: UnitLink], head: UInt64) {
        tail.merge(records) { _, new in new }
        tailLinks.merge(links) { old, _ in old }
        known = head
    }

    /// Forgets the tail and the stamp: the tables are read again at the next catch-up (an append that
    /// wrote them did not commit).
    func forget() { known = nil }

    /// Whether the tail (with `pending` more records) is due to be written to the tables.
    func isDue(head: UInt64, pending: Int) -> Bool {
        head - stamp >= flushEvery || tail.count + pending >= Int(flushEvery) * 4
    }

    /// How many records an append keeps in memory before it writes them to the tables in its own
    /// transaction (bounding its memory, whatever its size).
    var heldAtMost: Int { Int(flushEvery) * 26 }

    /// Writes the tail and `records`/`links` (an append's, not yet committed) to the tables in `writer`'s
    /// transaction, stamped with `head`. Afterwards the tail is empty and the stamp is `head`, as the
    /// transaction will leave the store once it commits (`forget` when it does not).
    func flush(_ writer: inout LogWriter, records: [String: SubjectRecord], links: [[UInt8]: UnitLink], head: UInt64) throws {
        guard let subjects = self.subjects, let unitLinks = self.links else { return }
        // In key order, which keeps the pages a batch touches together. Sorted as bytes (String's order
        // compares characters, and costs far more on 200,000 ids), each key beside the place of its
        // record: the records are neither moved by the sort nor looked up again by their subject.
        var changed: [SubjectRecord] = []
        var keys: [(bytes: [UInt8], slot: Int)] = []
        changed.reserveCapacity(records.count + tail.count)
        keys.reserveCapacity(records.count + tail.count)
        for (subject, record) in records {
            keys.append((Array(subject.utf8), changed.count))
            changed.append(record)
        }
        for (subject, record) in tail where records[subject] == nil {
            keys.append((Array(subject.utf8), changed.count))
            changed.append(record)
        }
        keys.sort { Self.precedes($0.bytes, $1.bytes) }
        for key in keys { try writer.put(subjects, key.bytes, changed[key.slot].encoded()) }
        // A link kept in the tail was made first (an earlier append's): it stays.
        var linked = Array(tailLinks)
        linked.reserveCapacity(tailLinks.count + links.count)
        for (key, link) in links where tailLinks[key] == nil { linked.append((key, link)) }
        linked.sort { Self.precedes($0.key, $1.key) }
        for (key, link) in linked { try writer.putIfAbsent(unitLinks, key, link.encoded) }
        try writer.setFact(Self.stampFact, head.bigEndianBytes)
        tail = [:]
        tailLinks = [:]
        stamp = head
        known = head
    }
}

extension SubjectIndex {
    /// Byte order of two keys.
    static func precedes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in
                let c = memcmp(x.baseAddress!, y.baseAddress!, min(x.count, y.count))
                return c < 0 || (c == 0 && x.count < y.count)
            }
        }
    }
}

/// Derived data found damaged: which table, which key, and what is wrong. Derived data is rebuilt from
/// the log (`civic rebuild`); the log itself is not concerned.
public struct DerivedDamage: Error, Sendable, CustomStringConvertible {
    public var table: String
    public var key: String
    public var problem: String
    public var description: String {
        "派生数据 \(table) 中 \(key) 已损坏（\(problem)）：日志本身不受影响；请运行 civic rebuild 由日志重建派生数据"
    }
}
