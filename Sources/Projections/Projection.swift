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

/// A list, or a list's problems assigned to one unit: the key of a zero-out (清零) record.
public struct ZeroKey: Sendable, Hashable, Comparable {
    public var batch: String
    /// Nil: the whole list.
    public var unit: String?
    public init(batch: String, unit: String?) { self.batch = batch; self.unit = unit }
    public static func < (a: ZeroKey, b: ZeroKey) -> Bool { (a.batch, a.unit ?? "") < (b.batch, b.unit ?? "") }
}

/// Toward zero: how many problems of a set count (withdrawn ones aside), how many are closed, and the
/// `time` of the event that last made all of them closed.
public struct ZeroRecord: Sendable, Equatable {
    public var counted = 0
    public var closed = 0
    public var zeroedAt: Timestamp?
    public init(counted: Int = 0, closed: Int = 0, zeroedAt: Timestamp? = nil) {
        self.counted = counted; self.closed = closed; self.zeroedAt = zeroedAt
    }
    public var isZeroed: Bool { counted > 0 && closed == counted }

    /// Takes a change of the counts made by an event at `time`: zeroedAt is that time when the change
    /// completes the set, and nothing while the set is not complete.
    mutating func take(counted dc: Int, closed dk: Int, at time: Timestamp) {
        let was = isZeroed
        counted += dc
        closed += dk
        if !isZeroed { zeroedAt = nil } else if !was { zeroedAt = time }
    }
}

/// The projection every view reads: one fold of the log up to the moment `at` (business time).
///
/// It holds one record per problem, batch and unit, daily burn-down changes per batch and weekly
/// counts per unit: its size grows with the campaign, not with the number of events. Events whose
/// `time` lies after `at` are skipped; which events are offered at all (`--as-of`) is the caller's
/// prefix of the log. The board, progress and ranking are readings of it.
public struct Projection: Sendable, Equatable {
    /// The moment the projection shows; deadlines are judged against it.
    public private(set) var at: Timestamp
    /// Every problem reported by `at`.
    public private(set) var problems = ProblemTable()
    public private(set) var batches: [String: BatchView] = [:]
    /// Per batch id, for the burn-down: how the number of its outstanding problems changed on each day
    /// (UTC+8 day index). Kept apart from `batches`: a problem may be dated before its list was opened.
    public private(set) var outstandingChanges: [String: [Int64: Int]] = [:]
    /// Per list, and per list and unit, the zero-out record, kept in fold order: a unit can also reach
    /// zero when its last open problem is handed to another unit (转办).
    public private(set) var zeroRecords: [ZeroKey: ZeroRecord] = [:]
    /// The registered name of each unit.
    public private(set) var unitNames: [String: String] = [:]
    /// Every unit ever given a problem (assigned, or moved to by a reopening).
    public private(set) var unitsAssigned: Set<String> = []
    /// Per week (its Monday), per unit.
    public private(set) var weeks: [Week: [String: WeekCounts]] = [:]
    /// The seq of the last event offered (folded or skipped for its time).
    public private(set) var seq: UInt64 = 0
    /// The latest `time` among the events offered; nil before the first.
    public private(set) var latestTime: Timestamp?

    /// The end of time: a projection of every event offered, whatever its `time` (for snapshots).
    public static let endOfTime = Timestamp(micros: Int64.max)

    /// An empty projection of the moment `at`.
    public init(at: Timestamp) { self.at = at }

    /// A projection restored from its parts (a snapshot).
    public init(at: Timestamp, seq: UInt64, latestTime: Timestamp?, problems: ProblemTable,
                batches: [String: BatchView], outstandingChanges: [String: [Int64: Int]],
                zeroRecords: [ZeroKey: ZeroRecord], unitNames: [String: String],
                unitsAssigned: Set<String>, weeks: [Week: [String: WeekCounts]]) {
        self.at = at; self.seq = seq; self.latestTime = latestTime; self.problems = problems; self.batches = batches
        self.outstandingChanges = outstandingChanges; self.zeroRecords = zeroRecords; self.unitNames = unitNames
        self.unitsAssigned = unitsAssigned; self.weeks = weeks
    }

