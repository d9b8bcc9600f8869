import Campaign
import Crypto
import EventLog
import Foundation
import LMDB

/// An incoming event made ready for the rules: its stored bytes encoded and its form checked (work that
/// needs no state, done on the preparing thread while the rules take the events before it). A class:
/// handed from thread to thread and through the append, it is shared rather than copied.
final class Prepared: Sendable {
    let line: Int
    let event: Event
    let expectedVersion: UInt64?
    let body: [UInt8]
    /// Why its form is refused, if it is.
    let malformed: Refusal?

    init(_ incoming: Incoming) {
        line = incoming.line
        event = incoming.event
        expectedVersion = incoming.expectedVersion
        body = EventCodec.encode(incoming.event)
        do {
            try Rules.checkWellFormed(incoming.event)
            try Identifiers.check(incoming.event)
            malformed = nil
        } catch { malformed = error }
    }
}

enum PreparedItem: Sendable {
    case event(Prepared)
    case unreadable(LineRefusal)

    init(_ item: SourceItem) {
        switch item {
        case .event(let incoming): self = .event(Prepared(incoming))
        case .unreadable(let refusal): self = .unreadable(refusal)
        }
    }
}

/// Reads and prepares an append's input on a thread of its own, a few chunks ahead of the rules, so that
/// parsing and encoding take one core while the rules and the writes take the other. Memory holds at most
/// `ahead` chunks, whatever the size of the input. The thread never opens a transaction, so the appending
/// thread may wait for it while it holds the write transaction.
final class Preparation: @unchecked Sendable {
    private let source: EventSource
    private let ahead: Int
    private let condition = NSCondition()
    private var ready: [[PreparedItem]] = []
    private var finished = false
    private var failure: (any Error)?
    private var cancelled = false
    private var started = false

    init(_ source: EventSource, ahead: Int = 8) {
        self.source = source
        self.ahead = ahead
    }

    /// The next prepared chunk; nil at the end of the input.
    /// - Throws: what reading the input threw.
    func next() throws -> [PreparedItem]? {
        if !started {
            started = true
            if source is EventList {
                // In memory already: prepared here, with no thread to wait for.
                finished = true
                return try source.next().map { $0.map(PreparedItem.init) }
            }
            Thread.detachNewThread { [self] in run() }
        }
        condition.lock()
        defer { condition.unlock() }
        while ready.isEmpty && !finished { condition.wait() }
        if !ready.isEmpty {
            condition.signal()
            return ready.removeFirst()
        }
        if let failure { throw failure }
        return nil
    }

    /// Stops the thread (the append ended early).
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }

    private func run() {
        do {
            while let items = try source.next() {
                let prepared = items.map(PreparedItem.init)
                condition.lock()
                while ready.count >= ahead && !cancelled { condition.wait() }
                if cancelled { condition.unlock(); return }
                ready.append(prepared)
                condition.broadcast()
                condition.unlock()
            }
            condition.lock()
            finished = true
        } catch {
            condition.lock()
            failure = error
            finished = true
        }
        condition.broadcast()
        condition.unlock()
    }
}

/// What an append is to do.
public struct AppendOptions: Sendable {
    /// Apply every rule, store nothing.
    public var dryRun = false
    /// Who records the events (`recordedby`): `local:<user>` for the command line, an account over HTTP.
    public var recordedBy: String
    /// Called now and then with how far a long append has come (on the appending thread).
    public var progress: (@Sendable (WorkProgress) -> Void)?

    public init(dryRun: Bool = false, recordedBy: String, progress: (@Sendable (WorkProgress) -> Void)? = nil) {
        self.dryRun = dryRun; self.recordedBy = recordedBy; self.progress = progress
    }
}

/// One append in the write transaction: every event through the rules, in order, the accepted ones
/// chained and written; what the rules' records become held apart (`pending`) until the transaction
/// commits. A refused event is listed and the append goes on (to tell every refusal at once) writing
/// nothing more; at the end it decides to commit or to roll back.
struct AppendBatch {
    let index: SubjectIndex
    let options: AppendOptions
    let recordedAt: Int64
    let before: LogHead
    private let started = Date()

