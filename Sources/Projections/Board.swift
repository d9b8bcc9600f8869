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

extension Projection {
    /// The board: every problem reported by `at` that passes `filter`, sorted by id.
    public func board(_ filter: BoardFilter = BoardFilter()) -> [BoardRow] {
        problems.compactMap { id, view -> BoardRow? in
            let overdue = view.problem.isOverdue(at: at)
            if let batch = filter.batch, view.problem.batch != batch { return nil }
            if let unit = filter.unit, view.problem.unit != unit { return nil }
            if !filter.statuses.isEmpty, !filter.statuses.contains(view.problem.status) { return nil }
            if filter.overdueOnly, !overdue { return nil }
            return BoardRow(id: id, report: view.report, problem: view.problem, version: view.version, overdue: overdue)
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
