import Campaign
import Testing

/// The table of who may append what (docs/rules.md), written out from the specification, not from `Rules`.
let mayAppend: [Role: Set<EventType>] = [
    .inspector: [.problemReported, .rectificationVerified, .rectificationRejected, .problemReopened],
    .office: [.unitRegistered, .batchOpened, .problemReported, .problemAssigned, .deadlineExtended,
              .problemEscalated, .problemReopened, .problemWithdrawn,
              .rectificationVerified, .rectificationRejected, .accountEnrolled, .accountChanged, .accountRevoked],
    .unit: [.rectificationSubmitted],
    .discipline: [.accountabilityRecorded, .accountabilityRevoked],
    .auditor: [],
]

/// Every (role, type) pair, with whether the table allows it.
let roleCases: [(Role, EventType)] = Role.allCases.flatMap { role in EventType.allCases.map { (role, $0) } }

extension World {
    /// A world where an event of every type can be accepted: problems P-reported, P-assigned,
    /// P-submitted and P-closed (assigned to U-city), and accountability case C-1.
    static func everything() -> World {
        var world = World.registered()
        world.bring("P-reported", to: .reported)
        world.bring("P-assigned", to: .assigned)
        world.bring("P-submitted", to: .submitted)
        world.bring("P-closed", to: .closed)
        world.given("C-1", .accountability(), by: .discipline)
        world.given("unit/enrolled", .enroll("李四", .unit, unit: "U-city"))
        return world
    }

    /// The subject, in `everything()`, where an event of `type` can be accepted.
    static func subject(for type: EventType) -> String {
        switch type {
        case .unitRegistered: "U-new"
        case .batchOpened: "B-new"
        case .problemReported: "P-new"
        case .problemAssigned, .problemWithdrawn: "P-reported"
        case .deadlineExtended, .rectificationSubmitted, .problemEscalated: "P-assigned"
        case .rectificationVerified, .rectificationRejected: "P-submitted"
        case .problemReopened: "P-closed"
        case .accountabilityRecorded: "C-new"
        case .accountabilityRevoked: "C-1"
        case .accountEnrolled: "unit/new"
        case .accountChanged, .accountRevoked: "unit/enrolled"
        }
    }
}

@Suite("Roles and separation of duties")
struct RoleTests {
    @Test("each role may append exactly the types the specification gives it", arguments: roleCases)
    func roleMatrix(_ role: Role, _ type: EventType) throws {
        var world = World.everything()
        var e = world.candidate(type, on: World.subject(for: type))
        let staff = Staff.of(role)
        e.role = role
        e.actor = staff.name
        e.actorUnit = staff.unit

        if mayAppend[role]!.contains(type) {
            expectAccepted(e, in: world)
        } else {
            let refusal = try #require(expectRefusal(.role, e, in: world))
            #expect(refusal.message.contains(role.rawValue), "\(refusal.message)")
            #expect(refusal.message.contains(type.rawValue), "\(refusal.message)")
        }
    }

