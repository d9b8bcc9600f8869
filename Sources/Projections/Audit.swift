import Campaign

/// Whose trail to show (docs/views.md, "Audit trail").
public enum AuditSelector: Sendable, Equatable {
    /// One stream: a problem, batch, unit or case.
    case subject(String)
    /// Every problem ever assigned to the unit, accountability aimed at it, and its own stream.
    case unit(String)
    /// Every event the actor appended.
    case actor(String)
}

/// One stored event in an audit trail, with what an inspector should look at twice.
public struct AuditRow: Sendable, Equatable {
    public var seq: UInt64
    public var version: UInt64
    public var recordedAt: Timestamp
    public var occurredAt: Timestamp
    public var type: EventType
    public var subject: String
    public var actor: String
    public var role: Role
    public var id: String
    public var hash: String
    /// Who wrote it into the log ("" when not recorded: an entry migrated from the first format).
    public var recordedBy: String
    /// `backdated`; on a rectification.submitted, `late` or `recorded-after-deadline`; `proxy`.
    public var flags: [AuditFlag]
    /// What the event did, in a clerk's words: the reason, the deadline, the unit, the fix (the dashboard's trail).
    public var summary: String = ""
    /// The SHA-256 of each evidence file it names.
    public var evidence: [String] = []
}

extension AuditRow {
    /// What `event` did, in a clerk's words, units by `name` where it knows them, and the evidence it names.
    static func describe(_ event: Event, name: (String) -> String? = { _ in nil }) -> (String, [String]) {
        func when(_ t: Timestamp) -> String { t.chineseMinute }
        func unit(_ id: String) -> String { Named.withID(name(id), id) }
        switch event.data {
        case .unitRegistered(let u): return ("\(u.name)（\(u.kind.label)）" + (u.leader.map { "，包抓领导 \($0)" } ?? ""), [])
        case .batchOpened(let b): return ("\(b.name)，\(b.source.label)，清零时限 \(when(b.dueAt))", [])
        case .problemReported(let p):
            let place = [p.location.area, p.location.street, p.location.point].compactMap { $0 }.joined(separator: " ")
            return ("\(p.category.label)：\(p.description)（\(place)）", p.evidence.map(\.sha256))
        case .problemAssigned(let a): return ("交办 \(unit(a.unit))，时限 \(when(a.deadline))" + (a.leader.map { "，包抓领导 \($0)" } ?? ""), [])
        case .deadlineExtended(let d): return ("延至 \(when(d.deadline))：\(d.reason)", [])
        case .rectificationSubmitted(let r):
            return (r.summary + (r.evidence.isEmpty ? "" : "（佐证 \(r.evidence.count) 份）"), r.evidence.map(\.sha256))
        case .rectificationVerified(let note): return (note ?? "", [])
        case .rectificationRejected(let reason): return ("退回原因：\(reason)", [])
        case .problemEscalated(let e): return ("点球 \(e.to)：\(e.reason)", [])
        case .problemReopened(let r): return ("回头看：\(r.reason)；时限 \(when(r.deadline))" + (r.unit.map { "，改由 \(unit($0))" } ?? ""), [])
        case .problemWithdrawn(let reason): return ("撤销原因：\(reason)", [])
        case .accountabilityRecorded(let a):
            let who = a.target.name.map { Named.withID($0, a.target.id) } ?? (a.target.kind == .unit ? unit(a.target.id) : a.target.id)
            return ("\(a.target.kind.label) \(who)：\(a.measure.label)，\(a.reason)" + (a.problems.isEmpty ? "" : "；所涉问题 \(a.problems.joined(separator: "、"))"), [])
        case .accountabilityRevoked(let reason), .accountRevoked(let reason): return ("理由：\(reason)", [])
        case .accountEnrolled(let a): return ("\(a.name)，\(a.role.label)" + (a.unit.map { "，\($0)" } ?? ""), [])
        case .accountChanged(let c):
            return ([c.role.map { "角色改为\($0.label)" }, c.unit.map { "单位改为 \($0)" }].compactMap { $0 }.joined(separator: "，"), [])
        }
    }
}

/// Where an evidence file was first named: the subject, the seq, and whether by a fix (a rectification).
public struct EvidenceUse: Sendable, Equatable {
    public var subject: String
    public var seq: UInt64
    public var byFix: Bool
    public init(subject: String, seq: UInt64, byFix: Bool) { self.subject = subject; self.seq = seq; self.byFix = byFix }

    /// The uses of files an event stored at `seq` makes, by hash (lowercase): a report's or a fix's evidence.
    public static func made(by event: Event, seq: UInt64) -> [(hash: String, use: EvidenceUse)] {
        let (files, byFix): ([Evidence], Bool)
        switch event.data {
        case .rectificationSubmitted(let r): (files, byFix) = (r.evidence, true)
        case .problemReported(let p): (files, byFix) = (p.evidence, false)
        default: return []
        }
        return files.map { ($0.sha256.lowercased(), EvidenceUse(subject: event.subject, seq: seq, byFix: byFix)) }
    }
}

/// What an audit row is flagged with.
public enum AuditFlag: String, Sendable, Equatable, CaseIterable {
    /// Recorded more than the allowed hours (72 by default) after its `time`.
    case backdated
    /// A rectification reported after the deadline in force.
    case late
    /// A rectification dated before the deadline but recorded after it: the classic paper-only fix (纸面销号).
    case recordedAfterDeadline = "recorded-after-deadline"
    /// Recorded over HTTP by an account other than its actor (代录: the office recording for someone).
    /// An event of the command line (`local:` and the machine's user) is not compared: the machine's
    /// user is not an account.
    case proxy
    /// A verification, rejection or withdrawal dated before the due time in force (the problem's
    /// deadline, or its list's 清零 time) but recorded after it: a zero-out reached on paper (纸面销号).
    case recordedAfterDue = "recorded-after-due"
    /// A fix whose evidence was named before: for another problem, or by an earlier fix of the same one.
    case reusedEvidence = "reused-evidence"
    /// A verification recorded sooner after the fix than the office's minimum (off unless asked).
    case hastyVerification = "hasty-verification"

