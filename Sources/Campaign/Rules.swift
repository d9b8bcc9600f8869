/// The rules (docs/rules.md) as a decider: `decide` says whether an event may be appended to the log as it
/// stands; `evolve` folds an accepted event into its subject's record. Both are pure: the store's clock comes in
/// as a parameter.
public enum Rules {
    /// How far `time` may lie after the store's clock: 5 minutes.
    public static let allowedClockSkewSeconds: Int64 = 300

    /// The roles that may append each type (docs/rules.md, "Who may record what").
    public static func roles(allowedFor type: EventType) -> Set<Role> {
        switch type {
        case .unitRegistered, .batchOpened: [.office]
        case .problemReported, .rectificationVerified, .rectificationRejected, .problemReopened:
            [.office, .inspector]
        case .problemAssigned, .deadlineExtended, .problemEscalated, .problemWithdrawn: [.office]
        case .rectificationSubmitted: [.unit]
        case .accountabilityRecorded, .accountabilityRevoked: [.discipline]
        case .accountEnrolled, .accountChanged, .accountRevoked: [.office]
        }
    }

    /// Whether `role` may append `type`: `roles(allowedFor:)` without building a set.
    public static func mayAppend(_ role: Role, _ type: EventType) -> Bool {
        switch type {
        case .unitRegistered, .batchOpened, .problemAssigned, .deadlineExtended, .problemEscalated, .problemWithdrawn,
             .accountEnrolled, .accountChanged, .accountRevoked:
            role == .office
        case .problemReported, .rectificationVerified, .rectificationRejected, .problemReopened:
            role == .office || role == .inspector
        case .rectificationSubmitted: role == .unit
        case .accountabilityRecorded, .accountabilityRevoked: role == .discipline
        }
    }

    /// The statuses a problem must be in for each problem event (docs/rules.md, "The problem lifecycle"); nil for the
    /// report, which needs no problem yet, and for events of other streams.
    public static func statuses(allowing type: EventType) -> [ProblemStatus]? {
        switch type {
        case .problemAssigned: [.reported, .assigned]
        case .deadlineExtended, .rectificationSubmitted: [.assigned]
        case .rectificationVerified, .rectificationRejected: [.submitted]
        case .problemReopened: [.closed]
        case .problemEscalated, .problemWithdrawn: [.reported, .assigned, .submitted]
        case .problemReported, .unitRegistered, .batchOpened, .accountabilityRecorded, .accountabilityRevoked,
             .accountEnrolled, .accountChanged, .accountRevoked:
            nil
        }
    }

    /// Refuses `event` unless it may be appended to a log whose subjects' records `facts` gives (nil for a
    /// subject no event has named).
    ///
    /// - Parameters:
    ///   - recordedAt: the store's clock for this append.
    ///   - expectedVersion: the number of events the subject's stream must hold now, if the sender set one.
    /// - Throws: `Refusal` naming the subject, its status and the rule broken.
    public static func decide(
        _ event: Event, given facts: (String) -> SubjectRecord?, recordedAt: Timestamp, expectedVersion: UInt64? = nil
    ) throws(Refusal) {
        try checkWellFormed(event)
        try decide(wellFormed: event, given: facts, recordedAt: recordedAt, expectedVersion: expectedVersion)
    }

