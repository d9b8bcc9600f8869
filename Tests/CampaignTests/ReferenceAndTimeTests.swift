import Campaign
import Testing

@Suite("References: batches, units and problems named must exist")
struct ReferenceTests {
    @Test("a problem may name a batch that is open, not one that is not")
    func reportBatch() throws {
        var world = World.registered()

        let known = event("P-1", .report(batch: "B-1"), at: world.next())
        let unknown = event("P-2", .report(batch: "B-404"), at: world.next())
        let none = event("P-3", .report(batch: nil), at: world.next())

        expectAccepted(known, in: world)
        expectAccepted(none, in: world)
        let refusal = try #require(expectRefusal(.reference, unknown, in: world))
        #expect(refusal.message.contains("B-404"))
    }

    @Test("a problem is assigned only to a registered unit")
    func assignUnit() throws {
        var world = World.problem(in: .reported)

        let e = event("P-1", .assign("U-404", deadline: days(7)), at: world.next())

        let refusal = try #require(expectRefusal(.reference, e, in: world))
        #expect(refusal.message.contains("U-404"))
    }

    @Test("a reopened problem goes only to a registered unit")
    func reopenUnit() throws {
        var world = World.problem(in: .closed)

        let e = event("P-1", .reopen(deadline: days(30), unit: "U-404"), at: world.next())

        let refusal = try #require(expectRefusal(.reference, e, in: world))
        #expect(refusal.message.contains("U-404"))
    }

    @Test("a unit may name a parent not registered yet (children are often registered first)")
    func unitParent() {
        var world = World.registered()

        let orphan = event("U-community", .unit("和平社区", kind: .community, parent: "U-street-later"), at: world.next())
        let child = event("U-community", .unit("和平社区", kind: .community, parent: "U-city"), at: world.next())

        expectAccepted(orphan, in: world)
        expectAccepted(child, in: world)
    }

    @Test("accountability aimed at a unit needs a registered unit")
    func accountabilityTargetUnit() {
        var world = World.registered()

        let unknown = event("C-1", .accountability(AccountabilityTarget(kind: .unit, id: "U-404")),
                            by: .discipline, at: world.next())
        let known = event("C-1", .accountability(AccountabilityTarget(kind: .unit, id: "U-traffic")),
                          by: .discipline, at: world.next())

        expectRefusal(.reference, unknown, in: world)
        expectAccepted(known, in: world)
    }

    @Test("accountability aimed at a person needs the person's unit registered, when it is named")
    func accountabilityPersonUnit() {
        var world = World.registered()
        let person = { (unit: String?) in
            AccountabilityTarget(kind: .person, id: "person/wang-fuju", name: "王副局长", unit: unit)
        }

        let unknownUnit = event("C-1", .accountability(person("U-404")), by: .discipline, at: world.next())
        let knownUnit = event("C-1", .accountability(person("U-city")), by: .discipline, at: world.next())
        let noUnit = event("C-1", .accountability(person(nil)), by: .discipline, at: world.next())

        expectRefusal(.reference, unknownUnit, in: world)
        expectAccepted(knownUnit, in: world)
        expectAccepted(noUnit, in: world)
    }

    @Test("the problems of an accountability case must have been reported")
    func accountabilityProblems() throws {
        var world = World.problem(in: .assigned)

        let unknown = event("C-1", .accountability(problems: ["P-1", "P-404"]), by: .discipline, at: world.next())
        let known = event("C-1", .accountability(problems: ["P-1"]), by: .discipline, at: world.next())
        let empty = event("C-1", .accountability(problems: []), by: .discipline, at: world.next())

        let refusal = try #require(expectRefusal(.reference, unknown, in: world))
        #expect(refusal.message.contains("P-404"))
        expectAccepted(known, in: world)
        expectAccepted(empty, in: world)
    }

    @Test("a unit is registered once, a batch opened once, a problem reported once")
    func noSecondBeginning() {
        var world = World.problem(in: .reported)

        let unitAgain = event("U-city", .unit("城市管理局"), at: world.next())
        let batchAgain = event("B-1", .batch(), at: world.next())
        let problemAgain = event("P-1", .report(batch: "B-1"), by: .inspector, at: world.next())

        expectRefusal(.lifecycle, unitAgain, in: world)
        expectRefusal(.lifecycle, batchAgain, in: world)
        expectRefusal(.lifecycle, problemAgain, in: world)
    }

