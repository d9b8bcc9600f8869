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
    /// Its place: units equal on every measure share one (1, 1, 3).
    public var rank: Int
}

extension [RankingRow] {
    /// `第1名`, or `并列第1名` when another unit shares the place.
    public func place(of row: RankingRow) -> String {
        filter { $0.rank == row.rank }.count > 1 ? "并列第\(row.rank)名" : "第\(row.rank)名"
    }

    /// The places again among these rows alone, in their order, ties kept: the bulletin's ranking, which
    /// leaves out the units with nothing assigned, would otherwise go from 第7名 to 第9名 over one of them.
    public func reranked() -> [RankingRow] {
        var rows = self
        for k in rows.indices {
            rows[k].rank = k > 0 && self[k].rank == self[k - 1].rank ? rows[k - 1].rank : k + 1
        }
        return rows
    }
}

extension Projection {
    /// The ranking of `week`, from a projection judged at the week's end (`week.lastInstant`): every
    /// unit ever assigned a problem by then, ordered by overdue (fewest first), clear rate (highest
    /// first, none last), rejections in the week (fewest first), then unit id.
    /// A unit's counts of the days of `week`.
    func counts(of unit: Int32, in week: Week) -> WeekCounts {
        var total = WeekCounts()
        for day in week.first...week.last {
            guard let c = weeks[WeekKey(day: day, unit: unit)] else { continue }
            total.closed += c.closed
            total.rejected += c.rejected
            total.reopened += c.reopened
            total.escalated += c.escalated
        }
        return total
    }

    public func ranking(_ week: Week) -> [RankingRow] {
        precondition(keepsWeeks, "a ranking needs the weekly counts: a projection restored with its weeks")
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
                              week: counts(of: unit, in: week), rank: 0)
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
        // Units equal on every measure share a place (并列), and the next place skips as many: 1, 1, 3.
        var ranked: [RankingRow] = []
        for (k, row) in ordered.enumerated() {
            var row = row
            if let before = ranked.last, before.overdue == row.overdue, before.clearRate == row.clearRate,
               before.week.rejected == row.week.rejected {
                row.rank = before.rank
            } else {
                row.rank = k + 1
            }
            ranked.append(row)
        }
        return ranked
    }
}
