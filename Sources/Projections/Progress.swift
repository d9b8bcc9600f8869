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

    mutating func add(_ problem: Problem, at moment: Timestamp) {
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
        var tallies: [String: Tally] = [:]
        var unitTallies: [String: [String: Tally]] = [:]
        for view in problems.values {
            guard let batch = view.problem.batch, batches[batch] != nil, only == nil || batch == only else { continue }
            tallies[batch, default: Tally()].add(view.problem, at: at)
            if let unit = view.problem.unit { unitTallies[batch, default: [:]][unit, default: Tally()].add(view.problem, at: at) }
        }
        func dated(_ tally: Tally, _ key: ZeroKey) -> Tally {
            var tally = tally
            tally.zeroedAt = tally.zeroed ? zeroRecords[key]?.zeroedAt : nil
            return tally
        }
        return batches.filter { only == nil || $0.key == only }.map { id, view in
            BatchProgress(
                id: id, name: view.opening.name, dueAt: view.opening.dueAt,
                tally: dated(tallies[id] ?? Tally(), ZeroKey(batch: id, unit: nil)),
                units: (unitTallies[id] ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, dated($0.value, ZeroKey(batch: id, unit: $0.key))) },
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
