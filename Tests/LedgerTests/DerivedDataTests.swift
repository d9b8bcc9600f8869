import Campaign
import Demo
import EventLog
import Foundation
import JSON
@testable import Projections
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
    store.setClock(clock.rfc3339)
    var batch: [Incoming] = []
    var n = 0
    func time(_ base: Timestamp) -> Timestamp { base.adding(seconds: Int64.random(in: 0...(3 * 86_400), using: &rng)) }
    func emit(_ subject: String, _ t: Timestamp, _ role: Role, _ unit: String?, _ data: EventData, actor: String = "office/li") {
        let lastTime = state.records[subject]?.lastTime ?? start
        let event = Event(id: "r\(n)", source: "/random", subject: subject, time: max(t, lastTime), actor: actor, role: role,
                          actorUnit: unit, data: data)
        guard (try? Rules.decide(event, given: state.record, recordedAt: clock)) != nil else { return }
        state.apply(event, seq: UInt64(n + 1))
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
            _ = try ledger.append(batch, recordedBy: "local:test")
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
        if roll < 17 {
            emit("A-\(n)", time(start.adding(seconds: Int64(n) * 600)), .discipline, nil, .accountabilityRecorded(Accountability(
                target: AccountabilityTarget(kind: .unit, id: units[Int.random(in: 1..<units.count, using: &rng)]),
                measure: .interview, reason: "慢作为", problems: [problems.randomElement(using: &rng)!])), actor: "discipline/sun")
            continue
        }
        let id = problems.randomElement(using: &rng)!
        guard let p = state.records[id]?.problem, let last = state.records[id]?.lastTime else { continue }
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
    if !batch.isEmpty { _ = try ledger.append(batch, recordedBy: "local:test") }
}

/// A store whose derived data is written often: snapshots every 37 events, subjects' records every 23.
/// The events of `ledger` as an NDJSON file at `file`, as `civic append` reads one. - Returns: its bytes.
@discardableResult
func writeNDJSON(of ledger: Ledger, to file: String) throws -> Int {
    var text = ""
    try ledger.events { entry in
        text += JSONText.render(CloudEvents.json(entry.recorded.event)) + "\n"
        return true
    }
    try text.write(toFile: file, atomically: true, encoding: .utf8)
    return text.utf8.count
}

func smallIntervals(_ store: TemporaryStore) throws -> Ledger {
    try Ledger(path: store.path, access: .create, mapSize: 1 << 20, snapshotInterval: 37, flushEvery: 23, clock: store.clock)
}