    public var label: String {
        switch self {
        case .backdated: "补录"
        case .late: "逾期整改"
        case .recordedAfterDeadline: "期后补报"
        case .proxy: "代录"
        case .recordedAfterDue: "期后补记销号"
        case .reusedEvidence: "重复使用佐证"
        case .hastyVerification: "核实过快"
        }
    }

    /// Whether an event of `actor` recorded by `recordedBy` was recorded for someone else.
    public static func isProxy(actor: String, recordedBy: String) -> Bool {
        !recordedBy.isEmpty && !recordedBy.hasPrefix("local:") && recordedBy != actor
    }
}

/// The audit trail of a subject, a unit or an actor: the stored events concerned, in seq order, flagged.
///
/// It is given the events the trail covers (a subject's stream; a unit's own stream, its problems and the
/// cases aimed at it; an actor's events), each subject's in seq order, and picks those dated by `at`.
public struct AuditTrail: Sendable {
    public let selector: AuditSelector
    /// Events whose `time` lies after it are left out.
    public let at: Timestamp
    /// How long after its `time` an event may be recorded before it is flagged `backdated`.
    public let backdateMicros: Int64
    /// The least time a verification may follow its fix before it is flagged `hasty-verification`; nil: never.
    public let hastyMicros: Int64?
    /// Each list's 清零 time, by id.
    private let dueOfList: @Sendable (String) -> Timestamp?
    /// Where each evidence hash was named in the log (the first report and fix of each subject naming it).
    private let uses: @Sendable (String) -> [EvidenceUse]
    /// A unit's registered name, by id, for the rows' words.
    private let unitName: @Sendable (String) -> String?
    private var deadlines: [String: Timestamp] = [:]
    private var lists: [String: String] = [:]
    private var submitted: [String: Timestamp] = [:]

    public init(_ selector: AuditSelector, at: Timestamp, backdateHours: Double = 72, hastyMinutes: Double? = nil,
                dueOfList: @escaping @Sendable (String) -> Timestamp? = { _ in nil },
                uses: @escaping @Sendable (String) -> [EvidenceUse] = { _ in [] },
                unitName: @escaping @Sendable (String) -> String? = { _ in nil }) {
        self.unitName = unitName
        self.selector = selector
        self.at = at
        self.backdateMicros = Int64(backdateHours * 3_600_000_000)
        self.hastyMicros = hastyMinutes.map { Int64($0 * 60_000_000) }
        self.dueOfList = dueOfList
        self.uses = uses
    }

    /// The row of `recorded` when it is dated by `at`, with its flags.
    public mutating func row(_ recorded: RecordedEvent, hash: String, recordedBy: String) -> AuditRow? {
        let event = recorded.event
        guard event.time <= at else { return nil }
        let deadline = deadlines[event.subject]
        let fixedAt = submitted[event.subject]
        switch event.data {
        case .problemReported(let p): if let list = p.batch { lists[event.subject] = list }
        case .problemAssigned(let a): deadlines[event.subject] = a.deadline
        case .deadlineExtended(let d): deadlines[event.subject] = d.deadline
        case .problemReopened(let r): deadlines[event.subject] = r.deadline
        case .rectificationSubmitted: submitted[event.subject] = recorded.recordedAt
        default: break
        }
        var flags: [AuditFlag] = []
        if recorded.recordedAt.micros - event.time.micros > backdateMicros { flags.append(.backdated) }
        if event.type == .rectificationSubmitted, let deadline {
            if event.time > deadline { flags.append(.late) }
            else if event.time < deadline, recorded.recordedAt > deadline { flags.append(.recordedAfterDeadline) }
        }
        if AuditFlag.isProxy(actor: event.actor, recordedBy: recordedBy) { flags.append(.proxy) }
        switch event.type {
        case .rectificationVerified, .rectificationRejected, .problemWithdrawn:
            // Due by the problem's deadline in force, and by its list's 清零 time: dated before either, recorded after it.
            let dues = [deadline, lists[event.subject].flatMap(dueOfList)].compactMap { $0 }
            if dues.contains(where: { event.time <= $0 && recorded.recordedAt > $0 }) { flags.append(.recordedAfterDue) }
            if event.type == .rectificationVerified, let hastyMicros, let fixedAt,
               recorded.recordedAt.micros - fixedAt.micros < hastyMicros {
                flags.append(.hastyVerification)
            }
        case .rectificationSubmitted:
            // Named before: by another problem (its report or a fix), or by an earlier fix of this one.
            if case .rectificationSubmitted(let r) = event.data, r.evidence.contains(where: { e in
                uses(e.sha256.lowercased()).contains { $0.seq < recorded.seq && ($0.subject != event.subject || $0.byFix) }
            }) {
                flags.append(.reusedEvidence)
            }
        default: break
        }
        let (summary, evidence) = AuditRow.describe(event, name: unitName)
        return AuditRow(seq: recorded.seq, version: recorded.version, recordedAt: recorded.recordedAt,
                        occurredAt: event.time, type: event.type, subject: event.subject, actor: event.actor,
                        role: event.role, id: event.id, hash: hash, recordedBy: recordedBy, flags: flags,
                        summary: summary, evidence: evidence)
    }
}
