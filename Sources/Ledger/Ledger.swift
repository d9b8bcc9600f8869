import Campaign
import EventLog
import Foundation
import LMDB
import Projections
import Wire

/// Which prefix of the log a view reads (transaction time, `--as-of`).
public enum AsOf: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Every event stored.
    case all
    /// Events up to and including this seq.
    case seq(UInt64)
    /// Events recorded up to and including this moment.
    case time(Timestamp)

    public var description: String {
        switch self {
        case .all: "all"
        case .seq(let n): "seq:\(n)"
        case .time(let t): t.rfc3339
        }
    }
}

/// The store is full: the disk has no room for what an append would write. Nothing was stored.
public struct StoreFull: Error, Sendable, CustomStringConvertible {
    /// The bytes the append would need, and those free, when known before writing.
    public var needed: Int?
    public var free: Int
    public var path: String
    public var description: String {
        let mb = { (n: Int) in String(format: "%.1f MB", Double(n) / 1_048_576) }
        if let needed {
            return "磁盘空间不足：写入本批约需 \(mb(needed))，存储 \(path) 所在磁盘只剩 \(mb(free))；本批未写入，存储保持原样。请清理磁盘后重试"
        }
        return "磁盘已满：写入时磁盘空间用尽，本批未写入，存储保持原样（剩余 \(mb(free))）。请清理磁盘后重试"
    }
}

/// The campaign's ledger: the rules over the hash-chained log, and what is derived from it.
///
/// The log and its id index are the only durable state an append must write. What the rules consult
/// (each subject's record) and what views start from (snapshots of the projection) are derived, kept
/// in tables of their own that `civic verify` checks against the log and `civic rebuild` remakes from
/// it (docs/storage.md).
public final class Ledger: @unchecked Sendable {
    let log: EventLog
    let clock: @Sendable () -> Timestamp
    private let lock = NSLock()
    /// Held while snapshots are taken: apart from `lock`, so that appends go on while a snapshot is folded.
    private let snapshotLock = NSLock()
    /// Whether a group append made snapshots due and left them to `takeOwedSnapshots`.
    private let owed = OwedFlag()
    /// The accounts' tokens, opened once (`credentials()`).
    let credentialsOnce = Once<Credentials>()
    let index: SubjectIndex
    let snapshots: Snapshots
    /// Snapshots found damaged by views of this process: passed over, and taken again by the next writer.
    private let damaged = DamagedSnapshots()
    /// The head's projection `registry()` restored, for the view that follows it (`projection`).
    let registryHead = KeptProjection()
    /// How the last append went, for the tests: how many times its transaction ran (the map filling makes
    /// it run again), and the most subjects' records it held in memory at once.
    private(set) var lastAppendAttempts = 0
    private(set) var lastAppendHeldAtMost = 0