@Suite("Derived data: snapshots, subjects' records and unit links, checked against the log")
struct DerivedDataTests {
    @Test("views started from snapshots equal folds of the log alone, at random prefixes and moments of random campaigns",
          arguments: [1, 2, 3, 4, 5] as [UInt64])
    func snapshotsGiveTheSameViews(seed: UInt64) throws {
        let store = TemporaryStore()
        let ledger = try smallIntervals(store)
        try randomCampaign(seed: seed, events: 700, into: ledger, store: store)
        let head = try ledger.head()
        #expect(try ledger.log.read { try ledger.snapshots.stored($0).count } == Int(head.seq / 37))
        var rng = SeededRandom(seed: seed &* 7919)
        let earliest = Timestamp(rfc3339: "2022-08-01T00:00:00+08:00")!.micros
        let latest = Timestamp(rfc3339: "2022-12-31T00:00:00+08:00")!.micros
        for _ in 0..<40 {
            let asOf: AsOf
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: asOf = .all
            case 1: asOf = .seq(UInt64.random(in: 0...(head.seq + 5), using: &rng))
            default:
                let micros = Int64.random(in: Timestamp(rfc3339: "2025-12-31T00:00:00Z")!.micros...head.recordedAtMicros, using: &rng)
                asOf = .time(Timestamp(micros: micros))
            }
            let at = Int.random(in: 0..<4, using: &rng) == 0 ? Projection.endOfTime
                : Timestamp(micros: Int64.random(in: earliest...latest, using: &rng), offsetMinutes: 480)
            let (fast, fastHead) = try ledger.projection(asOf: asOf, at: at)
            let (full, fullHead) = try ledger.projection(asOf: asOf, at: at, fromLog: true)
            #expect(fast == full, "seed \(seed), asOf \(asOf), at \(at)")
            // Both pass over the events dated after `at` from their time alone: a fold that decodes each
            // one whole gives the same.
            var whole = Projection(at: Projection.endOfTime).judged(at: at)
            try ledger.events(asOf: asOf) { entry in whole.apply(entry.recorded); return true }
            #expect(full == whole, "seed \(seed), asOf \(asOf), at \(at)")
            // A view asked by a unit's name: the registry's projection of the head, then the view's own,
            // which starts from it when it may.
            _ = try ledger.registry()
            let (named, namedHead) = try ledger.projection(asOf: asOf, at: at, weeks: false)
            #expect(namedHead == fullHead && named.seq == full.seq && named.at == full.at && named.latestTime == full.latestTime)
            #expect(named.board() == full.board(), "seed \(seed), asOf \(asOf), at \(at)")
            if at != Projection.endOfTime { #expect(named.progress() == full.progress()) }
            #expect(fastHead == fullHead)
            #expect(fast.board() == full.board())
            if at != Projection.endOfTime { #expect(fast.progress() == full.progress()) }
            let week = Week(containing: at == Projection.endOfTime ? Timestamp(micros: latest) : at)
            #expect(fast.judged(at: week.lastInstant).ranking(week) == full.judged(at: week.lastInstant).ranking(week))
        }
        #expect(ledger.registryHead.used > 0)  // some views started from the registry's projection
        let verified = try ledger.verify()
        #expect(verified.derived.isEmpty, "\(verified.derived)")
        #expect(verified.snapshots == Int(head.seq / 37))
    }

    @Test("an event's time read alone is the time its whole decoding gives, the last of a field given twice")
    func timeReadAlone() throws {
        let store = TemporaryStore()
        let ledger = try smallIntervals(store)
        try randomCampaign(seed: 11, events: 300, into: ledger, store: store)
        var count = 0
        try ledger.log.read { reader in
            try reader.forEach(after: 0) { entry in
                let decoded = try EventCodec.recorded(entry).event.time
                let alone = EventCodec.time(of: entry.body)
                #expect(alone?.micros == decoded.micros && alone?.offsetMinutes == decoded.offsetMinutes, "seq \(entry.seq)")
                count += 1
                return true
            }
        }
        #expect(count == 300)
        // Field 2 (the time, zigzag) given twice and field 3 (the offset) once, after the rest: the last wins.
        let event = Event(id: "e-1", source: "/t", subject: "U-1", time: Timestamp(rfc3339: "2022-08-19T16:00:00+08:00")!,
                          actor: "office/a", role: .office, actorUnit: "U-office",
                          data: .unitRegistered(UnitRegistration(name: "单位", kind: .department)))
        let later = Timestamp(rfc3339: "2022-08-20T09:30:00-05:30")!
        var body = EventCodec.encode(event)
        body += [0x10] + varint(UInt64(bitPattern: (later.micros << 1) ^ (later.micros >> 63)))
        body += [0x18] + varint(UInt64(UInt32(bitPattern: (Int32(later.offsetMinutes) << 1) ^ (Int32(later.offsetMinutes) >> 31))))
        let whole = try body.withUnsafeBytes { try EventCodec.decode($0, id: "e-1", subject: "U-1") }.time
        let alone = try #require(body.withUnsafeBytes { EventCodec.time(of: $0) })
        #expect(whole.micros == later.micros && whole.offsetMinutes == later.offsetMinutes)
        #expect(alone.micros == whole.micros && alone.offsetMinutes == whole.offsetMinutes)
        // A body whose fields do not read has no time.
        #expect([UInt8]([0x10, 0xFF]).withUnsafeBytes { EventCodec.time(of: $0) } == nil)
    }

    @Test("the derived data a store keeps equals what a fold of its log gives, after every append (verify finds nothing)")
    func derivedEqualsFoldAtEveryAppend() throws {
        let store = TemporaryStore()
        let ledger = try smallIntervals(store)
        var n = 0
        let campaign = TemporaryStore()
        let source = try smallIntervals(campaign)
        try randomCampaign(seed: 77, events: 400, into: source, store: campaign)
        var prefix: [Incoming] = []
        try source.events { entry in
            prefix.append(Incoming(line: Int(entry.recorded.seq), event: entry.recorded.event))
            return true
        }
        var clock = Timestamp(rfc3339: "2026-01-01T00:00:00Z")!
        while n < prefix.count {
            let size = min(prefix.count - n, [1, 3, 17, 40][n % 4])
            store.setClock(clock.rfc3339)
            _ = try ledger.append(Array(prefix[n..<(n + size)]), recordedBy: "local:test")
            n += size
            clock = clock.adding(seconds: 86_400)
            let verified = try ledger.verify()
            #expect(verified.derived.isEmpty, "after \(n) events: \(verified.derived)")
            #expect(verified.head.seq == UInt64(n))
        }
    }

    @Test("the trail of a subject, a unit or an actor equals what reading the whole log finds", arguments: [11, 12] as [UInt64])
    func trailsEqualScans(seed: UInt64) throws {
        let store = TemporaryStore()
        let ledger = try smallIntervals(store)
        try randomCampaign(seed: seed, events: 500, into: ledger, store: store)
        let head = try ledger.head().seq
        var selectors: [AuditSelector] = (0..<30).map { .subject("P-\($0)") } + (0..<5).map { .unit("U-\($0)") }
        selectors += [.subject("B-1"), .subject("U-2"), .subject("nobody"), .actor("unit/x"), .actor("inspector/zhao")]
        selectors += ["A-20", "A-40"].map { .subject($0) }
        for selector in selectors {
            for (asOf, at) in [(AsOf.all, Projection.endOfTime), (.seq(head / 2), Projection.endOfTime), (.seq(7), Projection.endOfTime),
                               (.all, Timestamp(rfc3339: "2022-08-20T12:00:00+08:00")!)] {
                let (found, _) = try ledger.trail(selector, asOf: asOf, at: at)
                let (scanned, _) = try ledger.trail(selector, asOf: asOf, at: at, fromLog: true)
                #expect(found.filter(\.shown).map(\.recorded.seq) == scanned.filter(\.shown).map(\.recorded.seq), "\(selector) \(asOf)")
                #expect(found.filter(\.shown).map(\.hash) == scanned.filter(\.shown).map(\.hash))
            }
        }
        // A unit's trail holds its own stream, the problems ever assigned to it, and the cases aimed at it.
        let (unit, _) = try ledger.trail(.unit("U-1"))
        let kinds = Set(unit.map { $0.recorded.event.subject.prefix(2) })
        #expect(kinds.isSuperset(of: ["U-", "P-"]))
    }

    @Test("a damaged snapshot changes no answer and is named by verify; a rebuild takes it again")
    func damagedSnapshotIgnored() throws {
        let store = TemporaryStore()
        let ledger = try smallIntervals(store)
        try randomCampaign(seed: 42, events: 300, into: ledger, store: store)
        let at = Timestamp(rfc3339: "2022-09-30T00:00:00+08:00")!
        let (before, _) = try ledger.projection(at: at)
        let table = try #require(ledger.snapshots.table)
        var bytes = try #require(try ledger.log.read { try $0.value(table, UInt64(222).bigEndianBytes) })
        bytes[bytes.count / 2] ^= 0xFF
        _ = try ledger.log.write { w in
            try w.put(table, UInt64(222).bigEndianBytes, bytes)
            try w.put(table, UInt64(259).bigEndianBytes, Array("not a snapshot".utf8))
            return .commit(())
        }
        #expect(try ledger.projection(at: at).0 == before)
        let found = try ledger.verify()
        #expect(Set(found.derived.map(\.key)) == ["seq 222", "seq 259"], "\(found.derived)")
        #expect(found.derived.allSatisfy { $0.table == "snapshots" })
        try ledger.rebuildDerived()
        #expect(try ledger.verify().derived.isEmpty)
        #expect(try ledger.projection(at: at).0 == before)
    }

    @Test("a projection restored without the weekly counts gives every other view the same answer, and folds no weeks")
    func withoutWeeks() throws {
        let store = TemporaryStore()
        let ledger = try smallIntervals(store)
        try randomCampaign(seed: 23, events: 400, into: ledger, store: store)
        for asOf in [AsOf.all, .seq(200), .seq(230)] {
            for at in [Projection.endOfTime, Timestamp(rfc3339: "2022-08-20T00:00:00+08:00")!] {
                let (whole, _) = try ledger.projection(asOf: asOf, at: at)
                let (lean, _) = try ledger.projection(asOf: asOf, at: at, weeks: false)
                #expect(whole.keepsWeeks && !lean.keepsWeeks)
                #expect(!whole.weeks.isEmpty && lean.weeks.isEmpty, "\(asOf)")
                #expect(lean.board() == whole.board())
                #expect(lean.progress(batch: nil) == whole.progress(batch: nil))
            }
        }
    }

    @Test("snapshots written in parts (the writable server's way) read as those written in one value; a part lost is named by verify and changes no answer; parts a write cut short left are read by nobody, and the next write of that seq removes them")
    func snapshotsInParts() throws {
        let oneStore = TemporaryStore(), partedStore = TemporaryStore()
        let one = try smallIntervals(oneStore)
        let parted = try Ledger(path: partedStore.path, access: .create, mapSize: 1 << 20, snapshotInterval: 37, snapshotPartBytes: 100,
                                flushEvery: 23, clock: partedStore.clock)
        try randomCampaign(seed: 17, events: 300, into: one, store: oneStore)
        try randomCampaign(seed: 17, events: 300, into: parted, store: partedStore)
        let table = try #require(parted.snapshots.table)
        _ = try parted.log.write { w in try w.clear(table); return .commit(()) }
        let taken = try parted.takeSnapshots(inParts: true)
        #expect(taken == (1...(try parted.log.head().seq / 37)).map { $0 * 37 })
        let keys = try parted.log.read { reader -> [[UInt8]] in
            var keys: [[UInt8]] = []
            try reader.forEach(table) { key, _ in keys.append(Array(key)); return true }
            return keys
        }
        #expect(keys.count > taken.count * 2, "most snapshots are larger than 100 bytes, so in parts")
        for seq in taken {
            let written = try one.log.read { try $0.value(one.snapshots.table, seq.bigEndianBytes) }
            let read = try parted.log.read { reader in try parted.snapshots.withSnapshot(seq, reader) { $0.map { Array($0) } } }
            #expect(read == written, "seq \(seq)")
        }
        let at = Timestamp(rfc3339: "2022-09-30T00:00:00+08:00")!
        let truth = try parted.projection(at: at, fromLog: true).0
        #expect(try parted.projection(at: at).0 == truth)
        #expect(try parted.verify().derived.isEmpty)

        // A part lost from the middle of the snapshot at 222.
        _ = try parted.log.write { w in try w.delete(table, Snapshots.partKey(222, 2)); return .commit(()) }
        #expect(try parted.projection(at: at).0 == truth)
        #expect(try parted.verify().derived.map(\.key) == ["seq 222"])
        try parted.rebuildDerived()
        #expect(try parted.verify().derived.isEmpty)

        // A write of the next snapshot cut short: its later parts stored, its first not.
        let next = (try parted.log.head().seq / 37 + 1) * 37
        _ = try parted.log.write { w in
            for k in 1...3 { try w.put(table, Snapshots.partKey(next, UInt32(k)), Array("left over \(k)".utf8)) }
            return .commit(())
        }
        #expect(try parted.verify().derived.isEmpty)
        let head = try parted.log.head().seq
        let more = (head..<next).map { n in
            Incoming(line: Int(n - head), event: Event(id: "more\(n)", source: "/more", subject: "U-more\(n)",
                                                  time: Timestamp(rfc3339: "2022-10-01T09:00:00+08:00")!, actor: "office/li", role: .office,
                                                  actorUnit: "U-0", data: .unitRegistered(UnitRegistration(name: "单位\(n)", kind: .department))))
        }
        _ = try parted.append(more, recordedBy: "local:test")  // makes `next` due: taken after it, in one value
        #expect(try parted.log.read { try $0.value(table, Snapshots.partKey(next, 1)) } == nil)
        #expect(try parted.verify().derived.isEmpty)
        #expect(try parted.projection(at: Projection.endOfTime).0 == (try parted.projection(at: Projection.endOfTime, fromLog: true).0))
    }

    @Test("a forged snapshot (checksummed, well formed, telling another story) is named by verify; --from-log is not fooled")
    func forgedSnapshotNamed() throws {
        let store = TemporaryStore()
        let ledger = try smallIntervals(store)
        try randomCampaign(seed: 9, events: 300, into: ledger, store: store)
        let table = try #require(ledger.snapshots.table)
        // The whole snapshot of seq 222 (taken anew, so that no delta rests on another) with one problem's
        // leader changed: what an operator with write access to the store could do.
        var forged = try ledger.projection(asOf: .seq(222), at: Projection.endOfTime, fromLog: true).0
        let slot = try #require((0..<forged.problems.count).first { forged.problems.record(at: $0).unit >= 0 })
        var record = forged.problems[slot]
        record.leader = forged.problems.intern("伪造的领导")
        forged.problems[slot] = record
        let bytes = ProjectionSnapshot.take(&forged, base: nil, blockStart: 185)
        _ = try ledger.log.write { w in try w.put(table, UInt64(222).bigEndianBytes, bytes); return .commit(()) }
        let id = forged.problems.id(at: slot)
        let fooled = try ledger.projection(asOf: .seq(230), at: Projection.endOfTime).0.board().first { $0.id == id }
        let truth = try ledger.projection(asOf: .seq(230), at: Projection.endOfTime, fromLog: true).0.board().first { $0.id == id }
        #expect(fooled?.problem.leader == "伪造的领导")  // views trust derived data; verify is what checks it
        #expect(truth?.problem.leader != "伪造的领导")
        // A store opened to read the log alone (`--from-log`) gives the truth in every view.
        let inspector = try Ledger(path: store.path, access: .readOnly, fromLog: true)
        let seen = try inspector.projection(asOf: .seq(230), at: Projection.endOfTime).0.board().first { $0.id == id }
        #expect(seen?.problem.leader == truth?.problem.leader)
        let found = try ledger.verify()
        #expect(found.derived.map(\.key) == ["seq 222"], "\(found.derived)")
        #expect(try ledger.verify(logOnly: true).derived.isEmpty)  // the log itself holds
        try ledger.rebuildDerived()
        #expect(try ledger.verify().derived.isEmpty)
    }

    @Test("a forged subject's record is named by verify; a new process would decide by it, which is why verify checks it")
    func forgedSubjectRecordNamed() throws {
        let store = TemporaryStore()
        let ledger = try smallIntervals(store)
        try randomCampaign(seed: 32, events: 300, into: ledger, store: store)
        let table = try #require(ledger.index.subjects)
        let stamp = try ledger.log.read { try SubjectIndex.storedStamp($0) }
        let problem = try #require(try ledger.log.read { reader -> String? in
            var found: String?
            try reader.forEach(table) { key, value in
                if let r = try? SubjectRecord(stored: value), r.problem?.status == .assigned, r.lastSeq <= stamp {
                    found = String(decoding: key, as: UTF8.self)
                    return false
                }
                return true
            }
            return found
        })
        var record = try #require(try ledger.record(of: problem))
        var changed = try #require(record.problem)
        changed.status = .closed
        record.payload = .problem(changed)
        _ = try ledger.log.write { w in try w.put(table, Array(problem.utf8), record.encoded()); return .commit(()) }
        #expect(try smallIntervals(store).record(of: problem)?.problem?.status == .closed)  // a new process reads the forgery
        let inspector = try Ledger(path: store.path, access: .readOnly, fromLog: true)
        #expect(try inspector.record(of: problem)?.problem?.status == .assigned)  // from the log alone: the truth
        let found = try ledger.verify()
        #expect(found.derived.contains { $0.table == "subjects" && $0.key == problem }, "\(found.derived)")
        try ledger.rebuildDerived()
        #expect(try ledger.verify().derived.isEmpty)
    }

    @Test("a new process decides from the stored records and the tail after them, as a fold of the whole log would")
    func newProcessDecides() throws {
        let store = TemporaryStore()
        var folded = CampaignState()
        do {
            let ledger = try smallIntervals(store)
            try randomCampaign(seed: 31, events: 400, into: ledger, store: store)
            try ledger.events { entry in folded.apply(entry.recorded.event, seq: entry.recorded.seq); return true }
        }
        let reopened = try smallIntervals(store)
        for (id, record) in folded.records { #expect(try reopened.record(of: id) == record, "\(id)") }
        let (closedID, closed) = try #require(folded.records.first { $0.value.problem?.status == .closed })
        let reopen = Incoming(line: 1, event: Event(
            id: "after-restore", source: "/t", subject: closedID, time: closed.lastTime, actor: "inspector/x", role: .inspector,
            actorUnit: "U-0", data: .problemReopened(Reopening(reason: "反弹", deadline: closed.lastTime.adding(seconds: 86_400)))))
        #expect(try reopened.append([reopen], recordedBy: "local:test").appended.count == 1)
        let again = Incoming(line: 1, event: Event(
            id: "after-restore-2", source: "/t", subject: closedID, time: closed.lastTime, actor: "inspector/x", role: .inspector,
            actorUnit: "U-0", data: .rectificationVerified(note: nil)))
        let refused = try #require(throws: AppendRefused.self) { try reopened.append([again], recordedBy: "local:test") }
        #expect(refused.refusals.first?.refusal.rule == .lifecycle)
    }

    @Test("a large append holds a bounded number of records in memory, writing them to the table as it goes, and decides the same")
    func boundedMemory() throws {
        let store = TemporaryStore()
        let ledger = try Ledger(path: store.path, access: .create, mapSize: 1 << 20, flushEvery: 10, clock: store.clock)
        let campaign = TemporaryStore()
        let source = try smallIntervals(campaign)
        try randomCampaign(seed: 5, events: 3_000, into: source, store: campaign)
        var all: [Incoming] = []
        try source.events { all.append(Incoming(line: Int($0.recorded.seq), event: $0.recorded.event)); return true }
        store.setClock("2026-03-01T00:00:00Z")
        let report = try ledger.append(all, recordedBy: "local:test")
        #expect(report.appended.count == all.count)
        #expect(ledger.lastAppendHeldAtMost <= ledger.index.heldAtMost)
        #expect(ledger.lastAppendHeldAtMost < 1_000, "held \(ledger.lastAppendHeldAtMost) records")
        #expect(try ledger.verify().derived.isEmpty)
    }

    @Test("a map far too small for a large append is grown ahead from the input's size: the append runs once")
    func mapGrownAhead() throws {
        let store = TemporaryStore()
        let ledger = try Ledger(path: store.path, access: .create, mapSize: 64 << 10, clock: store.clock)
        let campaign = TemporaryStore()
        let source = try smallIntervals(campaign)
        try randomCampaign(seed: 6, events: 2_000, into: source, store: campaign)
        let file = store.path + "-input.ndjson"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try writeNDJSON(of: source, to: file)
        let report = try ledger.append(try NDJSONInput(path: file), AppendOptions(recordedBy: "local:test"))
        #expect(report.appended.count == 2_000)
        #expect(ledger.lastAppendAttempts == 1)
        #expect(try ledger.verify().derived.isEmpty)
    }

    @Test("a large append written into the map (its pages read ahead on another thread) stores what one copied at commit stores, each in one run")
    func largeWriteAsCopied() throws {
        let campaign = TemporaryStore()
        let source = try Ledger(path: campaign.path, access: .create, mapSize: 1 << 20, snapshotInterval: 1_000, clock: campaign.clock)
        try randomCampaign(seed: 9, events: 8_500, into: source, store: campaign)
        let file = campaign.path + "-input.ndjson"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let bytes = try writeNDJSON(of: source, to: file)
        // Past the size from which an append takes its snapshots as it goes, and reads its pages ahead.
        #expect(bytes >= Ledger.projectingFrom)
        var heads: [LogHead] = []
        for largeWrites in [true, false] {
            let store = TemporaryStore()
            let ledger = try Ledger(path: store.path, access: .create, mapSize: 64 << 10, snapshotInterval: 1_000,
                                    largeWrites: largeWrites, clock: store.clock)
            let report = try ledger.append(try NDJSONInput(path: file), AppendOptions(recordedBy: "local:test"))
            #expect(report.appended.count == 8_500)
            #expect(ledger.lastAppendAttempts == 1, "largeWrites \(largeWrites)")
            let verified = try ledger.verify()
            #expect(verified.derived.isEmpty)
            #expect(verified.snapshots == 8)
            heads.append(report.head)
        }
        #expect(heads[0] == heads[1])
    }
}

/// `v` as a protobuf varint.
func varint(_ v: UInt64) -> [UInt8] {
    var v = v, out: [UInt8] = []
    while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
    return out + [UInt8(v)]
}
