/// The sixteen event types (docs/rules.md, "The event types"), by their CloudEvents `type`.
public enum EventType: String, Vocabulary {
    case unitRegistered = "unit.registered"
    case batchOpened = "batch.opened"
    case problemReported = "problem.reported"
    case problemAssigned = "problem.assigned"
    case deadlineExtended = "problem.deadlineExtended"
    case rectificationSubmitted = "rectification.submitted"
    case rectificationVerified = "rectification.verified"
    case rectificationRejected = "rectification.rejected"
    case problemEscalated = "problem.escalated"
    case problemReopened = "problem.reopened"
    case problemWithdrawn = "problem.withdrawn"
    case accountabilityRecorded = "accountability.recorded"
    case accountabilityRevoked = "accountability.revoked"
    case accountEnrolled = "account.enrolled"
    case accountChanged = "account.changed"
    case accountRevoked = "account.revoked"

    /// The number of its `data` field in civic.v1.Event (Schemas/civic/v1/event.proto).
    public var number: Int {
        switch self {
        case .unitRegistered: 10
        case .batchOpened: 11
        case .problemReported: 12
        case .problemAssigned: 13
        case .deadlineExtended: 14
        case .rectificationSubmitted: 15
        case .rectificationVerified: 16
        case .rectificationRejected: 17
        case .problemEscalated: 18
        case .problemReopened: 19
        case .problemWithdrawn: 20
        case .accountabilityRecorded: 21
        case .accountabilityRevoked: 22
        case .accountEnrolled: 23
        case .accountChanged: 24
        case .accountRevoked: 25
        }
    }

    public init?(number: Int) {
        switch number {
        case 10: self = .unitRegistered
        case 11: self = .batchOpened
        case 12: self = .problemReported
        case 13: self = .problemAssigned
        case 14: self = .deadlineExtended
        case 15: self = .rectificationSubmitted
        case 16: self = .rectificationVerified
        case 17: self = .rectificationRejected
        case 18: self = .problemEscalated
        case 19: self = .problemReopened
        case 20: self = .problemWithdrawn
        case 21: self = .accountabilityRecorded
        case 22: self = .accountabilityRevoked
        case 23: self = .accountEnrolled
        case 24: self = .accountChanged
        case 25: self = .accountRevoked
        default: return nil
        }
    }

    public var label: String {
        switch self {
        case .unitRegistered: "登记责任单位"
        case .batchOpened: "建立问题清单"
        case .problemReported: "上报问题"
        case .problemAssigned: "交办"
        case .deadlineExtended: "延长整改时限"
        case .rectificationSubmitted: "提交整改"
        case .rectificationVerified: "核实销号"
        case .rectificationRejected: "整改不到位退回"
        case .problemEscalated: "点球"
        case .problemReopened: "回头看重新交办"
        case .problemWithdrawn: "撤销（不属实）"
        case .accountabilityRecorded: "追责问责"
        case .accountabilityRevoked: "撤销问责"
        case .accountEnrolled: "开通账号"
        case .accountChanged: "变更账号"
        case .accountRevoked: "停用账号"
        }
    }

    /// `label(code)`: `核实销号(rectification.verified)`.
    public var named: String { "\(label)(\(rawValue))" }
}

/// A photo or document offered as evidence: the store keeps its hash, not the file.
public struct Evidence: Sendable, Hashable {
    /// SHA-256 of the file, 64 lowercase hex digits.
    public var sha256: String
    public var uri: String?
    public var caption: String?
    public init(sha256: String, uri: String? = nil, caption: String? = nil) {
        self.sha256 = sha256; self.uri = uri; self.caption = caption
    }
}

/// Where a problem is.
public struct Location: Sendable, Hashable {
    /// 片区, required.
    public var area: String
    /// 路段.
    public var street: String?
    /// 点位.
    public var point: String?
    public var lat: Double?
    public var lon: Double?
    public init(area: String, street: String? = nil, point: String? = nil, lat: Double? = nil, lon: Double? = nil) {
        self.area = area; self.street = street; self.point = point; self.lat = lat; self.lon = lon
    }
}

public struct UnitRegistration: Sendable, Hashable {
    public var name: String
    public var kind: UnitKind
    public var parent: String?
    public var leader: String?
    /// Other names offices write for it (城管 for 城管执法大队), by which an imported list may name it.
    public var aliases: [String]
    public init(name: String, kind: UnitKind, parent: String? = nil, leader: String? = nil, aliases: [String] = []) {
        self.name = name; self.kind = kind; self.parent = parent; self.leader = leader; self.aliases = aliases
    }
}

