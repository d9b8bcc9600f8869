import Campaign
import EventLog
import Foundation
import Projections
import Wire

/// What `verify` found: the head of a log that holds, and the derived data that does not match it.
public struct Verification: Sendable {
    public var head: LogHead
    /// Derived data that differs from what the log gives (the log itself holds).
    public var derived: [DerivedDamage]
    /// How much derived data was checked.
    public var snapshots = 0
    public var records = 0
    public var links = 0
    /// The seq the stored records and links were written up to (0: none yet); the events after it are
    /// folded from the log by each process that needs them (docs/storage.md).
    public var recordsThrough: UInt64 = 0
    /// The evidence files named by the events recorded over HTTP (`checkEvidence(requiredBy:)`).
    public var evidenceRequired: Set<String> = []
}

extension Ledger {
    /// Re-reads every stored byte and checks everything derived from it: the log's own checks (keys,
    /// decoding, the chain, the clock, the id index), each event's stored form, each stream's versions and
    /// back-pointers, every snapshot of the projection, every subject's record and every unit link against
    /// what a fold of the log gives at their seq (docs/storage.md, "Verify").
    ///
    /// The work is cut in two kinds, done at once on two threads (more on more cores), all reading one
    /// snapshot of the store: one fold of the whole log keeps every subject's record and link, checks the
    /// streams and compares the stored tables at their stamp; the log between two stored snapshots is a
    /// stretch, checked by itself from the snapshot at its start (as each link of the chain holds by
    /// itself), its projection compared with the snapshot at its end, its leaves of the Merkle tree hashed
    /// from the bytes it reads (the tree is compared with the stored nodes once every stretch is done),
    /// and the evidence named online gathered (`checkEvidence(requiredBy:)`). The snapshot a stretch starts from
    /// is the one the stretch before it checks; were one found forged, the snapshots after it are checked
    /// again from the start of the log.
    ///
    /// With `logOnly`, only the log and its id index.
    /// - Returns: the head, with the derived data found damaged (the log holds).
    /// - Throws: `LogDamage` naming the first seq of the log that does not hold; `LMDBError` when reading fails.
    @available(*, noasync)
    public func verify(logOnly: Bool = false, progress: (@Sendable (WorkProgress) -> Void)? = nil) throws -> Verification {
        guard !logOnly else {
            return Verification(head: try log.verifyLog(parts: 2, check: Self.checkEntry), derived: [])
        }
        let work = VerificationWork(snapshots: snapshots, subjects: index.subjects, links: index.links, progress: progress)
        try log.read(threads: max(2, min(ProcessInfo.processInfo.activeProcessorCount, 4))) { thread, reader in
            try work.run(thread, reader)
        }
        var outcome = try work.conclusion()
        if outcome.startsForged {
            outcome.snapshotFindings = try log.read { try work.snapshotsFromStart($0) }
        }
        var derived = outcome.records + outcome.snapshotFindings
        if let damage = outcome.tree {
            derived.append(DerivedDamage(table: "tree", key: "—", problem: damage.problem))
        }
        return Verification(head: outcome.head, derived: derived,
                            snapshots: outcome.snapshotsChecked, records: outcome.recordsChecked, links: outcome.linksChecked,
                            recordsThrough: outcome.recordsThrough, evidenceRequired: outcome.evidenceRequired)
    }
}

extension Ledger {
    /// Checks what was appended after `head` (verified before by this process), as verify checks the
    /// log: what was verified once is not read again. - Returns: the new head.
    /// - Throws: `LogDamage` at the first seq that does not hold.
    @available(*, noasync)
    public func verifyAppended(after head: LogHead) throws -> LogHead {
        try log.verifyLog(continuing: head, check: Self.checkEntry)
    }

    /// What is wrong with a stored entry's own fields, or nil: an id that is not one, an event that does
    /// not decode.
    @Sendable static func checkEntry(_ entry: EntryView) -> String? {
        guard Rules.isIdentifier(entry.id) else { return "id \(entry.idString) is not a valid event id" }
        guard EventCodec.isEvent(entry.body) else { return undecodable }
        return nil
    }

