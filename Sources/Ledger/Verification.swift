import Campaign
import EventLog
import Foundation
import LMDB
import Projections

/// What `verify` found: the head of a log that holds, and the derived data that does not match it.
public struct Verification: Sendable {
    public var head: LogHead
    /// Derived data that differs from what the log gives (the log itself holds).
    public var derived: [DerivedDamage]
    /// How much derived data was checked.
    public var snapshots = 0
    public var records = 0
    public var links = 0
}

extension Ledger {
    /// Re-reads every stored byte and checks everything derived from it, in one pass over the log: the
    /// log's own checks (`EventLog.verifyLog`: keys, decoding, the chain, the clock, the id index), each
    /// event's stored form, each stream's versions and back-pointers, and, folding the log as it goes,
    /// every snapshot of the projection, every subject's record and every unit link against what the fold
    /// gives at their seq. The log is read and checked on this thread; the fold runs on a second one.
    ///
    /// With `logOnly`, only the log and its id index (the log cut in two stretches, one a core).
    /// - Returns: the head, with the derived data found damaged (the log holds).
    /// - Throws: `LogDamage` naming the first seq of the log that does not hold; `LMDBError` when reading fails.
    @available(*, noasync)
    public func verify(logOnly: Bool = false, progress: (@Sendable (WorkProgress) -> Void)? = nil) throws -> Verification {
        guard !logOnly else {
            return Verification(head: try log.verifyLog(parts: 2, check: Self.checkEntry), derived: [])
        }
        let fold = VerificationFold(snapshots: snapshots)
        let worker = Thread { fold.run() }
        worker.start()
        defer { fold.finishInput() }
        let started = Date()
        var chunk: [VerificationFold.Item] = []
        chunk.reserveCapacity(VerificationFold.chunkSize)
        var stamp: UInt64 = 0
        var snapshotSeqs: [UInt64] = []
        var nextSnapshot = 0
        var total: UInt64 = 0
        let head: LogHead
        do {
            head = try log.verifyLog(checkingStreams: false) { entry in
                if let problem = Self.checkEntry(entry) { return problem }
                var item = VerificationFold.Item(entry: try EventCodec.recorded(entry, reading: .forFolds), previous: entry.previous)
                if nextSnapshot < snapshotSeqs.count, snapshotSeqs[nextSnapshot] == entry.seq { nextSnapshot += 1; item.snapshotDue = true }
                if entry.seq == stamp { item.tablesDue = true }
                chunk.append(item)
                if chunk.count == VerificationFold.chunkSize {
                    fold.put(chunk)
                    chunk.removeAll(keepingCapacity: true)
                    if let progress, entry.seq % 65_536 < UInt64(VerificationFold.chunkSize) {
                        progress(WorkProgress(events: Int(entry.seq), total: Int(total), fraction: Double(entry.seq) / Double(max(total, 1)),
                                              seconds: -started.timeIntervalSinceNow))
                    }
                }
                return nil
            } prepare: { reader in
                total = UInt64(try reader.count())
                stamp = try SubjectIndex.storedStamp(reader)
                // The derived data the fold compares, copied from the same snapshot of the store as the log.
                fold.stored = try StoredDerived(reader, index: index, snapshots: snapshots)
                snapshotSeqs = fold.stored!.snapshots.keys.sorted()
            }
        } catch {
            fold.cancel()
            throw error
        }
        fold.put(chunk)
        fold.finishInput()
        let outcome = fold.waitForResult()
        if let damage = outcome.logDamage { throw damage }
        return Verification(head: head, derived: outcome.derived, snapshots: outcome.snapshots, records: outcome.records, links: outcome.links)
    }
}

extension Ledger {
    /// What is wrong with a stored entry's own fields, or nil: an id that is not one, an event that does
    /// not decode.
    @Sendable static func checkEntry(_ entry: EntryView) -> String? {
        guard Rules.isIdentifier(entry.id) else { return "id \(entry.idString) is not a valid event id" }
        guard EventCodec.isEvent(entry.body) else { return "event does not decode (not a civic.v1.Event civic can read)" }
        return nil
    }
}

/// The derived data of a store, copied out of one read transaction for the verification's fold.
struct StoredDerived: Sendable {
    var stamp: UInt64
    var subjects: [String: [UInt8]] = [:]
    var links: [[UInt8]: [UInt8]] = [:]
    var snapshots: [UInt64: [UInt8]] = [:]
    var undecodableKeys: [String] = []

    init(_ reader: borrowing LogReader, index: SubjectIndex, snapshots: Snapshots) throws {
        stamp = try SubjectIndex.storedStamp(reader)
        try reader.forEach(index.subjects) { key, value in
            subjects[String(decoding: key, as: UTF8.self)] = Array(value)
            return true
        }
        try reader.forEach(index.links) { key, value in
            links[Array(key)] = Array(value)
            return true
        }
        try reader.forEach(snapshots.table) { key, value in
            if key.count == 8 { self.snapshots[UInt64(bigEndianBytes: key)] = Array(value) } else {
                undecodableKeys.append(key.hex)
            }
            return true
        }
    }
}

/// The fold of a verification, on a thread of its own: it takes the log's events in seq order as the
/// checking thread hands them over, keeps every subject's record, the unit links and the projection,
/// and compares each piece of stored derived data when the fold reaches its seq.
final class VerificationFold: @unchecked Sendable {
    static let chunkSize = 2_048

    struct Item: Sendable {
        var entry: RecordedEvent
        var previous: UInt64
        var snapshotDue = false
        var tablesDue = false
    }

