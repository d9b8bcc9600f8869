import Campaign
import Demo
import EventLog
import Foundation
import Projections
import Testing
@testable import Ledger


/// A random but lawful campaign: units, lists, and problems walked through random lives, with business
/// times that wander (some events dated long before others recorded with them), appended in several
/// appends at several store-clock moments.
func randomCampaign(seed: UInt64, events count: Int, into ledger: Ledger, store: TemporaryStore) throws {
    var rng = SeededRandom(seed: seed)
    var state = CampaignState()
    let start = Timestamp(rfc3339: "2022-08-01T09:00:00+08:00")!
    var clock = Timestamp(rfc3339: "2026-01-01T00:00:00Z")!
    var batch: [Incoming] = []
    var n = 0
    func time(_ base: Timestamp) -> Timestamp { base.adding(seconds: Int64.random(in: 0...(3 * 86_400), using: &rng)) }
    func emit(_ subject: String, _ t: Timestamp, _ role: Role, _ unit: String?, _ data: EventData, actor: String = "office/li") {
        let lastTime = state.subjects[subject]?.stream.lastTime ?? start
        let event = Event(id: "r\(n)", source: "/random", subject: subject, time: max(t, lastTime), actor: actor, role: role,
                          actorUnit: unit, data: data)
        guard (try? Rules.decide(event, given: state, recordedAt: clock)) != nil else { return }
        Rules.evolve(&state, event)
        batch.append(Incoming(line: n, event: event))
        n += 1
    }
    let units = (0..<5).map { "U-\($0)" }
    for unit in units { emit(unit, start, .office, "U-0", .unitRegistered(UnitRegistration(name: "单位\(unit)", kind: .department))) }
    for b in 0..<3 {
        emit("B-\(b)", time(start), .office, "U-0", .batchOpened(BatchOpening(name: "清单\(b)", source: .inspection,
                                                                             dueAt: start.adding(seconds: 14 * 86_400))))
    }
    var problems: [String] = []
    while n < count {
        if batch.count >= Int.random(in: 5...40, using: &rng) {
            _ = try ledger.append(batch)
            batch = []
            clock = clock.adding(seconds: Int64.random(in: 60...86_400, using: &rng))
            store.setClock(clock.rfc3339)
        }
        let roll = Int.random(in: 0..<100, using: &rng)
        if problems.isEmpty || roll < 15 {
            let id = "P-\(problems.count)"
            problems.append(id)
            emit(id, time(start.adding(seconds: Int64(problems.count) * 3_600)), .inspector, "U-0",
                 .problemReported(ProblemReport(batch: Bool.random(using: &rng) ? "B-\(Int.random(in: 0..<3, using: &rng))" : nil,
                                                source: .inspection, category: .sanitation, description: "问题\(id)",
                                                location: Location(area: "片区"))))
            continue
        }
        let id = problems.randomElement(using: &rng)!
        guard let p = state.subjects[id]?.problem, let last = state.subjects[id]?.stream.lastTime else { continue }
        let t = time(last)
        let unit = units[Int.random(in: 1..<units.count, using: &rng)]
        let deadline = t.adding(seconds: Int64.random(in: 3_600...(5 * 86_400), using: &rng))
        switch p.status {
        case .reported:
            roll < 80 ? emit(id, t, .office, "U-0", .problemAssigned(Assignment(unit: unit, leader: "李", deadline: deadline)))
                : roll < 90 ? emit(id, t, .office, "U-0", .problemEscalated(Escalation(to: "李", reason: "慢")))
                : emit(id, t, .office, "U-0", .problemWithdrawn(reason: "不属实"))
        case .assigned:
            roll < 70 ? emit(id, t, .unit, p.unit, .rectificationSubmitted(Rectification(
                summary: "已改", evidence: [Evidence(sha256: String(repeating: "c", count: 64))])), actor: "unit/x")
                : roll < 80 ? emit(id, t, .office, "U-0", .problemAssigned(Assignment(unit: unit, deadline: deadline)))
                : roll < 90 ? emit(id, t, .office, "U-0", .deadlineExtended(DeadlineExtension(
                    deadline: max(deadline, (p.deadline ?? t).adding(seconds: 86_400)), reason: "延期")))
                : emit(id, t, .office, "U-0", .problemEscalated(Escalation(to: "李", reason: "慢")))
        case .submitted:
            roll < 65 ? emit(id, t, .inspector, "U-0", .rectificationVerified(note: nil), actor: "inspector/zhao")
                : emit(id, t, .inspector, "U-0", .rectificationRejected(reason: "不到位"), actor: "inspector/zhao")
        case .closed:
            if roll < 30 {
                emit(id, t, .inspector, "U-0", .problemReopened(Reopening(reason: "反弹", deadline: deadline,
                                                                          unit: Bool.random(using: &rng) ? unit : nil)))
            }
        case .withdrawn:
            break
        }
    }
    if !batch.isEmpty { _ = try ledger.append(batch) }
}