    static let undecodable = "event does not decode (not a civic.v1.Event civic can read)"
}

/// The work of one verification, shared by the threads that do it: the plan, the stretches not yet
/// taken, and what each part found.
final class VerificationWork: @unchecked Sendable {
    let snapshots: Snapshots
    let subjectsTable: DerivedTable?
    let linksTable: DerivedTable?
    let progress: (@Sendable (WorkProgress) -> Void)?
    private let lock = NSLock()
    private let started = Date()

    /// What the store holds, read once by the first thread that asks.
    struct Plan {
        var count: UInt64
        var stamp: UInt64
        /// The seqs of the stored snapshots (keys of eight bytes), in order.
        var snapshotSeqs: [UInt64]
        var undecodableKeys: [String]
        /// The stretches, each from one stored snapshot (or the start) to the next one chosen.
        var stretches: [ClosedRange<UInt64>]
    }

    private var plan: Plan?
    private var untaken: [Int] = []
    private var stretches: [Int: StretchOutcome] = [:]
    private var fold: FoldOutcome?
    private var idDamage: LogDamage?
    private var tree: TreeDamage?
    private var head = LogHead.empty
    private var eventsDone = 0

    struct StretchOutcome {
        var stretch: LogStretch
        var findings: [DerivedDamage]
        var checked: Int
        var evidenceRequired: Set<String>
    }

    struct FoldOutcome {
        var damage: LogDamage?
        var findings: [DerivedDamage] = []
        var records = 0, links = 0
    }

    struct Outcome {
        var head: LogHead
        var records: [DerivedDamage]
        var snapshotFindings: [DerivedDamage]
        var tree: TreeDamage?
        var startsForged: Bool
        var snapshotsChecked: Int, recordsChecked: Int, linksChecked: Int
        var recordsThrough: UInt64
        var evidenceRequired: Set<String>
    }

    init(snapshots: Snapshots, subjects: DerivedTable?, links: DerivedTable?, progress: (@Sendable (WorkProgress) -> Void)?) {
        self.snapshots = snapshots
        subjectsTable = subjects
        linksTable = links
        self.progress = progress
    }

    /// What thread `thread` does: the first folds the whole log for the records, then helps with the
    /// stretches from the last; the others check stretches from the first.
    func run(_ thread: Int, _ reader: borrowing LogReader) throws {
        let plan = try planned(reader)
        if thread == 0 {
            let outcome = try foldRecords(plan, reader)
            lock.withLock { fold = outcome }
            if plan.stretches.isEmpty {
                let found = try EventLog.firstDamage(nil, idIndexOf: reader, stretches: [], count: 0)
                lock.withLock { idDamage = found }
            }
        }
        var carried: Projection?
        while let k = take(fromLast: thread == 0) {
            let outcome = try check(stretch: k, plan, reader, carried: &carried)
            let allDone = lock.withLock { () -> Bool in
                stretches[k] = outcome
                return stretches.count == plan.stretches.count
            }
            if allDone {
                let all = lock.withLock { plan.stretches.indices.map { stretches[$0]!.stretch } }
                let first = all.compactMap { $0.damage }.min { $0.seq < $1.seq }
                let found = try EventLog.firstDamage(first, idIndexOf: reader, stretches: all, count: plan.count)
                // The Merkle tree, from the leaves the stretches hashed as they read (docs/transparency.md).
                let nodes = all.compactMap(\.nodes)
                let tree = nodes.count == all.count ? try reader.checkTree(nodes, size: plan.count) : nil
                let head = try reader.withEntry(plan.count) { e in
                    e.map { LogHead(seq: $0.seq, hash: Array($0.hash), recordedAtMicros: $0.recordedAtMicros) } ?? LogHead.empty
                }
                lock.withLock {
                    idDamage = found
                    self.tree = tree
                    self.head = head
                }
            }
        }
    }

