import Campaign

/// One row of the board (§5): a problem as it stood at the view's moment.
public struct BoardRow: Sendable, Equatable {
    public var id: String
    public var problem: Problem
    /// How many of its events the view folded.
    public var version: UInt64
    /// Whether it is overdue at the view's moment.
    public var overdue: Bool
    /// The seq of its problem.reported.
    public var reportSeq: UInt64
    /// Its report, read from the log at `reportSeq`: the projection does not keep reports' text.
    public var report: ProblemReport?
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
    /// The board: every problem reported by `at` that passes `filter`, sorted by id, without their reports
    /// (read them from the log at each row's `reportSeq`).
    public func board(_ filter: BoardFilter = BoardFilter()) -> [BoardRow] {
        // Names no problem has ever carried match nothing.
        func number(_ name: String?) -> Int32?? { name.map { problems.number(of: $0) } }
        let batch = number(filter.batch), unit = number(filter.unit)
        if batch == .some(nil) || unit == .some(nil) { return [] }
        var slots: [Int] = []
        for slot in 0..<problems.count {
            let r = problems.record(at: slot)
            if let batch, r.batch != batch { continue }
            if let unit, r.unit != unit { continue }
            if !filter.statuses.isEmpty, !filter.statuses.contains(r.status) { continue }
            if filter.overdueOnly, !r.isOverdue(at: at) { continue }
            slots.append(slot)
        }
        return problems.inIDOrder(slots).map { slot in
            let view = problems.view(at: slot)
            return BoardRow(id: problems.id(at: slot), problem: view.problem, version: view.version,
                            overdue: view.problem.isOverdue(at: at), reportSeq: view.reportSeq)
        }
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
