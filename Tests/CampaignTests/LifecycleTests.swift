import Campaign
import Testing

/// A counter of a problem that an event raises by one.
enum Counter: Sendable { case rejections, escalations, reopens }

/// One row of the lifecycle table (docs/rules.md), for one `from` status.
struct Transition: Sendable, CustomTestStringConvertible {
    var from: ProblemStatus
    var type: EventType
    var to: ProblemStatus
    var counter: Counter?

    var testDescription: String { "\(from.rawValue) --\(type.rawValue)--> \(to.rawValue)" }
}

/// The lifecycle table, written out from the specification (not from `Rules`), one row per `from`.
let lifecycleTable: [Transition] = [
    Transition(from: .reported, type: .problemAssigned, to: .assigned),
    Transition(from: .assigned, type: .problemAssigned, to: .assigned),
    Transition(from: .assigned, type: .deadlineExtended, to: .assigned),
    Transition(from: .assigned, type: .rectificationSubmitted, to: .submitted),
    Transition(from: .submitted, type: .rectificationVerified, to: .closed),
    Transition(from: .submitted, type: .rectificationRejected, to: .assigned, counter: .rejections),
    Transition(from: .closed, type: .problemReopened, to: .assigned, counter: .reopens),
] + [ProblemStatus.reported, .assigned, .submitted].flatMap { from in [
    Transition(from: from, type: .problemEscalated, to: from, counter: .escalations),
    Transition(from: from, type: .problemWithdrawn, to: .withdrawn),
] }

/// Every (status, problem event type) pair the table does not allow.
let refusedTransitions: [(ProblemStatus, EventType)] = ProblemStatus.allCases.flatMap { status in
    problemEventTypes
        .filter { type in !lifecycleTable.contains { $0.from == status && $0.type == type } }
        .map { (status, $0) }
}

@Suite("Lifecycle of a problem")
struct LifecycleTests {
    @Test("reporting a new problem makes it reported, at the time of its report")
    func reportMakesReported() throws {
        var world = World.registered()
        let report = event("P-1", .report(batch: "B-1"), at: hours(5))

        try world.append(report)

        let problem = try #require(world.problem())
        #expect(problem.status == .reported)
        #expect(problem.batch == "B-1")
        #expect(problem.reportedAt == hours(5))
        #expect(problem.deadline == nil && problem.unit == nil && problem.closedAt == nil)
        let stream = try #require(world.state.records["P-1"])
        #expect(stream.kind == .problem && stream.version == 1 && stream.lastTime == hours(5))
    }

    @Test("each row of the lifecycle table is accepted and leads to its status", arguments: lifecycleTable)
    func acceptedTransition(_ row: Transition) throws {
        var world = World.problem(in: row.from)
        let before = try #require(world.problem())
        let versionBefore = try #require(world.state.records["P-1"]).version
        let e = world.candidate(row.type)

        try world.append(e)

        let after = try #require(world.problem())
        #expect(after.status == row.to)
        #expect(after.rejections == before.rejections + (row.counter == .rejections ? 1 : 0))
        #expect(after.escalations == before.escalations + (row.counter == .escalations ? 1 : 0))
        #expect(after.reopens == before.reopens + (row.counter == .reopens ? 1 : 0))
        #expect(world.state.records["P-1"]?.version == versionBefore + 1)
        #expect(world.state.records["P-1"]?.lastTime == e.time)
    }

    @Test("every other problem event is refused, naming the problem and the status it is in",
          arguments: refusedTransitions)
    func refusedTransition(_ status: ProblemStatus, _ type: EventType) throws {
        var world = World.problem(in: status)
        let e = world.candidate(type)

        let refusal = try #require(expectRefusal(.lifecycle, e, in: world))

        #expect(refusal.message.contains("P-1"), "\(refusal.message)")
        #expect(refusal.message.contains(status.named), "\(refusal.message)")
    }