    @Test("the rules' own role table agrees with the specification", arguments: EventType.allCases)
    func rolesAgreeWithSpecification(_ type: EventType) {
        let specified = Set(Role.allCases.filter { mayAppend[$0]!.contains(type) })

        #expect(Rules.roles(allowedFor: type) == specified)
        for role in Role.allCases { #expect(Rules.mayAppend(role, type) == specified.contains(role), "\(role)") }
    }

    @Test("a blank text is spaces only: ASCII spaces, tabs, line ends and the ideographic space")
    func blankTexts() {
        for blank in ["", " ", "\t\n", "\r\n", " \r\n ", "\u{3000}", " \u{3000} "] {
            #expect(blank.isBlank, "\(Array(blank.utf8))")
            #expect(blank.trimmingSpaces.isEmpty, "\(Array(blank.utf8))")
        }
        for text in ["a", " a", "\u{3000}整改", "整改", "\u{3001}", " \u{301}"] {
            #expect(!text.isBlank, "\(Array(text.utf8))")
            #expect(!text.trimmingSpaces.isEmpty, "\(Array(text.utf8))")
        }
    }

    @Test("an auditor appends nothing, even with a unit", arguments: EventType.allCases)
    func auditorAppendsNothing(_ type: EventType) {
        var world = World.everything()
        var e = world.candidate(type, on: World.subject(for: type))
        e.role = .auditor
        e.actorUnit = "U-audit"

        expectRefusal(.role, e, in: world)
    }

    @Test("a unit submits a rectification for a problem assigned to its own unit")
    func unitSubmitsForItself() {
        var world = World.problem(in: .assigned)

        let e = event("P-1", .submit(), by: .cityStaff, at: world.next())

        expectAccepted(e, in: world)
    }

    @Test("a unit may not submit a rectification for a problem assigned to another unit")
    func unitSubmitsForAnother() throws {
        var world = World.problem(in: .assigned)

        let e = event("P-1", .submit(), by: .trafficStaff, at: world.next())

        let refusal = try #require(expectRefusal(.role, e, in: world))
        #expect(refusal.message.contains("U-city") && refusal.message.contains("U-traffic"))
    }

    @Test("after 转办 only the new unit may submit")
    func submitAfterReassign() throws {
        var world = World.problem(in: .assigned)
        world.given("P-1", .assign("U-traffic", deadline: days(10)))

        let byOld = event("P-1", .submit(), by: .cityStaff, at: world.next())
        let byNew = event("P-1", .submit(), by: .trafficStaff, at: world.next())

        expectRefusal(.role, byOld, in: world)
        expectAccepted(byNew, in: world)
    }

    @Test("office, inspector and unit must say which unit they act for",
          arguments: [Role.office, .inspector, .unit])
    func missingActorUnitRefused(_ role: Role) throws {
        var world = World.everything()
        let type: EventType = role == .unit ? .rectificationSubmitted : .problemReported
        var e = world.candidate(type, on: World.subject(for: type))
        e.role = role
        e.actorUnit = nil

        let refusal = try #require(expectRefusal(.malformed, e, in: world))
        #expect(refusal.message.contains("actorunit"))
    }

    @Test("discipline may act without a unit")
    func disciplineWithoutUnit() {
        var world = World.everything()

        let e = event("C-new", .accountability(), by: Staff.discipline.with(unit: nil), at: world.next())

        expectAccepted(e, in: world)
    }

    @Test("nobody verifies or rejects a rectification of their own unit",
          arguments: [EventType.rectificationVerified, .rectificationRejected], [Role.office, .inspector])
    func ownUnitRefused(_ type: EventType, _ role: Role) throws {
        var world = World.problem(in: .submitted)
        var e = world.candidate(type)
        e.role = role
        e.actor = "\(role.rawValue)/seconded-from-city"
        e.actorUnit = "U-city"

        let refusal = try #require(expectRefusal(.separationOfDuties, e, in: world))
        #expect(refusal.message.contains("U-city"))
    }

    @Test("another unit's staff may verify or reject",
          arguments: [EventType.rectificationVerified, .rectificationRejected])
    func otherUnitAccepted(_ type: EventType) {
        var world = World.problem(in: .submitted)
        var e = world.candidate(type)
        e.actorUnit = "U-traffic"

        expectAccepted(e, in: world)
    }

    @Test("nobody verifies a rectification they submitted themselves")
    func ownSubmissionRefused() throws {
        var world = World.problem(in: .submitted)
        // the same person, now acting as an inspector for another unit
        let sameName = Staff(name: Staff.cityStaff.name, role: .inspector, unit: "U-inspect")

        let e = event("P-1", .verify, by: sameName, at: world.next())

        let refusal = try #require(expectRefusal(.separationOfDuties, e, in: world))
        #expect(refusal.message.contains(Staff.cityStaff.name))
    }

    @Test("after a rejection, the earlier submitter no longer blocks verification of a new submission")
    func submitterIsTheLatest() throws {
        var world = World.problem(in: .submitted)
        world.given("P-1", .reject, by: .inspector)
        let colleague = Staff(name: "unit/zhou", role: .unit, unit: "U-city")
        world.given("P-1", .submit(), by: colleague)
        let zhangAsInspector = Staff(name: Staff.cityStaff.name, role: .inspector, unit: "U-inspect")
        let zhouAsInspector = Staff(name: colleague.name, role: .inspector, unit: "U-inspect")

        let byZhang = event("P-1", .verify, by: zhangAsInspector, at: world.next())
        let byZhou = event("P-1", .verify, by: zhouAsInspector, at: world.next())

        #expect(world.problem()?.submittedBy == colleague.name)
        expectAccepted(byZhang, in: world)
        expectRefusal(.separationOfDuties, byZhou, in: world)
    }
}
