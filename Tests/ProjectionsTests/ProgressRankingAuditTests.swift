import Campaign
import Projections
import Testing

/// One list, three problems, two units, a withdrawal, a reopening that moves a problem: answers by hand.
func campaign() -> Log {
    var log = Log()
    log.report("P-1", "2022-08-19T16:00")
    log.report("P-2", "2022-08-19T17:00")
    log.open("B-1", "2022-08-20T10:00", due: "2022-08-26T18:00")
    log.assign("P-1", "2022-08-20T11:00", to: "U-a", until: "2022-08-23T18:00")
    log.assign("P-2", "2022-08-20T11:00", to: "U-b", until: "2022-08-26T18:00")
    log.report("P-3", "2022-08-21T09:00")
    log.add("P-3", "2022-08-21T10:00", .problemWithdrawn(reason: "不属实"))
    log.submit("P-1", "2022-08-22T10:00")
    log.verify("P-1", "2022-08-23T09:00")
    log.submit("P-2", "2022-08-24T10:00")
    log.add("P-2", "2022-08-24T15:00", .rectificationRejected(reason: "不到位"))
    log.submit("P-2", "2022-08-25T09:00")
    log.verify("P-2", "2022-08-25T11:00")
    log.add("P-1", "2022-09-01T10:00", .problemReopened(Reopening(reason: "反弹", deadline: log.t("2022-09-03T18:00"), unit: "U-b")))
    log.submit("P-1", "2022-09-02T10:00")
    log.verify("P-1", "2022-09-02T15:00")
    return log
}

/// One list, two problems of U-a; P-1 closed on 3 August, P-2 still open.
func unitWithOneProblemClosed() -> Log {
        var log = Log()
        log.open("B-1", "2022-08-01T09:00", due: "2022-08-10T18:00")
        log.report("P-1", "2022-08-01T10:00")
        log.report("P-2", "2022-08-01T10:00")
        log.assign("P-1", "2022-08-01T11:00", to: "U-a", until: "2022-08-09T18:00")
        log.assign("P-2", "2022-08-01T11:00", to: "U-a", until: "2022-08-09T18:00")
        log.submit("P-1", "2022-08-03T10:00")
        log.verify("P-1", "2022-08-03T15:00")
        return log
}

@Suite("清零 progress")
struct ProgressTests {
    @Test("mid-way: counts, rate, per unit, and the burn-down day by day")
    func midway() throws {
        let p = try #require(campaign().board(at: "2022-08-24T12:00").progress().first)
        #expect(p.id == "B-1")
        #expect(p.dueAt == Log().t("2022-08-26T18:00"))
        #expect(p.tally.total == 3)
        #expect(p.tally.withdrawn == 1)
        #expect(p.tally.closed == 1)
        #expect(p.tally.submitted == 1)
        #expect(p.tally.open == 0)
        #expect(p.tally.clearRate == 0.5)
        #expect(!p.tally.zeroed)
        #expect(p.tally.zeroedAt == nil)
        #expect(p.units.map(\.unit) == ["U-a", "U-b"])  // P-3 was never assigned: under no unit
        #expect(p.units[0].tally.zeroed)
        #expect(p.units[0].tally.zeroedAt == Log().t("2022-08-23T09:00"))
        #expect(p.units[1].tally.submitted == 1)
        #expect(p.series.map(\.date) == ["2022-08-20", "2022-08-21", "2022-08-22", "2022-08-23", "2022-08-24"])
        #expect(p.series.map(\.outstanding) == [2, 2, 2, 1, 1])
    }

    @Test("zeroed when every problem not withdrawn is closed; zeroedAt the verification that did it")
    func zeroed() throws {
        let p = try #require(campaign().board(at: "2022-08-26T00:00").progress().first)
        #expect(p.tally.zeroed)
        #expect(p.tally.clearRate == 1)
        #expect(p.tally.zeroedAt == Log().t("2022-08-25T11:00"))
        #expect(p.series.last?.outstanding == 0)
    }

