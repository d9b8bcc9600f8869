import Campaign

/// One row of the board (docs/views.md, "Board"): a problem as it stood at the view's moment.
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

/// How many problems of a board are in each status, and how many are overdue.
public struct BoardCounts: Sendable, Equatable {
    public var byStatus: [ProblemStatus: Int] = [:]
    public var overdue = 0
    public var total: Int { byStatus.values.reduce(0, +) }
    public init() {}
}

extension Projection {
    /// The slots of the board's rows (every problem reported by `at` that passes `filter`), in the order
    /// of their ids, with their counts: a board is read a row at a time (`row(at:)`), so that its rows
    /// need not all be held with their reports.
    public func boardSlots(_ filter: BoardFilter = BoardFilter()) -> (slots: [Int], counts: BoardCounts) {
        // Names no problem has ever carried match nothing.
        func number(_ name: String?) -> Int32?? { name.map { problems.number(of: $0) } }
        let batch = number(filter.batch), unit = number(filter.unit)
        var counts = BoardCounts()
        for status in ProblemStatus.allCases { counts.byStatus[status] = 0 }
        if batch == .some(nil) || unit == .some(nil) { return ([], counts) }
        var slots: [Int] = []
        var byStatus = [Int](repeating: 0, count: 256)
        let wanted = Set(filter.statuses.map(\.number))
        for number in problems.slotsInIDOrder() {
            let slot = Int(number)
            let r = problems.record(at: slot)
            if let batch, r.batch != batch { continue }
            if let unit, r.unit != unit { continue }
            if !wanted.isEmpty, !wanted.contains(r.status.number) { continue }
            let overdue = r.isOverdue(at: at)
            if filter.overdueOnly, !overdue { continue }
            slots.append(slot)
            byStatus[r.status.number] += 1
            if overdue { counts.overdue += 1 }
        }
        for status in ProblemStatus.allCases { counts.byStatus[status] = byStatus[status.number] }
        return (slots, counts)
    }

    /// The board's row of the problem in `slot`, without its report.
    public func row(at slot: Int) -> BoardRow {
        let view = problems.view(at: slot)
        return BoardRow(id: problems.id(at: slot), problem: view.problem, version: view.version,
                        overdue: view.problem.isOverdue(at: at), reportSeq: view.reportSeq)
    }

    /// The board: every problem reported by `at` that passes `filter`, sorted by id, without their reports.
    public func board(_ filter: BoardFilter = BoardFilter()) -> [BoardRow] {
        boardSlots(filter).slots.map(row(at:))
    }
}