    private func planned(_ reader: borrowing LogReader) throws -> Plan {
        lock.lock()
        defer { lock.unlock() }
        if let plan { return plan }
        let count = UInt64(try reader.count())
        var seqs: [UInt64] = [], odd: [String] = []
        try reader.forEach(snapshots.table) { key, _ in
            // The parts after the first of a snapshot are read with it (a write cut short leaves parts no
            // snapshot begins: nobody reads them, and the next write of that seq removes them).
            if key.count == 8 { seqs.append(UInt64(bigEndianBytes: key)) } else if Snapshots.part(key) == nil { odd.append(key.hex) }
            return true
        }
        // Stretches of about an eighth of the log each, cut at stored snapshots.
        let usable = seqs.filter { $0 > 0 && $0 < count }
        let target = max(count / 8, snapshots.interval * 2)
        var cuts: [UInt64] = [0]
        for seq in usable where seq - cuts.last! >= target && count - seq >= target / 2 { cuts.append(seq) }
        let ranges = count == 0 ? [] : zip(cuts, cuts.dropFirst() + [count]).map { ($0 + 1)...$1 }
        let made = Plan(count: count, stamp: try SubjectIndex.storedStamp(reader), snapshotSeqs: seqs,
                        undecodableKeys: odd, stretches: ranges)
        plan = made
        untaken = Array(ranges.indices)
        return made
    }

    private func take(fromLast: Bool) -> Int? {
        lock.withLock { untaken.isEmpty ? nil : fromLast ? untaken.removeLast() : untaken.removeFirst() }
    }

    private func advance(_ events: Int) {
        guard let progress else { return }
        let (done, total) = lock.withLock { () -> (Int, Int) in
            eventsDone += events
            return (eventsDone, Int(plan?.count ?? 0) * 2)
        }
        progress(WorkProgress(events: done / 2, total: total / 2, fraction: Double(done) / Double(max(total, 1)),
                              seconds: -started.timeIntervalSinceNow))
    }

    // MARK: stretches

    /// Checks stretch `k`: the log's own checks, each event's stored form, and the projection folded from
    /// the snapshot at its start compared with every stored snapshot in it. `carried` is the projection
    /// this thread left at the end of its last stretch (continued when this one starts there).
    private func check(stretch k: Int, _ plan: Plan, _ reader: borrowing LogReader, carried: inout Projection?) throws -> StretchOutcome {
        let seqs = plan.stretches[k]
        let start = seqs.lowerBound - 1
        var projection: Projection
        if let carried, carried.seq == start {
            projection = carried
        } else {
            var skipped: [UInt64] = []
            projection = start == 0 ? Projection(at: Projection.endOfTime)
                : try snapshots.restore(upTo: start, before: Projection.endOfTime, reader, skipped: &skipped)
            try Ledger.fold(&projection, after: projection.seq, through: start, reader)
        }
        carried = nil
        projection.startNoting()
        var due = plan.snapshotSeqs.filter { seqs.contains($0) }[...]
        var last = start
        var findings: [DerivedDamage] = []
        var checked = 0
        var required: Set<String> = []
        var sinceProgress = 0
        let stretch = try LogStretch(reader, seqs: seqs, checkingStreams: false, hashingLeaves: true) { entry in
            guard Rules.isIdentifier(entry.id) else { return "id \(entry.idString) is not a valid event id" }
            let recorded: RecordedEvent
            do { recorded = try EventCodec.recorded(entry, reading: .forVerification) } catch { return Ledger.undecodable }
            projection.apply(recorded)
            required.formUnion(try Ledger.evidenceRequired(by: entry))
            if entry.seq == due.first {
                due.removeFirst()
                checked += 1
                if let problem = try snapshots.withSnapshot(entry.seq, reader, { stored in
                    Self.compare(stored, &projection, after: last)
                }) {
                    findings.append(DerivedDamage(table: Tables.snapshots, key: "seq \(entry.seq)", problem: problem))
                }
                last = entry.seq
            }
            sinceProgress += 1
            if sinceProgress == 65_536 { advance(sinceProgress); sinceProgress = 0 }
            return nil
        }
        advance(sinceProgress)
        if stretch.damage == nil { carried = projection }
        return StretchOutcome(stretch: stretch, findings: findings, checked: checked, evidenceRequired: required)
    }

