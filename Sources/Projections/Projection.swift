import Campaign

/// One batch (problem list) as the views see it.
public struct BatchView: Sendable, Equatable {
    public var opening: BatchOpening
    /// The `time` of its batch.opened.
    public var openedAt: Timestamp
    public init(opening: BatchOpening, openedAt: Timestamp) { self.opening = opening; self.openedAt = openedAt }
}

/// What a unit did in one week, counted on problems then assigned to it.
public struct WeekCounts: Sendable, Equatable {
    public var closed = 0
    public var rejected = 0
    public var reopened = 0
    public var escalated = 0
    public init(closed: Int = 0, rejected: Int = 0, reopened: Int = 0, escalated: Int = 0) {
        self.closed = closed; self.rejected = rejected; self.reopened = reopened; self.escalated = escalated
    }
}

/// A list, or a list's problems assigned to one unit, by the numbers of their names: the key of a
/// zero-out (清零) record.
struct ZeroKey: Sendable, Hashable, Comparable {
    var batch: Int32
    /// -1: the whole list.
    var unit: Int32
    static func < (a: ZeroKey, b: ZeroKey) -> Bool { (a.batch, a.unit) < (b.batch, b.unit) }
}

/// One day of one list, by the number of its name: the key of a burn-down change.
struct DayKey: Sendable, Hashable, Comparable {
    var batch: Int32
    /// Days since 1970-01-01, in UTC+8.
    var day: Int64
    static func < (a: DayKey, b: DayKey) -> Bool { (a.batch, a.day) < (b.batch, b.day) }
}

/// One week (its Monday) of one unit, by the number of its id: the key of the weekly counts.
struct WeekKey: Sendable, Hashable, Comparable {
    /// The day of the events it counts (days since 1970-01-01, UTC+8): a week of any office is seven of them.
    var day: Int64
    var unit: Int32
    static func < (a: WeekKey, b: WeekKey) -> Bool { (a.day, a.unit) < (b.day, b.unit) }
}

/// Toward zero: how many problems of a set count (withdrawn ones aside), how many are closed, and the
/// `time` of the event that last made all of them closed.
struct ZeroRecord: Sendable, Equatable {
    var counted = 0
    var closed = 0
    var zeroedAt: Timestamp?
    /// When the event that completed the set was recorded (nil when not known: an event folded without it).
    var zeroedRecordedAt: Timestamp?
    var isZeroed: Bool { counted > 0 && closed == counted }

    /// Takes a change of the counts made by an event at `time`, recorded at `recordedAt`: zeroedAt is
    /// that time (and zeroedRecordedAt that recording) when the change completes the set, and nothing
    /// while the set is not complete.
    mutating func take(counted dc: Int, closed dk: Int, at time: Timestamp, recordedAt: Timestamp?) {
        let was = isZeroed
        counted += dc
        closed += dk
        if !isZeroed {
            zeroedAt = nil
            zeroedRecordedAt = nil
        } else if !was {
            zeroedAt = time
            zeroedRecordedAt = recordedAt
        }
    }
}

/// The projection every view reads: one fold of the log up to the moment `at` (business time).
///
/// It holds one record per problem, list and unit, daily burn-down changes per list and weekly counts
/// per unit: its size grows with the campaign, not with the number of events. Events whose `time` lies
/// after `at` are skipped; which events are offered at all (`--as-of`) is the caller's prefix of the log.
/// The board, progress and ranking are readings of it (docs/views.md).
///
/// It can note what each event changes (`startNoting`), so that a snapshot holds only what changed
/// since the one before it (`ProjectionSnapshot`).
public struct Projection: Sendable {
    /// The moment the projection shows; deadlines are judged against it.
    public private(set) var at: Timestamp
    /// Every problem reported by `at`.
    public internal(set) var problems = ProblemTable()
    /// By the number of the list's id.
    var batches: [Int32: BatchView] = [:]
    /// How the number of a list's outstanding problems changed on each day. Kept apart from `batches`:
    /// a problem may be dated before its list was opened.
    var outstandingChanges: [DayKey: Int] = [:]
    /// Per list, and per list and unit, the zero-out record, kept in fold order: a unit can also reach
    /// zero when its last open problem is handed to another unit (转办).
    var zeroRecords: [ZeroKey: ZeroRecord] = [:]
    /// When the event being folded was recorded.
    private var folding: Timestamp?
    /// The registered name of each unit, by the number of its id.
    var registeredNames: [Int32: String] = [:]
    /// Every unit ever given a problem (assigned, or moved to by a reopening), by the number of its id.
    var unitsAssigned: Set<Int32> = []
    /// Per day and unit: what the ranking adds up into weeks.
    var weeks: [WeekKey: WeekCounts] = [:]
    /// Whether it keeps `weeks`: a projection restored for a view that never asks for them (the board,
    /// progress) leaves them out, decoding a snapshot's weeks being much of restoring it on a
    /// mix of many units (docs/performance.md); it then neither ranks nor makes snapshots.
    public internal(set) var keepsWeeks = true

