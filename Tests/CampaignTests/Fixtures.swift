import Campaign
import Testing

// Builders that keep the tests short: a few actors, the `data` of each event type, and a `World`
// that decides and folds events the way the ledger does, without a store and without a clock.

/// Parses an RFC 3339 time the test writes out by hand.
func ts(_ text: String) -> Timestamp {
    guard let t = Timestamp(rfc3339: text) else { fatalError("bad test time \(text)") }
    return t
}

/// The moment the stories below start: 2022-08-19 16:00 in UTC+8 (the 8月19日 调度会).
let t0 = ts("2022-08-19T16:00:00+08:00")

/// `t0` plus `n` hours.
func hours(_ n: Int64) -> Timestamp { t0.adding(seconds: n * 3600) }

/// `t0` plus `n` days.
func days(_ n: Int64) -> Timestamp { t0.adding(seconds: n * 86_400) }

/// Who appends: a name, a role and a unit.
struct Staff: Sendable, CustomTestStringConvertible {
    var name: String
    var role: Role
    var unit: String?

    static let office = Staff(name: "office/li-xianfeng", role: .office, unit: "U-office")
    static let inspector = Staff(name: "inspector/wang", role: .inspector, unit: "U-inspect")
    /// Staff of the city management bureau, to which the fixture problems are assigned.
    static let cityStaff = Staff(name: "unit/zhang", role: .unit, unit: "U-city")
    static let trafficStaff = Staff(name: "unit/zhao", role: .unit, unit: "U-traffic")
    static let discipline = Staff(name: "discipline/sun", role: .discipline, unit: nil)
    static let auditor = Staff(name: "auditor/qian", role: .auditor, unit: nil)

    /// The usual actor of each role.
    static func of(_ role: Role) -> Staff {
        switch role {
        case .office: .office
        case .inspector: .inspector
        case .unit: .cityStaff
        case .discipline: .discipline
        case .auditor: .auditor
        }
    }

    func with(unit: String?) -> Staff { Staff(name: name, role: role, unit: unit) }
    func with(role: Role) -> Staff { Staff(name: name, role: role, unit: unit) }

    var testDescription: String { "\(role.rawValue):\(name)@\(unit ?? "—")" }
}

/// An evidence item with a well-formed hash.
let photo = Evidence(sha256: String(repeating: "ab", count: 32), uri: "file:///photos/1.jpg", caption: "整改后")

extension EventData {
    static func enroll(_ name: String, _ role: Role, unit: String?) -> EventData {
        .accountEnrolled(AccountEnrollment(name: name, role: role, unit: unit))
    }
    static func unit(_ name: String = "城市管理局", kind: UnitKind = .department, parent: String? = nil) -> EventData {
        .unitRegistered(UnitRegistration(name: name, kind: kind, parent: parent))
    }
    static func batch(_ name: String = "8月19日全市调度会曝光问题", dueAt: Timestamp = days(7)) -> EventData {
        .batchOpened(BatchOpening(name: name, source: .covertExposure, dueAt: dueAt))
    }
    static func report(batch: String? = nil, lat: Double? = nil, lon: Double? = nil,
                       evidence: [Evidence] = []) -> EventData {
        .problemReported(ProblemReport(
            batch: batch, source: .covertExposure, category: .streetVending,
            description: "中心大街农贸市场门口占道经营",
            location: Location(area: "中心城区", street: "中心大街", point: "和平菜市场", lat: lat, lon: lon),
            evidence: evidence))
    }
    static func assign(_ unit: String, deadline: Timestamp, leader: String? = nil) -> EventData {
        .problemAssigned(Assignment(unit: unit, leader: leader, deadline: deadline))
    }
    static func extend(to deadline: Timestamp) -> EventData {
        .deadlineExtended(DeadlineExtension(deadline: deadline, reason: "需协调市场搬迁"))
    }
    static func submit(_ evidence: [Evidence] = [photo]) -> EventData {
        .rectificationSubmitted(Rectification(summary: "已清理占道摊点并设置隔离栏", evidence: evidence))
    }
    static let verify = EventData.rectificationVerified(note: "现场核实已整改")
    static let reject = EventData.rectificationRejected(reason: "现场仍有摊点")
    static let escalate = EventData.problemEscalated(Escalation(to: "王副区长", reason: "逾期未整改"))
    static func reopen(deadline: Timestamp, unit: String? = nil) -> EventData {
        .problemReopened(Reopening(reason: "回头看发现反弹回潮", deadline: deadline, unit: unit))
    }
    static let withdraw = EventData.problemWithdrawn(reason: "经核实不属实")
    static func accountability(_ target: AccountabilityTarget = AccountabilityTarget(kind: .unit, id: "U-city"),
                               problems: [String] = []) -> EventData {
        .accountabilityRecorded(Accountability(target: target, measure: .interview, reason: "整改不力", problems: problems))
    }
    static let revoke = EventData.accountabilityRevoked(reason: "问责对象有误")
}