    /// The store's clock: now, UTC.
    public static let systemClock: @Sendable () -> Timestamp = {
        Timestamp(micros: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded(.down)))
    }

    /// How many events apart snapshots of the projection are taken.
    public static let snapshotInterval: UInt64 = 10_000

    /// An input of at least this many bytes (some 5,000 events) is appended with its snapshots taken as it
    /// goes; a smaller one has them taken after it, when it makes one due.
    static let projectingFrom = 2 << 20

    /// Opens the store in folder `path`.
    /// - Parameters:
    ///   - access: `.readOnly` opens it with `MDB_RDONLY` (every write is refused); `.create` makes the store
    ///     (folder 0700, files 0600) when there is none.
    ///   - snapshotInterval, snapshotPartBytes: how many seqs apart snapshots are taken, and the size of the
    ///     parts a large one is written in by the writable server (tests pass small ones).
    ///   - clock: the store's clock (tests pass their own).
    /// - Throws: `LMDBError` (`.noSuchFile`: no store there); `StoreFormatMismatch`.
    /// With `largeWrites`, for one large append (a whole file): its pages are written straight into the
    /// map, on disk blocks given ahead, and what was not used is given back after it (docs/storage.md,
    /// "Large appends").
    /// With `fromLog`, for reading: no derived data is read, every view, record and trail is folded from
    /// the log itself (`--from-log`, for an inspector who trusts only the log; docs/storage.md).
    public init(path: String, access: StoreAccess = .readWrite, mapSize: Int = 64 << 20, maximumMapSize: Int = 1 << 40,
                snapshotInterval: UInt64 = Ledger.snapshotInterval, snapshotPartBytes: Int = 1 << 20, flushEvery: UInt64 = 10_000,
                largeWrites: Bool = false, fromLog: Bool = false, clock: @escaping @Sendable () -> Timestamp = Ledger.systemClock) throws {
        precondition(!fromLog || access == .readOnly, "a ledger that reads no derived data only reads")
        log = try EventLog(path: path, access: access, tables: Tables.all, mapSize: mapSize, maximumMapSize: maximumMapSize,
                           largeWrites: largeWrites)
        self.largeWrites = largeWrites
        self.fromLog = fromLog
        self.clock = clock
        index = SubjectIndex(log: log, flushEvery: flushEvery, readingTables: !fromLog)
        snapshots = Snapshots(table: fromLog ? nil : log.table(Tables.snapshots), interval: snapshotInterval, partBytes: snapshotPartBytes)
    }

    /// Whether this ledger reads no derived data (`init(…fromLog:…)`).
    public let fromLog: Bool

    /// The folder of the store.
    public var path: String { log.path }

    /// The head of the log as committed now.
    public func head() throws -> LogHead { try log.head() }

    /// The entry at `seq`, copied out, or nil.
    public func entry(_ seq: UInt64) throws -> LogEntry? { try log.read { try $0.entry(seq) } }

    // MARK: appending

    /// Appends the events of `source` as one transaction: all of them, or (when any is refused) none.
    ///
    /// An event whose id is stored already with the same content is a duplicate: skipped, and reported.
    /// The input is read and prepared on a second thread while the rules take it on this one; memory holds
    /// a few chunks of it at a time, whatever its size.
    /// - Returns: what was stored (or, with `dryRun`, what would be).
    /// - Throws: `AppendRefused` listing every refused event; `StoreFull` when the disk has no room;
    ///   `LMDBError` when the store fails; `DerivedDamage` when a derived table cannot be read.
    @available(*, noasync)
    public func append(_ source: EventSource, _ options: AppendOptions) throws -> AppendReport {
        defer { if largeWrites { log.releaseUnused() } }
        var report = try lockedAppend(source, options)
        // Views start from snapshots: take those the append made due (derived; a failure loses no event).
        if report.stored, report.head.seq / snapshots.interval > report.before.seq / snapshots.interval {
            do { try takeSnapshots(progress: options.progress) } catch { report.derivedProblem = "\(error)" }
        }
        return report
    }

    /// Whether this ledger was opened for large writes.
    let largeWrites: Bool

    /// What the store is reckoned to grow by for an input of `bytes` of NDJSON: its events stored and
    /// indexed, their derived data written (the room an append reserves, and the pages it reads ahead).
    static func bytesNeeded(forInput bytes: Int) -> Int { bytes + bytes / 2 + (1 << 20) }

    @available(*, noasync)
    private func lockedAppend(_ source: EventSource, _ options: AppendOptions) throws -> AppendReport {
        lock.lock()
        defer { lock.unlock() }
        if let bytes = source.byteCount, !options.dryRun {
            // Room ahead of the write, from the input's size: the map need not fill and the append run again.
            let needed = Self.bytesNeeded(forInput: bytes)
            // What it needs when pages are written into the map, whose blocks are taken from the disk at
            // once. When they are copied at commit the map is cheap (the file grows only by the pages
            // written), and a transaction keeps a copy of every page it touches: in a large store each event
            // touches a few pages in random places (its id's, its subject's and its units' records), so the
            // room is reckoned by the events too. A map filled midway undoes the append and runs it again
            // (a 10,000-event append into a 1M-event store did: its work was done twice).
            let room = largeWrites ? needed : max(needed * 2, (bytes / 300 + 1) * 6 * 4096)
            let free: Int
            do { free = try log.reserve(bytes: room) } catch let error as LMDBError where error.code == .noSpace {
                throw StoreFull(needed: needed, free: EventLog.freeBytes(at: path), path: path)
            }
            if free < needed { throw StoreFull(needed: needed, free: free, path: path) }
        }
        // The pages the write will take, zeroed ahead on another core: a large write into the map only.
        let bytes = source.byteCount ?? 0
        let warmer = bytes >= Self.projectingFrom && !options.dryRun ? log.warmPagesAhead(bytes: Self.bytesNeeded(forInput: bytes)) : nil
        defer { warmer?.stop() }
        var attempt = 0
        var kept: AppendBatch?
        let outcome: Result<AppendReport, AppendRefused> = try writeIndexed { writer in
            attempt += 1
            if attempt > 1 {
                // The map filled and the transaction is run again: nothing of the last try remains.
                index.forget()
                try source.rewind()
            }
            try index.catchUp(writer.read)
            let preparation = Preparation(source)
            defer { preparation.cancel() }
            // A large append takes its snapshots as it goes, on a third thread.
            let now = clock().micros
            let projector = !options.dryRun && (source.byteCount ?? 0) >= Self.projectingFrom
                ? AppendProjector(log: log, snapshots: snapshots, head: writer.head.seq, recordedAt: Timestamp(micros: writer.clock(now: now))) : nil
            defer { projector?.cancel() }
            var batch = AppendBatch(index: index, options: options, writer: writer, now: now,
                                    projector: projector, snapshots: snapshots,
                                    expectedEvents: (source.byteCount ?? 0) / 300)
            while let chunk = try preparation.next() {
                for item in chunk { try batch.take(item, into: &writer) }
            }
            let decision = try batch.finish(&writer)
            lastAppendHeldAtMost = batch.heldAtMost
            if case .commit = decision { kept = batch } else if batch.wroteTables { index.forget() }
            return decision
        }
        lastAppendAttempts = attempt
        let report = try outcome.get()
        if let kept {
            index.committed(records: kept.pending, links: kept.pendingLinks, head: report.head.seq)
        }
        return report
    }

    /// Appends several requests in one durable transaction (group commit, docs/storage.md): each request
    /// all or nothing within it, in a nested transaction of its own, seeing what the requests before it
    /// made; a refused request leaves no trace and the others go on. Every result is known only once the
    /// transaction committed, so a request is acknowledged only when it is durable.
    /// - Returns: per request, its report or `AppendRefused`.
    /// - Throws: what fails the store itself (`StoreFull`, `LMDBError`): then no request was stored.
    ///   With `deferringSnapshots`, snapshots it makes due are left for `takeOwedSnapshots` (the server
    ///   takes them on another thread, so that no request waits for a fold).
    @available(*, noasync)
    public func append(group requests: [(events: [Incoming], recordedBy: String)], deferringSnapshots: Bool = false)
        throws -> [Result<AppendReport, AppendRefused>] {
        let (results, before, after) = try lockedAppend(group: requests)
        if after / snapshots.interval > before / snapshots.interval {
            if deferringSnapshots { owed.set() } else {
                _ = try? takeSnapshots()  // derived: a failure loses no event, and the next append takes them again
            }
        }
        return results
    }

    /// Whether group appends left snapshots due (`takeOwedSnapshots` takes them).
    public var owesSnapshots: Bool { owed.peek() }

    /// Takes the snapshots group appends left due, if any, the large ones in parts (the commits go on
    /// between them). - Returns: whether there were any.
    @available(*, noasync)
    @discardableResult
    public func takeOwedSnapshots() throws -> Bool {
        guard owed.take() else { return false }
        try takeSnapshots(inParts: true)
        return true
    }

    @available(*, noasync)
    private func lockedAppend(group requests: [(events: [Incoming], recordedBy: String)])
        throws -> (results: [Result<AppendReport, AppendRefused>], before: UInt64, after: UInt64) {
        lock.lock()
        defer { lock.unlock() }
        var kept = GroupState()
        var flushed = false
        var before: UInt64 = 0, after: UInt64 = 0
        let results: [Result<AppendReport, AppendRefused>] = try writeIndexed { writer in
            kept = GroupState()
            flushed = false
            before = writer.head.seq
            after = before
            try index.catchUp(writer.read)
            let now = clock().micros
            var results: [Result<AppendReport, AppendRefused>] = []
            func take(_ request: (events: [Incoming], recordedBy: String), _ writer: inout LogWriter) throws
                -> EventLog.WriteDecision<(Result<AppendReport, AppendRefused>, AppendBatch)> {
                var batch = AppendBatch(index: index, options: AppendOptions(recordedBy: request.recordedBy), writer: writer,
                                        now: now, group: kept)
                for incoming in request.events { try batch.take(.event(Prepared(incoming)), into: &writer) }
                switch try batch.finish(&writer) {
                case .commit(let outcome): return .commit((outcome, batch))
                case .rollback(let outcome): return .rollback((outcome, batch))
                }
            }
            if requests.count == 1 {
                // Alone, the request is the transaction: all or nothing without a nested one.
                switch try take(requests[0], &writer) {
                case .commit(let taken):
                    kept.take(taken.1)
                    results.append(taken.0)
                case .rollback(let taken):
                    return .rollback([taken.0])
                }
            } else {
                for request in requests {
                    let taken = try writer.nested { child in try take(request, &child) }
                    if case .success = taken.0 { kept.take(taken.1) }
                    results.append(taken.0)
                }
            }
            after = writer.head.seq
            if after > before, index.isDue(head: after, pending: kept.records.count) {
                try index.flush(&writer, records: kept.records, links: kept.links, head: after)
                flushed = true
            }
            return after > before ? .commit(results) : .rollback(results)
        }
        if after > before && !flushed { index.committed(records: kept.records, links: kept.links, head: after) }
        return (results, before, after)
    }

    /// `log.write(body)` for an append: when it fails, the index's tail is forgotten (the tables may have
    /// been written in the transaction undone), and a full disk is `StoreFull`, the file cut back to what
    /// was committed.
    @available(*, noasync)
    private func writeIndexed<R>(_ body: (inout LogWriter) throws -> EventLog.WriteDecision<R>) throws -> R {
        do {
            return try log.write(body)
        } catch let error as LMDBError where error.code == .noSpace || error.code == .ioError {
            index.forget()
            try? log.trimToCommitted()
            throw StoreFull(needed: nil, free: EventLog.freeBytes(at: path), path: path)
        } catch {
            index.forget()
            throw error
        }
    }

    /// `append` of events in memory.
    @available(*, noasync)
    public func append(_ events: [Incoming], dryRun: Bool = false, recordedBy: String) throws -> AppendReport {
        try append(EventList(events), AppendOptions(dryRun: dryRun, recordedBy: recordedBy))
    }

    /// Who records what this process appends from the command line: `local:` and the operating-system user.
    public static var localRecorder: String {
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return "local:" + String(cString: name) }
        return "local:" + (ProcessInfo.processInfo.environment["USER"] ?? "uid-\(getuid())")
    }

    /// The units and lists registered as of the head, with their names: what an imported list names.
    @available(*, noasync)
    public func registry() throws -> Registry {
        // The names only: no weekly counts restored (a name given for a unit is resolved this way). The
        // projection is kept: the view asked by that name is often of the same head, and then starts from it.
        let (projection, head) = try projection(at: Projection.endOfTime, weeks: false)
        registryHead.keep(projection, head)
        return try withIndex { index, reader in
            let units = try projection.unitNames.map { id, name in
                let registration = try index.record(id, reader)?.unit
                return Registry.Unit(id: id, name: name, aliases: registration?.aliases ?? [])
            }
            let batches = try projection.batchNames.map { id, name in
                let record = try index.record(id, reader)
                return Registry.Batch(id: id, name: name, source: record?.batch?.source, dueAt: record?.batch?.dueAt, openedAt: record?.lastTime)
            }
            return Registry(units: units, batches: batches)
        }
    }

    /// The record of a subject as of the head, from the derived tables and what was appended since.
    @available(*, noasync)
    public func record(of subject: String) throws -> SubjectRecord? {
        try withIndex { index, reader in try index.record(subject, reader) }
    }

    /// Calls `body` with the subjects' records caught up to the head, in one read of the store.
    @available(*, noasync)
    func withIndex<R>(_ body: (SubjectIndex, borrowing LogReader) throws -> R) throws -> R {
        lock.lock()
        defer { lock.unlock() }
        return try log.read { reader in
            try index.catchUp(reader)
            return try body(index, reader)
        }
    }

    // MARK: views

    /// The last seq of the prefix `asOf`, in `reader`'s snapshot.
    static func end(of asOf: AsOf, _ reader: borrowing LogReader) throws -> UInt64 {
        switch asOf {
        case .all: try reader.head().seq
        case .seq(let n): min(n, try reader.head().seq)
        case .time(let t): try reader.lastSeq(recordedAtOrBefore: t.micros)
        }
    }

    /// The projection every view reads, folded from the prefix `asOf` and judged at `at`.
    ///
    /// It starts from the latest sound snapshot it may start from (at or before the prefix's end, with no
    /// event after `at`), passes over the blocks of the log between snapshots whose events all lie after
    /// `at`, and folds the rest of the prefix. With `fromLog` it reads no derived data: it folds the
    /// whole prefix, for an inspector who trusts only the log (and the tests, which hold the two equal).
    /// Without `weeks`, the weekly counts are left out (`Projection.keepsWeeks`): for a view other than
    /// the ranking.
    /// - Returns: the projection and the head of the prefix it read.
    @available(*, noasync)
    public func projection(asOf: AsOf = .all, at: Timestamp, fromLog: Bool = false, weeks: Bool = true) throws -> (Projection, LogHead) {
        let kept = registryHead.take()
        let fromLog = fromLog || self.fromLog
        return try log.read { reader in
            let end = try Self.end(of: asOf, reader)
            // The head `registry()` just restored (read as this ledger reads), when it is this prefix,
            // read the same way, and no event of it lies after `at`: then the same snapshot is chosen, no
            // block passed over and every event folded, so the projection judged at `at` is the one this
            // would fold.
            if let kept, !weeks, fromLog == self.fromLog, kept.head.seq == end,
               kept.projection.latestTime.map({ $0 <= at }) ?? true {
                registryHead.noteUsed()
                return (kept.projection.judged(at: at), kept.head)
            }
            var projection = Projection(at: Projection.endOfTime)
            var skip: [(seqs: ClosedRange<UInt64>, latest: Timestamp?)] = []
            if !fromLog {
                var bad: [UInt64] = []
                projection = try snapshots.restore(upTo: end, before: at, reader, skipped: &bad, weeks: weeks)
                if !bad.isEmpty { damaged.insert(bad) }
                skip = try snapshots.skippable(after: projection.seq, upTo: end, at: at, reader)
            }
            if !weeks { projection.leaveOutWeeks() }  // also when no snapshot was restored: the fold keeps none
            projection = projection.judged(at: at)
            var from = projection.seq
            for block in skip + [((end + 1)...(end + 1), nil)] where block.seqs.lowerBound > from {
                try Self.fold(&projection, after: from, through: min(block.seqs.lowerBound - 1, end), reader)
                if block.seqs.upperBound <= end { projection.skip(to: block.seqs.upperBound, latest: block.latest) }
                from = block.seqs.upperBound
            }
            let head = try reader.withEntry(end) { e in
                e.map { LogHead(seq: $0.seq, hash: Array($0.hash), recordedAtMicros: $0.recordedAtMicros) } ?? LogHead.empty
            }
            return (projection, head)
        }
    }

    /// Folds the entries after `from` through `end` into `projection`.
    /// An event dated after the moment the projection is judged at is passed over from its time alone
    /// (`Projection.pass`): a view `--at` a past moment folds many of them.
    static func fold(_ projection: inout Projection, after from: UInt64, through end: UInt64, _ reader: borrowing LogReader) throws {
        guard from < end else { return }
        let judged = projection.at != Projection.endOfTime
        try reader.forEach(after: from) { entry in
            guard entry.seq <= end else { return false }
            if judged, let time = EventCodec.time(of: entry.body), time > projection.at {
                projection.pass(seq: entry.seq, time: time, recordedAt: Timestamp(micros: entry.recordedAtMicros))
            } else {
                projection.apply(try EventCodec.recorded(entry, reading: .forFolds))
            }
            return entry.seq < end
        }
    }

    /// `rows` with their reports, read from the log at each row's `reportSeq`.
    /// - Throws: `LogDamage` when a row's seq does not hold the problem's report.
    @available(*, noasync)
    public func withReports(_ rows: [BoardRow]) throws -> [BoardRow] {
        try log.read { reader in
            try rows.map { row in
                var row = row
                row.report = try Self.report(of: row, reader)
                return row
            }
        }
    }

    /// Calls `body` with a reader of the rows' reports, all from one snapshot of the log: for a board
    /// written a row at a time.
    @available(*, noasync)
    public func readingReports<R>(_ body: ((BoardRow) throws -> ProblemReport) throws -> R) throws -> R {
        try log.read { reader in try body { row in try Self.report(of: row, reader) } }
    }

    static func report(of row: BoardRow, _ reader: borrowing LogReader) throws -> ProblemReport {
        try reader.withEntry(row.reportSeq) { entry in
            guard let entry, entry.subject.sameBytes(as: row.id),
                  case .problemReported(let report) = try EventCodec.recorded(entry).event.data
            else { throw LogDamage(seq: row.reportSeq, problem: "not the report of \(row.id)") }
            return report
        }
    }

    // MARK: derived data

    /// Empties the derived tables and writes the subjects' records and the unit links folded from the
    /// whole log, stamped with its head (the snapshots are taken afterwards, by `takeSnapshots`).
    @available(*, noasync)
    func lockedRebuild(subjects: DerivedTable, links: DerivedTable, snapshots table: DerivedTable,
                       progress: (@Sendable (WorkProgress) -> Void)?) throws {
        lock.lock()
        defer { lock.unlock() }
        index.forget()
        let started = Date()
        var state = CampaignState()
        var linked: [[UInt8]: UnitLink] = [:]
        let head: UInt64 = try log.read { reader in
            let total = try reader.count()
            try reader.forEach(after: 0) { entry in
                let event = try EventCodec.recorded(entry, reading: UnitLink.reading(entry)).event
                state.apply(event, seq: entry.seq)
                for unit in UnitLink.units(of: event) {
                    let key = UnitLink.key(unit: unit, subject: event.subject)
                    if linked[key] == nil { linked[key] = UnitLink(seq: entry.seq, time: event.time.micros) }
                }
                if entry.seq % 100_000 == 0 {
                    progress?(WorkProgress(events: Int(entry.seq), total: total, fraction: Double(entry.seq) / Double(max(total, 1)),
                                           seconds: -started.timeIntervalSinceNow))
                }
                return true
            }
            return try reader.head().seq
        }
        try log.write { writer in
            try writer.clear(subjects)
            try writer.clear(links)
            try writer.clear(table)
            for subject in state.records.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                try writer.put(subjects, Array(subject.utf8), state.records[subject]!.encoded())
            }
            for key in linked.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) { try writer.put(links, key, linked[key]!.encoded) }
            try writer.setFact(SubjectIndex.stampFact, head.bigEndianBytes)
            try writer.rebuildTree()
            return .commit(())
        }
        index.forget()
    }

    // MARK: snapshots

    /// Takes the snapshots the log lacks: every `interval` seqs up to the head, folding from the latest
    /// sound one; damaged ones are taken again. Snapshots are derived data: this changes no answer, only
    /// how fast views come back. `inParts`: large ones are written in parts, each in a transaction of its
    /// own (`Snapshots.write`), for a writer that must not hold up others' commits (the writable server).
    /// - Returns: the seqs of the snapshots taken.
    @available(*, noasync)
    @discardableResult
    public func takeSnapshots(inParts: Bool = false, progress: (@Sendable (WorkProgress) -> Void)? = nil) throws -> [UInt64] {
        guard snapshots.table != nil else { return [] }
        snapshotLock.lock()
        defer { snapshotLock.unlock() }
        let head = try log.head().seq
        let due: SnapshotMaker? = try log.read { reader in
            var bad = damaged.drain()
            let stored = try snapshots.stored(reader)
            if bad.isEmpty, (stored.last?.header.seq ?? 0) + snapshots.interval > head { return nil }
            let restored = try snapshots.restore(upTo: head, before: Projection.endOfTime, reader, skipped: &bad)
            return SnapshotMaker(snapshots, from: consume restored, stored: stored)
        }
        // The maker's one reference: a second would make the fold's first change copy every record.
        guard var making = consume due else { return [] }
        var taken: [UInt64] = []
        var from = making.projection.seq
        let started = Date()
        // Folded in stretches, each in a read of its own; each snapshot is written as it is taken.
        while from < head {
            let through = min(head, (from / snapshots.interval + 1) * snapshots.interval)
            let made: (seq: UInt64, bytes: [UInt8])? = try log.read { reader in
                var made: (seq: UInt64, bytes: [UInt8])?
                try reader.forEach(after: from) { entry in
                    guard entry.seq <= through else { return false }
                    if let snapshot = making.apply(try EventCodec.recorded(entry, reading: .forFolds)) { made = snapshot }
                    return entry.seq < through
                }
                return made
            }
            if let made {
                try snapshots.write(made.seq, made.bytes, into: log, inParts: inParts)
                taken.append(made.seq)
            }
            from = through
            progress?(WorkProgress(events: Int(from), total: Int(head), fraction: Double(from) / Double(max(head, 1)),
                                   seconds: -started.timeIntervalSinceNow))
        }
        return taken
    }
}

/// A flag set by one thread and taken by another.
final class OwedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    func take() -> Bool { lock.withLock { defer { value = false }; return value } }
    func peek() -> Bool { lock.withLock { value } }
}

/// The projection of a head, kept by one call for the next (taken once).
final class KeptProjection: @unchecked Sendable {
    private let lock = NSLock()
    private var kept: (projection: Projection, head: LogHead)?
    /// How many kept projections were used (for the tests).
    private(set) var used = 0
    func keep(_ projection: Projection, _ head: LogHead) { lock.withLock { kept = (projection, head) } }
    func take() -> (projection: Projection, head: LogHead)? { lock.withLock { defer { kept = nil }; return kept } }
    func noteUsed() { lock.withLock { used += 1 } }
}

/// Seqs of snapshots found damaged, noted from any thread.
final class DamagedSnapshots: @unchecked Sendable {
    private let lock = NSLock()
    private var seqs: Set<UInt64> = []
    func insert(_ more: [UInt64]) { lock.withLock { seqs.formUnion(more) } }
    func drain() -> [UInt64] { lock.withLock { defer { seqs = [] }; return seqs.sorted() } }
}