    struct Outcome: Sendable {
        var logDamage: LogDamage?
        var derived: [DerivedDamage] = []
        var snapshots = 0, records = 0, links = 0
    }

    let snapshots: Snapshots
    var stored: StoredDerived?
    private let condition = NSCondition()
    private var queue: [[Item]] = []
    private var inputDone = false
    private var cancelled = false
    private var outcome: Outcome?

    init(snapshots: Snapshots) { self.snapshots = snapshots }

    func put(_ items: [Item]) {
        guard !items.isEmpty else { return }
        condition.lock()
        while queue.count >= 8 && !cancelled && outcome == nil { condition.wait() }
        queue.append(items)
        condition.broadcast()
        condition.unlock()
    }

    func finishInput() {
        condition.lock()
        inputDone = true
        condition.broadcast()
        condition.unlock()
    }

    func cancel() {
        condition.lock()
        cancelled = true
        inputDone = true
        condition.broadcast()
        condition.unlock()
    }

    func waitForResult() -> Outcome {
        condition.lock()
        defer { condition.unlock() }
        while outcome == nil { condition.wait() }
        return outcome!
    }

    private func nextChunk() -> [Item]? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !inputDone { condition.wait() }
        if cancelled { return nil }
        if queue.isEmpty { return nil }
        condition.broadcast()
        return queue.removeFirst()
    }

    func run() {
        var state = CampaignState()
        var links: [[UInt8]: UnitLink] = [:]
        var projection = Projection(at: Projection.endOfTime)
        projection.startNoting()
        var lastSnapshot: UInt64 = 0
        var result = Outcome()
        var checkedTables = false
        func derived(_ table: String, _ key: String, _ problem: String) {
            result.derived.append(DerivedDamage(table: table, key: key, problem: problem))
        }
        loop: while let chunk = nextChunk() {
            for item in chunk {
                let event = item.entry.event
                let seq = item.entry.seq
                let before = state.records[event.subject]
                let expected = (before?.version ?? 0) + 1
                guard item.entry.version == expected, item.previous == (before?.lastSeq ?? 0) else {
                    result.logDamage = LogDamage.misplaced(seq, event.subject, item.entry.version, item.previous,
                                                         after: (before?.version ?? 0, before?.lastSeq ?? 0))
                    break loop
                }
                state.records[event.subject] = Rules.evolve(before, event, seq: seq)
                for unit in UnitLink.units(of: event) {
                    let key = UnitLink.key(unit: unit, subject: event.subject)
                    if links[key] == nil { links[key] = UnitLink(seq: seq, time: event.time.micros) }
                }
                projection.apply(item.entry)
                if item.snapshotDue, let bytes = stored?.snapshots[seq] {
                    result.snapshots += 1
                    let header = try? bytes.withUnsafeBytes { try ProjectionSnapshot.header($0) }
                    let whole = header?.isFull ?? true
                    let expected = ProjectionSnapshot.take(&projection, base: whole ? nil : lastSnapshot, blockStart: lastSnapshot)
                    if expected != bytes {
                        derived(Tables.snapshots, "seq \(seq)", header == nil ? "not a snapshot of this format"
                                : "its projection differs from the fold of the log up to this seq")
                    }
                    lastSnapshot = seq
                }
                if item.tablesDue { compareTables(state, links, &result); checkedTables = true }
            }
        }
        if result.logDamage == nil, let stored {
            if !checkedTables, stored.stamp == 0 {
                if !stored.subjects.isEmpty || !stored.links.isEmpty { compareTables(CampaignState(), [:], &result) }
            } else if !checkedTables {
                derived("meta", SubjectIndex.stampFact, "the tables are stamped with seq \(stored.stamp), which the log does not reach")
            }
            for seq in stored.snapshots.keys.sorted() where seq > projection.seq || seq == 0 {
                derived(Tables.snapshots, "seq \(seq)", "a snapshot of a seq the log does not have")
            }
            for key in stored.undecodableKeys { derived(Tables.snapshots, key, "a key that is not a seq") }
        }
        condition.lock()
        outcome = result
        condition.broadcast()
        condition.unlock()
    }

    /// Compares the stored `subjects` and `unit-links` tables with the fold at their stamp.
    private func compareTables(_ state: CampaignState, _ links: [[UInt8]: UnitLink], _ result: inout Outcome) {
        guard let stored else { return }
        func derived(_ table: String, _ key: String, _ problem: String) {
            if result.derived.count < 100 { result.derived.append(DerivedDamage(table: table, key: key, problem: problem)) }
        }
        for (subject, record) in state.records {
            result.records += 1
            guard let bytes = stored.subjects[subject] else { derived(Tables.subjects, subject, "missing"); continue }
            if bytes != record.encoded() { derived(Tables.subjects, subject, "differs from the fold of the log") }
        }
        for subject in stored.subjects.keys where state.records[subject] == nil {
            derived(Tables.subjects, subject, "a record of a subject the log does not have")
        }
        for (key, link) in links {
            result.links += 1
            guard let bytes = stored.links[key] else { derived(Tables.unitLinks, Self.name(key), "missing"); continue }
            if bytes != link.encoded { derived(Tables.unitLinks, Self.name(key), "differs from the fold of the log") }
        }
        for key in stored.links.keys where links[key] == nil {
            derived(Tables.unitLinks, Self.name(key), "a link the log does not make")
        }
    }

    private static func name(_ key: [UInt8]) -> String {
        String(decoding: key.map { $0 == 0 ? UInt8(ascii: "/") : $0 }, as: UTF8.self)
    }
}
