import Campaign

/// Counts of a set of problems toward zero (清零), as §5 defines them.
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
    /// `YYYY-MM-DD` in UTC+8.
    public var date: String
    public var outstanding: Int
}

/// Where one batch stands (§5 progress): overall, per unit, and day by day.
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
        // Tallies by the numbers of the problem table: per list, and per list and unit.
        var tallies: [Int32: Tally] = [:]
        var unitTallies: [Int32: [Int32: Tally]] = [:]
        var counted = [Bool](repeating: false, count: problems.nameCount)
        for (id, _) in batches where only == nil || id == only {
            if let n = problems.number(of: id) { counted[Int(n)] = true }
        }
        for slot in 0..<problems.count {
            let r = problems.record(at: slot)
            guard r.batch >= 0, counted[Int(r.batch)] else { continue }
            tallies[r.batch, default: Tally()].add(r, at: at)
            if r.unit >= 0 { unitTallies[r.batch, default: [:]][r.unit, default: Tally()].add(r, at: at) }
        }
        func dated(_ tally: Tally, _ key: ZeroKey) -> Tally {
            var tally = tally
            tally.zeroedAt = tally.zeroed ? zeroRecords[key]?.zeroedAt : nil
            return tally
        }
        return batches.filter { only == nil || $0.key == only }.map { id, view in
            let n = problems.number(of: id) ?? -1
            let units = (unitTallies[n] ?? [:]).map { (unit: problems.name($0.key)!, tally: $0.value) }.sorted { $0.unit < $1.unit }
            return BatchProgress(
                id: id, name: view.opening.name, dueAt: view.opening.dueAt,
                tally: dated(tallies[n] ?? Tally(), ZeroKey(batch: id, unit: nil)),
                units: units.map { ($0.unit, dated($0.tally, ZeroKey(batch: id, unit: $0.unit))) },
                series: series(of: id, view))
        }
        .sorted { $0.id < $1.id }
    }

    /// Outstanding problems at the end of each day from the day the batch opened to the day of `at`.
    private func series(of id: String, _ batch: BatchView) -> [BurnDownDay] {
        let first = batch.openedAt.chinaDay, last = at.chinaDay
        guard first <= last else { return [] }
        let changes = outstandingChanges[id] ?? [:]
        var outstanding = changes.filter { $0.key < first }.values.reduce(0, +)
        var days: [BurnDownDay] = []
        for day in first...last {
            outstanding += changes[day] ?? 0
            days.append(BurnDownDay(date: Timestamp.startOfChinaDay(day).chinaDate, outstanding: outstanding))
        }
        return days
    }
}
