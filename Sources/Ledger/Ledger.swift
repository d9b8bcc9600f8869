import Campaign
import EventLog
import Foundation
import JSON
import LMDB
import Projections

/// An append refused whole: every refused event, by line, id and subject. Nothing was stored.
public struct AppendRefused: Error, Sendable, CustomStringConvertible {
    public var refusals: [LineRefusal]
    public init(refusals: [LineRefusal]) { self.refusals = refusals }
    public var description: String {
        "拒绝写入：\(refusals.count) 个事件不符合规则，本批全部未写入\n"
            + refusals.map { "  " + $0.description }.joined(separator: "\n")
    }
}

/// An event an append stored: its line (or position) in the input, and where the log holds it.
public struct Appended: Sendable, Equatable {
    public var line: Int
    public var seq: UInt64
    /// Its number in its subject's stream.
    public var version: UInt64
    /// The store's clock of the append.
    public var recordedAt: Timestamp
}

/// What an append did.
public struct AppendReport: Sendable {
    /// The events stored, in seq order.
    public var appended: [Appended]
    /// Events already stored with the same content: (line, id, the seq that holds it). No-ops.
    public var duplicates: [(line: Int, id: String, seq: UInt64)]
    /// The head after the append.
    public var head: LogHead
}

/// Which prefix of the log a view reads (transaction time, §5 `--as-of`).
public enum AsOf: Sendable, Equatable, CustomStringConvertible {
    /// Every event stored.
    case all
    /// Events up to and including this seq.
    case seq(UInt64)
    /// Events recorded up to and including this moment.
    case time(Timestamp)

    /// Whether an entry with this seq and clock belongs to the prefix; entries come in seq order and
    /// the clock never goes backwards, so the first that does not marks the end.
    func includes(seq: UInt64, recordedAtMicros: Int64) -> Bool {
        switch self {
        case .all: true
        case .seq(let n): seq <= n
        case .time(let t): recordedAtMicros <= t.micros
        }
    }

    public var description: String {
        switch self {
        case .all: "all"
        case .seq(let n): "seq:\(n)"
        case .time(let t): t.rfc3339
        }
    }
}

/// The campaign's ledger: the rules of §4 over the hash-chained log.
///
/// The log is the only durable state. What the rules consult (`CampaignState`) is derived: folded
/// from the log when the ledger opens, kept up to date by this process's appends, and caught up inside
/// the write transaction with whatever other processes appended meanwhile.
public final class Ledger: @unchecked Sendable {
    public let log: EventLog
    private let clock: @Sendable () -> Timestamp
    private let lock = NSLock()
    private var state = CampaignState()
    private var stateSeq: UInt64 = 0

