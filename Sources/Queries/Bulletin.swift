import Campaign
import EventLog
import Ledger
import Projections
import Reports

extension Views {
    /// The weekly bulletin (周通报) of `week` from the prefix `asOf` (docs/views.md, "Bulletin"): the week's
    /// figures and the overall ones, judged at the week's last instant; the ranking, units with nothing
    /// assigned left out; overdue problems by unit with their days overdue; what came back (反弹), the 点球
    /// and the accountability of the week; each list's progress; the log's latest signed checkpoint.
    @available(*, noasync)
    public func bulletin(_ asked: Week, asOf: AsOf = .all) throws -> BulletinContent {
        let week = try ledger.officeWeek(asked)
        let at = week.lastInstant
        let (projection, head) = try ledger.projection(asOf: asOf, at: at)
        let basis = ViewBasis(headSeq: head.seq, headHash: head.hash.hex, asOf: asOf.description, at: at,
                              filters: [("week", .string(week.description))])
        let names = projection.unitNames
        func named(_ unit: String?) -> String { unit.map { names[$0] ?? $0 } ?? "—" }
        // The board without its reports: only the problems the bulletin names are described (below).
        let board = projection.board()
        let byId = Dictionary(uniqueKeysWithValues: board.map { ($0.id, $0) })

        var content = BulletinContent(week: week, basis: basis)
        content.ranking = projection.ranking(week).filter { $0.assigned > 0 }.reranked()
        content.unitNames = names
        content.progress = projection.progress()
        let live = board.filter { $0.problem.status != .withdrawn }
        content.overall = .init(assigned: live.filter { $0.problem.unit != nil }.count,
                                closed: live.filter { $0.problem.status == .closed }.count,
                                overdue: live.filter(\.overdue).count)
        // Overdue at the week's end, by unit, the longest overdue first.
        var overdue: [String: [BulletinContent.Overdue]] = [:]
        for row in live where row.overdue {
            guard let deadline = row.problem.deadline else { continue }
            let days = Int((at.micros - deadline.micros + 86_399_999_999) / 86_400_000_000)
            overdue[named(row.problem.unit), default: []].append(.init(id: row.id, description: "", deadline: deadline, days: days))
        }
        content.overdue = overdue.map { ($0.key, $0.value.sorted { $0.days > $1.days || ($0.days == $1.days && $0.id < $1.id) }) }
            .sorted { $0.1.count > $1.1.count || ($0.1.count == $1.1.count && $0.0 < $1.0) }
        // The week's events, in business time, among those recorded in the prefix.
        var assignedBefore: Set<String> = []
        try ledger.events(asOf: asOf) { entry in
            let event = entry.recorded.event
            let inWeek = week.contains(event.time)
            guard event.time < week.end else { return true }
            switch event.data {
            case .problemAssigned:
                if inWeek && !assignedBefore.contains(event.subject) { content.thisWeek.assigned += 1 }
                assignedBefore.insert(event.subject)
            case .rectificationVerified where inWeek:
                content.thisWeek.closed += 1
            case .rectificationRejected where inWeek:
                content.thisWeek.rejected += 1
            case .problemReopened(let r) where inWeek:
                content.reopened.append(.init(id: event.subject, description: "", time: event.time,
                                              text: r.reason, unit: named(r.unit ?? byId[event.subject]?.problem.unit)))
            case .problemEscalated(let e) where inWeek:
                content.escalations.append(.init(id: event.subject, description: "", time: event.time,
                                                 text: e.reason, unit: e.to))
            case .accountabilityRecorded(let a) where inWeek:
                content.accountability.append(.init(
                    id: event.subject, target: a.target.name ?? (a.target.kind == .unit ? named(a.target.id) : a.target.id),
                    targetKind: a.target.kind, measure: a.measure.label, reason: a.reason, problems: a.problems, time: event.time))
            default: break
            }
            return true
        }
        // The reports of the problems named, read from the log.
        let shown = Set(content.overdue.flatMap { $0.problems.map(\.id) } + content.reopened.map(\.id) + content.escalations.map(\.id))
        let described = try ledger.withReports(board.filter { shown.contains($0.id) })
        let descriptions = Dictionary(described.map { ($0.id, $0.report?.description ?? "") }, uniquingKeysWith: { a, _ in a })
        content.overdue = content.overdue.map { unit, problems in
            (unit, problems.map { var p = $0; p.description = descriptions[p.id] ?? ""; return p })
        }
        content.reopened = content.reopened.map { var h = $0; h.description = descriptions[h.id] ?? ""; return h }
        content.escalations = content.escalations.map { var h = $0; h.description = descriptions[h.id] ?? ""; return h }
        content.checkpoint = try? ledger.latestCheckpoint()?.rendered
        return content
    }
}