    /// Leaves the weekly counts out, from now on (`keepsWeeks`).
    public mutating func leaveOutWeeks() {
        keepsWeeks = false
        weeks = [:]
    }
    /// The seq of the last event offered (folded, or skipped for its time).
    public internal(set) var seq: UInt64 = 0
    /// The latest `time` among the events offered; nil before the first.
    public internal(set) var latestTime: Timestamp?
    /// What changed since noting started, when it did.
    var changes: Changes?

    /// The end of time: a projection of every event offered, whatever its `time` (for snapshots).
    public static let endOfTime = Timestamp(micros: Int64.max)

    /// An empty projection of the moment `at`.
    public init(at: Timestamp) { self.at = at }

    /// The same projection judged at another moment: right when none of its events lies after either.
    public func judged(at moment: Timestamp) -> Projection {
        var copy = self
        copy.at = moment
        return copy
    }

    /// Takes the events after `seq` up to `end` as offered and skipped (a block of the log whose events all
    /// lie after `at`), the latest `time` among them being at most `latest`.
    public mutating func skip(to end: UInt64, latest: Timestamp?) {
        if end > seq { seq = end }
        if let latest, latestTime.map({ latest > $0 }) ?? true { latestTime = latest }
    }

    /// The name of each list, by id.
    public var batchNames: [String: String] {
        var names: [String: String] = [:]
        for (n, view) in batches { names[problems.name(n)!] = view.opening.name }
        return names
    }

    /// The registered name of each unit, by id.
    public var unitNames: [String: String] {
        var names: [String: String] = [:]
        for (n, name) in registeredNames { names[problems.name(n)!] = name }
        return names
    }

    /// What every event folded tells, whatever its time: its seq, when it was recorded, its time. For an
    /// event dated after `at` that is all `apply` takes of it, so a fold may pass over such an event
    /// knowing only its time (`EventCodec.time(of:)`), without decoding the rest.
    public mutating func pass(seq: UInt64, time: Timestamp, recordedAt: Timestamp?) {
        self.seq = seq
        folding = recordedAt
        if latestTime.map({ time > $0 }) ?? true { latestTime = time }
        if changes != nil { changes!.offered(time) }
    }

    /// Folds one stored event (skipped when its `time` lies after `at`).
    public mutating func apply(_ recorded: RecordedEvent) { apply(seq: recorded.seq, recorded.event, recordedAt: recorded.recordedAt) }

