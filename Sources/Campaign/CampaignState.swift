/// What each subject of the log is: the kind of stream its first event made it.
public enum StreamKind: String, Sendable, CaseIterable {
    case unit, batch, problem, accountability, account

    /// The number it is stored by in derived data; never renumbered.
    public var number: UInt8 {
        switch self {
        case .unit: 1
        case .batch: 2
        case .problem: 3
        case .accountability: 4
        case .account: 5
        }
    }

    public init?(number: UInt8) {
        switch number {
        case 1: self = .unit
        case 2: self = .batch
        case 3: self = .problem
        case 4: self = .accountability
        case 5: self = .account
        default: return nil
        }
    }

    public var label: String {
        switch self {
        case .unit: "责任单位"
        case .batch: "问题清单"
        case .problem: "问题"
        case .accountability: "问责案件"
        case .account: "账号"
        }
    }

    /// The kind of stream an event of `type` belongs to.
    public init(of type: EventType) {
        switch type {
        case .unitRegistered: self = .unit
        case .batchOpened: self = .batch
        case .problemReported, .problemAssigned, .deadlineExtended, .rectificationSubmitted,
             .rectificationVerified, .rectificationRejected, .problemEscalated, .problemReopened,
             .problemWithdrawn:
            self = .problem
        case .accountabilityRecorded, .accountabilityRevoked: self = .accountability
        case .accountEnrolled, .accountChanged, .accountRevoked: self = .account
        }
    }
}

/// Where a problem stands: what the rules need, and what the board shows of its life.
public struct Problem: Sendable, Equatable {
    public var status: ProblemStatus
    public var batch: String?
    /// The unit it is (or was last) assigned to.
    public var unit: String?
    public var leader: String?
    /// The deadline in force; nil before the first assignment.
    public var deadline: Timestamp?
    /// Who submitted the rectification awaiting verification.
    public var submittedBy: String?
    /// The `time` of its report.
    public var reportedAt: Timestamp
    /// The `time` of the verification that closed it; nil unless closed.
    public var closedAt: Timestamp?
    public var rejections = 0
    public var escalations = 0
    public var reopens = 0

    /// A problem as its report makes it.
    public init(reportedAt: Timestamp, batch: String?) {
        self.status = .reported
        self.batch = batch
        self.reportedAt = reportedAt
    }

    /// Folds one event of the problem's stream (docs/rules.md, "The problem lifecycle"), which the rules accepted.
    /// Events of other streams leave it as it is.
    public mutating func apply(_ event: Event) {
        switch event.data {
        case .problemAssigned(let assignment):
            status = .assigned
            unit = assignment.unit
            leader = assignment.leader
            deadline = assignment.deadline
        case .deadlineExtended(let extension_):
            deadline = extension_.deadline
        case .rectificationSubmitted:
            status = .submitted
            submittedBy = event.actor
        case .rectificationVerified:
            status = .closed
            submittedBy = nil
            closedAt = event.time
        case .rectificationRejected:
            status = .assigned
            submittedBy = nil
            rejections += 1
        case .problemEscalated:
            escalations += 1
        case .problemReopened(let reopening):
            if let moved = reopening.unit, moved != unit {
                unit = moved
                leader = nil
            }
            status = .assigned
            deadline = reopening.deadline
            closedAt = nil
            reopens += 1
        case .problemWithdrawn:
            status = .withdrawn
        case .problemReported, .unitRegistered, .batchOpened, .accountabilityRecorded, .accountabilityRevoked,
             .accountEnrolled, .accountChanged, .accountRevoked:
            break
        }
    }

    /// Whether it still counts as outstanding (open or submitted): reported, assigned or submitted.
    public var isOutstanding: Bool { status == .reported || status == .assigned || status == .submitted }

    /// Whether it is overdue at `moment`: assigned, with its deadline in force before then.
    public func isOverdue(at moment: Timestamp) -> Bool {
        Problem.isOverdue(status: status, deadline: deadline, at: moment)
    }

    /// Whether a problem in `status` with `deadline` in force is overdue at `moment`.
    public static func isOverdue(status: ProblemStatus, deadline: Timestamp?, at moment: Timestamp) -> Bool {
        guard status == .assigned, let deadline else { return false }
        return deadline < moment
    }
}