    /// `decide` for an event that `checkWellFormed` has passed already (it needs no state, so a
    /// large append checks it, beside the encoding, on another core).
    public static func decide(
        wellFormed event: Event, given facts: (String) -> SubjectRecord?, recordedAt: Timestamp, expectedVersion: UInt64? = nil
    ) throws(Refusal) {
        let subject = event.subject
        let type = event.type

        guard mayAppend(event.role, type) else {
            let who = roles(allowedFor: type).map { "\($0.label)(\($0.rawValue))" }.sorted().joined(separator: "、")
            throw Refusal(.role, "角色 \(event.role.label)(\(event.role.rawValue)) 不能提交 \(type.named)，只有 \(who) 可以")
        }
        if event.actorUnit == nil && event.role != .discipline && event.role != .auditor {
            throw Refusal(.malformed, "缺少 actorunit：\(event.role.label)(\(event.role.rawValue)) 提交的事件须写明所在单位")
        }

        try checkAccount(of: event, in: facts)

        let record = facts(subject)
        if let expectedVersion, expectedVersion != record?.version ?? 0 {
            throw Refusal(.concurrency,
                "\(subject) 现有 \(record?.version ?? 0) 个事件，与 expectedversion=\(expectedVersion) 不符：已有人先行修改，请刷新后重试")
        }
        let kind = StreamKind(of: type)
        if let record, record.kind != kind {
            throw Refusal(.reference, "\(subject) 已是\(record.kind.label)(\(record.kind.rawValue))，不能作为\(kind.label)(\(kind.rawValue))使用")
        }
        if event.time > recordedAt.adding(seconds: allowedClockSkewSeconds) {
            throw Refusal(.time, "事件时间 \(event.time) 晚于登记时间 \(recordedAt.inOffset(Timestamp.chinaOffset)) 超过 5 分钟：不能登记未来发生的事")
        }
        if let record, event.time < record.lastTime {
            throw Refusal(.time, "事件时间 \(event.time) 早于 \(subject) 上一个事件的时间 \(record.lastTime)：同一对象的事件时间不能倒退")
        }

        switch event.data {
        case .unitRegistered:
            // `parent` is not checked: only batch, unit and problems are references (docs/rules.md), and units
            // are often registered children first.
            if record != nil { throw Refusal(.lifecycle, "责任单位 \(subject) 已登记，不能重复登记") }
        case .batchOpened:
            if record != nil { throw Refusal(.lifecycle, "问题清单 \(subject) 已建立，不能重复建立") }
        case .problemReported(let report):
            if let record {
                let status = record.problem?.status.named ?? "—"
                throw Refusal(.lifecycle, "问题 \(subject) 已上报过，当前状态为 \(status)，不能重复上报")
            }
            if let batch = report.batch, facts(batch)?.batch == nil {
                throw Refusal(.reference, "问题清单 \(batch) 不存在：请先建立清单(batch.opened)")
            }
        case .accountabilityRecorded(let accountability):
            if record != nil { throw Refusal(.lifecycle, "问责案件 \(subject) 已登记，不能重复登记") }
            try checkTarget(accountability.target, in: facts)
            try checkMeasure(accountability, in: facts)
            for problem in accountability.problems where facts(problem)?.problem == nil {
                throw Refusal(.reference, "问责所涉问题 \(problem) 不存在")
            }
        case .accountabilityRevoked:
            guard let found = record?.accountability else {
                throw Refusal(.reference, "问责案件 \(subject) 不存在，无从撤销")
            }
            if found.revoked { throw Refusal(.lifecycle, "问责案件 \(subject) 已撤销，不能再次撤销") }
        case .accountEnrolled(let enrollment):
            if let found = record?.account {
                throw Refusal(.lifecycle, "账号 \(subject)（\(found.name)）已开通\(found.revoked ? "并已停用" : "")，不能重复开通")
            }
            try checkActing(role: enrollment.role, unit: enrollment.unit, of: subject, in: facts)
        case .accountChanged(let change):
            guard let account = record?.account else { throw Refusal(.reference, "账号 \(subject) 未开通，无从变更") }
            if account.revoked { throw Refusal(.lifecycle, "账号 \(subject) 已停用，不能变更") }
            if change.role == nil && change.unit == nil { throw Refusal(.malformed, "变更账号须写明新的 role 或 unit") }
            try checkActing(role: change.role ?? account.role, unit: change.unit ?? account.unit, of: subject, in: facts)
        case .accountRevoked:
            guard let account = record?.account else { throw Refusal(.reference, "账号 \(subject) 未开通，无从停用") }
            if account.revoked { throw Refusal(.lifecycle, "账号 \(subject) 已停用，不能再次停用") }
        case .problemAssigned, .deadlineExtended, .rectificationSubmitted, .rectificationVerified,
             .rectificationRejected, .problemEscalated, .problemReopened, .problemWithdrawn:
            guard let problem = record?.problem else {
                throw Refusal(.reference, "问题 \(subject) 不存在：请先上报(problem.reported)")
            }
            try decideProblemEvent(event, problem: problem, facts: facts)
        }
    }