    @Test("a reopening undoes zero, moves the problem to its new unit; zero again dates from the new closing")
    func reopenAfterZero() throws {
        let open = try #require(campaign().board(at: "2022-09-01T12:00").progress().first)
        #expect(!open.tally.zeroed)
        #expect(open.tally.zeroedAt == nil)
        #expect(open.tally.overdue == 0)
        #expect(open.units.map(\.unit) == ["U-b"])
        #expect(open.units[0].tally.total == 2)
        #expect(open.units[0].tally.open == 1)
        let again = try #require(campaign().board(at: "2022-09-05T00:00").progress().first)
        #expect(again.tally.zeroed)
        #expect(again.tally.zeroedAt == Log().t("2022-09-02T15:00"))
        #expect(again.series.count == 17)  // 20 August to 5 September
        #expect(again.series[12].outstanding == 1)  // 1 September: reopened
    }

    @Test("a unit reaches zero when its last open problem is handed to another unit (转办), at that moment")
    func zeroByReassignment() throws {
        var log = unitWithOneProblemClosed()
        log.assign("P-2", "2022-08-05T12:00", to: "U-b", until: "2022-08-09T18:00")
        let before = try #require(log.board(at: "2022-08-04T12:00").progress().first)
        #expect(before.units.first { $0.unit == "U-a" }?.tally.zeroed == false)
        let after = try #require(log.board(at: "2022-08-06T12:00").progress().first)
        let a = try #require(after.units.first { $0.unit == "U-a" })
        #expect(a.tally.zeroed)
        #expect(a.tally.zeroedAt == log.t("2022-08-05T12:00"))
        #expect(!after.tally.zeroed)
    }

    @Test("a closed problem moved away by a reopening leaves its old unit zeroed since its own last closing")
    func reopenMovesClosedProblem() throws {
        var log = unitWithOneProblemClosed()
        log.submit("P-2", "2022-08-05T10:00")
        log.verify("P-2", "2022-08-05T15:00")
        log.add("P-2", "2022-09-01T10:00", .problemReopened(Reopening(reason: "反弹", deadline: log.t("2022-09-05T18:00"), unit: "U-b")))
        let p = try #require(log.board(at: "2022-09-02T00:00").progress().first)
        let a = try #require(p.units.first { $0.unit == "U-a" })
        #expect(a.tally.zeroed)
        #expect(a.tally.zeroedAt == log.t("2022-08-05T15:00"))
        #expect(p.units.first { $0.unit == "U-b" }?.tally.open == 1)
    }

    @Test("a list not yet opened at the moment is not shown; a moment before the opening day gives no series")
    func notYetOpened() {
        #expect(campaign().board(at: "2022-08-19T20:00").progress().isEmpty)
        #expect(campaign().board(at: "2022-08-24T12:00").progress(batch: "B-9").isEmpty)
    }

    @Test("overdue counts assigned problems past the deadline in force")
    func overdue() throws {
        var log = campaign()
        log.report("P-4", "2022-08-21T12:00")
        log.assign("P-4", "2022-08-21T13:00", to: "U-a", until: "2022-08-22T18:00")
        log.report("P-5", "2022-08-21T12:00", batch: nil)
        log.assign("P-5", "2022-08-21T13:00", to: "U-a", until: "2022-08-22T18:00")
        let p = try #require(log.board(at: "2022-08-24T12:00").progress().first)
        #expect(p.tally.total == 4)  // P-5 is in no list
        #expect(p.tally.overdue == 1)  // P-4; P-1 was submitted before its deadline
        #expect(p.units[0].tally.overdue == 1)
    }
}

@Suite("Weekly ranking")
struct RankingTests {
    @Test("ISO weeks in UTC+8: 2022-W34 is 22–28 August; week 53 only where the year has one")
    func weeks() throws {
        let w = try #require(Week("2022-W34"))
        #expect(w.start == Log().t("2022-08-22T00:00"))
        #expect(w.description == "2022-W34")
        #expect(Week(containing: Log().t("2022-08-28T23:59")) == w)
        #expect(Week(containing: Log().t("2022-08-29T00:00")) != w)
        // Sunday 16:30 UTC is Monday 00:30 in Beijing: the next week.
        #expect(Week(containing: Timestamp(rfc3339: "2022-08-28T16:30:00Z")!) != w)
        #expect(Week("2020-W53") != nil)
        #expect(Week("2021-W53") == nil)
        #expect(Week("2022-34") == nil)
        #expect(Week("2021-W01")?.start == Log().t("2021-01-04T00:00"))
        // As offices write it, and as pages show it.
        #expect(Week("2022年第34周") == w)
        #expect(w.label == "第34周（8月22日—28日）")
        #expect(Week("2022-W35")?.label == "第35周（8月29日—9月4日）")
    }