    /// What is wrong with the stored snapshot `stored` of `projection`, taken after the one at `last`,
    /// or nil when it is what the fold gives.
    private static func compare(_ stored: UnsafeRawBufferPointer?, _ projection: inout Projection, after last: UInt64) -> String? {
        guard let stored else { return "missing" }
        let header = try? ProjectionSnapshot.header(stored)
        let whole = header?.isFull ?? true
        let expected = ProjectionSnapshot.take(&projection, base: whole ? nil : last, blockStart: last)
        guard header != nil else { return "not a snapshot of this format" }
        return expected.withUnsafeBytes { $0.sameBytes(as: stored) } ? nil : "its projection differs from the fold of the log up to this seq"
    }

    /// Every snapshot checked by one fold from the start of the log (after a forged one was found where
    /// a stretch started from it).
    func snapshotsFromStart(_ reader: borrowing LogReader) throws -> [DerivedDamage] {
        guard let plan else { return [] }
        var projection = Projection(at: Projection.endOfTime)
        projection.startNoting()
        var due = plan.snapshotSeqs.filter { $0 >= 1 && $0 <= plan.count }[...]
        var last: UInt64 = 0
        var findings: [DerivedDamage] = []
        try reader.forEach(after: 0) { entry in
            guard entry.seq <= plan.count else { return false }
            projection.apply(try EventCodec.recorded(entry, reading: .forFolds))
            if entry.seq == due.first {
                due.removeFirst()
                if let problem = try snapshots.withSnapshot(entry.seq, reader, { Self.compare($0, &projection, after: last) }) {
                    findings.append(DerivedDamage(table: Tables.snapshots, key: "seq \(entry.seq)", problem: problem))
                }
                last = entry.seq
            }
            return !due.isEmpty
        }
        return findings + Self.strays(plan)
    }

    /// Snapshots under keys the log does not have.
    private static func strays(_ plan: Plan) -> [DerivedDamage] {
        plan.snapshotSeqs.filter { $0 == 0 || $0 > plan.count }.map {
            DerivedDamage(table: Tables.snapshots, key: "seq \($0)", problem: "a snapshot of a seq the log does not have")
        } + plan.undecodableKeys.map { DerivedDamage(table: Tables.snapshots, key: $0, problem: "a key that is not a seq") }
    }

    // MARK: the records' fold

    /// A subject as the fold keeps it.
    struct Folded {
        var record: SubjectRecord
    }

    /// Folds the whole log for every subject's record and link, checking each stream's versions and
    /// back-pointers, and compares the stored tables with the fold at their stamp. An entry that does
    /// not read stops it: its stretch names the damage.
    private func foldRecords(_ plan: Plan, _ reader: borrowing LogReader) throws -> FoldOutcome {
        var subjects = SubjectMap<SubjectRecord>()
        var links = SubjectMap<UnitLink>()
        var outcome = FoldOutcome()
        var compared = false
        var sinceProgress = 0
        if plan.stamp == 0 { try compareTables(&subjects, &links, reader, &outcome); compared = true }
        do {
            try reader.forEach(after: 0) { entry in
                guard entry.seq <= plan.count else { return false }
                let seq = entry.seq
                guard let event = try? EventCodec.recorded(entry, reading: UnitLink.reading(entry)).event else { return false }
                let (place, isNew) = entry.subject.withUnsafeBytes { subject in
                    subjects.place(of: subject) { Rules.evolve(nil, event, seq: seq) }
                }
                if isNew {
                    guard entry.version == 1, entry.previous == 0 else {
                        outcome.damage = LogDamage.misplaced(seq, event.subject, entry.version, entry.previous, after: (0, 0))
                        return false
                    }
                } else {
                    let before = subjects[place]
                    guard entry.version == before.version + 1, entry.previous == before.lastSeq else {
                        outcome.damage = LogDamage.misplaced(seq, event.subject, entry.version, entry.previous,
                                                             after: (before.version, before.lastSeq))
                        return false
                    }
                    Rules.evolve(&subjects[place], event, seq: seq)
                }
                for unit in UnitLink.units(of: event) {
                    let key = UnitLink.key(unit: unit, subject: event.subject)
                    _ = key.withUnsafeBytes { links.place(of: $0) { UnitLink(seq: seq, time: event.time.micros) } }
                }
                if seq == plan.stamp { try compareTables(&subjects, &links, reader, &outcome); compared = true }
                sinceProgress += 1
                if sinceProgress == 65_536 { advance(sinceProgress); sinceProgress = 0 }
                return true
            }
        } catch is LogDamage {
            // An entry that does not read: its stretch names it.
        }
        advance(sinceProgress)
        if !compared, outcome.damage == nil {
            outcome.findings.append(DerivedDamage(table: "meta", key: SubjectIndex.stampFact,
                                                  problem: "the tables are stamped with seq \(plan.stamp), which the log does not reach"))
        }
        return outcome
    }

