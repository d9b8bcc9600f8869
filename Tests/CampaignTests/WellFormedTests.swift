import Campaign
import Testing

/// A named malformed event, for parameterized tests.
struct Malformed: Sendable, CustomTestStringConvertible {
    var testDescription: String
    var event: Event
    init(_ name: String, _ event: Event) { self.testDescription = name; self.event = event }
}

/// `e` with one of its envelope fields changed.
func with(_ e: Event, _ change: (inout Event) -> Void) -> Event {
    var copy = e
    change(&copy)
    return copy
}

/// The refusal `checkWellFormed` throws for `e`, if any.
func wellFormedRefusal(_ e: Event) -> Refusal? {
    do {
        try Rules.checkWellFormed(e)
        return nil
    } catch { return error }
}

let blank = " \t\u{3000}"

@Suite("Well-formedness (Rules.checkWellFormed)")
struct WellFormedTests {
    @Test("ids of 1 to 128 characters of A-Za-z0-9._:- are accepted",
          arguments: ["e", "e-0001", "A-Za-z0-9._:-", String(repeating: "x", count: 128)])
    func goodIds(_ id: String) {
        let e = event("P-1", .report(), id: id)

        #expect(throws: Never.self) { try Rules.checkWellFormed(e) }
        #expect(Rules.isIdentifier(id))
    }

    @Test("other ids are refused",
          arguments: ["", String(repeating: "x", count: 129), "e 1", "e/1", "事件-1", "e-1\n", "e#1", "é"])
    func badIds(_ id: String) throws {
        let e = event("P-1", .report(), id: id)

        let refusal = try #require(#expect(throws: Refusal.self) { try Rules.checkWellFormed(e) })
        #expect(refusal.rule == .malformed)
        #expect(refusal.message.contains("id"))
    }

    @Test("required texts may not be empty or blank", arguments: [
        Malformed("subject", with(event("P-1", .report())) { $0.subject = "" }),
        Malformed("blank subject", with(event("P-1", .report())) { $0.subject = blank }),
        Malformed("source", with(event("P-1", .report())) { $0.source = "" }),
        Malformed("actor", with(event("P-1", .report())) { $0.actor = blank }),
        Malformed("actorunit", with(event("P-1", .report())) { $0.actorUnit = "" }),
        Malformed("unit name", event("U-1", .unit(blank))),
        Malformed("batch name", event("B-1", .batch(""))),
        Malformed("description", event("P-1", .problemReported(ProblemReport(
            source: .inspection, category: .sanitation, description: blank, location: Location(area: "中心城区"))))),
        Malformed("location area", event("P-1", .problemReported(ProblemReport(
            source: .inspection, category: .sanitation, description: "垃圾堆放", location: Location(area: ""))))),
        Malformed("assigned unit", event("P-1", .assign("", deadline: days(7)))),
        Malformed("extension reason", event("P-1", .deadlineExtended(DeadlineExtension(deadline: days(9), reason: "")))),
        Malformed("summary", event("P-1", .rectificationSubmitted(Rectification(summary: blank, evidence: [photo])),
                                   by: .cityStaff)),
        Malformed("rejection reason", event("P-1", .rectificationRejected(reason: ""), by: .inspector)),
        Malformed("escalated to", event("P-1", .problemEscalated(Escalation(to: "", reason: "逾期")))),
        Malformed("escalation reason", event("P-1", .problemEscalated(Escalation(to: "王副区长", reason: blank)))),
        Malformed("reopening reason", event("P-1", .problemReopened(Reopening(reason: "", deadline: days(9))))),
        Malformed("withdrawal reason", event("P-1", .problemWithdrawn(reason: blank))),
        Malformed("target id", event("C-1", .accountability(AccountabilityTarget(kind: .unit, id: "")), by: .discipline)),
        Malformed("accountability reason", event("C-1", .accountabilityRecorded(Accountability(
            target: AccountabilityTarget(kind: .unit, id: "U-city"), measure: .interview, reason: "")), by: .discipline)),
        Malformed("revocation reason", event("C-1", .accountabilityRevoked(reason: ""), by: .discipline)),
        Malformed("subject over 256 bytes", with(event("P-1", .report())) { $0.subject = String(repeating: "问", count: 86) }),
    ])
    func emptyRequired(_ malformed: Malformed) throws {
        let refusal = try #require(#expect(throws: Refusal.self) { try Rules.checkWellFormed(malformed.event) })

        #expect(refusal.rule == .malformed)
    }