    /// The store's clock: now, UTC.
    public static let systemClock: @Sendable () -> Timestamp = {
        Timestamp(micros: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded(.down)))
    }

    /// Opens the store in folder `path`.
    /// - Parameters:
    ///   - create: make the store (folder 0700, files 0600) when there is none.
    ///   - readOnly: open with `MDB_RDONLY`: every write is refused.
    ///   - clock: the store's clock (tests pass their own).
    /// - Throws: `LMDBError` (`.noSuchFile`: no store there).
    public init(path: String, create: Bool = false, readOnly: Bool = false, mapSize: Int = 64 << 20,
                maximumMapSize: Int = 1 << 40, clock: @escaping @Sendable () -> Timestamp = Ledger.systemClock) throws {
        log = try EventLog(path: path, readOnly: readOnly, create: create, mapSize: mapSize,
                           maximumMapSize: maximumMapSize)
        self.clock = clock
    }

    /// The rules' state as of the head, caught up with the log (for import's name look-ups, and tests).
    public func currentState() throws -> CampaignState {
        lock.lock()
        defer { lock.unlock() }
        try log.read { reader in try catchUp(reader) }
        return state
    }

    private func catchUp(_ reader: borrowing LogReader) throws {
        if stateSeq == 0 {
            // A new process starts from the rules' checkpoint, when there is a sound one within the log.
            if let (restored, seq) = try Self.soundRules(atOrBefore: try reader.head().seq, in: reader) {
                (state, stateSeq) = (restored, seq)
            }
        }
        try reader.forEachRecorded(after: stateSeq) { recorded in
            Rules.evolve(&state, recorded.event)
            stateSeq = recorded.seq
            return true
        }
    }

    /// Appends `incoming` as one transaction: all of it, or (when any event is refused) none of it.
    ///
    /// An event whose id is stored already with the same content is a duplicate: skipped, and reported.
    /// - Throws: `AppendRefused` listing every refused event; `LMDBError` when the store fails.
    /// With `dryRun`, every rule is applied and the report made, but nothing is stored.
    @available(*, noasync)
    public func append(_ incoming: [Incoming], dryRun: Bool = false) throws -> AppendReport {
        lock.lock()
        defer { lock.unlock() }
        do {
            return try appendLocked(incoming, dryRun: dryRun)
        } catch let rehearsal as Rehearsal {
            return rehearsal.report
        }
    }

    /// Ends a dry run's transaction without committing it.
    private struct Rehearsal: Error { var report: AppendReport }

    private func appendLocked(_ incoming: [Incoming], dryRun: Bool) throws -> AppendReport {
        // The rules' state takes the append's events before LMDB has committed them: until the commit
        // succeeds, `pending` can put it back (a refusal, a full map that makes `write` run the body again,
        // a commit that fails).
        var pending = CampaignState.Undo()
        do {
            let report = try log.write { writer in
                pending.restore(&state)
                pending = CampaignState.Undo()
                try catchUp(writer.read)
                return try stage(incoming, dryRun: dryRun, into: &writer, rules: &state, undo: &pending)
            }
            stateSeq = report.head.seq
            return report
        } catch {
            pending.restore(&state)
            throw error
        }
    }

    /// Checks every event of an append against the rules and writes the accepted ones in `writer`'s
    /// transaction; the rules' state takes them, with what they changed saved in `undo`.
    /// (The rules' state comes in as `rules`, one access for the whole append: read through the class's
    /// property, each use would copy it.)
    ///
    /// An append of `twoCoreAppend.from` events or more shares the work with an `AppendHelper`: it
    /// prepares the events ahead of the rules, and chains the accepted ones ahead of the writes.
    private func stage(_ incoming: [Incoming], dryRun: Bool, into writer: inout LogWriter,
                       rules state: inout CampaignState, undo: inout CampaignState.Undo) throws -> AppendReport {
        let recordedAt = writer.clock(now: clock().micros)
        let helper = incoming.count >= twoCoreAppend.from
            ? AppendHelper(incoming, chunkSize: twoCoreAppend.chunk, after: writer.head) : nil
        defer { helper?.cancel() }
        var refusals: [LineRefusal] = []
        var duplicates: [(line: Int, id: String, seq: UInt64)] = []
        var staged: [AppendHelper.Staged] = []
        var handedOver = 0  // staged events handed to the helper to chain
        var seenHere: [String: Int] = [:]  // id → index in `incoming`
        seenHere.reserveCapacity(incoming.count)
        staged.reserveCapacity(incoming.count)
        undo.reserve(events: incoming.count)
        // Takes the event at `index`: nil when it is staged, else the seq that holds it already (0:
        // earlier in this append).
        func take(_ event: Event, at index: Int, line: Int, expectedVersion: UInt64?, _ prepared: Prepared) throws -> UInt64? {
            if let earlier = seenHere[event.id] {
                let first = incoming[earlier]
                guard first.event.subject == event.subject, StoredEvent.encode(first.event) == prepared.body else {
                    throw Refusal(.conflict, "id \(event.id) 在本批第 \(first.line) 行已出现，内容不同")
                }
                return 0
            }
            if let seq = try writer.read.seq(ofID: event.id), let stored = try writer.read.entry(seq) {
                guard stored.subject == event.subject, stored.body == prepared.body else {
                    throw Refusal(.conflict, "id \(event.id) 已由 seq \(seq) 使用，内容不同：同一 id 不能代表两个事件")
                }
                return seq
            }
            seenHere[event.id] = index
            if let malformed = prepared.malformed { throw malformed }
            try Rules.decide(wellFormed: event, given: state, recordedAt: Timestamp(micros: recordedAt),
                             expectedVersion: expectedVersion)
            let version = Rules.evolve(&state, event, saving: &undo)
            staged.append(.init(line: line, id: event.id, subject: event.subject, version: version, body: prepared.body))
            return nil
        }
        // Hands the helper what was staged since last time; none once an event is refused.
        func handOver(atLeast count: Int) {
            guard let helper, refusals.isEmpty, staged.count - handedOver >= count else { return }
            helper.chain(Array(staged[handedOver...]), recordedAtMicros: recordedAt)
            handedOver = staged.count
        }
        var chunk: ArraySlice<Prepared> = []
        try incoming.withUnsafeBufferPointer { items in  // read in place, not copied out of the array
            for index in items.indices {
                let prepared: Prepared
                if let helper {
                    if chunk.isEmpty { chunk = helper.nextPrepared()[...] }
                    prepared = chunk.removeFirst()
                } else {
                    prepared = Prepared(items[index].event)
                }
                do {
                    if let seq = try take(items[index].event, at: index, line: items[index].line,
                                          expectedVersion: items[index].expectedVersion, prepared) {
                        duplicates.append((items[index].line, items[index].event.id, seq))
                    } else {
                        handOver(atLeast: twoCoreAppend.chunk)
                    }
                } catch let refusal as Refusal {
                    let item = items[index]
                    refusals.append(LineRefusal(line: item.line, id: item.event.id, subject: item.event.subject, refusal: refusal))
                }
            }
        }
        if !refusals.isEmpty { throw AppendRefused(refusals: refusals) }
        handOver(atLeast: 1)
        var appended: [Appended] = []
        appended.reserveCapacity(staged.count)
        func stored(at seq: UInt64) {
            let event = staged[appended.count]
            appended.append(Appended(line: event.line, seq: seq, version: event.version, recordedAt: Timestamp(micros: recordedAt)))
        }
        if let helper {
            while appended.count < staged.count {
                for entry in helper.nextChained() { stored(at: try writer.append(entry)) }
            }
        } else {
            for event in staged {
                stored(at: try writer.append(id: event.id, subject: event.subject, version: event.version,
                                       recordedAtMicros: recordedAt, body: event.body))
            }
        }
        let report = AppendReport(appended: appended, duplicates: duplicates, head: writer.head)
        if dryRun { throw Rehearsal(report: report) }
        return report
    }

    /// Calls `body` with every stored event of the prefix `asOf`, in seq order, until it returns false.
    /// - Returns: the head of that prefix (the last event passed, or the one `body` stopped at).
    @available(*, noasync)
    @discardableResult
    public func replay(asOf: AsOf = .all, after: UInt64 = 0,
                       _ body: (RecordedEvent, LogEntry) throws -> Bool) throws -> LogHead {
        try log.read { reader in
            var head = LogHead.empty
            if after > 0, let entry = try reader.entry(after), asOf.includes(seq: after, recordedAtMicros: entry.recordedAtMicros) {
                head = LogHead(seq: entry.seq, hash: entry.hash, recordedAtMicros: entry.recordedAtMicros)
            }
            try reader.forEach(after: after) { entry in
                guard asOf.includes(seq: entry.seq, recordedAtMicros: entry.recordedAtMicros) else { return false }
                head = LogHead(seq: entry.seq, hash: entry.hash, recordedAtMicros: entry.recordedAtMicros)
                return try body(try StoredEvent.recorded(entry), entry)
            }
            return head
        }
    }

    /// Folds of at least `from` events decode on a second thread while the first folds, `chunk` events
    /// handed over at a time (tests set small ones).
    var twoCoreFold = (from: UInt64(50_000), chunk: DecodedEvents.chunkSize)

    /// Appends of at least `from` events share the work with a second thread (`AppendHelper`), `chunk`
    /// events handed over at a time (tests set small ones).
    var twoCoreAppend = (from: 1_000, chunk: 500)

    /// How many events apart checkpoints of the projection are taken.
    public static let checkpointInterval: UInt64 = 10_000

    /// The projection every view reads, folded from the prefix `asOf` and judged at `at`.
    ///
    /// It starts from the latest sound checkpoint it may start from (at or before the prefix's end, with no
    /// event after `at` in it) and folds the rest of the prefix; with `fromCheckpoints` false it folds the
    /// whole prefix, which is the reference the checkpoints are tested against.
    /// - Returns: the projection and the head of the prefix it read.
    @available(*, noasync)
    public func projection(asOf: AsOf = .all, at: Timestamp, fromCheckpoints: Bool = true) throws -> (Projection, LogHead) {
        // The prefix's end and the checkpoint to start from. Entries up to `end` never change, so the
        // reads below may be later snapshots.
        var (projection, end): (Projection, UInt64) = try log.read { reader in
            let end: UInt64
            switch asOf {
            case .all: end = try reader.head().seq
            case .seq(let n): end = min(n, try reader.head().seq)
            case .time(let t): end = try reader.lastSeq(recordedAtOrBefore: t.micros)
            }
            var projection = Projection(at: at)
            if fromCheckpoints {
                var damaged: [UInt64] = []
                try reader.checkpoints(atOrBefore: end) { seq, bytes in
                    guard let restored = try? Snapshot.decode(bytes), restored.seq == seq else {
                        damaged.append(seq)
                        return true
                    }
                    guard restored.latestTime.map({ $0 <= at }) ?? true else { return true }  // holds events after `at`
                    projection = restored.judged(at: at)
                    return false
                }
                if !damaged.isEmpty { damagedCheckpoints.insert(contentsOf: damaged) }
            }
            return (projection, end)
        }
        if end - min(projection.seq, end) >= twoCoreFold.from {
            // With no transaction of this thread open while it waits for the decoding thread.
            let decoded = DecodedEvents(log: log, after: projection.seq, through: end, chunkSize: twoCoreFold.chunk)
            defer { decoded.cancel() }
            while var chunk = try decoded.next() {
                // A chunk comes last event first: popped off its end, the events come in seq order.
                while let recorded = chunk.popLast() { projection.apply(recorded) }
            }
        }
        return try log.read { reader in
            try reader.forEachRecorded(after: projection.seq, through: end) { recorded in
                projection.apply(recorded)
                return true
            }
            guard let entry = try reader.entry(projection.seq) else { return (projection, LogHead.empty) }
            return (projection, LogHead(seq: entry.seq, hash: entry.hash, recordedAtMicros: entry.recordedAtMicros))
        }
    }

    /// `rows` with their reports, read from the log at each row's `reportSeq` in one read.
    /// - Throws: `LogDamage` when a row's seq does not hold the problem's report.
    @available(*, noasync)
    public func withReports(_ rows: [BoardRow]) throws -> [BoardRow] {
        try log.read { reader in
            try rows.map { row in
                var row = row
                guard let entry = try reader.entry(row.reportSeq),
                      case .problemReported(let report) = try StoredEvent.recorded(entry).event.data,
                      entry.subject == row.id
                else { throw LogDamage(seq: row.reportSeq, problem: "not the report of \(row.id)") }
                row.report = report
                return row
            }
        }
    }

    /// Checkpoints found damaged by views of this process, for `checkpoint` to discard.
    private let damagedCheckpoints = Checkpoints()

    /// Takes the checkpoints the log lacks: every `interval` seqs up to the head, folding from the latest
    /// sound one. Damaged checkpoints are discarded and taken again. Checkpoints are derived data: this
    /// changes no answer, only how fast views as of late seqs come back.
    /// - Returns: the seqs checkpointed.
    @available(*, noasync)
    @discardableResult
    public func checkpoint(interval: UInt64 = Ledger.checkpointInterval) throws -> [UInt64] {
        for seq in damagedCheckpoints.drain() { try log.discardCheckpoint(seq) }
        let head = try log.head().seq
        var written: [UInt64] = []
        // Most appends cross no multiple of the interval: then nothing is due, and nothing is decoded.
        let last = try log.read { try $0.checkpointSeqs().last } ?? 0
        let lastRules = try log.read { try $0.checkpointSeqs(kind: .rules).last } ?? 0
        guard (last / interval + 1) * interval <= head || lastRules < head / interval * interval else { return [] }
        var next = (try latestSoundCheckpoint() / interval + 1) * interval
        while next <= head {
            // Each checkpoint folds from the one before, in a read of its own, then is written.
            let (projection, _) = try projection(asOf: .seq(next), at: Projection.endOfTime)
            try log.storeCheckpoint(next, Snapshot.encode(projection))
            written.append(next)
            next += interval
        }
        try checkpointRules(at: head / interval * interval)
        return written
    }

    /// The latest rules' checkpoint at or before `seq` that decodes, and its seq.
    private static func soundRules(atOrBefore seq: UInt64, in reader: borrowing LogReader) throws -> (CampaignState, UInt64)? {
        var found: (CampaignState, UInt64)?
        try reader.checkpoints(atOrBefore: seq, kind: .rules) { at, bytes in
            guard let (restored, restoredSeq) = try? RulesCheckpoint.decode(bytes), restoredSeq == at else { return true }
            found = (restored, at)
            return false
        }
        return found
    }

    /// Keeps one checkpoint of the rules' state: at `seq`, folded from the one before; older ones go.
    private func checkpointRules(at seq: UInt64) throws {
        guard seq > 0 else { return }
        let existing = try log.read { try $0.checkpointSeqs(kind: .rules) }
        guard !existing.contains(seq) else { return }
        let rules: CampaignState = try log.read { reader in
            var (rules, from) = try Self.soundRules(atOrBefore: seq, in: reader) ?? (CampaignState(), 0)
            try reader.forEachRecorded(after: from, through: seq) { recorded in
                Rules.evolve(&rules, recorded.event)
                return true
            }
            return rules
        }
        try log.storeCheckpoint(seq, RulesCheckpoint.encode(rules, seq: seq), kind: .rules)
        for old in existing where old != seq { try log.discardCheckpoint(old, kind: .rules) }
    }

    /// The seq of the last checkpoint that decodes (0 when none), discarding damaged ones on the way.
    private func latestSoundCheckpoint() throws -> UInt64 {
        var damaged: [UInt64] = []
        let sound: UInt64 = try log.read { reader in
            var found: UInt64 = 0
            try reader.checkpoints(atOrBefore: UInt64.max) { seq, bytes in
                if let restored = try? Snapshot.decode(bytes), restored.seq == seq {
                    found = seq
                    return false
                }
                damaged.append(seq)
                return true
            }
            return found
        }
        for seq in damaged { try log.discardCheckpoint(seq) }
        return sound
    }

    /// Re-reads every stored byte: the log's own checks (chain, seqs, versions, id index) and, for each
    /// entry, that its event decodes and has a valid id. With `checkpoints`, it also folds the projection
    /// and compares every stored checkpoint with it: a checkpoint is derived, but a view starts from it,
    /// so one that was altered would alter answers without touching the chain.
    /// - Throws: `LogDamage` naming the first seq that does not hold (for a checkpoint, its seq).
    @available(*, noasync)
    public func verify(checkpoints: Bool = true) throws -> LogHead {
        var projection = Projection(at: Projection.endOfTime)
        var rules = CampaignState()
        var stored: Set<UInt64>?  // read in the same snapshot as the log
        var storedRules: Set<UInt64> = []
        // Every event has a valid id and decodes (checked without building its text).
        let decodes: @Sendable (StoredEntry) -> String? = { entry in
            guard Rules.isIdentifier(entry.id) else { return "id \(entry.idString) is not a valid event id" }
            var checked = WireReader(entry.body)
            checked.checkingOnly = true
            return (try? checked.event(id: "", subject: "")) == nil ? Self.undecodable : nil
        }
        // Without checkpoints to fold beside it, the log is read in two stretches at once (two cores).
        guard checkpoints else { return try log.verify(parts: 2, check: decodes) }
        return try log.verify { entry, reader in
            if let problem = decodes(entry) { return problem }
            var body = WireReader(entry.body)
            guard let event = try? body.event(id: entry.idString, subject: entry.subjectString) else { return Self.undecodable }
            guard checkpoints else { return nil }
            if stored == nil {
                stored = Set((try? reader.checkpointSeqs()) ?? [])
                storedRules = Set((try? reader.checkpointSeqs(kind: .rules)) ?? [])
            }
            if !storedRules.isEmpty {
                Rules.evolve(&rules, event)
                if storedRules.contains(entry.seq) {
                    if let bytes = try? reader.checkpoint(entry.seq, kind: .rules),
                       bytes != RulesCheckpoint.encode(rules, seq: entry.seq) {
                        return "the rules' checkpoint stored at this seq does not match the log "
                            + "(derived data: civic checkpoints --rebuild takes it again from the log)"
                    }
                }
            }
            guard let seqs = stored, !seqs.isEmpty else { return nil }
            projection.apply(RecordedEvent(seq: entry.seq, version: entry.version,
                                           recordedAt: Timestamp(micros: entry.recordedAtMicros), event: event))
            guard seqs.contains(entry.seq) else { return nil }
            // Byte for byte: the encoding is canonical, and it keeps what equality of moments would not (offsets).
            guard let bytes = try? reader.checkpoint(entry.seq), bytes != Snapshot.encode(projection) else { return nil }
            return "the checkpoint stored at this seq does not match the log "
                + "(derived data: civic checkpoints --rebuild takes it again from the log)"
        }
    }

    private static let undecodable = "event does not decode (not a civic.v1.Event civic can read)"

    /// Discards every checkpoint and takes them again from the log.
    /// - Returns: the seqs checkpointed.
    @available(*, noasync)
    @discardableResult
    public func rebuildCheckpoints(interval: UInt64 = Ledger.checkpointInterval) throws -> [UInt64] {
        for kind in CheckpointKind.allCases {
            for seq in try log.read({ try $0.checkpointSeqs(kind: kind) }) { try log.discardCheckpoint(seq, kind: kind) }
        }
        return try checkpoint(interval: interval)
    }
}

/// Seqs noted from any thread.
final class Checkpoints: @unchecked Sendable {
    private let lock = NSLock()
    private var seqs: Set<UInt64> = []
    func insert(contentsOf more: [UInt64]) { lock.lock(); seqs.formUnion(more); lock.unlock() }
    func drain() -> [UInt64] { lock.lock(); defer { lock.unlock() }; let all = seqs.sorted(); seqs = []; return all }
}
