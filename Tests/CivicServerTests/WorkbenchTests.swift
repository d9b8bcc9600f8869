import Campaign
import Foundation
import Ledger
import Projections
import Queries
import Reports
import Testing

func t(_ s: String) -> Timestamp { Timestamp(rfc3339: s + "+08:00")! }

/// One event line: `actor` with its role and unit, `data` as JSON.
func line(_ id: String, _ type: String, _ subject: String, _ time: String, _ actor: String, _ role: String, _ unit: String?, _ data: String) -> String {
    let u = unit.map { ",\"actorunit\":\"\($0)\"" } ?? ""
    return #"{"specversion":"1.0","id":"\#(id)","source":"/t","type":"\#(type)","subject":"\#(subject)","time":"\#(time)+08:00","actor":"\#(actor)","actorrole":"\#(role)"\#(u),"data":\#(data)}"#
}

/// A hand-made campaign for the inspector's workbench: every flag planted once beside a near case that
/// must not raise it, and the clue ranking computed by hand.
@Suite("The inspector's workbench: each flag raised by its case and not by the near one, content in trails, measures by target, cases, clues", .serialized)
struct WorkbenchTests {
    /// The store's clock, set before each append.
    final class Box: @unchecked Sendable {
        let lock = NSLock()
        var moment = Timestamp(micros: 0)
        func clock() -> Timestamp { lock.lock(); defer { lock.unlock() }; return moment }
    }
    let box = Box()
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("civic-workbench-\(UUID().uuidString)").path
    let sha1 = String(repeating: "a1", count: 32), sha2 = String(repeating: "b2", count: 32), sha3 = String(repeating: "c3", count: 32)

    func ledger(flushEvery: UInt64 = 10_000) throws -> Ledger {
        let box = box
        return try Ledger(path: path, access: .create, flushEvery: flushEvery, clock: { box.clock() })
    }

    /// Appends `lines` recorded at `recorded` by `by`.
    func append(_ ledger: Ledger, _ recorded: String, by: String = "local:test", _ lines: [String]) throws {
        box.lock.lock(); box.moment = t(recorded); box.lock.unlock()
        let (events, refusals) = CloudEvents.readLines(Array(lines.joined(separator: "\n").utf8))
        if let first = refusals.first { throw first }
        _ = try ledger.append(events, recordedBy: by)
    }