/// An accountability case, as the rules keep it: at whom it is aimed, with what measure, for which
/// problems, and whether it was revoked (its reasons stay in the log).
public struct AccountabilityCase: Sendable, Equatable {
    public var target: AccountabilityTarget
    public var measure: Measure
    public var problems: [String]
    public var revoked: Bool
    public init(target: AccountabilityTarget, measure: Measure, problems: [String], revoked: Bool) {
        self.target = target; self.measure = measure; self.problems = problems; self.revoked = revoked
    }
}

/// A person's account, as its latest event left it (docs/accounts.md): the role and unit it acts with,
/// and whether it was revoked (a revoked account writes nothing).
public struct Account: Sendable, Equatable {
    public var name: String
    public var role: Role
    public var unit: String?
    public var revoked: Bool
    public init(name: String, role: Role, unit: String?, revoked: Bool = false) {
        self.name = name; self.role = role; self.unit = unit; self.revoked = revoked
    }
}

/// What the rules know of one subject of the log: its stream (kind, length, the business time and seq of
/// its latest event) and what its events made it: a unit's registration, a list's opening, where a
/// problem stands, an accountability case. Each event changes its own subject's record only.
public struct SubjectRecord: Sendable, Equatable {
    public var kind: StreamKind
    /// How many events its stream holds.
    public var version: UInt64
    /// The business time of its latest event (a stream's times never go backwards).
    public var lastTime: Timestamp
    /// The seq of its latest event: where its trail is read back from.
    public var lastSeq: UInt64
    /// What the opening of its stream made it, as the events after changed it (nil only for a stream
    /// whose first event opens nothing, which the rules refuse).
    public var payload: Payload?

    /// One of these, by the kind of the stream (held as one value: a city's log has hundreds of
    /// thousands of records in memory while it is folded).
    public enum Payload: Sendable, Equatable {
        case unit(UnitRegistration)
        case batch(BatchOpening)
        case problem(Problem)
        case accountability(AccountabilityCase)
        case account(Account)
    }

    public init(kind: StreamKind, version: UInt64, lastTime: Timestamp, lastSeq: UInt64, payload: Payload? = nil) {
        self.kind = kind; self.version = version; self.lastTime = lastTime; self.lastSeq = lastSeq; self.payload = payload
    }

    /// For a unit.
    public var unit: UnitRegistration? { if case .unit(let u) = payload { u } else { nil } }
    /// For a problem list.
    public var batch: BatchOpening? { if case .batch(let b) = payload { b } else { nil } }
    /// For a problem.
    public var problem: Problem? { if case .problem(let p) = payload { p } else { nil } }
    /// For an accountability case.
    public var accountability: AccountabilityCase? { if case .accountability(let a) = payload { a } else { nil } }
    /// For an account.
    public var account: Account? { if case .account(let a) = payload { a } else { nil } }
}

/// Every subject's record, in memory: the rules' state folded from a log. (The ledger keeps the records in
/// the store and looks each up as an event needs it; tests and verify keep them all here.)
public struct CampaignState: Sendable, Equatable {
    public var records: [String: SubjectRecord] = [:]

    public init() {}

    public func record(_ subject: String) -> SubjectRecord? { records[subject] }

    /// Folds an event the rules accepted, stored at `seq`.
    /// - Returns: its version in its subject's stream.
    @discardableResult
    public mutating func apply(_ event: Event, seq: UInt64) -> UInt64 {
        if let index = records.index(forKey: event.subject) {
            Rules.evolve(&records.values[index], event, seq: seq)
            return records.values[index].version
        }
        let record = Rules.evolve(nil, event, seq: seq)
        records[event.subject] = record
        return record.version
    }

    /// The registered units called `name` (their registered name), sorted by id.
    public func units(named name: String) -> [(id: String, registration: UnitRegistration)] {
        records.compactMap { id, r in r.unit.flatMap { $0.name == name ? (id, $0) : nil } }.sorted { $0.id < $1.id }
    }

    /// The opened batches called `name`, sorted by id.
    public func batches(named name: String) -> [(id: String, opening: BatchOpening)] {
        records.compactMap { id, r in r.batch.flatMap { $0.name == name ? (id, $0) : nil } }.sorted { $0.id < $1.id }
    }
}