    @Test("a well-formed event of every type passes", arguments: EventType.allCases)
    func wellFormedPasses(_ type: EventType) {
        var world = World.everything()
        let e = world.candidate(type, on: World.subject(for: type))

        #expect(throws: Never.self) { try Rules.checkWellFormed(e) }
    }

    @Test("evidence hashes must be 64 hex digits", arguments: [
        "", String(repeating: "a", count: 63), String(repeating: "a", count: 65),
        String(repeating: "g", count: 64), String(repeating: "a", count: 62) + "  ",
        String(repeating: "哈", count: 64),
    ])
    func badEvidence(_ sha256: String) throws {
        let evidence = [photo, Evidence(sha256: sha256)]
        let onReport = event("P-1", .report(evidence: evidence))
        let onSubmission = event("P-1", .submit(evidence), by: .cityStaff)

        let a = try #require(#expect(throws: Refusal.self) { try Rules.checkWellFormed(onReport) })
        let b = try #require(#expect(throws: Refusal.self) { try Rules.checkWellFormed(onSubmission) })

        #expect(a.rule == .malformed && b.rule == .malformed)
        #expect(a.message.contains("evidence[1]"), "\(a.message)")
    }

    @Test("a 64-hex-digit evidence hash passes")
    func goodEvidence() {
        let hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

        #expect(throws: Never.self) { try Rules.checkWellFormed(event("P-1", .report(evidence: [Evidence(sha256: hash)]))) }
        #expect(Rules.isSHA256Hex(hash))
    }

    @Test("a rectification comes with at least one piece of evidence")
    func submissionWithoutEvidence() throws {
        let e = event("P-1", .submit([]), by: .cityStaff)

        let refusal = try #require(#expect(throws: Refusal.self) { try Rules.checkWellFormed(e) })

        #expect(refusal.rule == .malformed)
        #expect(refusal.message.contains("evidence"))
    }

    @Test("latitude lies within -90…90 and longitude within -180…180", arguments: [
        (90.0, 180.0, true), (-90.0, -180.0, true), (30.6, 114.3, true),
        (90.000001, 0.0, false), (-90.5, 0.0, false), (0.0, 180.5, false), (0.0, -181.0, false),
        (Double.nan, 0.0, false), (0.0, Double.infinity, false),
    ])
    func coordinates(_ lat: Double, _ lon: Double, _ valid: Bool) {
        let e = event("P-1", .report(lat: lat, lon: lon))

        let refusal = wellFormedRefusal(e)

        #expect((refusal == nil) == valid, "\(refusal?.description ?? "accepted")")
        #expect(refusal.map { $0.rule == .malformed } ?? true)
    }

    @Test("decide refuses a malformed event before any other rule")
    func decideChecksWellFormed() {
        var world = World.problem(in: .assigned)
        // would also break the role rule and the lifecycle
        let e = event("P-1", .submit([]), by: .auditor, at: world.next(), id: "bad id")

        expectRefusal(.malformed, e, in: world)
    }
}

@Suite("Reopening after 回头看, and what is overdue")
struct ReopenTests {
    @Test("a reopened problem goes by default to the last assigned unit, keeping its leader")
    func defaultUnit() throws {
        var world = World.problem(in: .assigned)  // U-city, 王局长
        world.given("P-1", .assign("U-traffic", deadline: days(8), leader: "李大队长"))
        world.given("P-1", .submit(), by: .trafficStaff)
        world.given("P-1", .verify, by: .office)

        try world.append(event("P-1", .reopen(deadline: days(20)), by: .inspector, at: world.next()))

        let problem = try #require(world.problem())
        #expect(problem.status == .assigned)
        #expect(problem.unit == "U-traffic")
        #expect(problem.leader == "李大队长")
        #expect(problem.deadline == days(20))
        #expect(problem.reopens == 1)
    }