public struct BatchOpening: Sendable, Hashable {
    public var name: String
    public var source: ProblemSource
    /// The 清零 deadline.
    public var dueAt: Timestamp
    public init(name: String, source: ProblemSource, dueAt: Timestamp) {
        self.name = name; self.source = source; self.dueAt = dueAt
    }
}

public struct ProblemReport: Sendable, Hashable {
    public var batch: String?
    public var source: ProblemSource
    public var category: Category
    public var description: String
    public var location: Location
    public var evidence: [Evidence]
    public init(batch: String? = nil, source: ProblemSource, category: Category, description: String,
                location: Location, evidence: [Evidence] = []) {
        self.batch = batch; self.source = source; self.category = category
        self.description = description; self.location = location; self.evidence = evidence
    }
}

public struct Assignment: Sendable, Hashable {
    public var unit: String
    public var leader: String?
    public var deadline: Timestamp
    public init(unit: String, leader: String? = nil, deadline: Timestamp) {
        self.unit = unit; self.leader = leader; self.deadline = deadline
    }
}

public struct DeadlineExtension: Sendable, Hashable {
    public var deadline: Timestamp
    public var reason: String
    public init(deadline: Timestamp, reason: String) { self.deadline = deadline; self.reason = reason }
}

public struct Rectification: Sendable, Hashable {
    public var summary: String
    public var evidence: [Evidence]
    public init(summary: String, evidence: [Evidence]) { self.summary = summary; self.evidence = evidence }
}

public struct Escalation: Sendable, Hashable {
    /// The leader or unit head the problem is sent to, by name.
    public var to: String
    public var reason: String
    public init(to: String, reason: String) { self.to = to; self.reason = reason }
}

public struct Reopening: Sendable, Hashable {
    public var reason: String
    public var deadline: Timestamp
    /// The unit it goes to; nil: the last assigned unit.
    public var unit: String?
    public init(reason: String, deadline: Timestamp, unit: String? = nil) {
        self.reason = reason; self.deadline = deadline; self.unit = unit
    }
}

public struct AccountabilityTarget: Sendable, Hashable {
    public var kind: TargetKind
    public var id: String
    public var name: String?
    /// The unit a person belongs to.
    public var unit: String?
    public init(kind: TargetKind, id: String, name: String? = nil, unit: String? = nil) {
        self.kind = kind; self.id = id; self.name = name; self.unit = unit
    }
}

public struct Accountability: Sendable, Hashable {
    public var target: AccountabilityTarget
    public var measure: Measure
    public var reason: String
    /// The problems it answers for; may be empty.
    public var problems: [String]
    /// The organ that decided it (区纪工委…), and its document number (恒纪发〔2022〕12号), when given.
    public var organ: String?
    public var document: String?
    public init(target: AccountabilityTarget, measure: Measure, reason: String, problems: [String] = [],
                organ: String? = nil, document: String? = nil) {
        self.target = target; self.measure = measure; self.reason = reason; self.problems = problems
        self.organ = organ; self.document = document
    }
}

/// An account opened for a person (`account.enrolled`): the subject is the actor id it will act as.
public struct AccountEnrollment: Sendable, Hashable {
    public var name: String
    public var role: Role
    /// Required unless the role is `discipline` or `auditor`, as for any actor.
    public var unit: String?
    public init(name: String, role: Role, unit: String? = nil) { self.name = name; self.role = role; self.unit = unit }
}

/// A change of an account's role or unit (`account.changed`): what is given replaces what it was.
public struct AccountChange: Sendable, Hashable {
    public var role: Role?
    public var unit: String?
    public init(role: Role? = nil, unit: String? = nil) { self.role = role; self.unit = unit }
}

/// The `data` of an event, by type (docs/formats.md).
public enum EventData: Sendable, Hashable {
    case unitRegistered(UnitRegistration)
    case batchOpened(BatchOpening)
    case problemReported(ProblemReport)
    case problemAssigned(Assignment)
    case deadlineExtended(DeadlineExtension)
    case rectificationSubmitted(Rectification)
    case rectificationVerified(note: String?)
    case rectificationRejected(reason: String)
    case problemEscalated(Escalation)
    case problemReopened(Reopening)
    case problemWithdrawn(reason: String)
    case accountabilityRecorded(Accountability)
    case accountabilityRevoked(reason: String)
    case accountEnrolled(AccountEnrollment)
    case accountChanged(AccountChange)
    case accountRevoked(reason: String)