@Suite("Checkpoints of the projection")
struct CheckpointTests {
    @Test("views started from checkpoints equal full folds, at random prefixes and moments of random campaigns",
          arguments: [1, 2, 3, 4, 5] as [UInt64])
    func checkpointsGiveTheSameViews(seed: UInt64) throws {
        let store = TemporaryStore()
        let ledger = try store.open()
        try randomCampaign(seed: seed, events: 600, into: ledger, store: store)
        var types: Set<EventType> = []
        var outOfOrder = false
        var latestSoFar = Timestamp(micros: 0)
        try ledger.replay { recorded, _ in
            types.insert(recorded.event.type)
            if recorded.event.time < latestSoFar { outOfOrder = true }
            latestSoFar = max(latestSoFar, recorded.event.time)
            return true
        }
        // The campaign exercises every problem event, and business time is not in seq order.
        #expect(types.isSuperset(of: [.problemReported, .problemAssigned, .deadlineExtended, .rectificationSubmitted,
                                      .rectificationVerified, .rectificationRejected, .problemEscalated,
                                      .problemReopened, .problemWithdrawn]))
        #expect(outOfOrder)
        let written = try ledger.checkpoint(interval: 37)
        let head = try ledger.log.head()
        #expect(written.count == Int(head.seq / 37))
        var rng = SeededRandom(seed: seed &* 7919)
        let (all, _) = try ledger.projection(at: Projection.endOfTime, fromCheckpoints: false)
        let earliest = Timestamp(rfc3339: "2022-08-01T00:00:00+08:00")!.micros
        let latest = (all.latestTime ?? Timestamp(micros: earliest)).micros + 86_400_000_000
        for _ in 0..<40 {
            let asOf: AsOf
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: asOf = .all
            case 1: asOf = .seq(UInt64.random(in: 0...(head.seq + 5), using: &rng))
            default:
                let micros = Int64.random(in: Timestamp(rfc3339: "2025-12-31T00:00:00Z")!.micros...head.recordedAtMicros, using: &rng)
                asOf = .time(Timestamp(micros: micros))
            }
            let at = Timestamp(micros: Int64.random(in: earliest...latest, using: &rng), offsetMinutes: 480)
            let (fast, fastHead) = try ledger.projection(asOf: asOf, at: at)
            let (full, fullHead) = try ledger.projection(asOf: asOf, at: at, fromCheckpoints: false)
            #expect(fast == full, "seed \(seed), asOf \(asOf), at \(at)")
            #expect(fastHead == fullHead)
            #expect(fast.board() == full.board())
            #expect(fast.progress() == full.progress())
            let rows = try ledger.withReports(fast.board())
            #expect(rows == (try ledger.withReports(full.board())))
            #expect(rows.allSatisfy { $0.report != nil })
        }
    }

    @Test("a damaged checkpoint changes no answer, and the next checkpoint replaces it")
    func damagedCheckpointIgnored() throws {
        let store = TemporaryStore()
        let ledger = try store.open()
        try randomCampaign(seed: 42, events: 300, into: ledger, store: store)
        try ledger.checkpoint(interval: 50)
        let at = Timestamp(rfc3339: "2022-09-30T00:00:00+08:00")!
        let (before, _) = try ledger.projection(at: at)
        var bytes = try #require(try ledger.log.read { reader in
            var found: [UInt8]?
            try reader.checkpoints(atOrBefore: 250) { _, value in found = Array(value); return false }
            return found
        })
        bytes[bytes.count / 2] ^= 0xFF
        try ledger.log.storeCheckpoint(250, bytes)
        try ledger.log.storeCheckpoint(300, Array("not a snapshot".utf8))
        let (after, _) = try ledger.projection(at: at)
        #expect(after == before)
        #expect(try ledger.checkpoint(interval: 50) == [250, 300])
        #expect(try ledger.projection(at: at).0 == before)
    }

    @Test("verify compares every checkpoint with the log: a forged one is named by its seq, and a rebuild mends it")
    func verifyChecksCheckpoints() throws {
        let store = TemporaryStore()
        let ledger = try store.open()
        try randomCampaign(seed: 9, events: 300, into: ledger, store: store)
        try ledger.checkpoint(interval: 100)
        #expect(try ledger.verify().seq == 300)
        // A forged checkpoint: well-formed, checksummed, but not what the log says at seq 200.
        let (other, _) = try ledger.projection(asOf: .seq(150), at: Projection.endOfTime, fromCheckpoints: false)
        var forged = other
        forged = Projection(at: forged.at, seq: 200, latestTime: forged.latestTime, problems: forged.problems,
                            batches: forged.batches, outstandingChanges: forged.outstandingChanges,
                            zeroRecords: forged.zeroRecords, unitNames: forged.unitNames, unitsAssigned: forged.unitsAssigned, weeks: forged.weeks)
        try ledger.log.storeCheckpoint(200, Snapshot.encode(forged))
        let damage = try #require(throws: LogDamage.self) { try ledger.verify() }
        #expect(damage.seq == 200)
        #expect(try ledger.verify(checkpoints: false).seq == 300)
        #expect(try ledger.rebuildCheckpoints(interval: 100) == [100, 200, 300])
        #expect(try ledger.verify().seq == 300)
    }

    @Test("a new process starts the rules from their checkpoint and decides as a full fold would")
    func rulesCheckpoint() throws {
        let store = TemporaryStore()
        do {
            let ledger = try store.open()
            try randomCampaign(seed: 31, events: 400, into: ledger, store: store)
            try ledger.checkpoint(interval: 64)
            #expect(try ledger.log.read { try $0.checkpointSeqs(kind: .rules) } == [384])  // only the latest is kept
        }
        let reopened = try store.open()
        var folded = CampaignState()
        try reopened.replay { recorded, _ in Rules.evolve(&folded, recorded.event); return true }
        #expect(try reopened.currentState() == folded)
        // It decides from that state: a problem reported before the checkpoint is known, and its status too.
        let (someID, some) = try #require(folded.subjects.lazy.compactMap { id, s in s.problem.map { (id, $0) } }.first { $0.1.status == .closed })
        let reopen = Incoming(line: 1, event: Event(
            id: "after-restore", source: "/t", subject: someID, time: folded.subjects[someID]!.stream.lastTime, actor: "inspector/x",
            role: .inspector, actorUnit: "U-0",
            data: .problemReopened(Reopening(reason: "反弹", deadline: folded.subjects[someID]!.stream.lastTime.adding(seconds: 86_400)))))
        #expect(try reopened.append([reopen]).appended.count == 1)
        #expect(some.status == .closed)
        let again = Incoming(line: 1, event: Event(
            id: "after-restore-2", source: "/t", subject: someID, time: folded.subjects[someID]!.stream.lastTime, actor: "inspector/x",
            role: .inspector, actorUnit: "U-0", data: .rectificationVerified(note: nil)))
        let refused = try #require(throws: AppendRefused.self) { try reopened.append([again]) }
        #expect(refused.refusals.first?.refusal.rule == .lifecycle)
    }

    @Test("a rules' checkpoint beyond the log's head (its tail removed) is not used")
    func rulesCheckpointBeyondHead() throws {
        let store = TemporaryStore()
        do {
            let ledger = try store.open()
            try randomCampaign(seed: 33, events: 200, into: ledger, store: store)
            var ahead = try ledger.currentState()
            ahead.units.removeAll()
            try ledger.log.storeCheckpoint(10_000, RulesCheckpoint.encode(ahead, seq: 10_000), kind: .rules)
        }
        let reopened = try store.open()
        var folded = CampaignState()
        try reopened.replay { recorded, _ in Rules.evolve(&folded, recorded.event); return true }
        #expect(try reopened.currentState() == folded)
    }

    @Test("verify names a forged rules' checkpoint by its seq")
    func forgedRulesCheckpoint() throws {
        let store = TemporaryStore()
        let ledger = try store.open()
        try randomCampaign(seed: 32, events: 300, into: ledger, store: store)
        try ledger.checkpoint(interval: 100)
        #expect(try ledger.verify().seq == 300)
        var forged = try ledger.currentState()
        forged.units.removeAll()
        try ledger.log.storeCheckpoint(300, RulesCheckpoint.encode(forged, seq: 300), kind: .rules)
        do {
            // A new process does start from it (which is why verify must compare it).
            let other = try Ledger(path: store.path, clock: store.clock)
            #expect(try other.currentState().units.isEmpty)
        }
        let damage = try #require(throws: LogDamage.self) { try ledger.verify() }
        #expect(damage.seq == 300)
        try ledger.rebuildCheckpoints(interval: 100)
        #expect(try ledger.verify().seq == 300)
    }

    @Test("the projection holds its prefix's head and skips nothing: as of seq N, then N more")
    func asOfTimeUsesTheStoreClock() throws {
        let store = TemporaryStore(clock: "2026-01-01T00:00:00Z")
        let ledger = try store.open()
        _ = try ledger.append(Array(try hengkouSetup().prefix(4)))
        store.setClock("2026-01-02T00:00:00Z")
        _ = try ledger.append(Array(try hengkouSetup().dropFirst(4)))
        try ledger.checkpoint(interval: 3)
        let at = Timestamp(rfc3339: "2022-12-31T00:00:00Z")!
        let (early, head) = try ledger.projection(asOf: .time(Timestamp(rfc3339: "2026-01-01T12:00:00Z")!), at: at)
        #expect(head.seq == 4)
        #expect(early.unitNames.count == 4)
        #expect(try ledger.projection(asOf: .time(Timestamp(rfc3339: "2025-12-31T00:00:00Z")!), at: at).1.seq == 0)
    }
}