    @Test("an office's week ending on Friday: 2022-W34 is Saturday 20 to Friday 26 August, named by the ISO week of its Friday")
    func weeksEndingFriday() throws {
        let friday = 4
        let w = try #require(Week("2022-W34", endsOn: friday))
        #expect(w.start == Log().t("2022-08-20T00:00"))
        #expect(w.lastInstant.micros == Log().t("2022-08-27T00:00").micros - 1)
        #expect(w.description == "2022-W34" && w.label == "第34周（8月20日—26日）" && w.lastWeekday == friday)
        #expect(Week(containing: Log().t("2022-08-26T23:59"), endsOn: friday) == w)
        #expect(Week(containing: Log().t("2022-08-27T00:00"), endsOn: friday) == Week("2022-W35", endsOn: friday))
        #expect(Week(containing: Log().t("2022-08-20T00:00"), endsOn: friday) == w)
        #expect(Week.weekday("周五") == friday && Week.weekday("星期日") == 6 && Week.weekday("fri") == friday && Week.weekday("周八") == nil)
    }

    @Test("judged at the week's end: counts per unit, the week's events, order and rank")
    func week34() throws {
        let week = try #require(Week("2022-W34"))
        var projection = Projection(at: week.lastInstant)
        for e in campaign().events { projection.apply(e) }
        let rows = projection.ranking(week)
        #expect(rows.map(\.unit) == ["U-a", "U-b"])
        #expect(rows.map(\.rank) == [1, 2])
        #expect(rows[0].assigned == 1 && rows[0].closed == 1 && rows[0].clearRate == 1)
        #expect(rows[0].week.closed == 1)
        #expect(rows[1].week.closed == 1)
        #expect(rows[1].week.rejected == 1)  // U-b ranks after U-a on rejections alone
    }

    @Test("a reopening that moves a problem counts for the unit it moves to; a unit left with nothing ranks last")
    func week35() throws {
        let week = try #require(Week("2022-W35"))
        var projection = Projection(at: week.lastInstant)
        for e in campaign().events { projection.apply(e) }
        let rows = projection.ranking(week)
        #expect(rows.map(\.unit) == ["U-b", "U-a"])
        #expect(rows[0].assigned == 2)
        #expect(rows[0].week.reopened == 1)
        #expect(rows[0].week.closed == 1)
        #expect(rows[1].assigned == 0)
        #expect(rows[1].clearRate == nil)
    }

    @Test("fewer overdue problems rank first, whatever the rate")
    func overdueFirst() throws {
        var log = Log()
        log.report("P-1", "2022-08-15T10:00")
        log.assign("P-1", "2022-08-15T11:00", to: "U-late", until: "2022-08-20T18:00")
        log.report("P-2", "2022-08-15T10:00")
        log.assign("P-2", "2022-08-15T11:00", to: "U-slow", until: "2022-09-20T18:00")
        let week = try #require(Week("2022-W34"))
        var projection = Projection(at: week.lastInstant)
        for e in log.events { projection.apply(e) }
        let rows = projection.ranking(week)
        #expect(rows.map(\.unit) == ["U-slow", "U-late"])
        #expect(rows[1].overdue == 1)
    }

    @Test("the bulletin's ranking, without the units left with nothing, places its rows again: no place skipped")
    func rerankedWithoutEmptyUnits() throws {
        var log = Log()
        for (p, unit) in [("P-1", "U-a"), ("P-2", "U-b")] {
            log.report(p, "2022-08-15T10:00")
            log.assign(p, "2022-08-15T11:00", to: unit, until: "2022-09-20T18:00")
            log.submit(p, "2022-08-16T10:00")
            log.verify(p, "2022-08-17T10:00")
        }
        log.report("P-3", "2022-08-15T10:00")
        log.assign("P-3", "2022-08-15T11:00", to: "U-x", until: "2022-08-20T18:00")
        log.assign("P-3", "2022-08-15T12:00", to: "U-late", until: "2022-08-20T18:00")  // 改派: U-x is left with nothing
        let week = try #require(Week("2022-W34"))
        var projection = Projection(at: week.lastInstant)
        for e in log.events { projection.apply(e) }
        let rows = projection.ranking(week)
        #expect(rows.map(\.unit) == ["U-a", "U-b", "U-x", "U-late"])
        #expect(rows.map(\.rank) == [1, 1, 3, 4])
        let kept = rows.filter { $0.assigned > 0 }.reranked()
        #expect(kept.map(\.unit) == ["U-a", "U-b", "U-late"])
        #expect(kept.map(\.rank) == [1, 1, 3])
        #expect(kept.map { kept.place(of: $0) } == ["并列第1名", "并列第1名", "第3名"])
    }
}

