import Campaign
import Projections
import Testing

/// A small log written by hand: each event gets the next seq; times are UTC+8.
struct Log {
    var events: [RecordedEvent] = []

    func t(_ s: String) -> Timestamp { Timestamp(rfc3339: s + ":00+08:00")! }

    mutating func add(_ subject: String, _ time: String, _ data: EventData, actor: String = "office/li",
                      recorded: String? = nil) {
        let event = Event(id: "e\(events.count + 1)", source: "/t", subject: subject, time: t(time), actor: actor,
                          role: .office, actorUnit: "U-office", data: data)
        events.append(RecordedEvent(seq: UInt64(events.count + 1), version: 1, recordedAt: t(recorded ?? time), event: event))
    }
    mutating func open(_ batch: String, _ time: String, due: String) {
        add(batch, time, .batchOpened(BatchOpening(name: "清单 \(batch)", source: .covertExposure, dueAt: t(due))))
    }
    mutating func verify(_ p: String, _ time: String) { add(p, time, .rectificationVerified(note: nil)) }
    mutating func report(_ p: String, _ time: String, batch: String? = "B-1") {
        add(p, time, .problemReported(ProblemReport(batch: batch, source: .inspection, category: .sanitation,
                                                    description: "垃圾堆积", location: Location(area: "城北", street: "和平路"))))
    }
    mutating func assign(_ p: String, _ time: String, to unit: String, until deadline: String, leader: String? = "李显锋") {
        add(p, time, .problemAssigned(Assignment(unit: unit, leader: leader, deadline: t(deadline))))
    }
    mutating func submit(_ p: String, _ time: String, recorded: String? = nil) {
        add(p, time, .rectificationSubmitted(Rectification(summary: "已整改", evidence: [Evidence(sha256: String(repeating: "a", count: 64))])),
            recorded: recorded)
    }

    /// The board at `at` from the first `prefix` events (all when nil).
    func board(at: String, prefix: Int? = nil) -> Projection {
        var board = Projection(at: t(at))
        for e in events.prefix(prefix ?? events.count) { board.apply(e) }
        return board
    }
}

@Suite("The board: one row per problem, as of any moment")
struct BoardTests {
    @Test("a problem's row follows its life: assigned, rejected, resubmitted, closed")
    func lifeOfAProblem() throws {
        var log = Log()
        log.report("P-1", "2022-08-19T16:00")
        log.assign("P-1", "2022-08-19T17:00", to: "U-hw", until: "2022-08-23T18:00")
        log.submit("P-1", "2022-08-21T10:00")
        log.add("P-1", "2022-08-22T10:00", .rectificationRejected(reason: "不到位"))
        log.submit("P-1", "2022-08-23T10:00")
        log.add("P-1", "2022-08-24T10:00", .rectificationVerified(note: nil))

        let row = try #require(log.board(at: "2022-08-30T00:00").board().first)
        #expect(row.problem.status == .closed)
        #expect(row.problem.closedAt == log.t("2022-08-24T10:00"))
        #expect(row.problem.rejections == 1)
        #expect(row.version == 6)
        #expect(row.problem.unit == "U-hw")
        #expect(row.problem.leader == "李显锋")
        #expect(row.problem.reportedAt == log.t("2022-08-19T16:00"))
        #expect(row.reportSeq == 1)  // its report is read from the log there
        #expect(row.report == nil)
        #expect(!row.overdue)

        // On the 22nd at noon it had just been rejected: assigned, not yet overdue, closedAt null.
        let earlier = try #require(log.board(at: "2022-08-22T12:00").board().first)
        #expect(earlier.problem.status == .assigned)
        #expect(earlier.problem.closedAt == nil)
        #expect(earlier.version == 4)
        #expect(!earlier.overdue)
    }

    @Test("overdue: assigned with the deadline in force before the moment; not when submitted or closed")
    func overdue() {
        var log = Log()
        log.report("P-1", "2022-08-19T16:00")
        log.assign("P-1", "2022-08-19T17:00", to: "U-hw", until: "2022-08-23T18:00")
        log.report("P-2", "2022-08-19T16:10")
        log.assign("P-2", "2022-08-19T17:00", to: "U-hw", until: "2022-08-23T18:00")
        log.submit("P-2", "2022-08-23T12:00")
        log.report("P-3", "2022-08-19T16:20")

        #expect(log.board(at: "2022-08-23T18:00").board().filter(\.overdue).isEmpty)  // at the deadline: not yet
        let after = log.board(at: "2022-08-23T18:01").board()
        #expect(after.filter(\.overdue).map(\.id) == ["P-1"])
        #expect(log.board(at: "2022-08-23T18:01").boardSlots().counts.overdue == 1)
    }

    @Test("an extension moves the deadline in force; the board judges against it")
    func extensionMovesDeadline() throws {
        var log = Log()
        log.report("P-1", "2022-08-19T16:00")
        log.assign("P-1", "2022-08-19T17:00", to: "U-cgzf", until: "2022-08-26T18:00")
        log.add("P-1", "2022-08-23T09:00", .deadlineExtended(DeadlineExtension(deadline: log.t("2022-09-02T18:00"), reason: "程序")))
        let before = try #require(log.board(at: "2022-08-22T00:00").board().first)
        #expect(before.problem.deadline == log.t("2022-08-26T18:00"))
        let row = try #require(log.board(at: "2022-08-30T00:00").board().first)
        #expect(row.problem.deadline == log.t("2022-09-02T18:00"))
        #expect(!row.overdue)
    }