    /// Folds the event stored at `seq`, recorded at `recordedAt` (skipped when its `time` lies after `at`).
    public mutating func apply(seq: UInt64, _ event: borrowing Event, recordedAt: Timestamp?) {
        pass(seq: seq, time: event.time, recordedAt: recordedAt)
        guard event.time <= at else { return }
        let subject = event.subject
        switch event.data {
        case .unitRegistered(let registration):
            let n = problems.intern(subject)
            registeredNames[n] = registration.name
            changes?.registeredNames.insert(n)
        case .batchOpened(let opening):
            let n = problems.intern(subject)
            batches[n] = BatchView(opening: opening, openedAt: event.time)
            changes?.batches.insert(n)
        case .problemReported(let report):
            let batch = report.batch.map { problems.intern($0) } ?? -1
            let slot = problems.add(subject, ProblemRecord(reportedAt: event.time, batch: batch, reportSeq: seq))
            changes?.slot(slot)
            if batch >= 0 {
                changeOutstanding(DayKey(batch: batch, day: event.time.chinaDay), by: 1)
                takeZero(ZeroKey(batch: batch, unit: -1), counted: 1, closed: 0, at: event.time)
            }
        case .problemAssigned, .deadlineExtended, .rectificationSubmitted, .rectificationVerified,
             .rectificationRejected, .problemEscalated, .problemReopened, .problemWithdrawn:
            guard let slot = problems.slot(of: subject) else { return }
            let before = problems[slot]
            var problem = problems.view(at: slot).problem
            problem.apply(event)
            var after = before
            after.status = problem.status
            after.unit = problems.number(problem.unit, was: before.unit)
            after.leader = problems.number(problem.leader, was: before.leader)
            after.deadline = problem.deadline
            after.closedAt = problem.closedAt
            after.rejections = UInt16(clamping: problem.rejections)
            after.escalations = UInt16(clamping: problem.escalations)
            after.reopens = UInt16(clamping: problem.reopens)
            after.version += 1
            problems[slot] = after
            changes?.slot(slot, was: before)
            count(event, before: before, after: after)
        case .accountabilityRecorded, .accountabilityRevoked, .accountEnrolled, .accountChanged, .accountRevoked:
            break
        }
    }

    private mutating func changeOutstanding(_ key: DayKey, by change: Int) {
        outstandingChanges[key, default: 0] += change
        changes?.outstanding.insert(key)
    }

    private mutating func takeZero(_ key: ZeroKey, counted: Int, closed: Int, at time: Timestamp) {
        guard counted != 0 || closed != 0 else { return }
        zeroRecords[key, default: ZeroRecord()].take(counted: counted, closed: closed, at: time, recordedAt: folding)
        changes?.zero.insert(key)
    }

    /// Keeps the burn-down, the zero-out records and the weekly counts of a problem event.
    private mutating func count(_ event: Event, before: ProblemRecord, after: ProblemRecord) {
        let batch = after.batch
        if batch >= 0 {
            if before.isOutstanding != after.isOutstanding {
                changeOutstanding(DayKey(batch: batch, day: event.time.chinaDay), by: after.isOutstanding ? 1 : -1)
            }
            // Net change per set: out of the old unit's, into the new unit's, and the list's own.
            func share(_ p: ProblemRecord) -> (counted: Int, closed: Int) {
                (p.status == .withdrawn ? 0 : 1, p.status == .closed ? 1 : 0)
            }
            let (b, a) = (share(before), share(after))
            takeZero(ZeroKey(batch: batch, unit: -1), counted: a.counted - b.counted, closed: a.closed - b.closed, at: event.time)
            if before.unit == after.unit {
                if after.unit >= 0 {
                    takeZero(ZeroKey(batch: batch, unit: after.unit), counted: a.counted - b.counted, closed: a.closed - b.closed, at: event.time)
                }
            } else {
                if before.unit >= 0 { takeZero(ZeroKey(batch: batch, unit: before.unit), counted: -b.counted, closed: -b.closed, at: event.time) }
                if after.unit >= 0 { takeZero(ZeroKey(batch: batch, unit: after.unit), counted: a.counted, closed: a.closed, at: event.time) }
            }
        }
        let unit = after.unit
        if unit >= 0, unit != before.unit || event.type == .problemAssigned {
            if unitsAssigned.insert(unit).inserted { changes?.unitsAssigned.insert(unit) }
        }
        guard unit >= 0, keepsWeeks else { return }
        let key = WeekKey(day: event.time.chinaDay, unit: unit)
        switch event.data {
        case .rectificationVerified: weeks[key, default: WeekCounts()].closed += 1
        case .rectificationRejected: weeks[key, default: WeekCounts()].rejected += 1
        case .problemReopened: weeks[key, default: WeekCounts()].reopened += 1
        case .problemEscalated: weeks[key, default: WeekCounts()].escalated += 1
        case .problemAssigned, .deadlineExtended, .rectificationSubmitted, .problemWithdrawn, .problemReported,
             .unitRegistered, .batchOpened, .accountabilityRecorded, .accountabilityRevoked,
             .accountEnrolled, .accountChanged, .accountRevoked:
            return
        }
        changes?.weeks.insert(key)
    }
}