    /// The campaign: list B-1 due 2030-01-10 18:00; P-1, P-2, P-3 with U-a by then.
    func campaign(flushEvery: UInt64 = 10_000) throws -> Ledger {
        let l = try ledger(flushEvery: flushEvery)
        let office = ("office/li", "office", "U-office")
        func o(_ id: String, _ type: String, _ subject: String, _ time: String, _ data: String) -> String {
            line(id, type, subject, time, office.0, office.1, office.2, data)
        }
        try append(l, "2030-01-01T09:00:00", [
            o("u0", "unit.registered", "U-office", "2030-01-01T08:00:00", #"{"name":"创文办","kind":"department"}"#),
            o("u1", "unit.registered", "U-a", "2030-01-01T08:01:00", #"{"name":"城管执法大队","kind":"department","aliases":["城管"]}"#),
            o("u2", "unit.registered", "U-p", "2030-01-01T08:02:00", #"{"name":"城管执法大队党支部","kind":"party_organization"}"#),
            o("b1", "batch.opened", "B-1", "2030-01-01T08:30:00", #"{"name":"一月清单","source":"inspection","dueAt":"2030-01-10T18:00:00+08:00"}"#),
        ])
        try append(l, "2030-01-02T11:00:00", (1...3).flatMap { k in [
            o("r\(k)", "problem.reported", "P-\(k)", "2030-01-02T09:0\(k):00",
              #"{"batch":"B-1","source":"inspection","category":"sanitation","description":"垃圾\#(k)","location":{"area":"城北"}}"#),
            o("a\(k)", "problem.assigned", "P-\(k)", "2030-01-02T10:0\(k):00", #"{"unit":"U-a","deadline":"2030-01-10T18:00:00+08:00"}"#),
        ] })
        let staff = ("unit/a-wang", "unit", "U-a")
        func fix(_ id: String, _ p: String, _ time: String, _ sha: String) -> String {
            line(id, "rectification.submitted", p, time, staff.0, staff.1, staff.2, #"{"summary":"已清理\#(p)","evidence":[{"sha256":"\#(sha)"}]}"#)
        }
        func verify(_ id: String, _ p: String, _ time: String) -> String {
            line(id, "rectification.verified", p, time, "inspector/zhao", "inspector", "U-office", "{}")
        }
        try append(l, "2030-01-09T10:05:00", [fix("f1", "P-1", "2030-01-09T10:00:00", sha1)])
        try append(l, "2030-01-10T16:05:00", [fix("f2", "P-2", "2030-01-10T16:00:00", sha2)])
        // The near case: verified on the day, 25 minutes after the fix was recorded (hasty only at 30).
        try append(l, "2030-01-10T16:30:00", [verify("v2", "P-2", "2030-01-10T16:29:00")])
        // P-3's fix shows P-1's photo again (reused-evidence), entered for the unit by the office (proxy).
        try append(l, "2030-01-10T17:00:00", by: "office/li", [fix("f3", "P-3", "2030-01-10T16:50:00", sha1)])
        // The paper zero-out: P-1 and P-3 verified "on the 10th", entered on the 11th (recorded-after-due).
        try append(l, "2030-01-11T09:00:00", [verify("v1", "P-1", "2030-01-10T17:00:00"), verify("v3", "P-3", "2030-01-10T17:10:00")])
        return l
    }

    func trail(_ l: Ledger, _ subject: String, hasty: Double? = nil) throws -> [AuditRow] {
        guard case .audit(let rows, _) = try Views(ledger: l).answer(
            .audit(.subject(subject), rules: AuditRules(hastyMinutes: hasty), Moment(at: t("2030-02-01T00:00:00")))) else { return [] }
        return rows
    }

    @Test("recorded-after-due, reused-evidence, proxy and hasty-verification: each on its case, none on the near one (evidence found in the table, and in the log after it)",
          arguments: [1, 10_000] as [UInt64])
    func flags(flushEvery: UInt64) throws {
        let l = try campaign(flushEvery: flushEvery)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let p1 = try trail(l, "P-1"), p2 = try trail(l, "P-2", hasty: 30), p3 = try trail(l, "P-3")
        func flags(_ rows: [AuditRow], _ type: EventType) -> [AuditFlag] { rows.first { $0.type == type }?.flags ?? [] }
        #expect(flags(p1, .rectificationVerified) == [.recordedAfterDue])
        #expect(flags(p2, .rectificationVerified) == [.hastyVerification])
        #expect(try trail(l, "P-2").first { $0.type == .rectificationVerified }?.flags == [])  // off by default
        #expect(try trail(l, "P-2", hasty: 20).first { $0.type == .rectificationVerified }?.flags == [])
        #expect(flags(p1, .rectificationSubmitted) == [])  // the photo's first use
        #expect(flags(p2, .rectificationSubmitted) == [])
        #expect(Set(flags(p3, .rectificationSubmitted)) == [.reusedEvidence, .proxy])
        #expect(flags(p3, .rectificationVerified) == [.recordedAfterDue])
        #expect(p1.allSatisfy { !$0.flags.contains(.backdated) })
        // The trail says what each event did, units by name.
        #expect(p1.first { $0.type == .problemAssigned }?.summary.contains("城管执法大队（U-a）") == true)
        #expect(p3.first { $0.type == .rectificationSubmitted }?.summary.hasPrefix("已清理P-3") == true)
        #expect(p3.first { $0.type == .rectificationSubmitted }?.evidence == [sha1])
    }

    @Test("progress: zeroed on the 10th as dated, on the 11th as recorded: not on time, on paper only")
    func paperZero() throws {
        let l = try campaign()
        defer { try? FileManager.default.removeItem(atPath: path) }
        guard case .progress(let batches, _, _) = try Views(ledger: l).answer(.progress(batch: "B-1", Moment(at: t("2030-01-12T00:00:00")))) else { return }
        let tally = try #require(batches.first?.tally)
        #expect(tally.zeroedAt == t("2030-01-10T17:10:00"))
        #expect(tally.zeroedRecordedAt?.micros == Timestamp(rfc3339: "2030-01-11T09:00:00+08:00")?.micros)
        #expect(tally.onTime == false && tally.onPaperOnly)
    }

    @Test("measures by target kind: refused otherwise, 改组 only for a 党组织, the old combined sanction refused")
    func measures() throws {
        let l = try campaign()
        defer { try? FileManager.default.removeItem(atPath: path) }
        func record(_ id: String, _ kind: String, _ target: String, _ measure: String) throws {
            try append(l, "2030-01-12T10:00:00", [line(id, "accountability.recorded", id, "2030-01-12T09:00:00", "discipline/chen", "discipline", nil,
                #"{"target":{"kind":"\#(kind)","id":"\#(target)"},"measure":"\#(measure)","reason":"纸面销号","problems":["P-1"],"organ":"区纪工委","document":"纪发〔2030〕1号"}"#)])
        }
        for (kind, target, measure) in [("unit", "U-a", "admonishment"), ("unit", "U-a", "party_discipline"), ("person", "p/li", "reorganization"),
                                        ("unit", "U-a", "reorganization"), ("person", "p/li", "disciplinary_sanction")] {
            #expect(throws: AppendRefused.self, "\(kind) \(measure)") { try record("A-x", kind, target, measure) }
        }
        try record("A-1", "unit", "U-a", "interview")
        try record("A-2", "unit", "U-p", "reorganization")
        try record("A-3", "person", "p/li", "party_discipline")
        try record("A-4", "person", "p/wang", "government_sanction")
        let (cases, _) = try Views(ledger: l).cases(Moment(at: t("2030-02-01T00:00:00")))
        #expect(cases.map(\.id) == ["A-1", "A-2", "A-3", "A-4"])
        #expect(cases[0].target == "城管执法大队" && cases[0].organ == "区纪工委" && cases[0].document == "纪发〔2030〕1号")
        #expect(cases[0].problems == ["P-1"] && cases[0].actor == "discipline/chen" && cases[0].recordedBy == "local:test")
        #expect(cases.map(\.measure) == [.interview, .reorganization, .partyDiscipline, .governmentSanction])
        // The board marks a problem with the cases in force for it: recorded by then, not revoked.
        #expect(try l.cases(concerning: ["P-1", "P-2"]) == ["P-1": ["A-1", "A-2", "A-3", "A-4"]])
        #expect(try l.cases(concerning: ["P-1"], at: t("2030-01-12T08:00:00")).isEmpty)
        try append(l, "2030-01-13T10:00:00", [line("A-1r", "accountability.revoked", "A-1", "2030-01-13T09:00:00", "discipline/chen", "discipline", nil, #"{"reason":"复核撤销"}"#)])
        #expect(try l.cases(concerning: ["P-1"]) == ["P-1": ["A-2", "A-3", "A-4"]])
        #expect(try l.cases(concerning: ["P-1"], at: t("2030-01-12T12:00:00")) == ["P-1": ["A-1", "A-2", "A-3", "A-4"]])
        // As of before they were recorded, the ledger is empty.
        #expect(try Views(ledger: l).cases(Moment(at: t("2030-02-01T00:00:00"), asOf: .seq(16))).rows.isEmpty)
    }

    @Test("the clues, ranked as computed by hand: 城管执法大队 15, the inspector 10, the unit's staff 5")
    func clues() throws {
        let l = try campaign()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (rows, _) = try Views(ledger: l).clues(since: nil, unit: nil, Moment(at: t("2030-01-12T00:00:00")))
        // U-a: two verifications of its problems recorded after the due time, one reused photo: 3 flagged events × 5.
        // inspector/zhao: the two late verifications: 2 × 5. unit/a-wang: the reused photo (f3, recorded by the
        // office: reused-evidence and proxy on one event): 1 × 5.
        let scores = Dictionary(uniqueKeysWithValues: rows.map { ($0.id, $0.score) })
        #expect(scores == ["U-a": 15, "inspector/zhao": 10, "unit/a-wang": 5])
        #expect(rows.map(\.id) == ["U-a", "inspector/zhao", "unit/a-wang"])
        #expect(rows.map(\.rank) == [1, 2, 3])
        #expect(rows[0].flags[.recordedAfterDue] == 2 && rows[0].flags[.reusedEvidence] == 1)
        #expect(rows[0].trail == "civic audit --unit U-a")
        // A person's unit by its registered name too, as the table shows it (所属单位: name（id）).
        let staff = try #require(rows.first { $0.id == "unit/a-wang" })
        let name = try l.registry().units["U-a"]
        #expect(staff.unit == "U-a" && staff.unitName == name && name != nil)
        // By the unit's alias, only it and its people.
        let (only, _) = try Views(ledger: l).clues(since: nil, unit: "城管", Moment(at: t("2030-01-12T00:00:00")))
        #expect(only.map(\.id) == ["U-a", "unit/a-wang"])
        // Since the 11th: only the paper verifications.
        let (late, _) = try Views(ledger: l).clues(since: t("2030-01-10T16:55:00"), unit: nil, Moment(at: t("2030-01-12T00:00:00")))
        #expect(Dictionary(uniqueKeysWithValues: late.map { ($0.id, $0.score) }) == ["U-a": 10, "inspector/zhao": 10])
    }
}