    /// The records and links the append's events made, until they are committed.
    private(set) var pending: [String: SubjectRecord] = [:]
    private(set) var pendingLinks: [[UInt8]: UnitLink] = [:]
    private(set) var appended: [Appended] = []
    private(set) var duplicates: [Duplicate] = []
    private(set) var refusals: [LineRefusal] = []
    private var moreRefusals = 0
    /// After the first refusal nothing is written: ids met since, with a digest of their content, to tell
    /// a duplicate in the append from a conflict.
    private var metSinceRefusal: [String: [UInt8]] = [:]
    /// Whether the tables were written inside this transaction (then, rolled back, they must be read again).
    private(set) var wroteTables = false
    private var count = 0
    /// The most records it held in memory at once.
    private(set) var heldAtMost = 0
    /// For a large append: takes its snapshots as it goes, fed the stored events.
    private let projector: AppendProjector?
    private let snapshots: Snapshots?
    private var projected: [(seq: UInt64, prepared: Prepared)] = []
    /// In a group commit, what the requests before this one in the same transaction made; the tables are
    /// then written once for the group, never by one of its requests.
    private let group: GroupState?
    /// The actors' records looked up in the tables (most events come from a few actors).
    private var actors: [String: SubjectRecord?] = [:]

    init(index: SubjectIndex, options: AppendOptions, writer: borrowing LogWriter, now: Int64,
         projector: AppendProjector? = nil, snapshots: Snapshots? = nil, expectedEvents: Int = 0,
         group: GroupState? = nil) {
        pending.reserveCapacity(min(expectedEvents / 3, index.heldAtMost))
        // About one link in two events: grown from empty, the table was rehashed a score of times.
        pendingLinks.reserveCapacity(min(expectedEvents / 2, 1 << 20))
        self.index = index
        self.options = options
        recordedAt = writer.clock(now: now)
        before = writer.head
        self.projector = projector
        self.snapshots = snapshots
        self.group = group
        projected.reserveCapacity(1_024)
    }

    /// Hands the projector the events stored since last time, and writes the snapshots it has made.
    private mutating func feedProjector(_ projector: AppendProjector, _ writer: inout LogWriter) throws {
        projector.feed(projected)
        projected.removeAll(keepingCapacity: true)
        try put(projector.takeReady(), &writer)
    }

    private func put(_ snapshots: [(seq: UInt64, bytes: [UInt8])], _ writer: inout LogWriter) throws {
        guard let store = self.snapshots else { return }
        for snapshot in snapshots { try store.put(snapshot.seq, snapshot.bytes, &writer) }
    }

    private var isRefused: Bool { !refusals.isEmpty || moreRefusals > 0 }

    private mutating func refuse(_ refusal: LineRefusal) {
        if refusals.count < AppendRefused.kept { refusals.append(refusal) } else { moreRefusals += 1 }
    }

    /// The record of `subject` as this append sees it: its own change, else the index's.
    private func record(_ subject: String, _ reader: borrowing LogReader) throws -> SubjectRecord? {
        if let mine = pending[subject] { return mine }
        if let earlier = group?.records[subject] { return earlier }
        return try index.record(subject, reader)
    }

    /// `record` of the event's actor (its account, if it has one), remembered for the append.
    private mutating func actorRecord(_ actor: String, _ reader: borrowing LogReader) throws -> SubjectRecord? {
        if let mine = pending[actor] { return mine }
        if let known = actors[actor] { return known }
        let found = try record(actor, reader)
        actors[actor] = .some(found)
        return found
    }

    private func hasLink(_ key: [UInt8], _ reader: borrowing LogReader) throws -> Bool {
        if group?.links[key] != nil { return true }
        return try index.hasLink(key, reader)
    }

