import Campaign
import EventLog
import Foundation
import LMDB
import Projections

/// The log no longer holds a head recorded earlier: events were removed, or the log was rewritten.
public struct HeadMismatch: Error, Sendable, CustomStringConvertible {
    public var seq: UInt64
    public var problem: String
    public var description: String { "seq \(seq): \(problem)" }
}

/// What a store holds, in numbers.
public struct StoreStatistics: Sendable {
    public var head: LogHead
    public var firstRecorded: Timestamp?
    public var lastRecorded: Timestamp?
    public var eventsByType: [EventType: Int]
    public var subjectsByKind: [StreamKind: Int]
    public var problemsByStatus: [ProblemStatus: Int]
    /// Bytes of pages of the log, the id index and each derived table.
    public var tables: [(table: String, bytes: Int)]
    public var mapBytes: Int
    public var fileBytes: Int
    /// The seq the subjects' records are written to, and how many snapshots there are.
    public var subjectsStamp: UInt64
    public var snapshots: Int
}

extension Ledger {
    /// Makes an empty store in folder `path` (0700, files 0600) unless one is there.
    /// - Returns: nil when it made one; the head of the one found otherwise.
    public static func initialize(path: String) throws -> LogHead? {
        do {
            let existing = try Ledger(path: path, access: .readOnly)
            return try existing.head()
        } catch is NoStore {
            _ = try Ledger(path: path, access: .create)
            return nil
        }
    }

    /// Imports a problem list as offices keep it (a workbook or CSV, docs/formats.md "Problem lists in"):
    /// its rows become problem.reported and, with a unit, problem.assigned, against the units and lists
    /// registered now; rows of problems already stored become the changes they say (reassignment, extension).
    /// - Parameters:
    ///   - sheet: the workbook's sheet, by name (nil: the first).
    ///   - batch: the list the sheet belongs to, by id or name, for rows that name none.
    /// - Returns: the list read, what it would append, and what the append did.
    /// - Throws: `SheetError` when the file cannot be read; `ImportRefused` naming every row, column or
    ///   event refused.
    @available(*, noasync)
    public func importList(_ file: [UInt8], fileName: String, sheet: String? = nil, batch: String? = nil,
                           by importer: ProblemList.Actor, dryRun: Bool, recordedBy: String) throws -> ImportResult {
        let (list, plan) = try planImport(file, fileName: fileName, sheet: sheet, batch: batch, by: importer)
        do {
            let report = try append(EventList(plan.events), AppendOptions(dryRun: dryRun, recordedBy: recordedBy))
            return ImportResult(list: list, plan: plan, report: report)
        } catch let refused as AppendRefused {
            throw ImportRefused(sheet: list.sheet.name, refused.refusals.map { .init(row: $0.line, column: nil, message: $0.refusal.message) })
        }
    }

    /// The list in `file` and what importing it would append, against the units, lists and problems the
    /// store holds now (`now`: the store's clock unless given). Nothing is appended.
    /// - Throws: `SheetError`, `ImportRefused`.
    @available(*, noasync)
    public func planImport(_ file: [UInt8], fileName: String, sheet: String? = nil, batch: String? = nil,
                           by importer: ProblemList.Actor, now: Timestamp? = nil) throws -> (ProblemList, ImportPlan) {
        let list = try ProblemList(try Sheet.read(file, fileName: fileName, sheet: sheet))
        let plan = try list.plan(by: importer, given: try registry(), batch: batch, now: now ?? clock()) { id in
            (try? self.record(of: id))??.problem
        }
        return (list, plan)
    }

    /// `verify`, and then that the log still extends a head recorded earlier (`SEQ:HASH`).
    /// - Throws: `HeadMismatch` when it does not; what `verify` throws.
    @available(*, noasync)
    public func verify(logOnly: Bool = false, expecting expected: (seq: UInt64, hash: [UInt8])?,
                       progress: (@Sendable (WorkProgress) -> Void)? = nil) throws -> Verification {
        let result = try verify(logOnly: logOnly, progress: progress)
        if let expected {
            let stored = try log.read { reader in try reader.withEntry(expected.seq) { $0.map { Array($0.hash) } } }
            guard let stored else {
                throw HeadMismatch(seq: expected.seq, problem: "日志里已没有 seq \(expected.seq)（现在的链头是 \(result.head.seq)）：事件被删除了")
            }
            guard stored == expected.hash else {
                throw HeadMismatch(seq: expected.seq, problem: "哈希 \(stored.hex) 与记下的 \(expected.hash.hex) 不同：日志被改写了")
            }
        }
        return result
    }