@Suite("Audit trail")
struct AuditTests {
    /// The trail as the ledger gives it: the events of the subjects concerned (for a unit, every subject an
    /// event made concern it), or the actor's, with every deadline in force.
    func trail(_ selector: AuditSelector, _ log: Log, at: String = "2023-01-01T00:00", hours: Double = 72) -> [AuditRow] {
        var trail = AuditTrail(selector, at: log.t(at), backdateHours: hours)
        var concerned: Set<String> = []
        for e in log.events {
            if case .unit(let unit) = selector, e.event.time <= log.t(at), e.event.unitsConcerned.contains(unit) {
                concerned.insert(e.event.subject)
            }
        }
        return log.events.compactMap { e in
            let row = trail.row(e, hash: "h\(e.seq)", recordedBy: "local:test")
            switch selector {
            case .subject(let s): return e.event.subject == s ? row : nil
            case .unit: return concerned.contains(e.event.subject) ? row : nil
            case .actor(let a): return e.event.actor == a ? row : nil
            }
        }
    }

    @Test("a subject's trail is its stream in seq order")
    func subject() {
        let rows = trail(.subject("P-2"), campaign())
        #expect(rows.map(\.type) == [.problemReported, .problemAssigned, .rectificationSubmitted, .rectificationRejected,
                                     .rectificationSubmitted, .rectificationVerified])
        #expect(rows.map(\.seq) == rows.map(\.seq).sorted())
        #expect(rows[0].hash == "h2")
    }

    @Test("a unit's trail: every problem ever assigned to it, accountability aimed at it, its own stream")
    func unit() {
        var log = campaign()
        log.add("U-a", "2022-06-01T09:00", .unitRegistered(UnitRegistration(name: "甲单位", kind: .department)))
        log.add("A-1", "2022-09-03T09:00", .accountabilityRecorded(Accountability(
            target: AccountabilityTarget(kind: .unit, id: "U-a"), measure: .interview, reason: "逾期")))
        log.add("A-2", "2022-09-03T09:00", .accountabilityRecorded(Accountability(
            target: AccountabilityTarget(kind: .unit, id: "U-b"), measure: .interview, reason: "逾期")))
        let subjects = Set(trail(.unit("U-a"), log).map(\.subject))
        #expect(subjects == ["P-1", "U-a", "A-1"])  // P-1 moved to U-b later, but was U-a's
        #expect(Set(trail(.unit("U-b"), log).map(\.subject)) == ["P-1", "P-2", "A-2"])
    }

    @Test("an actor's trail is every event they appended")
    func actor() {
        var log = campaign()
        log.add("P-2", "2022-08-26T09:00", .problemEscalated(Escalation(to: "李", reason: "r")), actor: "office/wang")
        #expect(trail(.actor("office/wang"), log).map(\.seq) == [UInt64(log.events.count)])
    }

    @Test("flags: backdated after 72 hours (or as set), late, recorded after the deadline")
    func flags() {
        var log = Log()
        log.report("P-1", "2022-08-19T16:00")
        log.assign("P-1", "2022-08-19T17:00", to: "U-a", until: "2022-08-23T18:00")
        log.submit("P-1", "2022-08-23T17:00", recorded: "2022-08-24T09:00")  // dated before, recorded after
        log.add("P-1", "2022-08-24T10:00", .rectificationRejected(reason: "不到位"))
        log.submit("P-1", "2022-08-25T10:00", recorded: "2022-08-28T11:00")  // late, and 73 h after
        let rows = trail(.subject("P-1"), log)
        #expect(rows[2].flags == [.recordedAfterDeadline])
        #expect(rows[4].flags == [.backdated, .late])
        #expect(rows[0].flags.isEmpty)
        let lenient = trail(.subject("P-1"), log, hours: 100)
        #expect(lenient[4].flags == [.late])
    }

    @Test("events after the moment are left out")
    func atMoment() {
        #expect(trail(.subject("P-2"), campaign(), at: "2022-08-24T12:00").count == 3)
    }
}