    @Test("a subject of one kind cannot be used as another", arguments: [
        ("U-city", EventType.batchOpened), ("U-city", .problemReported), ("U-city", .problemAssigned),
        ("B-1", .unitRegistered), ("B-1", .problemReported), ("B-1", .accountabilityRecorded),
        ("P-1", .unitRegistered), ("P-1", .batchOpened), ("P-1", .accountabilityRecorded),
        ("P-1", .accountabilityRevoked), ("C-1", .problemReported), ("C-1", .problemEscalated),
    ])
    func kindMismatch(_ subject: String, _ type: EventType) throws {
        var world = World.problem(in: .assigned)
        world.given("C-1", .accountability(), by: .discipline)
        let e = world.candidate(type, on: subject)

        let refusal = try #require(expectRefusal(.reference, e, in: world))
        let existing = try #require(world.state.records[subject]).kind
        #expect(refusal.message.contains(subject))
        #expect(refusal.message.contains("\(existing.label)(\(existing.rawValue))"), "\(refusal.message)")
    }

    @Test("only a recorded, unrevoked accountability case can be revoked")
    func revoke() throws {
        var world = World.registered()
        world.given("C-1", .accountability(), by: .discipline)

        let unknown = event("C-404", .revoke, by: .discipline, at: world.next())
        let first = event("C-1", .revoke, by: .discipline, at: world.next())
        expectRefusal(.reference, unknown, in: world)
        try world.append(first)
        let second = event("C-1", .revoke, by: .discipline, at: world.next())

        #expect(world.state.records["C-1"]?.accountability?.revoked == true)
        expectRefusal(.lifecycle, second, in: world)
    }
}

@Suite("Time: the store's clock, streams that never go back, deadlines")
struct TimeTests {
    /// A world whose store clock reads `recordedAt`.
    static func world(clock recordedAt: Timestamp) -> World {
        var world = World.registered()
        world.clock = recordedAt
        return world
    }

    @Test("an event may lie up to exactly 5 minutes after the store's clock")
    func fiveMinutesAhead() {
        let recordedAt = ts("2022-08-19T08:00:00Z")
        let world = Self.world(clock: recordedAt)

        let exactly = event("P-1", .report(), at: ts("2022-08-19T16:05:00+08:00"))

        expectAccepted(exactly, in: world)
    }

    @Test("an event more than 5 minutes after the store's clock is refused",
          arguments: [1, 1_000_000, 3_600_000_000] as [Int64])
    func moreThanFiveMinutesAhead(_ microsBeyond: Int64) throws {
        let recordedAt = ts("2022-08-19T08:00:00Z")
        let world = Self.world(clock: recordedAt)
        let time = Timestamp(micros: recordedAt.micros + 300_000_000 + microsBeyond, offsetMinutes: 480)

        let e = event("P-1", .report(), at: time)

        expectRefusal(.time, e, in: world)
    }

    @Test("an event far in the past of the store's clock is accepted (backdating is flagged, not refused)")
    func pastIsFine() {
        let world = Self.world(clock: ts("2022-09-30T00:00:00Z"))

        let e = event("P-1", .report(), at: ts("2022-01-01T00:00:00+08:00"))

        expectAccepted(e, in: world)
    }

    @Test("time may not go backwards within a subject's stream; the same moment is fine")
    func noGoingBack() throws {
        let world = World.problem(in: .reported)
        let last = try #require(world.state.records["P-1"]).lastTime

        let earlier = event("P-1", .escalate, at: last.adding(seconds: -1))
        let same = event("P-1", .escalate, at: last)
        let sameMomentOtherOffset = event("P-1", .escalate, at: last.inOffset(-300))
        let otherStream = event("P-2", .report(), at: t0.adding(seconds: -86_400))

        expectRefusal(.time, earlier, in: world)
        expectAccepted(same, in: world)
        expectAccepted(sameMomentOtherOffset, in: world)
        expectAccepted(otherStream, in: world)
    }

    @Test("times in different offsets compare as moments")
    func offsetsCompareAsMoments() {
        var world = World.registered()
        world.given("P-1", .report())  // at t0 + 4 h = 2022-08-19T20:00:00+08:00 = 12:00Z

        let laterInUTC = event("P-1", .escalate, at: ts("2022-08-19T12:30:00Z"))
        let earlierInUTC = event("P-1", .escalate, at: ts("2022-08-19T11:59:59Z"))

        #expect(world.state.records["P-1"]?.lastTime == ts("2022-08-19T12:00:00Z"))
        expectAccepted(laterInUTC, in: world)
        expectRefusal(.time, earlierInUTC, in: world)
    }

