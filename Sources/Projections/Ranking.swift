import Campaign

/// One unit's line in the weekly ranking (docs/views.md, "Ranking").
public struct RankingRow: Sendable, Equatable {
    public var unit: String
    /// Problems assigned to it at the week's end, withdrawn ones aside.
    public var assigned: Int
    public var closed: Int
    public var overdue: Int
    /// closed / assigned, 4 places; nil when nothing is assigned.
    public var clearRate: Double?
    public var week: WeekCounts
    public var rank: Int
}

extension Projection {
    /// The ranking of `week`, from a projection judged at the week's end (`week.lastInstant`): every
    /// unit ever assigned a problem by then, ordered by overdue (fewest first), clear rate (highest
    /// first, none last), rejections in the week (fewest first), then unit id.
    public func ranking(_ week: Week) -> [RankingRow] {
        var tallies: [Int32: (assigned: Int, closed: Int, overdue: Int)] = [:]
        for slot in 0..<problems.count {
            let r = problems.record(at: slot)
            guard r.unit >= 0, r.status != .withdrawn else { continue }
            var t = tallies[r.unit] ?? (0, 0, 0)
            t.assigned += 1
            if r.status == .closed { t.closed += 1 }
            if r.isOverdue(at: at) { t.overdue += 1 }
            tallies[r.unit] = t
        }
        let rows = unitsAssigned.map { unit in
            let t = tallies[unit] ?? (0, 0, 0)
            return RankingRow(unit: problems.name(unit)!, assigned: t.assigned, closed: t.closed, overdue: t.overdue,
                              clearRate: rate(t.closed, t.assigned),
                              week: weeks[WeekKey(monday: week.monday, unit: unit)] ?? WeekCounts(), rank: 0)
        }
        let ordered = rows.sorted { a, b in
            if a.overdue != b.overdue { return a.overdue < b.overdue }
            switch (a.clearRate, b.clearRate) {
            case let (x?, y?) where x != y: return x > y
            case (.some, nil): return true
            case (nil, .some): return false
            default: break
            }
            if a.week.rejected != b.week.rejected { return a.week.rejected < b.week.rejected }
            return a.unit < b.unit
        }
        return ordered.enumerated().map { k, row in
            var row = row
            row.rank = k + 1
            return row
        }
    }
}