/// One event: `data` about `subject`, by `actor`, at `time`.
func event(_ subject: String, _ data: EventData, by actor: Staff = .office, at time: Timestamp = t0,
           id: String = "e-1") -> Event {
    Event(id: id, source: "/hengkou/chuangwen-office", subject: subject, time: time,
          actor: actor.name, role: actor.role, actorUnit: actor.unit, data: data)
}

/// A log's state and the store's clock, built by appending events through `decide` and `evolve`.
struct World {
    var state = CampaignState()
    /// The store's clock (`recordedAt`) for the next append: far after every time in the stories,
    /// unless a test sets it.
    var clock = ts("2023-01-01T00:00:00+08:00")
    /// The business time the next `then` event gets: one hour after the last.
    var now = t0
    /// How many events were appended: the seq of the last.
    var seq: UInt64 = 0

    /// Appends `e` when the rules accept it; throws the refusal otherwise and leaves the state as it was.
    mutating func append(_ e: Event, expectedVersion: UInt64? = nil) throws(Refusal) {
        try Rules.decide(e, given: state.record, recordedAt: clock, expectedVersion: expectedVersion)
        seq += 1
        state.apply(e, seq: seq)
        now = max(now, e.time)
    }

    /// Appends `data` about `subject` by `actor`, one hour after the previous event; the fixture
    /// must be accepted.
    mutating func given(_ subject: String, _ data: EventData, by actor: Staff = .office,
                        sourceLocation: SourceLocation = #_sourceLocation) {
        let e = event(subject, data, by: actor, at: next())
        do { try append(e) } catch {
            Issue.record("fixture event \(e.type.rawValue) on \(subject) refused: \(error)", sourceLocation: sourceLocation)
        }
    }

    /// The business time for the next event: one hour after the latest so far.
    mutating func next() -> Timestamp {
        now = now.adding(seconds: 3600)
        return now
    }

    /// Whether the rules would accept `e` now; the refusal if not.
    func refusal(of e: Event, expectedVersion: UInt64? = nil) -> Refusal? {
        do {
            try Rules.decide(e, given: state.record, recordedAt: clock, expectedVersion: expectedVersion)
            return nil
        } catch { return error }
    }

    func problem(_ id: String = "P-1") -> Problem? { state.records[id]?.problem }

    // MARK: stories

    /// Two registered units (city management U-city, traffic police U-traffic) and one batch B-1.
    static func registered() -> World {
        var w = World()
        w.given("U-city", .unit("城市管理局"))
        w.given("U-traffic", .unit("交警大队"))
        w.given("B-1", .batch())
        return w
    }

    /// `registered()` with problem `id` of B-1 brought to `status` along the shortest path:
    /// assigned to U-city (leader 王局长, deadline 7 days after t0), submitted by U-city's staff,
    /// verified by the inspector, or withdrawn by the office.
    static func problem(_ id: String = "P-1", in status: ProblemStatus) -> World {
        var w = registered()
        w.bring(id, to: status)
        return w
    }