extension Projection {
    /// What a fold changed since noting started: the slots, names and keys whose values a snapshot of
    /// the changes must hold, and the earliest `time` among the events offered meanwhile.
    struct Changes: Sendable {
        /// The slots and names there were when noting started: those after are new.
        var slotsBefore: Int
        var namesBefore: Int
        /// Slots changed or made, each once, and which are.
        private(set) var slots: [Int32] = []
        private var marked: [Bool] = []
        /// The records, when noting started, of the slots changed since that existed then: a snapshot
        /// stores only the bytes of a record that changed.
        private(set) var originals: [Int32: ProblemRecord] = [:]
        var batches: Set<Int32> = []
        var outstanding: Set<DayKey> = []
        var zero: Set<ZeroKey> = []
        var registeredNames: Set<Int32> = []
        var unitsAssigned: Set<Int32> = []
        var weeks: Set<WeekKey> = []
        /// The earliest `time` among the events offered; nil before the first.
        private(set) var earliest: Timestamp?

        init(slotsBefore: Int, namesBefore: Int) {
            self.slotsBefore = slotsBefore
            self.namesBefore = namesBefore
        }

        mutating func slot(_ slot: Int, was original: ProblemRecord? = nil) {
            if slot >= marked.count { marked += [Bool](repeating: false, count: max(slot + 1 - marked.count, marked.count)) }
            if !marked[slot] {
                marked[slot] = true
                slots.append(Int32(slot))
                if slot < slotsBefore, let original { originals[Int32(slot)] = original }
            }
        }

        mutating func offered(_ time: Timestamp) {
            if earliest.map({ time < $0 }) ?? true { earliest = time }
        }
    }

    /// Starts noting what each event changes, from now (a snapshot is about to be taken or was restored).
    package mutating func startNoting() {
        changes = Changes(slotsBefore: problems.count, namesBefore: problems.nameCount)
    }
}

extension Projection: Equatable {
    /// Equal views of the same events: problems, lists, burn-downs, zero-outs, units and weeks, whatever
    /// the numbering of names (what is noted for snapshots aside).
    public static func == (a: Projection, b: Projection) -> Bool {
        guard a.at == b.at, a.seq == b.seq, a.latestTime == b.latestTime, a.problems == b.problems else { return false }
        func named<V: Equatable>(_ p: Projection, _ map: [Int32: V]) -> [String: V] {
            Dictionary(uniqueKeysWithValues: map.map { (p.problems.name($0.key)!, $0.value) })
        }
        func zero(_ p: Projection) -> [String: ZeroRecord] {
            Dictionary(uniqueKeysWithValues: p.zeroRecords.map { ("\(p.problems.name($0.key.batch)!)/\(p.problems.name($0.key.unit) ?? "")", $0.value) })
        }
        func days(_ p: Projection) -> [String: Int] {
            Dictionary(uniqueKeysWithValues: p.outstandingChanges.map { ("\(p.problems.name($0.key.batch)!)/\($0.key.day)", $0.value) })
        }
        func weeks(_ p: Projection) -> [String: WeekCounts] {
            Dictionary(uniqueKeysWithValues: p.weeks.map { ("\($0.key.day)/\(p.problems.name($0.key.unit)!)", $0.value) })
        }
        return named(a, a.batches) == named(b, b.batches) && named(a, a.registeredNames) == named(b, b.registeredNames)
            && Set(a.unitsAssigned.map { a.problems.name($0)! }) == Set(b.unitsAssigned.map { b.problems.name($0)! })
            && zero(a) == zero(b) && days(a) == days(b) && weeks(a) == weeks(b)
    }
}

/// `part / whole` rounded to 4 places, nil when `whole` is 0.
func rate(_ part: Int, _ whole: Int) -> Double? {
    guard whole > 0 else { return nil }
    return (Double(part) / Double(whole) * 10_000).rounded() / 10_000
}