    @Test("a problem reopened to another unit loses the former unit's leader")
    func otherUnit() throws {
        var world = World.problem(in: .closed)

        try world.append(event("P-1", .reopen(deadline: days(20), unit: "U-traffic"), at: world.next()))

        let problem = try #require(world.problem())
        #expect(problem.unit == "U-traffic")
        #expect(problem.leader == nil)
    }

    @Test("a problem reopened to its own unit, named, keeps its leader")
    func sameUnitNamed() throws {
        var world = World.problem(in: .closed)

        try world.append(event("P-1", .reopen(deadline: days(20), unit: "U-city"), at: world.next()))

        #expect(world.problem()?.unit == "U-city")
        #expect(world.problem()?.leader == "王局长")
    }

    @Test("after reopening, the unit it went to submits, and the former one may not")
    func reopenedUnitSubmits() {
        var world = World.problem(in: .closed)
        world.given("P-1", .reopen(deadline: days(20), unit: "U-traffic"))

        let byFormer = event("P-1", .submit(), by: .cityStaff, at: world.next())
        let byNew = event("P-1", .submit(), by: .trafficStaff, at: world.next())

        expectRefusal(.role, byFormer, in: world)
        expectAccepted(byNew, in: world)
    }

    @Test("reopening clears the time it was closed")
    func closedAtCleared() throws {
        var world = World.problem(in: .closed)
        let closedAt = try #require(world.problem()?.closedAt)
        #expect(closedAt == world.now)

        try world.append(event("P-1", .reopen(deadline: days(20)), at: world.next()))

        #expect(world.problem()?.closedAt == nil)
    }

    @Test("closedAt is only set by a verification")
    func closedAtOnlyOnVerify() {
        let submitted = World.problem(in: .submitted)
        let withdrawn = World.problem(in: .withdrawn)

        #expect(submitted.problem()?.closedAt == nil)
        #expect(withdrawn.problem()?.closedAt == nil)
    }

    @Test("an assigned problem is overdue strictly after its deadline in force")
    func overdue() throws {
        let world = World.problem(in: .assigned)
        let problem = try #require(world.problem())
        let deadline = try #require(problem.deadline)

        #expect(!problem.isOverdue(at: deadline.adding(seconds: -1)))
        #expect(!problem.isOverdue(at: deadline))
        #expect(problem.isOverdue(at: Timestamp(micros: deadline.micros + 1)))
        #expect(problem.isOverdue(at: deadline.adding(seconds: 86_400)))
    }

    @Test("only an assigned problem can be overdue",
          arguments: [ProblemStatus.reported, .submitted, .closed, .withdrawn])
    func notOverdue(_ status: ProblemStatus) throws {
        let world = World.problem(in: status)
        let problem = try #require(world.problem())

        #expect(problem.status == status)
        #expect(!problem.isOverdue(at: days(365)))
    }

    @Test("an extension moves the moment a problem becomes overdue")
    func extensionDefersOverdue() throws {
        var world = World.problem(in: .assigned)  // deadline t0 + 7 days

        try world.append(event("P-1", .extend(to: days(10)), at: world.next()))

        let problem = try #require(world.problem())
        #expect(!problem.isOverdue(at: days(9)))
        #expect(problem.isOverdue(at: days(11)))
    }

    @Test("a rejected rectification makes the problem overdue again when past its deadline")
    func rejectedIsOverdueAgain() throws {
        var world = World.problem(in: .submitted)  // deadline t0 + 7 days
        #expect(world.problem()?.isOverdue(at: days(8)) == false)

        try world.append(event("P-1", .reject, by: .inspector, at: world.next()))

        #expect(world.problem()?.isOverdue(at: days(8)) == true)
    }
}
