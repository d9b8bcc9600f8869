import Campaign
import EventLog
import Foundation
import Testing
@testable import Ledger

@Suite("The ledger: append, read back, idempotency, atomicity")
struct LedgerTests {
    @Test("appended events get gapless seqs, per-subject versions and the store's clock")
    func appendAssignsPlaces() throws {
        let store = TemporaryStore()
        let ledger = try store.open()
        let report = try ledger.append(try hengkouSetup())
        #expect(report.appended.map(\.seq) == Array(1...11))
        #expect(report.appended.allSatisfy { $0.version == 1 })
        #expect(report.head.seq == 11)

        let more = try ledger.append(try events("""
        \(line("r1", "problem.reported", "P-1", "2022-08-21T09:00:00+08:00", #"{"batch":"B-20220819","source":"inspection","category":"sanitation","description":"垃圾堆积","location":{"area":"中心城区"}}"#))
        \(line("a1", "problem.assigned", "P-1", "2022-08-21T09:10:00+08:00", #"{"unit":"U-hw","deadline":"2022-08-23T18:00:00+08:00"}"#))
        """))
        #expect(more.appended.map(\.seq) == [12, 13])
        #expect(more.appended.map(\.version) == [1, 2])
        #expect(more.recordedAt == Timestamp(rfc3339: "2026-11-22T09:00:00+08:00")!)
        #expect(try ledger.verify().head.seq == 13)
    }

    @Test("the store's clock never goes backwards, even when the machine's does")
    func clockNeverGoesBackwards() throws {
        let store = TemporaryStore(clock: "2026-11-22T10:00:00Z")
        let ledger = try store.open()
        _ = try ledger.append(Array(try hengkouSetup().prefix(1)))
        store.setClock("2026-11-22T08:00:00Z")
        let report = try ledger.append(Array(try hengkouSetup()[1...1]))
        #expect(report.recordedAt == Timestamp(rfc3339: "2026-11-22T10:00:00Z")!)
    }

    @Test("appending an event stored already with the same content is a no-op reported as duplicate")
    func duplicateIsNoOp() throws {
        let store = TemporaryStore()
        let ledger = try store.open()
        _ = try ledger.append(try hengkouSetup())
        let head = try ledger.log.head()
        let again = try ledger.append(try hengkouSetup())
        #expect(again.appended.isEmpty)
        #expect(again.duplicates.map(\.seq) == Array(1...11))
        #expect(try ledger.log.head() == head)
    }

