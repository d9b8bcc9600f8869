import Campaign

/// One row of the board (§5): a problem as it stood at the view's moment.
public struct BoardRow: Sendable, Equatable {
    public var id: String
    public var report: ProblemReport
    public var problem: Problem
    /// How many of its events the view folded.
    public var version: UInt64
    /// Whether it is overdue at the view's moment.
    public var overdue: Bool
}

/// What to show of the board.
public struct BoardFilter: Sendable, Equatable {
    public var batch: String?
    public var unit: String?
    /// Only these statuses; empty: all.
    public var statuses: Set<ProblemStatus> = []
    /// Only overdue problems.
    public var overdueOnly = false

    public init(batch: String? = nil, unit: String? = nil, statuses: Set<ProblemStatus> = [], overdueOnly: Bool = false) {
        self.batch = batch; self.unit = unit; self.statuses = statuses; self.overdueOnly = overdueOnly
    }
}

/// The issue board: every problem reported by the moment `at`, folded from the events up to it.
///
/// Events whose `time` lies after `at` are skipped (business time); which events are offered at all
/// (transaction time, `--as-of`) is the caller's prefix of the log.
public struct Board: Sendable {
    /// The moment the board shows, against which deadlines are judged.
    public let at: Timestamp
    private var problems: [String: (report: ProblemReport, problem: Problem, version: UInt64)] = [:]
    /// The registered name of each unit, for people to read.
    public private(set) var unitNames: [String: String] = [:]

    public init(at: Timestamp) { self.at = at }

    /// Folds one stored event.
    public mutating func apply(_ recorded: RecordedEvent) {
        let event = recorded.event
        guard event.time <= at else { return }
        switch event.data {
        case .problemReported(let report):
            problems[event.subject] = (report, Problem(reportedAt: event.time, batch: report.batch), 1)
        case .problemAssigned, .deadlineExtended, .rectificationSubmitted, .rectificationVerified,
             .rectificationRejected, .problemEscalated, .problemReopened, .problemWithdrawn:
            guard var entry = problems[event.subject] else { return }
            entry.problem.apply(event)
            entry.version += 1
            problems[event.subject] = entry
        case .unitRegistered(let registration):
            unitNames[event.subject] = registration.name
        case .batchOpened, .accountabilityRecorded, .accountabilityRevoked:
            break
        }
    }

    /// The rows that pass `filter`, sorted by problem id.
    public func rows(_ filter: BoardFilter = BoardFilter()) -> [BoardRow] {
        problems.compactMap { id, entry -> BoardRow? in
            let overdue = entry.problem.isOverdue(at: at)
            if let batch = filter.batch, entry.problem.batch != batch { return nil }
            if let unit = filter.unit, entry.problem.unit != unit { return nil }
            if !filter.statuses.isEmpty, !filter.statuses.contains(entry.problem.status) { return nil }
            if filter.overdueOnly, !overdue { return nil }
            return BoardRow(id: id, report: entry.report, problem: entry.problem, version: entry.version, overdue: overdue)
        }
        .sorted { $0.id < $1.id }
    }

    /// How many rows are in each status, and how many are overdue.
    public static func counts(_ rows: [BoardRow]) -> (byStatus: [ProblemStatus: Int], overdue: Int) {
        var byStatus = Dictionary(uniqueKeysWithValues: ProblemStatus.allCases.map { ($0, 0) })
        var overdue = 0
        for row in rows {
            byStatus[row.problem.status, default: 0] += 1
            if row.overdue { overdue += 1 }
        }
        return (byStatus, overdue)
    }
}
