import Campaign
import Testing
@testable import Projections

/// A random campaign of `n` events (seeded): units, lists, problems through every turn of their lives,
/// reassignments and look-backs, in business-time order with now and then an event dated earlier.
func randomCampaign(_ n: Int, seed: UInt64) -> Log {
    var rng = SplitMix(seed)
    var log = Log()
    var minutes = 0
    func time() -> String {
        minutes += Int(rng.next() % 90)
        let t = Timestamp(rfc3339: "2022-08-19T08:00:00+08:00")!.adding(seconds: Int64(minutes) * 60)
        return String(t.inOffset(480).rfc3339.prefix(16))
    }
    var problems: [(id: String, status: ProblemStatus)] = []
    let units = ["U-a", "U-b", "U-c", "U-街道"]
    for (k, u) in units.enumerated() { log.add(u, time(), .unitRegistered(UnitRegistration(name: "单位\(k)", kind: .department))) }
    var batches = ["B-1"]
    log.open("B-1", time(), due: "2022-09-01T18:00")
    while log.events.count < n {
        let r = rng.next() % 100
        if r < 3 {
            let b = "B-\(batches.count + 1)"
            batches.append(b)
            log.open(b, time(), due: "2022-10-01T18:00")
        } else if r < 30 || problems.isEmpty {
            let id = "P-\(problems.count + 1)"
            log.report(id, time(), batch: rng.next() % 5 == 0 ? nil : batches[Int(rng.next() % UInt64(batches.count))])
            problems.append((id, .reported))
        } else {
            let k = Int(rng.next() % UInt64(problems.count))
            let (id, status) = problems[k]
            let unit = units[Int(rng.next() % UInt64(units.count))]
            let deadline = "2022-09-\(10 + rng.next() % 15)T18:00"
            switch status {
            case .reported:
                if rng.next() % 10 == 0 { log.add(id, time(), .problemWithdrawn(reason: "不属实")); problems[k].status = .withdrawn }
                else { log.assign(id, time(), to: unit, until: deadline); problems[k].status = .assigned }
            case .assigned:
                switch rng.next() % 6 {
                case 0: log.assign(id, time(), to: unit, until: deadline)
                case 1: log.add(id, time(), .problemEscalated(Escalation(to: "李", reason: "慢")))
                default: log.submit(id, time()); problems[k].status = .submitted
                }
            case .submitted:
                if rng.next() % 3 == 0 { log.add(id, time(), .rectificationRejected(reason: "不到位")); problems[k].status = .assigned }
                else { log.verify(id, time()); problems[k].status = .closed }
            case .closed:
                log.add(id, time(), .problemReopened(Reopening(reason: "反弹", deadline: Timestamp(rfc3339: deadline + ":00+08:00")!,
                                                               unit: rng.next() % 2 == 0 ? unit : nil)))
                problems[k].status = .assigned
            case .withdrawn:
                continue
            }
        }
    }
    return log
}

/// A small deterministic generator (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Snapshots of the projection: whole ones and deltas, restored to what a fold from the start gives")
struct ProjectionSnapshotTests {
    /// Folds `log` taking a snapshot every `every` events, whole every `wholeEvery`-th one; returns them.
    func snapshots(_ log: Log, every: Int, wholeEvery: Int) -> [(seq: UInt64, bytes: [UInt8])] {
        var projection = Projection(at: Projection.endOfTime)
        projection.startNoting()
        var taken: [(seq: UInt64, bytes: [UInt8])] = []
        for e in log.events {
            projection.apply(e)
            if e.seq % UInt64(every) == 0 {
                let whole = taken.count % wholeEvery == 0
                taken.append((e.seq, ProjectionSnapshot.take(&projection, base: whole ? nil : taken.last!.seq,
                                                               blockStart: taken.last?.seq ?? 0)))
            }
        }
        return taken
    }