    @Test("a deadline may not lie before the event's time; at the same moment it may",
          arguments: [EventType.problemAssigned, .problemReopened, .deadlineExtended])
    func deadlineBeforeEvent(_ type: EventType) throws {
        // an extension's problem is assigned with a short deadline, so that the new deadline is
        // later than the one in force yet before the event
        var world = World.registered()
        world.given("P-1", .report())
        switch type {
        case .problemReopened:
            world.given("P-1", .assign("U-city", deadline: days(1)))
            world.given("P-1", .submit(), by: .cityStaff)
            world.given("P-1", .verify, by: .inspector)
        case .deadlineExtended:
            world.given("P-1", .assign("U-city", deadline: world.now.adding(seconds: 3600)))
        default: break
        }
        let at = world.now.adding(seconds: 5 * 3600)
        func e(_ deadline: Timestamp) -> Event {
            switch type {
            case .problemAssigned: event("P-1", .assign("U-city", deadline: deadline), at: at)
            case .problemReopened: event("P-1", .reopen(deadline: deadline), at: at)
            default: event("P-1", .extend(to: deadline), at: at)
            }
        }

        let refusal = try #require(expectRefusal(.time, e(at.adding(seconds: -1)), in: world))
        expectAccepted(e(at), in: world)
        expectAccepted(e(at.adding(seconds: 86_400)), in: world)
        #expect(refusal.message.contains("早于事件时间"), "\(refusal.message)")
    }

    @Test("an extension must be later than the deadline in force", arguments: [-86_400, 0] as [Int64])
    func extensionNotLater(_ offsetFromDeadline: Int64) throws {
        var world = World.problem(in: .assigned)
        let inForce = try #require(world.problem()?.deadline)

        let e = event("P-1", .extend(to: inForce.adding(seconds: offsetFromDeadline)), at: world.next())

        expectRefusal(.time, e, in: world)
    }

    @Test("an extension later than the deadline in force becomes the deadline")
    func extensionLater() throws {
        var world = World.problem(in: .assigned)
        let inForce = try #require(world.problem()?.deadline)

        try world.append(event("P-1", .extend(to: inForce.adding(seconds: 1)), at: world.next()))

        #expect(world.problem()?.deadline == inForce.adding(seconds: 1))
    }

    @Test("an extension is judged against the deadline of the latest assignment, not the first")
    func extensionAfterReassign() throws {
        var world = World.problem(in: .assigned)  // deadline: t0 + 7 days
        world.given("P-1", .assign("U-traffic", deadline: days(14)))

        let between = event("P-1", .extend(to: days(10)), at: world.next())

        expectRefusal(.time, between, in: world)
    }
}

@Suite("Optimistic concurrency (expectedversion)")
struct ConcurrencyTests {
    @Test("an expectedversion equal to the stream's length is accepted")
    func matching() throws {
        var world = World.problem(in: .assigned)  // reported, assigned
        let e = event("P-1", .escalate, at: world.next())

        expectAccepted(e, in: world, expectedVersion: 2)
        try world.append(e, expectedVersion: 2)
        #expect(world.state.records["P-1"]?.version == 3)
    }

    @Test("an expectedversion other than the stream's length is refused", arguments: [0, 1, 3, 99] as [UInt64])
    func mismatching(_ expected: UInt64) throws {
        var world = World.problem(in: .assigned)
        let e = event("P-1", .escalate, at: world.next())

        let refusal = try #require(expectRefusal(.concurrency, e, in: world, expectedVersion: expected))
        #expect(refusal.message.contains("P-1"))
        #expect(refusal.message.contains("expectedversion=\(expected)"))
    }

    @Test("a new subject's stream holds 0 events")
    func newSubject() {
        var world = World.registered()
        let e = event("P-new", .report(), at: world.next())

        expectAccepted(e, in: world, expectedVersion: 0)
        expectRefusal(.concurrency, e, in: world, expectedVersion: 1)
    }

    @Test("without expectedversion, no version is checked")
    func absent() {
        var world = World.problem(in: .closed)
        let e = event("P-1", .reopen(deadline: days(30)), at: world.next())

        expectAccepted(e, in: world, expectedVersion: nil)
    }
}
