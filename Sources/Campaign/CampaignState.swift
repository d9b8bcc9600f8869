/// What each subject of the log is: the kind of stream its first event made it.
public enum StreamKind: String, Sendable {
    case unit, batch, problem, accountability
    public var label: String {
        switch self {
        case .unit: "责任单位"
        case .batch: "问题清单"
        case .problem: "问题"
        case .accountability: "问责案件"
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
        }
    }
}

/// A subject's stream: what it is, how many events it holds, and the business time of the last.
public struct SubjectStream: Sendable, Equatable {
    public var kind: StreamKind
    public var version: UInt64
    public var lastTime: Timestamp
    public init(kind: StreamKind, version: UInt64, lastTime: Timestamp) {
        self.kind = kind; self.version = version; self.lastTime = lastTime
    }
}

/// A registered unit.
public struct ResponsibleUnit: Sendable, Equatable {
    public var id: String
    public var registration: UnitRegistration
    public init(id: String, registration: UnitRegistration) { self.id = id; self.registration = registration }
}

/// An opened batch (problem list).
public struct Batch: Sendable, Equatable {
    public var id: String
    public var opening: BatchOpening
    public init(id: String, opening: BatchOpening) { self.id = id; self.opening = opening }
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

    /// Folds one event of the problem's stream (§4's lifecycle table), which the rules accepted.
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
        case .problemReported, .unitRegistered, .batchOpened, .accountabilityRecorded, .accountabilityRevoked:
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

/// An accountability case.
public struct AccountabilityCase: Sendable, Equatable {
    public var accountability: Accountability
    public var revoked: Bool
    public init(accountability: Accountability, revoked: Bool) { self.accountability = accountability; self.revoked = revoked }
}

/// Everything the rules consult: every stream, unit, batch, problem and case of the log so far.
///
/// Built by folding the log with `evolve`; `decide` reads it. It holds one small record per subject,
/// never the events themselves.
public struct CampaignState: Sendable, Equatable {
    /// A subject's stream and, for a problem, where it stands: one record, so that the rules find
    /// all they need of an event's subject with one look-up.
    public struct Subject: Sendable, Equatable {
        public var stream: SubjectStream
        public var problem: Problem?
        public init(stream: SubjectStream, problem: Problem? = nil) { self.stream = stream; self.problem = problem }
    }

    /// Every subject of the log.
    public var subjects: [String: Subject] = [:]
    public var units: [String: ResponsibleUnit] = [:]
    public var batches: [String: Batch] = [:]
    public var cases: [String: AccountabilityCase] = [:]

    public init() {}

    /// The registered units called `name` (their registered name), sorted by id.
    public func units(named name: String) -> [ResponsibleUnit] {
        units.values.filter { $0.registration.name == name }.sorted { $0.id < $1.id }
    }

    /// The opened batches called `name`, sorted by id.
    public func batches(named name: String) -> [Batch] {
        batches.values.filter { $0.opening.name == name }.sorted { $0.id < $1.id }
    }
}

extension CampaignState {
    /// What an append changed, to put back when the append does not commit: each record an event
    /// changed, as it was before (`Rules.evolve(_:_:saving:)` notes them as it changes them), put back
    /// in reverse order.
    public struct Undo {
        /// Whether `note` keeps what it is given (a fold that will never be undone keeps nothing).
        let isRecording: Bool
        public init() { isRecording = true }
        init(recording: Bool) { isRecording = recording }

        enum Record {
            case subject(String, Subject?)
            case unit(String, ResponsibleUnit?)
            case batch(String, Batch?)
            case accountability(String, AccountabilityCase?)
        }

        private var saved: [Record] = []

        /// Makes room for what `events` events change (one record each, but for the first event of a
        /// unit, list or case), so that the list is not copied as it grows.
        public mutating func reserve(events: Int) { saved.reserveCapacity(saved.count + events) }

        mutating func note(_ record: @autoclosure () -> Record) {
            if isRecording { saved.append(record()) }
        }

        public func restore(_ state: inout CampaignState) {
            for record in saved.reversed() {
                switch record {
                case .subject(let subject, let record): state.subjects[subject] = record
                case .unit(let subject, let unit): state.units[subject] = unit
                case .batch(let subject, let batch): state.batches[subject] = batch
                case .accountability(let subject, let case_): state.cases[subject] = case_
                }
            }
        }
    }
}
