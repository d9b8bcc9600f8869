import Campaign
import Demo
import EventLog
import Foundation
import JSON
import Projections
import Testing
@testable import Ledger

@Suite("Stored and exchanged formats")
struct FormatTests {
    @Test("the stored encoding is pinned: the setup events under a fixed clock give a known chain head")
    func storedEncodingGolden() throws {
        let store = TemporaryStore(clock: "2026-01-01T00:00:00Z")
        let ledger = try store.open()
        let report = try ledger.append(try hengkouSetup())
        // If this changes, the stored format changed: existing stores would no longer verify.
        let pinned = try String(contentsOf: packageRoot.appendingPathComponent("Schemas/examples/golden/hengkou-setup.head"), encoding: .utf8)
        #expect(report.head.description == pinned.trimmingSpaces)
    }

    @Test("vocabulary codes are stored by the numbers the .proto gives them")
    func enumNumbersMatchProto() {
        for role in Role.allCases { #expect("\(Civic_V1_Role(rawValue: StoredEvent.number(role))!)" == "\(role)") }
        for kind in UnitKind.allCases { #expect("\(Civic_V1_UnitKind(rawValue: StoredEvent.number(kind))!)" == "\(kind)") }
        for source in ProblemSource.allCases { #expect("\(Civic_V1_Source(rawValue: StoredEvent.number(source))!)" == "\(source)") }
        for category in Category.allCases { #expect("\(Civic_V1_Category(rawValue: StoredEvent.number(category))!)" == "\(category)") }
        for measure in Measure.allCases { #expect("\(Civic_V1_Measure(rawValue: StoredEvent.number(measure))!)" == "\(measure)") }
    }

    @Test("every valid example of Schemas/examples is read, stored and exported back the same")
    func validExamplesRoundTrip() throws {
        let folder = packageRoot.appendingPathComponent("Schemas/examples/valid")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
        #expect(files.count >= 13)
        var types: Set<EventType> = []
        for file in files {
            let bytes = Array(try Data(contentsOf: folder.appendingPathComponent(file)))
            let incoming = try CloudEvents.read(line: 1, bytes)
            try Rules.checkWellFormed(incoming.event)
            types.insert(incoming.event.type)
            let stored = try StoredEvent.decode(id: incoming.event.id, subject: incoming.event.subject,
                                                body: StoredEvent.encode(incoming.event))
            #expect(stored.hasSameContent(as: incoming.event), "\(file)")
            let exported = JSONText.render(CloudEvents.json(stored))
            let reread = try CloudEvents.read(line: 1, Array(exported.utf8))
            #expect(reread.event.hasSameContent(as: incoming.event), "\(file)")
        }
        #expect(types == Set(EventType.allCases))
    }

    @Test("every invalid example of Schemas/examples is refused as malformed")
    func invalidExamplesRefused() throws {
        let folder = packageRoot.appendingPathComponent("Schemas/examples/invalid")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
        #expect(files.count >= 12)
        for file in files {
            let bytes = Array(try Data(contentsOf: folder.appendingPathComponent(file)))
            do {
                let incoming = try CloudEvents.read(line: 1, bytes)
                try Rules.decide(incoming.event, given: CampaignState(), recordedAt: incoming.event.time)
                Issue.record("\(file) was accepted")
            } catch let refusal as LineRefusal {
                #expect(refusal.refusal.rule == .malformed, "\(file): \(refusal)")
            } catch let refusal as Refusal {
                #expect(refusal.rule == .malformed, "\(file): \(refusal)")
            }
        }
    }

    @Test("malformed lines are refused with their line number and what is wrong")
    func malformedLines() {
        let text = """
        {"specversion":"1.0","id":"x1"
        not json at all

        {"specversion":"1.0","id":"x2","source":"/t","type":"problem.closed","subject":"P","time":"2022-08-19T16:00:00+08:00","actor":"a","actorrole":"office","actorunit":"U","data":{}}
        {"specversion":"1.0","id":"x3","source":"/t","type":"problem.withdrawn","subject":"P","time":"2022-08-19 16:00","actor":"a","actorrole":"office","actorunit":"U","data":{"reason":"r"}}
        {"specversion":"1.0","id":"x4","source":"/t","type":"problem.withdrawn","subject":"P","time":"2022-08-19T16:00:00+08:00","actor":"a","actorrole":"office","actorunit":"U","data":{"reason":"r","extra":1}}
        """
        let (events, refusals) = CloudEvents.readLines(Array(text.utf8))
        #expect(events.isEmpty)
        #expect(refusals.map(\.line) == [1, 2, 4, 5, 6])
        #expect(refusals[2].refusal.message.contains("problem.closed"))
        #expect(refusals[3].refusal.message.contains("time"))
        #expect(refusals[4].refusal.message.contains("data.extra"))
        #expect(refusals.allSatisfy { $0.refusal.rule == .malformed })
    }

    @Test("control characters in a text are refused, line ends and tabs are not")
    func controlCharacters() throws {
        let base = #"{"specversion":"1.0","id":"x","source":"/t","type":"problem.withdrawn","subject":"P","time":"2022-08-19T16:00:00+08:00","actor":"a","actorrole":"office","actorunit":"U","data":{"reason":"REASON"}}"#
        let nul = CloudEvents.readLines(Array(base.replacingOccurrences(of: "REASON", with: #"不\u0000属实"#).utf8))
        #expect(nul.refusals.first?.refusal.message.contains("data.reason") == true)
        let lines = CloudEvents.readLines(Array(base.replacingOccurrences(of: "REASON", with: #"不属实\n\t经核实"#).utf8))
        #expect(lines.refusals.isEmpty)
    }

    @Test("a BOM, CRLF line ends and blank lines are accepted in NDJSON")
    func ndjsonTolerance() throws {
        var bytes: [UInt8] = [0xEF, 0xBB, 0xBF]
        let setup = try fixture("Sources/Demo/Resources/hengkou-setup.ndjson")
        for b in setup { if b == 0x0A { bytes += [0x0D, 0x0A, 0x0D, 0x0A] } else { bytes.append(b) } }
        let (events, refusals) = CloudEvents.readLines(bytes)
        #expect(refusals.isEmpty)
        #expect(events.count == 11)
        #expect(events[1].line == 3)
    }
}

@Suite("Reading the stored format straight from the map")
struct WireReaderTests {
    /// Every stored event of `ledger`, read both ways, must be the same.
    func expectSameReading(_ ledger: Ledger) throws -> Int {
        var slow: [RecordedEvent] = []
        try ledger.replay { recorded, _ in slow.append(recorded); return true }
        var fast: [RecordedEvent] = []
        try ledger.log.read { reader in
            try reader.forEachStored { value in fast.append(try WireReader.recorded(value)); return true }
        }
        #expect(fast.count == slow.count)
        for (a, b) in zip(fast, slow) {
            #expect(a.seq == b.seq && a.version == b.version && a.recordedAt.isIdentical(to: b.recordedAt))
            #expect(a.event.hasSameContent(as: b.event), "seq \(a.seq)")
        }
        return fast.count
    }

    @Test("the wire reader reads every example event as swift-protobuf does")
    func examples() throws {
        let store = TemporaryStore(clock: "2026-01-01T00:00:00Z")
        let ledger = try store.open()
        let folder = packageRoot.appendingPathComponent("Schemas/examples/valid")
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() where file.hasSuffix(".json") {
            let incoming = try CloudEvents.read(line: 1, Array(try Data(contentsOf: folder.appendingPathComponent(file))))
            var event = incoming.event
            event.id = "x-" + file.replacingOccurrences(of: ".json", with: "")
            // Stored as is, whatever the rules would say: this is about the encoding.
            try ledger.log.write { w in
                _ = try w.append(id: event.id, subject: event.subject, version: 1, recordedAtMicros: 0,
                                 body: StoredEvent.encode(event))
            }
        }
        #expect(try expectSameReading(ledger) >= 13)
    }

    @Test("the wire reader reads random campaigns as swift-protobuf does", arguments: [21, 22] as [UInt64])
    func randomCampaigns(seed: UInt64) throws {
        let store = TemporaryStore()
        let ledger = try store.open()
        try randomCampaign(seed: seed, events: 400, into: ledger, store: store)
        _ = try ledger.append(try hengkouSetup().map { var i = $0; i.event.id += "-h"; i.event.subject += "-h"; return i })
        #expect(try expectSameReading(ledger) > 400)
    }

    @Test("a fold that skips the free text builds the projection a full reading builds", arguments: [23] as [UInt64])
    func foldSkippingText(seed: UInt64) throws {
        let store = TemporaryStore()
        let ledger = try store.open()
        try randomCampaign(seed: seed, events: 400, into: ledger, store: store)
        let at = Timestamp(rfc3339: "2026-01-01T00:00:00Z")!
        var full = Projection(at: at)
        try ledger.replay { recorded, _ in full.apply(recorded); return true }
        let (lean, _) = try ledger.projection(at: at, fromCheckpoints: false)
        #expect(lean.seq >= 400)
        #expect(lean == full)
    }

    @Test("a fold on two cores (one decoding, one folding) builds what a fold on one builds, and stops where asked")
    func foldOnTwoCores() throws {
        let store = TemporaryStore()
        let ledger = try store.open()
        try randomCampaign(seed: 24, events: 400, into: ledger, store: store)
        let at = Timestamp(rfc3339: "2026-01-01T00:00:00Z")!
        for asOf in [AsOf.all, .seq(1), .seq(7), .seq(250)] {
            ledger.twoCoreFold = (from: .max, chunk: 2048)
            let (one, oneHead) = try ledger.projection(asOf: asOf, at: at, fromCheckpoints: false)
            ledger.twoCoreFold = (from: 1, chunk: 7)
            let (two, twoHead) = try ledger.projection(asOf: asOf, at: at, fromCheckpoints: false)
            #expect(two == one, "\(asOf)")
            #expect(twoHead == oneHead, "\(asOf)")
        }
    }

    @Test("a fold on two cores names an entry that does not decode, as a fold on one does")
    func foldOnTwoCoresDamage() throws {
        let store = TemporaryStore(clock: "2026-01-01T00:00:00Z")
        let ledger = try store.open()
        _ = try ledger.append(try hengkouSetup())
        let seq = try ledger.log.write { w in
            try w.append(id: "garbage", subject: "P-garbage", version: 1, recordedAtMicros: w.head.recordedAtMicros, body: [0xFF, 0xFF])
        }
        for from in [UInt64.max, 1] {
            ledger.twoCoreFold = (from: from, chunk: 3)
            let damage = try #require(throws: LogDamage.self) {
                try ledger.projection(at: Projection.endOfTime, fromCheckpoints: false)
            }
            #expect(damage.seq == seq)
        }
    }

    @Test("UTF-8 is judged as the standard library judges it")
    func utf8Check() {
        var rng = SeededRandom(seed: 5)
        let samples: [[UInt8]] = [Array("整改到位，已销号".utf8), Array("plain ascii text".utf8), [0xED, 0xA0, 0x80],
                                  [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xF0, 0x9F, 0x98, 0x80]]
        var cases = samples
        for _ in 0..<3000 {
            var bytes = samples[Int(rng.next() % UInt64(samples.count))] + Array("责任单位 abc".utf8)
            for _ in 0..<Int(rng.next() % 3) { bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            cases.append(bytes)
        }
        for bytes in cases {
            let expected = String(validating: bytes, as: UTF8.self) != nil
            #expect(bytes.withUnsafeBytes { UTF8Check.isValid($0) } == expected, "\(bytes)")
        }
    }

    @Test("verify refuses an event whose text is not UTF-8, though the chain holds it")
    func verifyRefusesBadText() throws {
        let store = TemporaryStore(clock: "2026-01-01T00:00:00Z")
        let ledger = try store.open()
        let setup = try hengkouSetup()
        _ = try ledger.append(setup)
        let line = #"{"specversion":"1.0","id":"bad-text","source":"/hengkou","type":"problem.reported","subject":"P-bad-text","time":"2022-08-20T16:00:00+08:00","actor":"office/li","actorrole":"office","actorunit":"U-office","data":{"batch":"B-20220819","source":"inspection","category":"sanitation","description":"背街小巷垃圾堆积问题","location":{"area":"中心城区"}}}"#
        let event = try CloudEvents.read(line: 1, Array(line.utf8)).event
        var body = StoredEvent.encode(event)
        let marker = Array("问".utf8)  // damage the first Chinese character of its text
        let at = try #require((0..<body.count - 2).first { Array(body[$0..<$0 + 3]) == marker })
        body[at] = 0xFF
        let seq = try ledger.log.write { w in
            try w.append(id: event.id, subject: event.subject, version: 1, recordedAtMicros: w.head.recordedAtMicros, body: body)
        }
        for checkpoints in [false, true] {
            let damage = try #require(throws: LogDamage.self) { try ledger.verify(checkpoints: checkpoints) }
            #expect(damage.seq == seq)
            #expect(damage.problem.contains("does not decode"))
        }
    }

    @Test("the hand-written encoding is swift-protobuf's, byte for byte: every example, random campaigns, edge values")
    func encodingMatchesSwiftProtobuf() throws {
        var events: [Event] = []
        let folder = packageRoot.appendingPathComponent("Schemas/examples/valid")
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() where file.hasSuffix(".json") {
            events.append(try CloudEvents.read(line: 1, Array(try Data(contentsOf: folder.appendingPathComponent(file)))).event)
        }
        let store = TemporaryStore()
        let ledger = try store.open()
        try randomCampaign(seed: 25, events: 400, into: ledger, store: store)
        try ledger.replay { recorded, _ in events.append(recorded.event); return true }
        // Present but empty or zero: written by swift-protobuf all the same.
        for var event in events.prefix(40) {
            event.actorUnit = event.actorUnit.map { _ in "" }
            event.time = Timestamp(micros: -1, offsetMinutes: -330)
            switch event.data {
            case .problemReported(var p):
                p.location = Location(area: "", street: "", point: nil, lat: 0, lon: -0.0)
                p.evidence = [Evidence(sha256: "", uri: "", caption: nil)]
                p.batch = ""
                event.data = .problemReported(p)
            case .rectificationVerified: event.data = .rectificationVerified(note: "")
            case .accountabilityRecorded(var a):
                a.problems = ["", "P-1"]
                a.target.name = ""
                event.data = .accountabilityRecorded(a)
            default: break
            }
            events.append(event)
        }
        #expect(events.count > 450)
        for event in events { #expect(StoredEvent.encode(event) == referenceEncode(event), "\(event.id)") }
    }

    @Test("a damaged entry is refused, not misread")
    func damaged() throws {
        var bytes = [UInt8](repeating: 0, count: 32) + [0x0A, 0x05, 0x41]  // a string field cut short
        #expect(throws: WireReader.Malformed.self) { try bytes.withUnsafeBytes { _ = try WireReader.recorded($0) } }
        bytes = [UInt8](repeating: 0, count: 32) + [0x08, 0x01]  // an Entry with no event
        #expect(throws: WireReader.Malformed.self) { try bytes.withUnsafeBytes { _ = try WireReader.recorded($0) } }
    }
}

/// civic.v1.Event built through swift-protobuf's generated message: the reference the hand-written
/// encoder is held to.
func referenceEncode(_ event: Event) -> [UInt8] {
func number<V: Vocabulary>(_ v: V) -> Int { StoredEvent.number(v) }
func encode(_ e: Evidence) -> Civic_V1_Evidence {
    .with {
        $0.sha256 = e.sha256
        if let uri = e.uri { $0.uri = uri }
        if let caption = e.caption { $0.caption = caption }
    }
}
    var m = Civic_V1_Event()
    m.source = event.source
    m.timeUs = event.time.micros
    m.timeOffsetMin = event.time.offsetMinutes
    m.actor = event.actor
    m.actorRole = .init(rawValue: number(event.role)) ?? .unspecified
    if let unit = event.actorUnit { m.actorUnit = unit }
    switch event.data {
    case .unitRegistered(let u):
        m.unitRegistered = .with {
            $0.name = u.name
            $0.kind = .init(rawValue: number(u.kind)) ?? .unspecified
            if let parent = u.parent { $0.parent = parent }
            if let leader = u.leader { $0.leader = leader }
        }
    case .batchOpened(let b):
        m.batchOpened = .with {
            $0.name = b.name
            $0.source = .init(rawValue: number(b.source)) ?? .unspecified
            $0.dueAtUs = b.dueAt.micros
            $0.dueAtOffsetMin = b.dueAt.offsetMinutes
        }
    case .problemReported(let p):
        m.problemReported = .with {
            if let batch = p.batch { $0.batch = batch }
            $0.source = .init(rawValue: number(p.source)) ?? .unspecified
            $0.category = .init(rawValue: number(p.category)) ?? .unspecified
            $0.description_p = p.description
            $0.location = .with { l in
                l.area = p.location.area
                if let street = p.location.street { l.street = street }
                if let point = p.location.point { l.point = point }
                if let lat = p.location.lat { l.lat = lat }
                if let lon = p.location.lon { l.lon = lon }
            }
            $0.evidence = p.evidence.map(encode)
        }
    case .problemAssigned(let a):
        m.problemAssigned = .with {
            $0.unit = a.unit
            if let leader = a.leader { $0.leader = leader }
            $0.deadlineUs = a.deadline.micros
            $0.deadlineOffsetMin = a.deadline.offsetMinutes
        }
    case .deadlineExtended(let d):
        m.deadlineExtended = .with {
            $0.deadlineUs = d.deadline.micros
            $0.deadlineOffsetMin = d.deadline.offsetMinutes
            $0.reason = d.reason
        }
    case .rectificationSubmitted(let r):
        m.rectificationSubmitted = .with {
            $0.summary = r.summary
            $0.evidence = r.evidence.map(encode)
        }
    case .rectificationVerified(let note):
        m.rectificationVerified = .with { if let note { $0.note = note } }
    case .rectificationRejected(let reason):
        m.rectificationRejected = .with { $0.reason = reason }
    case .problemEscalated(let e):
        m.problemEscalated = .with {
            $0.to = e.to
            $0.reason = e.reason
        }
    case .problemReopened(let r):
        m.problemReopened = .with {
            $0.reason = r.reason
            $0.deadlineUs = r.deadline.micros
            $0.deadlineOffsetMin = r.deadline.offsetMinutes
            if let unit = r.unit { $0.unit = unit }
        }
    case .problemWithdrawn(let reason):
        m.problemWithdrawn = .with { $0.reason = reason }
    case .accountabilityRecorded(let a):
        m.accountabilityRecorded = .with {
            $0.target = .with { t in
                t.kind = a.target.kind == .unit ? .unit : .person
                t.id = a.target.id
                if let name = a.target.name { t.name = name }
                if let unit = a.target.unit { t.unit = unit }
            }
            $0.measure = .init(rawValue: number(a.measure)) ?? .unspecified
            $0.reason = a.reason
            $0.problems = a.problems
        }
    case .accountabilityRevoked(let reason):
        m.accountabilityRevoked = .with { $0.reason = reason }
    }
    // Serializing a message built from known fields cannot fail.
    return (try? m.serializedBytes()) ?? []
}