    @Test("a refused event leaves the state as it was")
    func refusalChangesNothing() {
        var world = World.problem(in: .closed)
        let before = world.state
        let verifyAgain = world.candidate(.rectificationVerified)

        #expect(throws: Refusal.self) { try world.append(verifyAgain) }

        #expect(world.state == before)
    }

    @Test("every problem event but the report is refused for a problem never reported",
          arguments: problemEventTypes.filter { $0 != .problemReported })
    func unknownProblem(_ type: EventType) throws {
        var world = World.registered()
        let e = world.candidate(type, on: "P-404")

        let refusal = try #require(expectRefusal(.reference, e, in: world))

        #expect(refusal.message.contains("P-404"))
    }

    @Test("a closed problem points the clerk to 回头看; a withdrawn one is final")
    func closedAndWithdrawnMessages() throws {
        var closed = World.problem(in: .closed)
        let assignClosed = closed.candidate(.problemAssigned)
        var withdrawn = World.problem(in: .withdrawn)
        let reopenWithdrawn = withdrawn.candidate(.problemReopened)

        let toClosed = try #require(expectRefusal(.lifecycle, assignClosed, in: closed))
        let toWithdrawn = try #require(expectRefusal(.lifecycle, reopenWithdrawn, in: withdrawn))

        #expect(toClosed.message.contains("已销号(closed)"))
        #expect(toClosed.message.contains("problem.reopened"))
        #expect(toWithdrawn.message.contains("已撤销（不属实）(withdrawn)"))
    }

    @Test("a problem's whole life: rejected, fixed, closed, reopened, escalated, closed again")
    func wholeLife() throws {
        var world = World.problem(in: .assigned)

        try world.append(event("P-1", .submit(), by: .cityStaff, at: world.next()))
        try world.append(event("P-1", .reject, by: .inspector, at: world.next()))
        try world.append(event("P-1", .escalate, at: world.next()))
        try world.append(event("P-1", .submit(), by: .cityStaff, at: world.next()))
        let firstClose = world.next()
        try world.append(event("P-1", .verify, by: .office, at: firstClose))
        #expect(world.problem()?.closedAt == firstClose)
        try world.append(event("P-1", .reopen(deadline: days(20)), by: .inspector, at: world.next()))
        try world.append(event("P-1", .escalate, at: world.next()))
        try world.append(event("P-1", .submit(), by: .cityStaff, at: world.next()))
        let secondClose = world.next()
        try world.append(event("P-1", .verify, by: .inspector, at: secondClose))

        let problem = try #require(world.problem())
        #expect(problem.status == .closed)
        #expect(problem.rejections == 1)
        #expect(problem.escalations == 2)
        #expect(problem.reopens == 1)
        #expect(problem.closedAt == secondClose)
        #expect(problem.deadline == days(20))
        #expect(problem.submittedBy == nil)
        // report, assign, then the nine events above
        #expect(world.state.records["P-1"]?.version == 11)
    }

    @Test("reassigning (转办) moves the problem to the new unit, with its leader and deadline")
    func reassign() throws {
        var world = World.problem(in: .assigned)

        try world.append(event("P-1", .assign("U-traffic", deadline: days(3), leader: "交警大队长"), at: world.next()))

        let problem = try #require(world.problem())
        #expect(problem.status == .assigned)
        #expect(problem.unit == "U-traffic")
        #expect(problem.leader == "交警大队长")
        #expect(problem.deadline == days(3))
    }

    @Test("the rules' own table of statuses agrees with the specification", arguments: problemEventTypes)
    func statusesAgreeWithSpecification(_ type: EventType) {
        let specified = lifecycleTable.filter { $0.type == type }.map(\.from)

        let allowed = Rules.statuses(allowing: type)

        if type == .problemReported {
            #expect(allowed == nil)
        } else {
            #expect(Set(allowed ?? []) == Set(specified))
        }
    }
}