    /// Reports problem `id` and brings it to `status` (see `problem(_:in:)`).
    mutating func bring(_ id: String, to status: ProblemStatus) {
        given(id, .report(batch: "B-1"))
        switch status {
        case .reported: break
        case .withdrawn: given(id, .withdraw)
        case .assigned, .submitted, .closed:
            given(id, .assign("U-city", deadline: days(7), leader: "王局长"))
            if status == .assigned { break }
            given(id, .submit(), by: .cityStaff)
            if status == .submitted { break }
            given(id, .verify, by: .inspector)
        }
    }
}

/// Expects `e` to be refused under `rule` in `world`; returns the refusal for further checks.
@discardableResult
func expectRefusal(_ rule: Refusal.Rule, _ e: Event, in world: World, expectedVersion: UInt64? = nil,
                   sourceLocation: SourceLocation = #_sourceLocation) -> Refusal? {
    let refusal = world.refusal(of: e, expectedVersion: expectedVersion)
    #expect(refusal != nil, "\(e.type.rawValue) on \(e.subject) was accepted", sourceLocation: sourceLocation)
    if let refusal {
        #expect(refusal.rule == rule, "refused as \(refusal)", sourceLocation: sourceLocation)
        #expect(!refusal.message.isEmpty, sourceLocation: sourceLocation)
    }
    return refusal
}

/// Expects `e` to be accepted in `world`.
func expectAccepted(_ e: Event, in world: World, expectedVersion: UInt64? = nil,
                    sourceLocation: SourceLocation = #_sourceLocation) {
    let refusal = world.refusal(of: e, expectedVersion: expectedVersion)
    #expect(refusal == nil, "\(e.type.rawValue) on \(e.subject) refused: \(refusal?.description ?? "")",
            sourceLocation: sourceLocation)
}

/// The nine event types of a problem's stream.
let problemEventTypes: [EventType] = [
    .problemReported, .problemAssigned, .deadlineExtended, .rectificationSubmitted, .rectificationVerified,
    .rectificationRejected, .problemEscalated, .problemReopened, .problemWithdrawn,
]

extension World {
    /// An event of `type` about `subject` that would pass every rule but the lifecycle's: by an actor
    /// allowed to append it, of another unit than U-city where it verifies, with deadlines well after
    /// any in force.
    mutating func candidate(_ type: EventType, on subject: String = "P-1") -> Event {
        let at = next()
        switch type {
        case .unitRegistered: return event(subject, .unit("新单位"), at: at)
        case .batchOpened: return event(subject, .batch(), at: at)
        case .problemReported: return event(subject, .report(batch: "B-1"), at: at)
        case .problemAssigned: return event(subject, .assign("U-city", deadline: days(30)), at: at)
        case .deadlineExtended: return event(subject, .extend(to: days(30)), at: at)
        case .rectificationSubmitted: return event(subject, .submit(), by: .cityStaff, at: at)
        case .rectificationVerified: return event(subject, .verify, by: .inspector, at: at)
        case .rectificationRejected: return event(subject, .reject, by: .inspector, at: at)
        case .problemEscalated: return event(subject, .escalate, at: at)
        case .problemReopened: return event(subject, .reopen(deadline: days(30)), at: at)
        case .problemWithdrawn: return event(subject, .withdraw, at: at)
        case .accountabilityRecorded: return event(subject, .accountability(), by: .discipline, at: at)
        case .accountabilityRevoked: return event(subject, .revoke, by: .discipline, at: at)
        case .accountEnrolled: return event(subject, .enroll("王五", .unit, unit: "U-city"), at: at)
        case .accountChanged: return event(subject, .accountChanged(AccountChange(unit: "U-traffic")), at: at)
        case .accountRevoked: return event(subject, .accountRevoked(reason: "调离"), at: at)
        }
    }
}