    /// The projection restored from the whole snapshot at or before `k` and the deltas after it up to `k`.
    func restored(_ taken: [(seq: UInt64, bytes: [UInt8])], upTo k: Int) throws -> Projection {
        var start = k
        while try !taken[start].bytes.withUnsafeBytes({ try ProjectionSnapshot.header($0) }).isFull { start -= 1 }
        var projection = Projection(at: Projection.endOfTime)
        for s in taken[start...k] { try s.bytes.withUnsafeBytes { try ProjectionSnapshot.apply($0, to: &projection) } }
        return projection
    }

    @Test("restored at every snapshot of random campaigns, and folded on, the projection equals the fold from the start",
          arguments: [1, 2, 3, 4, 5] as [UInt64])
    func restoredEqualsFold(seed: UInt64) throws {
        let log = randomCampaign(1_200, seed: seed)
        let taken = snapshots(log, every: 50, wholeEvery: 4)
        for k in taken.indices {
            var projection = try restored(taken, upTo: k)
            var reference = Projection(at: Projection.endOfTime)
            for e in log.events.prefix(Int(taken[k].seq)) { reference.apply(e) }
            #expect(projection == reference, "at seq \(taken[k].seq)")
            // Folded on from there, at a moment, it reads as the fold judged at that moment.
            let at = log.t("2022-09-12T12:00")
            projection = projection.judged(at: at)
            var judged = reference.judged(at: at)
            for e in log.events.dropFirst(Int(taken[k].seq)) {
                projection.apply(e)
                judged.apply(e)
            }
            #expect(projection.board() == judged.board())
            #expect(projection.progress() == judged.progress())
        }
    }

    @Test("a snapshot is canonical: the same fold gives the same bytes, whatever the order the dictionaries keep")
    func canonical() {
        let log = randomCampaign(600, seed: 9)
        #expect(snapshots(log, every: 100, wholeEvery: 3).map(\.bytes) == snapshots(log, every: 100, wholeEvery: 3).map(\.bytes))
    }

    @Test("bytes cut short, lengthened or changed are refused; a delta does not apply to another projection than its base's")
    func damaged() throws {
        let log = randomCampaign(300, seed: 3)
        let taken = snapshots(log, every: 100, wholeEvery: 10)
        let whole = taken[0].bytes
        for n in stride(from: 0, to: whole.count, by: 7) {
            var p = Projection(at: Projection.endOfTime)
            #expect(throws: ProjectionSnapshot.Damaged.self) { try Array(whole.prefix(n)).withUnsafeBytes { try ProjectionSnapshot.apply($0, to: &p) } }
        }
        for offset in stride(from: 0, to: whole.count, by: 13) {
            var bad = whole
            bad[offset] ^= 0x40
            var p = Projection(at: Projection.endOfTime)
            #expect(throws: ProjectionSnapshot.Damaged.self) { try bad.withUnsafeBytes { try ProjectionSnapshot.apply($0, to: &p) } }
        }
        // The second snapshot adds to the first; to an empty projection it does not apply.
        var empty = Projection(at: Projection.endOfTime)
        #expect(throws: ProjectionSnapshot.Damaged.self) { try taken[1].bytes.withUnsafeBytes { try ProjectionSnapshot.apply($0, to: &empty) } }
    }

    @Test("a delta holds only what changed: far smaller than the whole projection")
    func deltasAreSmall() {
        let log = randomCampaign(4_000, seed: 5)
        let taken = snapshots(log, every: 1_000, wholeEvery: 100)
        let whole = Double(taken[0].bytes.count)
        var projection = Projection(at: Projection.endOfTime)
        for e in log.events { projection.apply(e) }
        let end = Double(ProjectionSnapshot.take(&projection, base: nil, blockStart: 0).count)
        #expect(Double(taken[3].bytes.count) < end * 0.6, "delta \(taken[3].bytes.count) of \(end) (first whole \(whole))")
    }
}
