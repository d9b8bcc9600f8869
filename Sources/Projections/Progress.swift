import Campaign

/// Counts of a set of problems toward zero (清零), as docs/views.md ("Progress") defines them.
public struct Tally: Sendable, Equatable {
    public var total = 0
    public var withdrawn = 0
    public var closed = 0
    public var submitted = 0
    /// Reported or assigned.
    public var open = 0
    public var overdue = 0
    /// The `time` of the event that last made the set zeroed; nil unless zeroed.
    public var zeroedAt: Timestamp?
    /// When that event was recorded: the zero-out as it really happened (docs/views.md, "Progress").
    public var zeroedRecordedAt: Timestamp?
    /// Zeroed by the list's due time as recorded, not only as dated: nil unless zeroed. A zero-out dated
    /// before the due time but recorded after it (纸面清零) is not on time.
    public var onTime: Bool?
    /// Dated by the due time but recorded after it: zeroed on paper only.
    public var onPaperOnly = false

    /// closed / (total − withdrawn), 4 places; nil when nothing counts.
    public var clearRate: Double? { rate(closed, total - withdrawn) }
    /// Something counts, and all of it is closed.
    public var zeroed: Bool { total - withdrawn > 0 && closed == total - withdrawn }

    mutating func add(_ problem: ProblemRecord, at moment: Timestamp) {
        total += 1
        switch problem.status {
        case .withdrawn: withdrawn += 1
        case .closed: closed += 1
        case .submitted: submitted += 1
        case .reported, .assigned: open += 1
        }
        if problem.isOverdue(at: moment) { overdue += 1 }
    }
}

/// One day of a batch's burn-down: problems outstanding (open + submitted) at the end of the day.
public struct BurnDownDay: Sendable, Equatable {
    /// Days since 1970-01-01, in UTC+8.
    public var day: Int64
    public var outstanding: Int
    /// `YYYY-MM-DD` in UTC+8.
    public var date: String { Timestamp.chinaDate(ofDay: day) }
}

/// Where one batch stands (docs/views.md, "Progress"): overall, per unit, and day by day.
public struct BatchProgress: Sendable, Equatable {
    public var id: String
    public var name: String
    public var dueAt: Timestamp
    public var tally: Tally
    /// Per unit, sorted by unit id; problems not yet assigned count under no unit.
    public var units: [(unit: String, tally: Tally)]
    public var series: [BurnDownDay]

    public static func == (a: BatchProgress, b: BatchProgress) -> Bool {
        a.id == b.id && a.name == b.name && a.dueAt == b.dueAt && a.tally == b.tally && a.series == b.series
            && a.units.map(\.unit) == b.units.map(\.unit) && a.units.map(\.tally) == b.units.map(\.tally)
    }
}

extension Projection {
    /// The progress of every batch opened by `at` (or only `batch`), sorted by id.
    public func progress(batch only: String? = nil) -> [BatchProgress] {
        // Tallies by list and by list and unit, numbered densely: a view reads every problem.
        var batchIndex = [Int](repeating: -1, count: problems.nameCount)
        var unitIndex = [Int](repeating: -1, count: problems.nameCount)
        var unitNumbers: [Int32] = []
        var tallies: [Tally] = []
        var unitTallies: [[Tally?]] = []
        var chosen: [(number: Int32, id: String, view: BatchView)] = []
        for (n, view) in batches {
            let id = problems.name(n)!
            guard only == nil || id == only else { continue }
            batchIndex[Int(n)] = tallies.count
            tallies.append(Tally())
            unitTallies.append([])
            chosen.append((n, id, view))
        }
        for slot in 0..<problems.count {
            let r = problems.record(at: slot)
            guard r.batch >= 0 else { continue }
            let b = batchIndex[Int(r.batch)]
            guard b >= 0 else { continue }
            tallies[b].add(r, at: at)
            guard r.unit >= 0 else { continue }
            var u = unitIndex[Int(r.unit)]
            if u < 0 {
                u = unitNumbers.count
                unitIndex[Int(r.unit)] = u
                unitNumbers.append(r.unit)
            }
            if unitTallies[b].count <= u { unitTallies[b] += [Tally?](repeating: nil, count: u + 1 - unitTallies[b].count) }
            if unitTallies[b][u] == nil { unitTallies[b][u] = Tally() }
            unitTallies[b][u]!.add(r, at: at)
        }
        func dated(_ tally: Tally, _ key: ZeroKey, due: Timestamp) -> Tally {
            var tally = tally
            tally.zeroedAt = tally.zeroed ? zeroRecords[key]?.zeroedAt : nil
            tally.zeroedRecordedAt = tally.zeroed ? zeroRecords[key]?.zeroedRecordedAt : nil
            if let zeroedAt = tally.zeroedAt {
                let recorded = tally.zeroedRecordedAt ?? zeroedAt
                tally.onTime = zeroedAt <= due && recorded <= due
                tally.onPaperOnly = zeroedAt <= due && recorded > due
            }
            return tally
        }
        return chosen.map { n, id, view in
            let b = batchIndex[Int(n)]
            let units = unitTallies[b].enumerated().compactMap { u, tally in
                tally.map { (number: unitNumbers[u], unit: problems.name(unitNumbers[u])!, tally: $0) }
            }.sorted { $0.unit < $1.unit }
            return BatchProgress(
                id: id, name: view.opening.name, dueAt: view.opening.dueAt,
                tally: dated(tallies[b], ZeroKey(batch: n, unit: -1), due: view.opening.dueAt),
                units: units.map { ($0.unit, dated($0.tally, ZeroKey(batch: n, unit: $0.number), due: view.opening.dueAt)) },
                series: series(of: n, view))
        }
        .sorted { $0.id < $1.id }
    }

    /// Outstanding problems at the end of each day from the day the batch opened to the day of `at` (at most
    /// to the day of its latest event when `at` is the end of time).
    private func series(of batch: Int32, _ view: BatchView) -> [BurnDownDay] {
        let first = view.openedAt.chinaDay
        let last = at == Projection.endOfTime ? (latestTime ?? view.openedAt).chinaDay : at.chinaDay
        guard first <= last else { return [] }
        let changes = outstandingChanges.filter { $0.key.batch == batch }.map { ($0.key.day, $0.value) }.sorted { $0.0 < $1.0 }
        var k = 0, outstanding = 0
        while k < changes.count, changes[k].0 < first { outstanding += changes[k].1; k += 1 }
        var days: [BurnDownDay] = []
        days.reserveCapacity(Int(last - first + 1))
        for day in first...last {
            if k < changes.count, changes[k].0 == day { outstanding += changes[k].1; k += 1 }
            days.append(BurnDownDay(day: day, outstanding: outstanding))
        }
        return days
    }
}