    @Test("an id stored already with other content is refused as a conflict, and nothing is stored")
    func conflictingIdRefused() throws {
        let store = TemporaryStore()
        let ledger = try store.open()
        _ = try ledger.append(try hengkouSetup())
        let head = try ledger.log.head()
        let changed = try events(line("setup-u-hw", "unit.registered", "U-hw", "2022-06-24T09:04:00+08:00",
                                      #"{"name":"环卫公司","kind":"enterprise"}"#))
        let error = try #require(throws: AppendRefused.self) { try ledger.append(changed) }
        #expect(error.refusals.map(\.refusal.rule) == [.conflict])
        #expect(error.refusals[0].id == "setup-u-hw")
        #expect(try ledger.log.head() == head)
    }

    @Test("the same id twice in one append: identical is a duplicate, different is a conflict")
    func duplicateWithinOneAppend() throws {
        let store = TemporaryStore()
        let ledger = try store.open()
        let unit = line("u1", "unit.registered", "U-1", "2022-06-24T09:00:00+08:00", #"{"name":"一号单位","kind":"department"}"#)
        let report = try ledger.append(try events(unit + "\n" + unit))
        #expect(report.appended.count == 1)
        #expect(report.duplicates.count == 1)
        let other = line("u2", "unit.registered", "U-2", "2022-06-24T09:00:00+08:00", #"{"name":"二号单位","kind":"department"}"#)
        let clash = line("u2", "unit.registered", "U-3", "2022-06-24T09:00:00+08:00", #"{"name":"三号单位","kind":"department"}"#)
        let error = try #require(throws: AppendRefused.self) { try ledger.append(try events(other + "\n" + clash)) }
        #expect(error.refusals.map(\.line) == [2])
        #expect(error.refusals.map(\.refusal.rule) == [.conflict])
        #expect(try ledger.log.head().seq == 1)
    }

    @Test("expectedversion: matching is stored, mismatching is refused")
    func expectedVersion() throws {
        let store = TemporaryStore()
        let ledger = try store.open()
        _ = try ledger.append(try hengkouSetup())
        let report = line("r1", "problem.reported", "P-1", "2022-08-21T09:00:00+08:00",
                          #"{"source":"inspection","category":"sanitation","description":"垃圾","location":{"area":"城北"}}"#,
                          extra: #","expectedversion":0"#)
        _ = try ledger.append(try events(report))
        let stale = line("a1", "problem.assigned", "P-1", "2022-08-21T10:00:00+08:00",
                         #"{"unit":"U-hw","deadline":"2022-08-23T18:00:00+08:00"}"#, extra: #","expectedversion":0"#)
        let error = try #require(throws: AppendRefused.self) { try ledger.append(try events(stale)) }
        #expect(error.refusals[0].refusal.rule == .concurrency)
        let fresh = line("a1", "problem.assigned", "P-1", "2022-08-21T10:00:00+08:00",
                         #"{"unit":"U-hw","deadline":"2022-08-23T18:00:00+08:00"}"#, extra: #","expectedversion":1"#)
        #expect(try ledger.append(try events(fresh)).appended.count == 1)
    }

    @Test("an append with one refused event stores nothing, names every refusal, and leaves the rules' state as before")
    func appendIsAtomic() throws {
        let store = TemporaryStore()
        let ledger = try store.open()
        _ = try ledger.append(try hengkouSetup())
        let before = try ledger.currentState()
        let batch = try events("""
        \(line("r1", "problem.reported", "P-1", "2022-08-21T09:00:00+08:00", #"{"source":"inspection","category":"sanitation","description":"垃圾","location":{"area":"城北"}}"#))
        \(line("a1", "problem.assigned", "P-1", "2022-08-21T09:10:00+08:00", #"{"unit":"U-nobody","deadline":"2022-08-23T18:00:00+08:00"}"#))
        \(line("v1", "rectification.verified", "P-1", "2022-08-21T09:20:00+08:00", #"{}"#))
        """)
        let error = try #require(throws: AppendRefused.self) { try ledger.append(batch) }
        #expect(error.refusals.map(\.line) == [2, 3])
        #expect(error.refusals.map(\.refusal.rule) == [.reference, .lifecycle])
        #expect(error.refusals[1].refusal.message.contains("待交办(reported)"))
        #expect(try ledger.log.head().seq == 11)
        #expect(try ledger.log.read { try $0.seq(ofID: "r1") } == nil)
        #expect(try ledger.currentState() == before)
        // The same report alone now goes through: the refused append left no trace.
        #expect(try ledger.append(Array(batch.prefix(1))).appended.map(\.seq) == [12])
    }

    @Test("an append prepared on a second thread stores, skips and refuses exactly what one thread does")
    func preparedOnSecondThread() throws {
        let report = #"{"source":"inspection","category":"sanitation","description":"垃圾","location":{"area":"城北"}}"#
        let blank = #"{"source":"inspection","category":"sanitation","description":" ","location":{"area":"城北"}}"#
        let assign = #"{"unit":"U-hw","deadline":"2022-08-23T18:00:00+08:00"}"#
        let (reported, assigned) = ("2022-08-21T09:00:00+08:00", "2022-08-21T09:10:00+08:00")
        let accepted = try events(((1...7).flatMap { n in
            [line("r\(n)", "problem.reported", "P-\(n)", reported, report),
             line("a\(n)", "problem.assigned", "P-\(n)", assigned, assign)]
        } + [line("r3", "problem.reported", "P-3", reported, report)]).joined(separator: "\n"))  // r3 again
        let refused = try events([
            line("r8", "problem.reported", "P-8", reported, blank),  // malformed
            line("a8", "problem.assigned", "P-8", assigned, assign),  // so P-8 does not exist
            line("r1", "problem.reported", "P-1", reported, report),  // stored already
            line("u9", "unit.registered", "U-9", assigned, #"{"name":"新单位","kind":"enterprise"}"#,
                 actor: "unit/wang", role: "unit", unit: "U-hw"),  // not the unit's to register
        ].joined(separator: "\n"))
        let store = TemporaryStore()
        let ledger = try store.open()
        _ = try ledger.append(try hengkouSetup())
        let stored = try ledger.append(accepted)
        #expect(stored.appended.map(\.seq) == Array(12...25))
        #expect(stored.duplicates.map { "\($0.line) \($0.id) \($0.seq)" } == ["15 r3 16"])  // as the first r3 is stored
        let error = try #require(throws: AppendRefused.self) { try ledger.append(refused) }
        #expect(error.refusals.map(\.line) == [1, 2, 4])
        #expect(error.refusals.map(\.refusal.rule) == [.malformed, .reference, .role])
        #expect(try ledger.log.head() == stored.head)
    }

    @Test("a large append read from a file on a second thread stores what one from memory does, also when the map fills mid-way")
    func largeAppendOnSecondThread() throws {
        let report = #"{"source":"inspection","category":"sanitation","description":"背街小巷垃圾堆积","location":{"area":"城北"}}"#
        let assign = #"{"unit":"U-hw","deadline":"2022-08-23T18:00:00+08:00"}"#
        let text = (1...1500).flatMap { n in
            [line("r\(n)", "problem.reported", "P-\(n)", "2022-08-21T09:00:00+08:00", report),
             line("a\(n)", "problem.assigned", "P-\(n)", "2022-08-21T09:10:00+08:00", assign)]
        }.joined(separator: "\n")
        var heads: [LogHead] = []
        for fromFile in [false, true] {
            let store = TemporaryStore(clock: "2026-01-01T00:00:00Z")
            let ledger = try store.open(mapSize: 64 << 10)  // far too small: the write runs again in a larger map
            _ = try ledger.append(try hengkouSetup())
            let stored: AppendReport
            if fromFile {
                let file = store.path + ".ndjson"
                defer { try? FileManager.default.removeItem(atPath: file) }
                try text.write(toFile: file, atomically: true, encoding: .utf8)
                stored = try ledger.append(try NDJSONInput(path: file), AppendOptions(recordedBy: "local:test"))
            } else {
                stored = try ledger.append(try events(text))
            }
            #expect(stored.appended.map(\.seq) == Array(12...3011))
            #expect(stored.appended.map(\.line) == Array(1...3000))
            #expect(try ledger.verify().head == stored.head)
            #expect(try ledger.verify().derived.isEmpty)
            heads.append(stored.head)
        }
        #expect(heads[0] == heads[1])
    }

    @Test("a refused append puts back every record it made or changed: units, lists, problems, cases, streams")
    func refusalPutsBackEveryKindOfRecord() throws {
        let store = TemporaryStore()
        let ledger = try store.open()
        _ = try ledger.append(try hengkouSetup())
        _ = try ledger.append(try events(line("r1", "problem.reported", "P-1", "2022-08-21T09:00:00+08:00",
            #"{"source":"inspection","category":"sanitation","description":"垃圾","location":{"area":"城北"}}"#)))
        let before = try ledger.currentState()
        let batch = try events([
            line("u1", "unit.registered", "U-new", "2022-08-21T09:00:00+08:00", #"{"name":"新单位","kind":"enterprise"}"#),
            line("b1", "batch.opened", "B-new", "2022-08-21T09:00:00+08:00",
                 #"{"name":"新清单","source":"inspection","dueAt":"2022-09-30T18:00:00+08:00"}"#),
            line("a1", "problem.assigned", "P-1", "2022-08-21T09:10:00+08:00", #"{"unit":"U-new","deadline":"2022-08-23T18:00:00+08:00"}"#),
            line("c1", "accountability.recorded", "C-1", "2022-08-21T09:20:00+08:00",
                 #"{"target":{"kind":"unit","id":"U-new"},"measure":"interview","reason":"整改不力","problems":["P-1"]}"#,
                 actor: "discipline/zhao", role: "discipline", unit: nil),
            line("x1", "problem.assigned", "P-nowhere", "2022-08-21T09:30:00+08:00", #"{"unit":"U-new","deadline":"2022-08-23T18:00:00+08:00"}"#),
        ].joined(separator: "\n"))
        let error = try #require(throws: AppendRefused.self) { try ledger.append(batch) }
        #expect(error.refusals.map(\.id) == ["x1"])
        let after = try ledger.currentState()
        #expect(after.records["U-new"] == nil && after.records["B-new"] == nil && after.records["C-1"] == nil)
        #expect(after.records["P-1"]?.problem?.status == .reported)
        #expect(after.records["P-1"]?.version == 1)
        #expect(after == before)
        // And the records the rules will consult next: those of the log, not of the refused append.
        for id in ["U-new", "B-new", "C-1"] { #expect(try ledger.record(of: id) == nil) }
        #expect(try ledger.record(of: "P-1") == before.records["P-1"])
    }

    @Test("a dry run checks every rule and stores nothing")
    func dryRunStoresNothing() throws {
        let store = TemporaryStore()
        let ledger = try store.open()
        let report = try ledger.append(try hengkouSetup(), dryRun: true)
        #expect(report.appended.count == 11)
        #expect(try ledger.log.head().seq == 0)
        #expect(try ledger.currentState().records.isEmpty)
        #expect(try ledger.record(of: "U-office") == nil)
    }

    @Test("the map grows when it is full, and the log still verifies")
    func mapGrows() throws {
        let store = TemporaryStore()
        let ledger = try Ledger(path: store.path, access: .create, mapSize: 64 << 10, clock: store.clock)
        let before = ledger.log.mapAndFile.map
        _ = try ledger.append(try hengkouSetup())
        var lines: [String] = []
        for k in 1...2000 {
            lines.append(line("r\(k)", "problem.reported", "P-\(k)", "2022-08-21T09:00:00+08:00",
                              #"{"source":"inspection","category":"sanitation","description":"背街小巷垃圾堆积、污水横流，群众反映强烈","location":{"area":"中心城区","street":"中心大街"}}"#))
        }
        _ = try ledger.append(try events(lines.joined(separator: "\n")))
        #expect(ledger.log.mapAndFile.map > before)
        #expect(try ledger.verify().head.seq == 2011)
    }

    @Test("many single appends through a growing map: none is refused, none lost (the map may fill at commit)")
    func singleAppendsThroughGrowth() throws {
        let store = TemporaryStore()
        let ledger = try Ledger(path: store.path, access: .create, mapSize: 32 << 10, clock: store.clock)
        _ = try ledger.append(try hengkouSetup())
        let before = ledger.log.mapAndFile.map
        for k in 1...400 {
            let report = try ledger.append(try events(line("s\(k)", "problem.reported", "P-\(k)", "2022-08-21T09:00:00+08:00",
                #"{"source":"inspection","category":"sanitation","description":"背街小巷垃圾堆积、污水横流，群众反映强烈","location":{"area":"中心城区"}}"#)))
            #expect(report.appended.count == 1)
        }
        #expect(ledger.log.mapAndFile.map > before)
        #expect(try ledger.verify().head.seq == 411)
        #expect(try ledger.currentState().records.values.filter { $0.problem != nil }.count == 400)
    }

    @Test("a store opened read-only refuses every write")
    func readOnlyRefusesWrites() throws {
        let store = TemporaryStore()
        _ = try store.open()
        let reader = try Ledger(path: store.path, access: .readOnly)
        #expect(throws: (any Error).self) { try reader.append(try hengkouSetup()) }
        #expect(try reader.log.head().seq == 0)
    }

    @Test("a changed byte in data.mdb makes verify name its seq")
    func tamperDetected() throws {
        let store = TemporaryStore()
        do {
            let ledger = try store.open()
            _ = try ledger.append(try hengkouSetup())
        }
        let file = store.path + "/data.mdb"
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        let needle = Array("渣土运输公司".utf8)
        let at = try #require((0...(bytes.count - needle.count)).first { bytes[$0..<($0 + needle.count)].elementsEqual(needle) })
        bytes[at + 3] ^= 0x01  // 输 → another character
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let ledger = try Ledger(path: store.path, access: .readOnly)
        let damage = try #require(throws: LogDamage.self) { try ledger.verify() }
        #expect(damage.seq == 6)  // setup-u-zt is the sixth event
    }

    @Test("the events as of a seq or a recording time stop at that prefix")
    func eventsPrefix() throws {
        let store = TemporaryStore(clock: "2026-11-22T01:00:00Z")
        let ledger = try store.open()
        _ = try ledger.append(Array(try hengkouSetup().prefix(5)))
        store.setClock("2026-11-22T02:00:00Z")
        _ = try ledger.append(Array(try hengkouSetup().dropFirst(5)))
        var seqs: [UInt64] = []
        let head = try ledger.events(asOf: .seq(3)) { entry in seqs.append(entry.recorded.seq); return true }
        #expect(seqs == [1, 2, 3])
        #expect(head.seq == 3)
        seqs = []
        try ledger.events(asOf: .time(Timestamp(rfc3339: "2026-11-22T01:30:00Z")!)) { entry in seqs.append(entry.recorded.seq); return true }
        #expect(seqs == [1, 2, 3, 4, 5])
    }
}