    /// The same projection judged at another moment, for a snapshot taken with no events after either.
    public func judged(at moment: Timestamp) -> Projection {
        var copy = self
        copy.at = moment
        return copy
    }

    /// Folds one stored event (skipped when its `time` lies after `at`).
    public mutating func apply(_ recorded: RecordedEvent) {
        seq = recorded.seq
        let event = recorded.event
        if latestTime.map({ event.time > $0 }) ?? true { latestTime = event.time }
        guard event.time <= at else { return }
        let subject = event.subject
        switch event.data {
        case .unitRegistered(let registration):
            unitNames[subject] = registration.name
        case .batchOpened(let opening):
            batches[subject] = BatchView(opening: opening, openedAt: event.time)
        case .problemReported(let report):
            problems.store(subject, ProblemView(problem: Problem(reportedAt: event.time, batch: report.batch), version: 1,
                                                reportSeq: recorded.seq))
            if let batch = report.batch {
                outstandingChanges[batch, default: [:]][event.time.chinaDay, default: 0] += 1
                zeroRecords[ZeroKey(batch: batch, unit: nil), default: ZeroRecord()].take(counted: 1, closed: 0, at: event.time)
            }
        case .problemAssigned, .deadlineExtended, .rectificationSubmitted, .rectificationVerified,
             .rectificationRejected, .problemEscalated, .problemReopened, .problemWithdrawn:
            guard let slot = problems.slot(of: subject) else { return }
            var view = problems.view(at: slot)
            let before = view.problem
            view.problem.apply(event)
            view.version += 1
            problems.replace(at: slot, with: view)
            count(event, before: before, after: view.problem)
        case .accountabilityRecorded, .accountabilityRevoked:
            break
        }
    }

    /// Keeps the burn-down, the zero-out records and the weekly counts of a problem event.
    private mutating func count(_ event: Event, before: Problem, after: Problem) {
        if let batch = after.batch {
            if before.isOutstanding != after.isOutstanding {
                outstandingChanges[batch, default: [:]][event.time.chinaDay, default: 0] += after.isOutstanding ? 1 : -1
            }
            // Net change per set: out of the old unit's, into the new unit's, and the list's own.
            func share(_ p: Problem) -> (counted: Int, closed: Int) {
                (p.status == .withdrawn ? 0 : 1, p.status == .closed ? 1 : 0)
            }
            let (b, a) = (share(before), share(after))
            func take(_ unit: String?, _ counted: Int, _ closed: Int) {
                guard counted != 0 || closed != 0 else { return }
                zeroRecords[ZeroKey(batch: batch, unit: unit), default: ZeroRecord()].take(counted: counted, closed: closed, at: event.time)
            }
            take(nil, a.counted - b.counted, a.closed - b.closed)
            if before.unit == after.unit {
                if let unit = after.unit { take(unit, a.counted - b.counted, a.closed - b.closed) }
            } else {
                if let unit = before.unit { take(unit, -b.counted, -b.closed) }
                if let unit = after.unit { take(unit, a.counted, a.closed) }
            }
        }
        if let unit = after.unit, after.unit != before.unit || event.type == .problemAssigned {
            unitsAssigned.insert(unit)
        }
        guard let unit = after.unit else { return }
        let week = Week(containing: event.time)
        switch event.data {
        case .rectificationVerified: weeks[week, default: [:]][unit, default: WeekCounts()].closed += 1
        case .rectificationRejected: weeks[week, default: [:]][unit, default: WeekCounts()].rejected += 1
        case .problemReopened: weeks[week, default: [:]][unit, default: WeekCounts()].reopened += 1
        case .problemEscalated: weeks[week, default: [:]][unit, default: WeekCounts()].escalated += 1
        case .problemAssigned, .deadlineExtended, .rectificationSubmitted, .problemWithdrawn, .problemReported,
             .unitRegistered, .batchOpened, .accountabilityRecorded, .accountabilityRevoked:
            break
        }
    }
}

/// `part / whole` rounded to 4 places, nil when `whole` is 0.
func rate(_ part: Int, _ whole: Int) -> Double? {
    guard whole > 0 else { return nil }
    return (Double(part) / Double(whole) * 10_000).rounded() / 10_000
}