    /// Compares the stored `subjects` and `unit-links` tables with the fold's records and links.
    private func compareTables(_ subjects: inout SubjectMap<SubjectRecord>, _ links: inout SubjectMap<UnitLink>,
                               _ reader: borrowing LogReader, _ outcome: inout FoldOutcome) throws {
        func found(_ table: String, _ key: String, _ problem: String) {
            if outcome.findings.count < 100 { outcome.findings.append(DerivedDamage(table: table, key: key, problem: problem)) }
        }
        var seen = [Bool](repeating: false, count: subjects.count)
        try reader.forEach(subjectsTable) { key, value in
            guard let place = subjects.place(of: key) else {
                found(Tables.subjects, String(decoding: key, as: UTF8.self), "a record of a subject the log does not have")
                return true
            }
            seen[place] = true
            if !subjects[place].encoded().withUnsafeBytes({ $0.sameBytes(as: value) }) {
                found(Tables.subjects, subjects.subject(at: place), "differs from the fold of the log")
            }
            return true
        }
        for place in seen.indices where !seen[place] { found(Tables.subjects, subjects.subject(at: place), "missing") }
        outcome.records = subjects.count
        seen = [Bool](repeating: false, count: links.count)
        try reader.forEach(linksTable) { key, value in
            guard let place = links.place(of: key) else {
                found(Tables.unitLinks, Self.name(key), "a link the log does not make")
                return true
            }
            seen[place] = true
            if !links[place].encoded.withUnsafeBytes({ $0.sameBytes(as: value) }) {
                found(Tables.unitLinks, Self.name(key), "differs from the fold of the log")
            }
            return true
        }
        for place in seen.indices where !seen[place] {
            found(Tables.unitLinks, links.withSubject(at: place) { Self.name($0) }, "missing")
        }
        outcome.links = links.count
    }

    private static func name(_ key: UnsafeRawBufferPointer) -> String {
        String(decoding: key.map { $0 == 0 ? UInt8(ascii: "/") : $0 }, as: UTF8.self)
    }

    // MARK: conclusion

    /// What the parts found, once every thread is done. - Throws: the first damage of the log, in seq order.
    func conclusion() throws -> Outcome {
        try lock.withLock {
            guard let plan, let fold else { throw LogDamage(seq: 0, problem: "verification did not finish") }
            let all = plan.stretches.indices.compactMap { stretches[$0] }
            let logDamage = [EventLog.firstDamage(joining: all.map(\.stretch)), idDamage, fold.damage].compactMap { $0 }
                .min { $0.seq < $1.seq }
            if let logDamage { throw logDamage }
            let snapshotFindings = all.flatMap(\.findings) + Self.strays(plan)
            let starts = Set(plan.stretches.map { $0.lowerBound - 1 })
            let forgedStart = snapshotFindings.contains { f in starts.contains { $0 > 0 && f.key == "seq \($0)" } }
            return Outcome(head: head, records: fold.findings, snapshotFindings: snapshotFindings, tree: tree, startsForged: forgedStart,
                           snapshotsChecked: all.reduce(0) { $0 + $1.checked }, recordsChecked: fold.records, linksChecked: fold.links,
                           recordsThrough: plan.stamp, evidenceRequired: all.reduce(into: []) { $0.formUnion($1.evidenceRequired) })
        }
    }
}