    public var type: EventType {
        switch self {
        case .unitRegistered: .unitRegistered
        case .batchOpened: .batchOpened
        case .problemReported: .problemReported
        case .problemAssigned: .problemAssigned
        case .deadlineExtended: .deadlineExtended
        case .rectificationSubmitted: .rectificationSubmitted
        case .rectificationVerified: .rectificationVerified
        case .rectificationRejected: .rectificationRejected
        case .problemEscalated: .problemEscalated
        case .problemReopened: .problemReopened
        case .problemWithdrawn: .problemWithdrawn
        case .accountabilityRecorded: .accountabilityRecorded
        case .accountabilityRevoked: .accountabilityRevoked
        case .accountEnrolled: .accountEnrolled
        case .accountChanged: .accountChanged
        case .accountRevoked: .accountRevoked
        }
    }
}

/// One campaign event as it comes in (docs/formats.md): who did what to which subject, and when.
public struct Event: Sendable, Hashable {
    /// Unique in the log; the idempotency key.
    public var id: String
    /// CloudEvents `source`.
    public var source: String
    /// The stream: a problem, batch, unit or accountability case id.
    public var subject: String
    /// Business time: when it happened.
    public var time: Timestamp
    public var actor: String
    public var role: Role
    /// The actor's unit; may be nil for `discipline` and `auditor`.
    public var actorUnit: String?
    public var data: EventData

    public var type: EventType { data.type }

    public init(id: String, source: String, subject: String, time: Timestamp, actor: String, role: Role,
                actorUnit: String?, data: EventData) {
        self.id = id; self.source = source; self.subject = subject; self.time = time
        self.actor = actor; self.role = role; self.actorUnit = actorUnit; self.data = data
    }

    /// The units this event makes its subject concern, for a unit's audit trail: the unit a problem is
    /// assigned or moved to, the unit an accountability case is aimed at, a unit's own stream. (A trail
    /// of a unit covers every subject an event ever made concern it.)
    public var unitsConcerned: [String] {
        switch data {
        case .unitRegistered: [subject]
        case .problemAssigned(let a): [a.unit]
        case .problemReopened(let r): r.unit.map { [$0] } ?? []
        case .accountabilityRecorded(let a): a.target.kind == .unit ? [a.target.id] : []
        case .batchOpened, .problemReported, .deadlineExtended, .rectificationSubmitted, .rectificationVerified,
             .rectificationRejected, .problemEscalated, .problemWithdrawn, .accountabilityRevoked, .accountRevoked:
            []
        case .accountEnrolled(let a): a.unit.map { [$0] } ?? []
        case .accountChanged(let c): c.unit.map { [$0] } ?? []
        }
    }

    /// Equal content: every field equal, times the same moment written the same way.
    public func hasSameContent(as other: Event) -> Bool {
        self == other && time.isIdentical(to: other.time)
    }
}

/// An event as the log holds it: the event, and where and when the store put it.
public struct RecordedEvent: Sendable {
    /// Global position, gapless from 1.
    public var seq: UInt64
    /// Position in its subject's stream, from 1.
    public var version: UInt64
    /// The store's clock when it was appended (UTC).
    public var recordedAt: Timestamp
    public var event: Event
    public init(seq: UInt64, version: UInt64, recordedAt: Timestamp, event: Event) {
        self.seq = seq; self.version = version; self.recordedAt = recordedAt; self.event = event
    }
}

extension Event {
    /// The same event `seconds` later in business time: its `time` and every moment its data names
    /// (a deadline, a list's 清零 time). For a sample campaign moved to lie around the day it is made.
    public func shifted(by seconds: Int64) -> Event {
        var e = self
        e.time = time.adding(seconds: seconds)
        switch data {
        case .batchOpened(var b): b.dueAt = b.dueAt.adding(seconds: seconds); e.data = .batchOpened(b)
        case .problemAssigned(var a): a.deadline = a.deadline.adding(seconds: seconds); e.data = .problemAssigned(a)
        case .deadlineExtended(var d): d.deadline = d.deadline.adding(seconds: seconds); e.data = .deadlineExtended(d)
        case .problemReopened(var r): r.deadline = r.deadline.adding(seconds: seconds); e.data = .problemReopened(r)
        default: break
        }
        return e
    }
}