    private static func decideProblemEvent(_ event: Event, problem: Problem, facts: (String) -> SubjectRecord?) throws(Refusal) {
        let subject = event.subject
        let type = event.type
        if let from = statuses(allowing: type), !from.contains(problem.status) {
            let needed = from.map(\.named).joined(separator: "或")
            var message = "问题 \(subject) 当前状态为 \(problem.status.named)，\(type.named) 只能在 \(needed) 状态下进行"
            if problem.status == .closed { message += "；已销号的问题只能通过回头看(problem.reopened)重新交办" }
            if problem.status == .withdrawn { message += "；已撤销（不属实）的问题不再办理" }
            throw Refusal(.lifecycle, message)
        }
        switch event.data {
        case .problemAssigned(let assignment):
            try checkUnit(assignment.unit, in: facts)
            try checkDeadline(assignment.deadline, of: event)
        case .deadlineExtended(let extension_):
            try checkDeadline(extension_.deadline, of: event)
            if let inForce = problem.deadline, extension_.deadline <= inForce {
                throw Refusal(.time, "新的整改时限 \(extension_.deadline) 须晚于现行时限 \(inForce)")
            }
        case .rectificationSubmitted:
            guard let unit = problem.unit, event.actorUnit == unit else {
                throw Refusal(.role, "问题 \(subject) 交办给 \(problem.unit ?? "—")，只有该单位可以提交整改，\(event.actorUnit ?? "—") 不可以")
            }
        case .rectificationVerified, .rectificationRejected:
            let verb = type == .rectificationVerified ? "核实销号" : "退回"
            if let unit = problem.unit, event.actorUnit == unit {
                throw Refusal(.separationOfDuties, "\(event.actor) 属于整改单位 \(unit)，不能\(verb)本单位的整改(\(type.rawValue))")
            }
            if type == .rectificationVerified, event.actor == problem.submittedBy {
                throw Refusal(.separationOfDuties, "整改由 \(event.actor) 本人提交，不能由本人核实销号")
            }
        case .problemReopened(let reopening):
            if let unit = reopening.unit { try checkUnit(unit, in: facts) }
            else if problem.unit == nil { throw Refusal(.reference, "问题 \(subject) 从未交办，重新交办须写明 unit") }
            try checkDeadline(reopening.deadline, of: event)
        case .problemEscalated, .problemWithdrawn:
            break
        case .unitRegistered, .batchOpened, .problemReported, .accountabilityRecorded, .accountabilityRevoked,
             .accountEnrolled, .accountChanged, .accountRevoked:
            break  // not problem events; decide routes them elsewhere
        }
    }

    /// An actor with an account acts only as its account says, and not at all once it is revoked. (An
    /// actor with no account is taken as written: the command line's, recorded as `local:` users.)
    private static func checkAccount(of event: Event, in facts: (String) -> SubjectRecord?) throws(Refusal) {
        guard let account = facts(event.actor)?.account else { return }
        if account.revoked {
            throw Refusal(.account, "账号 \(event.actor)（\(account.name)）已停用，不能再登记事件")
        }
        if account.role != event.role || account.unit != event.actorUnit {
            let unit = { (u: String?) in u.map { "、单位 \($0)" } ?? "" }
            throw Refusal(.account, "\(event.actor) 的账号为 \(account.role.label)(\(account.role.rawValue))\(unit(account.unit))，"
                + "事件却写作 \(event.role.label)(\(event.role.rawValue))\(unit(event.actorUnit))：只能以本账号的角色和单位登记")
        }
    }

    /// The role and unit an account is to act with: a unit for every role but `discipline` and `auditor`, registered.
    private static func checkActing(role: Role, unit: String?, of subject: String, in facts: (String) -> SubjectRecord?) throws(Refusal) {
        if let unit { try checkUnit(unit, in: facts) }
        else if role != .discipline && role != .auditor {
            throw Refusal(.malformed, "账号 \(subject) 的角色为 \(role.label)(\(role.rawValue))，须写明所在单位(data.unit)")
        }
    }

