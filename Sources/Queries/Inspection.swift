import Campaign
import EventLog
import JSON
import Ledger
import Projections
import Reports

extension Views {
    /// The accountability ledger (问责台账) as of `moment` (docs/views.md, "Cases"): every case recorded by
    /// then, its target by name, measure, reason, problems, deciding organ and document, who recorded it
    /// and when, and its revocation if any. One read of the log, decoding only accountability events.
    @available(*, noasync)
    public func cases(_ moment: Moment) throws -> (rows: [CaseRow], basis: ViewBasis) {
        var rows: [CaseRow] = []
        var index: [String: Int] = [:]
        var names: [String: String?] = [:]
        func take(_ entry: TrailEntry) throws {
            let event = entry.recorded.event
            guard event.time <= moment.at else { return }
            switch event.data {
            case .accountabilityRecorded(let a):
                var target = a.target.name ?? a.target.id
                if a.target.kind == .unit, a.target.name == nil {
                    if names[a.target.id] == nil { names[a.target.id] = try ledger.record(of: a.target.id)?.unit?.name }
                    target = (names[a.target.id] ?? nil) ?? a.target.id
                }
                index[event.subject] = rows.count
                rows.append(CaseRow(id: event.subject, targetKind: a.target.kind, targetId: a.target.id, target: target,
                                    targetUnit: a.target.unit, measure: a.measure, reason: a.reason, problems: a.problems,
                                    organ: a.organ, document: a.document, time: event.time, recordedAt: entry.recorded.recordedAt,
                                    actor: event.actor, recordedBy: entry.recordedBy))
            case .accountabilityRevoked(let reason):
                guard let k = index[event.subject] else { return }
                rows[k].revokedAt = event.time
                rows[k].revokedBy = event.actor
                rows[k].revokeReason = reason
            default: break
            }
        }
        let head = try ledger.events(asOf: moment.asOf, types: [.accountabilityRecorded, .accountabilityRevoked]) { entry in
            try take(entry)
            return true
        }
        let basis = ViewBasis(headSeq: head.seq, headHash: head.hash.hex, asOf: moment.asOf.description, at: moment.at, filters: [])
        return (rows, basis)
    }

    /// The clues an inspector starts from (线索, docs/views.md "Clues"): units and people ranked by the
    /// signals of the period from `since` to `moment.at`: days overdue, rejections, reopenings, escalations
    /// and flagged events, each line with the trail that proves it. One fold of the log, every event flagged
    /// as a trail flags it.
    @available(*, noasync)
    public func clues(since: Timestamp?, unit only: String?, rules: AuditRules = AuditRules(), _ moment: Moment) throws -> (rows: [ClueRow], basis: ViewBasis) {
        let only = try only.map { try unitId($0, "unit") }
        let start = since ?? Timestamp(micros: Int64.min / 2)
        let (projection, _) = try ledger.projection(asOf: moment.asOf, at: moment.at)
        let unitNames = projection.unitNames
        var units: [String: ClueRow] = [:]
        var people: [String: ClueRow] = [:]
        func unitRow(_ id: String) -> ClueRow {
            units[id] ?? ClueRow(kind: .unit, id: id, name: unitNames[id] ?? id, unit: id)
        }
        // Days overdue at the moment, per unit.
        for row in projection.board() where row.overdue {
            guard let unit = row.problem.unit, let deadline = row.problem.deadline, deadline >= start || since == nil else { continue }
            var r = unitRow(unit)
            r.overdueProblems += 1
            r.overdueDays += Int((moment.at.micros - deadline.micros + 86_399_999_999) / 86_400_000_000)
            units[unit] = r
        }
        // The events of the period, flagged, each counted for the unit its problem was with then and for its actor.
        let seen = Seen()
        var owner: [String: String] = [:]
        var trail = AuditTrail(.actor(""), at: moment.at, backdateHours: rules.backdateHours, hastyMinutes: rules.hastyMinutes,
                               dueOfList: { seen.dues[$0] }, uses: { seen.uses[$0] ?? [] })
        func take(_ entry: TrailEntry) {
            let event = entry.recorded.event
            switch event.data {
            case .batchOpened(let b): seen.dues[event.subject] = b.dueAt
            case .problemAssigned(let a): owner[event.subject] = a.unit
            case .problemReopened(let r): if let unit = r.unit { owner[event.subject] = unit }
            default: break
            }
            guard let row = trail.row(entry.recorded, hash: "", recordedBy: entry.recordedBy) else { return }
            seen.note(event, seq: entry.recorded.seq)
            guard event.time >= start else { return }
            let unit = owner[event.subject]
            var counted = unit.map(unitRow)
            var person = people[event.actor] ?? ClueRow(kind: .person, id: event.actor, name: event.actor, unit: event.actorUnit)
            switch event.type {
            case .rectificationRejected: counted?.rejections += 1
            case .problemReopened: counted?.reopenings += 1
            case .problemEscalated: counted?.escalations += 1
            default: break
            }
            let flags = row.flags
            if !flags.isEmpty {
                for flag in flags { person.flags[flag, default: 0] += 1 }
                person.flagged += 1
                if event.type == .rectificationSubmitted || event.type == .rectificationVerified || event.type == .problemWithdrawn
                    || event.type == .rectificationRejected {
                    for flag in flags { counted?.flags[flag, default: 0] += 1 }
                    counted?.flagged += 1
                }
                people[event.actor] = person
            }
            if let unit, let counted { units[unit] = counted }
        }
        let head = try ledger.events(asOf: moment.asOf) { entry in
            take(entry)
            return true
        }
        for (id, var person) in people {
            if let account = try ledger.account(id) { person.name = account.name }
            people[id] = person
        }
        var rows = Array(units.values.filter { only == nil || $0.id == only }) + people.values.filter { only == nil || $0.unit == only }
        rows = rows.filter { $0.score > 0 }
        for k in rows.indices { rows[k].unitName = rows[k].unit.flatMap { unitNames[$0] } }
        rows.sort { $0.score != $1.score ? $0.score > $1.score : ($0.kind != $1.kind ? $0.kind == .unit : $0.id < $1.id) }
        for k in rows.indices { rows[k].rank = k > 0 && rows[k - 1].score == rows[k].score ? rows[k - 1].rank : k + 1 }
        let basis = ViewBasis(headSeq: head.seq, headHash: head.hash.hex, asOf: moment.asOf.description, at: moment.at,
                              filters: [("since", since.map { .string($0.rfc3339) } ?? .null), ("unit", only.map { .string($0) } ?? .null)])
        return (rows, basis)
    }
}

/// What the fold of the clues has seen so far: each list's 清零 time and each evidence hash's first use.
private final class Seen: @unchecked Sendable {
    var dues: [String: Timestamp] = [:]
    var uses: [String: [EvidenceUse]] = [:]

    /// Keeps the first use of each file by each subject's reports and by its fixes, as the store's links do.
    func note(_ event: Event, seq: UInt64) {
        for (hash, use) in EvidenceUse.made(by: event, seq: seq)
        where !(uses[hash] ?? []).contains(where: { $0.subject == use.subject && $0.byFix == use.byFix }) {
            uses[hash, default: []].append(use)
        }
    }
}
