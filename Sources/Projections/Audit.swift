import Campaign

/// Whose trail to show (§5 audit).
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
    /// `backdated`; on a rectification.submitted, `late` or `recorded-after-deadline`.
    public var flags: [AuditFlag]
}

/// What an audit row is flagged with.
public enum AuditFlag: String, Sendable, Equatable, CaseIterable {
    /// Recorded more than the allowed hours (72 by default) after its `time`.
    case backdated
    /// A rectification reported after the deadline in force.
    case late
    /// A rectification dated before the deadline but recorded after it: the classic paper-only fix (纸面销号).
    case recordedAfterDeadline = "recorded-after-deadline"

    public var label: String {
        switch self {
        case .backdated: "补录"
        case .late: "逾期整改"
        case .recordedAfterDeadline: "期后补报"
        }
    }
}

/// The audit trail of a subject, a unit or an actor: every stored event concerned, in seq order.
///
/// Reading a unit's trail takes two passes over the log: `scan` learns which problems were ever
/// assigned to it and which cases aimed at it, then `row` picks and flags the events.
public struct AuditTrail: Sendable {
    public let selector: AuditSelector
    /// Events whose `time` lies after it are left out.
    public let at: Timestamp
    /// How long after its `time` an event may be recorded before it is flagged `backdated`.
    public let backdateMicros: Int64
    private var concerned: Set<String> = []
    private var deadlines: [String: Timestamp] = [:]

    public init(_ selector: AuditSelector, at: Timestamp, backdateHours: Double = 72) {
        self.selector = selector
        self.at = at
        self.backdateMicros = Int64(backdateHours * 3_600_000_000)
        if case .subject(let subject) = selector { concerned = [subject] }
    }

    /// Whether `scan` must see the log before `row` is asked.
    public var needsScan: Bool {
        if case .unit = selector { true } else { false }
    }

    /// First pass, for a unit's trail: notes the subjects that concern the unit.
    public mutating func scan(_ recorded: RecordedEvent) {
        guard case .unit(let unit) = selector, recorded.event.time <= at else { return }
        let event = recorded.event
        switch event.data {
        case .unitRegistered:
            if event.subject == unit { concerned.insert(unit) }
        case .problemAssigned(let assignment):
            if assignment.unit == unit { concerned.insert(event.subject) }
        case .problemReopened(let reopening):
            if reopening.unit == unit { concerned.insert(event.subject) }
        case .accountabilityRecorded(let accountability):
            if accountability.target.kind == .unit && accountability.target.id == unit { concerned.insert(event.subject) }
        case .batchOpened, .problemReported, .deadlineExtended, .rectificationSubmitted, .rectificationVerified,
             .rectificationRejected, .problemEscalated, .problemWithdrawn, .accountabilityRevoked:
            break
        }
    }

    /// Second pass: the row of `recorded` if it belongs to the trail, with its flags.
    public mutating func row(_ recorded: RecordedEvent, hash: String) -> AuditRow? {
        let event = recorded.event
        guard event.time <= at else { return nil }
        let deadline = deadlines[event.subject]
        switch event.data {
        case .problemAssigned(let a): deadlines[event.subject] = a.deadline
        case .deadlineExtended(let d): deadlines[event.subject] = d.deadline
        case .problemReopened(let r): deadlines[event.subject] = r.deadline
        default: break
        }
        let included: Bool
        switch selector {
        case .subject, .unit: included = concerned.contains(event.subject)
        case .actor(let actor): included = event.actor == actor
        }
        guard included else { return nil }
        var flags: [AuditFlag] = []
        if recorded.recordedAt.micros - event.time.micros > backdateMicros { flags.append(.backdated) }
        if event.type == .rectificationSubmitted, let deadline {
            if event.time > deadline { flags.append(.late) }
            else if event.time < deadline, recorded.recordedAt > deadline { flags.append(.recordedAfterDeadline) }
        }
        return AuditRow(seq: recorded.seq, version: recorded.version, recordedAt: recorded.recordedAt,
                        occurredAt: event.time, type: event.type, subject: event.subject, actor: event.actor,
                        role: event.role, id: event.id, hash: hash, flags: flags)
    }
}