    /// What the store holds: events by type (read from the log), subjects and problems (from the
    /// projection of the head), and where its bytes go.
    @available(*, noasync)
    public func statistics() throws -> StoreStatistics {
        var byType: [EventType: Int] = [:]
        var first: Timestamp?, last: Timestamp?
        let head = try log.read { reader in
            try reader.forEach(after: 0) { entry in
                if first == nil { first = Timestamp(micros: entry.recordedAtMicros) }
                last = Timestamp(micros: entry.recordedAtMicros)
                if let type = EventCodec.type(of: entry.body) { byType[type, default: 0] += 1 }
                return true
            }
            return try reader.head()
        }
        // Every subject's record as of the head: the table's, but for those changed after its stamp,
        // which are counted from the tail the index folds from the log (every kind: a count taken from
        // the projection alone knew no accountability cases and no accounts before the tables were
        // first written).
        var kinds: [StreamKind: Int] = [:]
        var statuses: [ProblemStatus: Int] = [:]
        func count(_ record: SubjectRecord) {
            kinds[record.kind, default: 0] += 1
            if let p = record.problem { statuses[p.status, default: 0] += 1 }
        }
        let stamp = try withIndex { index, reader in
            let tail = index.tail
            try reader.forEach(index.subjects) { key, value in
                if !tail.isEmpty, tail[String(decoding: key, as: UTF8.self)] != nil { return true }
                if let record = try? SubjectRecord(stored: value) { count(record) }
                return true
            }
            for record in tail.values { count(record) }
            return index.stamp
        }
        let snapshotCount = try log.read { try snapshots.stored($0).count }
        let (map, file) = log.mapAndFile
        return StoreStatistics(head: head, firstRecorded: first, lastRecorded: last, eventsByType: byType, subjectsByKind: kinds,
                               problemsByStatus: statuses, tables: try log.sizes(), mapBytes: map, fileBytes: file,
                               subjectsStamp: stamp, snapshots: snapshotCount)
    }

    /// Throws away every piece of derived data and makes it again from the log alone: the subjects'
    /// records, the unit links, the Merkle tree and the snapshots. Changes no answer (they are derived), only how fast
    /// answers come.
    @available(*, noasync)
    public func rebuildDerived(progress: (@Sendable (WorkProgress) -> Void)? = nil) throws {
        guard let subjects = index.subjects, let links = index.links, let table = snapshots.table else { return }
        try lockedRebuild(subjects: subjects, links: links, snapshots: table, progress: progress)
        try takeSnapshots(progress: progress)
    }
}


extension Ledger {
    /// Makes a new store at `path` from a store of format 1 at `former` (docs/storage.md, "Migrating a
    /// store of format 1"): the former log verified and copied entry by entry into the new format, its
    /// head kept, then the derived data made from the new log. - Returns: what was migrated.
    /// - Throws: `LogDamage` when the former store does not verify (nothing usable is made: the new folder
    ///   holds a prefix, to be removed); `MigrationRefused` when `path` holds events already.
    @available(*, noasync)
    public static func migrate(fromFormat1 former: String, to path: String,
                               progress: (@Sendable (WorkProgress) -> Void)? = nil) throws -> Migration {
        let ledger = try Ledger(path: path, access: .create)
        let started = Date()
        let migration = try ledger.log.migrate(fromFormat1: former) { done, total in
            progress?(WorkProgress(events: done, total: total, fraction: Double(done) / Double(max(total, 1)),
                                   seconds: -started.timeIntervalSinceNow))
        }
        try ledger.rebuildDerived(progress: progress)
        return migration
    }
}