    private static func checkUnit(_ unit: String, in facts: (String) -> SubjectRecord?) throws(Refusal) {
        guard facts(unit)?.unit != nil else {
            throw Refusal(.reference, "责任单位 \(unit) 未登记：请先登记(unit.registered)")
        }
    }

    private static func checkDeadline(_ deadline: Timestamp, of event: Event) throws(Refusal) {
        if deadline < event.time {
            throw Refusal(.time, "整改时限 \(deadline) 早于事件时间 \(event.time)")
        }
    }

    /// Refuses a measure its target cannot receive: a unit is not 诫勉'd, a person not 改组'd; 改组 is for
    /// a party organization; the one sanction of the first logs is now two (docs/rules.md, "Accountability").
    private static func checkMeasure(_ a: Accountability, in facts: (String) -> SubjectRecord?) throws(Refusal) {
        if a.measure == .disciplinarySanction {
            throw Refusal(.malformed, "“党纪政务处分”须分别记为 党纪处分(party_discipline) 或 政务处分(government_sanction)")
        }
        let allowed = Measure.allowed(for: a.target.kind)
        guard allowed.contains(a.measure) else {
            throw Refusal(.malformed, "\(a.target.kind.label)不适用“\(a.measure.label)”：对\(a.target.kind.label)可用 \(allowed.map(\.label).joined(separator: "、"))")
        }
        if a.measure == .reorganization, a.target.kind == .unit, facts(a.target.id)?.unit?.kind != .partyOrganization {
            throw Refusal(.malformed, "“改组”只适用于党组织：\(a.target.id) 未登记为党组织(party_organization)")
        }
    }

    private static func checkTarget(_ target: AccountabilityTarget, in facts: (String) -> SubjectRecord?) throws(Refusal) {
        switch target.kind {
        case .unit: try checkUnit(target.id, in: facts)
        case .person: if let unit = target.unit { try checkUnit(unit, in: facts) }
        }
    }

    /// Refuses an event whose fields are present but empty or out of shape: ids, required texts,
    /// evidence hashes, coordinates.
    public static func checkWellFormed(_ event: Event) throws(Refusal) {
        func required(_ value: String, _ field: String) throws(Refusal) {
            if value.isBlank { throw Refusal(.malformed, "\(field) 不能为空") }
        }
        func evidence(_ list: [Evidence], _ field: String) throws(Refusal) {
            for (i, item) in list.enumerated() where !isSHA256Hex(item.sha256) {
                throw Refusal(.malformed, "\(field)[\(i)].sha256 须为 64 位十六进制 SHA-256，而不是“\(item.sha256)”")
            }
        }
        if !isIdentifier(event.id) {
            throw Refusal(.malformed, "id “\(event.id)” 不合规：须为 1–128 个 A-Za-z0-9._:- 字符")
        }
        try required(event.subject, "subject")
        if event.subject.utf8.count > 256 { throw Refusal(.malformed, "subject 过长(超过 256 字节)") }
        try required(event.source, "source")
        try required(event.actor, "actor")
        if let unit = event.actorUnit { try required(unit, "actorunit") }
        switch event.data {
        case .unitRegistered(let u): try required(u.name, "data.name")
        case .batchOpened(let b): try required(b.name, "data.name")
        case .problemReported(let p):
            try required(p.description, "data.description")
            try required(p.location.area, "data.location.area")
            if let lat = p.location.lat, !(-90...90).contains(lat) { throw Refusal(.malformed, "data.location.lat 超出 -90…90") }
            if let lon = p.location.lon, !(-180...180).contains(lon) { throw Refusal(.malformed, "data.location.lon 超出 -180…180") }
            try evidence(p.evidence, "data.evidence")
        case .problemAssigned(let a): try required(a.unit, "data.unit")
        case .deadlineExtended(let d): try required(d.reason, "data.reason")
        case .rectificationSubmitted(let r):
            try required(r.summary, "data.summary")
            if r.evidence.isEmpty { throw Refusal(.malformed, "提交整改须附至少一份佐证材料(data.evidence)") }
            try evidence(r.evidence, "data.evidence")
        case .rectificationVerified: break
        case .rectificationRejected(let reason), .problemWithdrawn(let reason), .accountabilityRevoked(let reason):
            try required(reason, "data.reason")
        case .problemEscalated(let e):
            try required(e.to, "data.to")
            try required(e.reason, "data.reason")
        case .problemReopened(let r): try required(r.reason, "data.reason")
        case .accountabilityRecorded(let a):
            try required(a.target.id, "data.target.id")
            try required(a.reason, "data.reason")
        case .accountEnrolled(let a):
            try required(a.name, "data.name")
            if let unit = a.unit { try required(unit, "data.unit") }
        case .accountChanged(let c):
            if let unit = c.unit { try required(unit, "data.unit") }
        case .accountRevoked(let reason): try required(reason, "data.reason")
        }
    }