    /// Takes one item of the input through the rules, writing it when accepted and nothing was refused.
    mutating func take(_ item: PreparedItem, into writer: inout LogWriter) throws {
        count += 1
        if count & 0xFFFF == 0, let progress = options.progress {
            progress(WorkProgress(events: count, total: nil, fraction: nil, seconds: -started.timeIntervalSinceNow))
        }
        let prepared: Prepared
        switch item {
        case .unreadable(let refusal):
            refuse(refusal)
            return
        case .event(let p):
            prepared = p
        }
        let event = prepared.event
        let seq = before.seq + UInt64(appended.count) + 1
        // The same id again: a duplicate when it holds the same content, else a conflict. (Until a refusal,
        // the id is claimed in the same look-up; after one, nothing more is written.)
        if let seq = isRefused ? try writer.read.seq(ofID: event.id) : try writer.claim(id: event.id, for: seq) {
            let written = try writer.read.withEntry(seq) { stored in
                stored.map { $0.subject.elementsEqual(event.subject.utf8) && $0.body.elementsEqual(prepared.body) }
            }
            // Not written: claimed by an event of this append that was refused.
            let same = written ?? (metSinceRefusal[event.id] == Self.digest(event.subject, prepared.body))
            if same {
                duplicates.append(Duplicate(line: prepared.line, id: event.id, seq: seq))
            } else {
                let place = seq > before.seq ? "在本批前面已出现（seq \(seq)）" : "已由 seq \(seq) 使用"
                refuse(LineRefusal(line: prepared.line, id: event.id, subject: event.subject,
                                   refusal: Refusal(.conflict, "id \(event.id) \(place)，内容不同：同一 id 不能代表两个事件")))
            }
            return
        }
        if isRefused {
            let digest = Self.digest(event.subject, prepared.body)
            if let met = metSinceRefusal[event.id] {
                if met != digest {
                    refuse(LineRefusal(line: prepared.line, id: event.id, subject: event.subject,
                                       refusal: Refusal(.conflict, "id \(event.id) 在本批前面已出现，内容不同")))
                }
                return
            }
            metSinceRefusal[event.id] = digest
        }
        if let malformed = prepared.malformed {
            refuse(LineRefusal(line: prepared.line, id: event.id, subject: event.subject, refusal: malformed))
            metSinceRefusal[event.id] = Self.digest(event.subject, prepared.body)
            return
        }
        // The rules, over what this append made and what the store holds.
        var damage: (any Error)?
        let previous = try record(event.subject, writer.read)
        let actor = try actorRecord(event.actor, writer.read)
        do {
            try Rules.decide(wellFormed: event, given: { subject in
                if subject == event.actor { return actor }
                do { return try self.record(subject, writer.read) } catch {
                    damage = error
                    return nil
                }
            }, recordedAt: Timestamp(micros: recordedAt), expectedVersion: prepared.expectedVersion)
        } catch {
            if let damage { throw damage }
            refuse(LineRefusal(line: prepared.line, id: event.id, subject: event.subject, refusal: error))
            metSinceRefusal[event.id] = Self.digest(event.subject, prepared.body)
            return
        }
        if let damage { throw damage }
        let record = Rules.evolve(previous, event, seq: seq)
        pending[event.subject] = record
        heldAtMost = max(heldAtMost, pending.count)
        for unit in UnitLink.units(of: event) {
            let key = UnitLink.key(unit: unit, subject: event.subject)
            if pendingLinks[key] == nil, try !hasLink(key, writer.read) {
                pendingLinks[key] = UnitLink(seq: seq, time: event.time.micros)
            }
        }
        appended.append(Appended(line: prepared.line, id: event.id, seq: seq, version: record.version))
        guard !isRefused else { return }
        let entry = ChainedEntry(seq: seq, version: record.version, previous: previous?.lastSeq ?? 0,
                                 recordedAtMicros: recordedAt, recordedBy: options.recordedBy, id: event.id,
                                 subject: event.subject, body: prepared.body, after: writer.head.hash)
        try writer.append(entry, idClaimed: true)
        if let projector {
            projected.append((seq, prepared))
            if projected.count >= 1_024 { try feedProjector(projector, &writer) }
        }
        // A long append writes its records to the tables as it goes, so that memory stays bounded.
        if pending.count >= index.heldAtMost && !options.dryRun && group == nil {
            try index.flush(&writer, records: pending, links: pendingLinks, head: writer.head.seq)
            pending = [:]
            pendingLinks = [:]
            actors = [:]
            wroteTables = true
        }
    }

    /// The end of the append: commit what it wrote, or roll back (refused, or a dry run).
    mutating func finish(_ writer: inout LogWriter) throws -> EventLog.WriteDecision<Result<AppendReport, AppendRefused>> {
        if isRefused { return .rollback(.failure(AppendRefused(refusals: refusals.sorted { $0.line < $1.line }, more: moreRefusals))) }
        let head = LogHead(seq: before.seq + UInt64(appended.count), hash: writer.head.hash, recordedAtMicros: recordedAt)
        let report = AppendReport(appended: appended, duplicates: duplicates, head: appended.isEmpty ? before : head,
                                  before: before, recordedAt: Timestamp(micros: recordedAt), stored: !options.dryRun, derivedProblem: nil)
        if options.dryRun { return .rollback(.success(report)) }
        if let projector {
            try feedProjector(projector, &writer)
            try put(try projector.finish(), &writer)
        }
        if !appended.isEmpty, group == nil, index.isDue(head: writer.head.seq, pending: pending.count) {
            try index.flush(&writer, records: pending, links: pendingLinks, head: writer.head.seq)
            pending = [:]
            pendingLinks = [:]
            wroteTables = true
        }
        return .commit(.success(report))
    }

    private static func digest(_ subject: String, _ body: [UInt8]) -> [UInt8] {
        var h = SHA256()
        h.update(data: Array(subject.utf8) + [0])
        h.update(data: body)
        return Array(h.finalize())
    }
}

/// What the requests of one group commit made before the one being taken: their subjects' new records
/// and links, seen by the rules as the store's (they are in the same transaction).
struct GroupState {
    var records: [String: SubjectRecord] = [:]
    var links: [[UInt8]: UnitLink] = [:]

    mutating func take(_ batch: AppendBatch) {
        records.merge(batch.pending) { _, new in new }
        links.merge(batch.pendingLinks) { old, _ in old }
    }
}