    @Test("reassignment (转办) moves the problem to the new unit")
    func reassignment() throws {
        var log = Log()
        log.report("P-1", "2022-08-19T16:00")
        log.assign("P-1", "2022-08-19T17:00", to: "U-hw", until: "2022-08-26T18:00")
        log.assign("P-1", "2022-08-20T09:00", to: "U-zj", until: "2022-08-27T18:00", leader: nil)
        let board = log.board(at: "2022-08-21T00:00")
        #expect(board.board(BoardFilter(unit: "U-hw")).isEmpty)
        let row = try #require(board.board(BoardFilter(unit: "U-zj")).first)
        #expect(row.problem.leader == nil)
        #expect(row.problem.deadline == log.t("2022-08-27T18:00"))
    }

    @Test("a reopening (回头看) makes the problem assigned again, counts it, and clears closedAt; to another unit, the leader too")
    func reopening() throws {
        var log = Log()
        log.report("P-1", "2022-08-19T16:00")
        log.assign("P-1", "2022-08-19T17:00", to: "U-scjg", until: "2022-08-26T18:00")
        log.submit("P-1", "2022-08-24T10:00")
        log.add("P-1", "2022-08-25T10:00", .rectificationVerified(note: nil))
        log.add("P-1", "2022-09-05T10:00", .problemReopened(Reopening(reason: "反弹", deadline: log.t("2022-09-09T18:00"))))
        var row = try #require(log.board(at: "2022-09-06T00:00").board().first)
        #expect(row.problem.status == .assigned)
        #expect(row.problem.reopens == 1)
        #expect(row.problem.closedAt == nil)
        #expect(row.problem.unit == "U-scjg")
        #expect(row.problem.leader == "李显锋")
        #expect(row.problem.deadline == log.t("2022-09-09T18:00"))

        log.submit("P-1", "2022-09-07T10:00")
        log.add("P-1", "2022-09-08T10:00", .rectificationVerified(note: nil))
        log.add("P-1", "2022-09-20T10:00", .problemReopened(Reopening(reason: "再次反弹", deadline: log.t("2022-09-25T18:00"), unit: "U-cgzf")))
        row = try #require(log.board(at: "2022-09-21T00:00").board().first)
        #expect(row.problem.reopens == 2)
        #expect(row.problem.unit == "U-cgzf")
        #expect(row.problem.leader == nil)
    }

    @Test("only problems reported by the moment appear; events after it are not folded")
    func businessTime() {
        var log = Log()
        log.report("P-1", "2022-08-19T16:00")
        log.report("P-2", "2022-08-20T16:00")
        log.assign("P-1", "2022-08-21T09:00", to: "U-hw", until: "2022-08-26T18:00")
        let board = log.board(at: "2022-08-20T12:00")
        #expect(board.board().map(\.id) == ["P-1"])
        #expect(board.board().first?.problem.status == .reported)
        #expect(board.board().first?.problem.deadline == nil)
        #expect(board.board().first?.version == 1)
    }

    @Test("a prefix of the log (as of a seq) gives the board as it was recorded then")
    func transactionTime() {
        var log = Log()
        log.report("P-1", "2022-08-19T16:00")
        log.assign("P-1", "2022-08-19T17:00", to: "U-hw", until: "2022-08-26T18:00")
        log.report("P-2", "2022-08-19T18:00")
        #expect(log.board(at: "2022-09-01T00:00", prefix: 1).board().map(\.problem.status) == [.reported])
        #expect(log.board(at: "2022-09-01T00:00", prefix: 2).board().map(\.problem.status) == [.assigned])
        #expect(log.board(at: "2022-09-01T00:00").board().count == 2)
    }

    @Test("filters by batch, unit, status and overdue; counts per status")
    func filtersAndCounts() {
        var log = Log()
        log.report("P-1", "2022-08-19T16:00", batch: "B-1")
        log.report("P-2", "2022-08-19T16:00", batch: "B-2")
        log.assign("P-2", "2022-08-19T17:00", to: "U-hw", until: "2022-08-20T18:00")
        log.report("P-3", "2022-08-19T16:00", batch: nil)
        log.add("P-3", "2022-08-19T18:00", .problemWithdrawn(reason: "不属实"))
        let board = log.board(at: "2022-08-21T00:00")
        #expect(board.board(BoardFilter(batch: "B-2")).map(\.id) == ["P-2"])
        #expect(board.board(BoardFilter(statuses: [.withdrawn, .reported])).map(\.id) == ["P-1", "P-3"])
        #expect(board.board(BoardFilter(overdueOnly: true)).map(\.id) == ["P-2"])
        let counts = board.boardSlots().counts
        #expect(counts.byStatus[.reported] == 1)
        #expect(counts.byStatus[.assigned] == 1)
        #expect(counts.byStatus[.withdrawn] == 1)
        #expect(counts.byStatus[.closed] == 0)
        #expect(counts.overdue == 1)
        #expect(board.board().map(\.id) == ["P-1", "P-2", "P-3"])  // sorted by id
    }

    @Test("escalations are counted without changing the status")
    func escalations() throws {
        var log = Log()
        log.report("P-1", "2022-08-19T16:00")
        log.add("P-1", "2022-08-20T16:00", .problemEscalated(Escalation(to: "李显锋", reason: "逾期")))
        log.add("P-1", "2022-08-21T16:00", .problemEscalated(Escalation(to: "街道主任", reason: "仍未整改")))
        let row = try #require(log.board(at: "2022-08-22T00:00").board().first)
        #expect(row.problem.escalations == 2)
        #expect(row.problem.status == .reported)
    }
}