    /// Whether `id` is 1–128 characters of `A-Za-z0-9._:-`.
    public static func isIdentifier(_ id: String) -> Bool { isIdentifier(id.utf8) }

    /// Whether the UTF-8 `bytes` are 1–128 characters of `A-Za-z0-9._:-`.
    public static func isIdentifier(_ bytes: some Collection<UInt8>) -> Bool {
        guard (1...128).contains(bytes.count) else { return false }
        return bytes.allSatisfy { c in
            (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 46 || c == 95 || c == 58 || c == 45
        }
    }

    /// Whether `text` is 64 hex digits.
    public static func isSHA256Hex(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { c in
            (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)
        }
    }

    /// The record of the event's subject after `event`, which `decide` accepted, stored at `seq`; `record`
    /// is the subject's record before it (nil for the first event of a stream). Never fails: an event
    /// changes its own subject's record only.
    public static func evolve(_ record: SubjectRecord?, _ event: Event, seq: UInt64) -> SubjectRecord {
        guard var record else {
            let payload: SubjectRecord.Payload? = switch event.data {
            case .unitRegistered(let registration): .unit(registration)
            case .batchOpened(let opening): .batch(opening)
            case .problemReported(let report): .problem(Problem(reportedAt: event.time, batch: report.batch))
            case .accountabilityRecorded(let accountability):
                .accountability(AccountabilityCase(target: accountability.target, measure: accountability.measure,
                                                   problems: accountability.problems, revoked: false))
            case .accountEnrolled(let a): .account(Account(name: a.name, role: a.role, unit: a.unit))
            case .problemAssigned, .deadlineExtended, .rectificationSubmitted, .rectificationVerified,
                 .rectificationRejected, .problemEscalated, .problemReopened, .problemWithdrawn, .accountabilityRevoked,
                 .accountChanged, .accountRevoked:
                nil  // refused by `decide`: a stream begins with its opening event
            }
            return SubjectRecord(kind: StreamKind(of: event.type), version: 1, lastTime: event.time, lastSeq: seq, payload: payload)
        }
        evolve(&record, event, seq: seq)
        return record
    }

    /// `evolve` of a subject with a record, in place (a fold of a whole log changes each record where it lies).
    public static func evolve(_ record: inout SubjectRecord, _ event: Event, seq: UInt64) {
        record.version += 1
        record.lastTime = max(record.lastTime, event.time)
        record.lastSeq = seq
        switch (event.data, record.payload) {
        case (.problemAssigned, .problem(var p)?), (.deadlineExtended, .problem(var p)?), (.rectificationSubmitted, .problem(var p)?),
             (.rectificationVerified, .problem(var p)?), (.rectificationRejected, .problem(var p)?), (.problemEscalated, .problem(var p)?),
             (.problemReopened, .problem(var p)?), (.problemWithdrawn, .problem(var p)?):
            record.payload = nil  // so that `p` is the only reference to its strings while it changes
            p.apply(event)
            record.payload = .problem(p)
        case (.accountabilityRevoked, .accountability(var a)?):
            a.revoked = true
            record.payload = .accountability(a)
        case (.accountChanged(let change), .account(var a)?):
            if let role = change.role { a.role = role }
            if let unit = change.unit { a.unit = unit }
            record.payload = .account(a)
        case (.accountRevoked, .account(var a)?):
            a.revoked = true
            record.payload = .account(a)
        default:
            break  // a second opening of a stream, or an event of another kind of stream: refused by `decide`
        }
    }
}
