import Campaign
import Crypto
import Foundation
import JSON
@testable import Projections
@testable import Reports
import Testing

/// Texts a clerk (or an attacker with a clerk's account) could put in any free field.
let hostile = [
    "<script>alert('x')</script>",
    "\"><img src=x onerror=alert(1)>",
    "' onmouseover='alert(2)",
    "&lt;already escaped&gt; & <b>bold</b>",
]

let t0 = Timestamp(rfc3339: "2022-08-19T09:00:00+08:00")!

func at(_ hours: Int64) -> Timestamp { t0.adding(seconds: hours * 3600) }

/// A small campaign whose every free text is hostile, folded as views fold it.
struct HostileCampaign {
    var events: [RecordedEvent] = []

    init() {
        func add(_ subject: String, _ hours: Int64, _ actor: String, _ role: Role, _ data: EventData) {
            let seq = UInt64(events.count + 1)
            let version = UInt64(events.filter { $0.event.subject == subject }.count + 1)
            events.append(RecordedEvent(seq: seq, version: version, recordedAt: at(hours + 1), event: Event(
                id: "e-\(seq)", source: "/test", subject: subject, time: at(hours), actor: actor, role: role,
                actorUnit: role == .unit ? "U-1" : "U-office", data: data)))
        }
        add("U-1", 0, "office/\(hostile[1])", .office, .unitRegistered(UnitRegistration(name: hostile[0], kind: .department, leader: hostile[2])))
        add("B-1", 1, "office/a", .office, .batchOpened(BatchOpening(name: hostile[3], source: .inspection, dueAt: at(24 * 7))))
        add("P-1", 2, "inspector/\(hostile[0])", .inspector, .problemReported(ProblemReport(
            batch: "B-1", source: .inspection, category: .sanitation, description: hostile[0],
            location: Location(area: hostile[1], street: hostile[2], point: hostile[3]))))
        add("P-1", 3, "office/a", .office, .problemAssigned(Assignment(unit: "U-1", leader: hostile[1], deadline: at(48))))
        add("P-1", 60, "unit/\(hostile[2])", .unit, .rectificationSubmitted(Rectification(summary: hostile[0], evidence: [])))
    }

    var projection: Projection {
        var p = Projection(at: at(24 * 30))
        for e in events { p.apply(e) }
        return p
    }

    func content(options: [String: String] = [:]) -> DashboardContent {
        let p = projection
        var rows = p.board()
        for k in rows.indices {
            if case .problemReported(let report) = events.first(where: { $0.event.subject == rows[k].id })!.event.data { rows[k].report = report }
        }
        var trail = AuditTrail(.subject("P-1"), at: p.at)
        let audit = events.compactMap { trail.row($0, hash: String(repeating: "ab", count: 32), recordedBy: "local:\(hostile[0])") }
        let basis = ViewBasis(headSeq: UInt64(events.count), headHash: String(repeating: "0", count: 64), asOf: "all", at: p.at)
        let week = Week(containing: at(24))
        return DashboardContent(options: options, at: p.at, board: rows, boardCounts: p.boardSlots().counts, boardBasis: basis,
                                progress: p.progress(), progressBasis: basis, ranking: p.ranking(week), week: week,
                                rankingBasis: basis, audit: audit, auditBasis: basis, unitNames: p.unitNames)
    }
}

@Suite("Reports: the dashboard, tables, CSV and JSON as they are written")
struct ReportsTests {
    @Test("every text a user gave is escaped on the dashboard: no tag, attribute or script of theirs survives")
    func dashboardEscapes() throws {
        let page = Dashboard.render(HostileCampaign().content(options: ["subject": "P-1", "unit": hostile[1], "at": hostile[0]]))
        #expect(!page.contains("<script>alert"))
        #expect(!page.contains("<img src=x"))
        #expect(!page.contains("onerror=alert(1)>"))
        #expect(!page.contains("' onmouseover='"))
        #expect(!page.contains("<b>bold</b>"))
        #expect(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
        #expect(page.contains("&amp;lt;already escaped&amp;gt;"))
        // The page's own scripts and tags are there: escaping did not flatten everything.
        #expect(page.contains("<html lang=\"zh-CN\">"))
        // Every attribute value is quoted and holds no raw quote from the input.
        for match in page.split(separator: "value=\"").dropFirst() {
            let value = match.prefix { $0 != "\"" }
            #expect(!value.contains("<") && !value.contains(">"), "\(value)")
        }
    }

    @Test("CSV fields are quoted exactly when RFC 4180 needs it, quotes doubled, line ends kept inside")
    func csvQuoting() throws {
        let sink = MemorySink()
        let out = Output(sink)
        for text in ["plain", "a,b", "say \"hi\"", "two\nlines", "cr\rhere", " spaced ", "中文，全角逗号", ""] {
            out.csvField(text)
            out.byte(44)
        }
        try out.flush()
        #expect(sink.text == "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\rhere\", spaced ,中文，全角逗号,,")
    }

    @Test("the board's CSV reads back, with Python's csv module, as the rows and values it was written from")
    func boardCSVRoundTrip() throws {
        let c = HostileCampaign().content()
        let sink = MemorySink()
        let basis = c.boardBasis
        try BoardReport.write(.init(rows: RowSource(c.board), counts: c.boardCounts, basis: basis, unitNames: c.unitNames),
                              format: .csv, to: Output(sink))
        let lines = try runPython("""
            import csv, sys, json
            rows = list(csv.reader(sys.stdin))
            print(json.dumps(rows))
            """, input: sink.bytes)
        let rows = try JSONParser.parse(Array(lines.utf8))
        guard case .array(let all) = rows, case .array(let header)? = all.first, case .array(let first)? = all.dropFirst().first else {
            Issue.record("no rows: \(lines)")
            return
        }
        let description = header.firstIndex(of: .string("description")).map { first[$0] }
        #expect(description == .string(hostile[0]))
        let area = header.firstIndex(of: .string("area")).map { first[$0] }
        #expect(area == .string(hostile[1]))
        #expect(all.count == 2)
    }

    @Test("a table aligns its columns by display width: a Chinese character takes two cells")
    func tableAlignment() throws {
        struct Row: Sendable { var name: String; var n: Int }
        let columns: [Column<Row>] = [.string("name", "名称", { $0.name }), .int("n", "数量", { $0.n })]
        let sink = MemorySink()
        let out = Output(sink)
        try Render.table([Row(name: "城管执法大队", n: 3), Row(name: "ab", n: 12_345)], columns, to: out)
        try out.flush()
        let lines = sink.text.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        let starts = lines.map { line -> Int in
            // The display column where the second cell starts.
            var width = 0, seenSpace = false
            for scalar in line.unicodeScalars {
                if scalar == " " { seenSpace = true } else if seenSpace { return width }
                width += Render.width(String(scalar))
            }
            return -1
        }
        #expect(Set(starts).count == 1, "\(lines)")
        #expect(Render.width("城管") == 4 && Render.width("ab") == 2)
    }

    @Test("a table's bytes: cells padded to the widest of their column plus two spaces, the last column not padded")
    func tableBytes() throws {
        struct Row: Sendable { var name: String; var note: String; var n: Int }
        let columns: [Column<Row>] = [.string("name", "责任单位名称", { $0.name }), .string("note", "备注", { $0.note }),
                                      .int("n", "数", { $0.n })]
        let sink = MemorySink()
        let out = Output(sink)
        try Render.table([Row(name: "城管", note: "", n: 3), Row(name: "ab", note: "é说明", n: 12_345)], columns, to: out)
        try out.flush()
        #expect(sink.text == "责任单位名称  备注   数\n────────────  ─────  ─────\n城管                 3\nab            é说明  12345\n")
        let none = MemorySink()
        let empty = Output(none)
        try Render.table([Row(name: "x", note: "", n: 1)], [], to: empty)
        try empty.flush()
        #expect(none.text == "\n\n\n")
    }

    @Test("display width read from the bytes is the width of each character by its code point")
    func widthByBytes() throws {
        func reference(_ text: String) -> Int {
            text.unicodeScalars.reduce(0) { sum, s in
                let v = s.value
                let wide = (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
                    || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
                    || (0xFFE0...0xFFE6).contains(v) || (0x20000...0x3FFFD).contains(v)
                return sum + (wide ? 2 : 1)
            }
        }
        // Each range's edges and some inside, in one, two, three and four bytes.
        let points: [UInt32] = [0x41, 0x7F, 0xE9, 0x7FF, 0x800, 0x10FF, 0x1100, 0x115F, 0x1160, 0x2E7F, 0x2E80, 0x4E2D, 0xA4CF,
                                0xA4D0, 0xAC00, 0xD7A3, 0xD7A4, 0xF900, 0xFAFF, 0xFE30, 0xFE4F, 0xFF01, 0xFF60, 0xFF61, 0xFFE0,
                                0xFFE6, 0xFFE7, 0x1F600, 0x1FFFF, 0x20000, 0x2A6D6, 0x3FFFD, 0x3FFFE, 0x10FFFF]
        let scalars = points.compactMap(Unicode.Scalar.init)
        var random = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            var text = ""
            for _ in 0..<Int.random(in: 0...12, using: &random) { text.unicodeScalars.append(scalars.randomElement(using: &random)!) }
            #expect(Render.width(text) == reference(text), "\(text.unicodeScalars.map { String($0.value, radix: 16) })")
        }
        #expect(Render.width("城管执法大队 2022年8月26日 18:00") == 32)
    }

    @Test("JSON strings escape what RFC 8259 requires and read back the same")
    func jsonStrings() throws {
        let texts = ["quote \" and \\ backslash", "line\nfeed\ttab\rreturn", "\u{01}\u{1F}", "中文 ✓ 😀", "</script>"] + hostile
        let sink = MemorySink()
        let out = Output(sink)
        out.byte(91)
        for (k, text) in texts.enumerated() {
            if k > 0 { out.byte(44) }
            out.jsonString(text)
        }
        out.byte(93)
        try out.flush()
        #expect(try JSONParser.parse(sink.bytes) == .array(texts.map { .string($0) }))
        #expect(!sink.text.contains("\u{01}"))
    }

    @Test("a burn-down's line: a day each, a run of three days or more with one count as one, the year where it changes")
    func seriesLine() throws {
        func line(_ start: String, _ counts: [Int]) throws -> String {
            let first = Timestamp(rfc3339: start + "T12:00:00+08:00")!.chinaDay
            let series = counts.enumerated().map { BurnDownDay(day: first + Int64($0.offset), outstanding: $0.element) }
            let sink = MemorySink()
            let out = Output(sink)
            ProgressReport.writeSeries(series, out)
            try out.flush()
            return sink.text
        }
        #expect(try line("2022-08-19", []) == "每日未销号：\n")
        #expect(try line("2022-08-19", [5]) == "每日未销号：2022-08-19 5\n")
        #expect(try line("2022-08-19", [5, 5, 3, 3, 3, 0]) == "每日未销号：2022-08-19 5 · 08-20 5 · 08-21 至 08-23 均为 3 · 08-24 0\n")
        #expect(try line("2022-12-30", [4, 2, 1, 1]) == "每日未销号：2022-12-30 4 · 12-31 2 · 2023-01-01 1 · 01-02 1\n")
        // Cleared in 2022 and looked at four years on: one run to the day of the view, not 1,500 zeros.
        let cleared = try line("2022-10-20", [3, 1] + Array(repeating: 0, count: 1_500))
        #expect(cleared == "每日未销号：2022-10-20 3 · 10-21 1 · 10-22 至 2026-11-29 均为 0\n")
    }

    @Test("a value larger than the output's buffer is written whole")
    func largeValue() throws {
        let sink = MemorySink()
        let out = Output(sink, bufferBytes: 64)
        let long = String(repeating: "问题", count: 10_000)
        out.jsonString(long)
        try out.flush()
        #expect(sink.text == "\"" + long + "\"")
    }

    @Test("rows rendered in pieces on two threads are written in order, byte for byte as on one", arguments: [0, 1, 2047, 2048, 2049, 10_000, 41_000])
    func piecesInOrder(count: Int) throws {
        let rows = RowSource(Array(0..<count))
        let twoThreads = MemorySink()
        let out = Output(twoThreads)
        try Pieces.write(rows, to: out) { rows, first, out in
            for (k, n) in rows.enumerated() {
                if !(first && k == 0) { out.byte(44) }
                out.number(n)
            }
        }
        try out.flush()
        #expect(twoThreads.text == (0..<count).map(String.init).joined(separator: ","))
    }

    @Test("a piece that fails on the other thread fails the whole writing, and the other thread stops")
    func pieceFailure() throws {
        struct Broken: Error {}
        let rows = RowSource(Array(0..<20_000))
        #expect(throws: Broken.self) {
            try Pieces.write(rows, to: Output(Discard())) { rows, _, _ in
                if rows.contains(3 * Pieces.rowsEach + 5) { throw Broken() }
            }
        }
    }

    @Test("a board's JSON document ends with the SHA-256 of everything before the digest, closed")
    func documentDigest() throws {
        let c = HostileCampaign().content()
        let sink = MemorySink()
        let digest = try BoardReport.write(.init(rows: RowSource(c.board), counts: c.boardCounts, basis: c.boardBasis, unitNames: [:]),
                                           format: .json, to: Output(sink))
        let text = sink.text
        let cut = try #require(text.range(of: ",\"digest\":"))
        let expected = SHA256.hash(data: Data((String(text[..<cut.lowerBound]) + "}").utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(digest == expected)
        #expect(try JSONParser.parse(sink.bytes)["digest"] == .string(expected))
    }
}

/// Runs a Python 3 script over `input`, giving back what it printed.
func runPython(_ script: String, input: [UInt8]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script]
    let stdin = Pipe(), stdout = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    try process.run()
    stdin.fileHandleForWriting.write(Data(input))
    try stdin.fileHandleForWriting.close()
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: output, as: UTF8.self)
}

@Suite("A view's caption says its filters as a clerk reads them")
struct CaptionTests {
    @Test("units and lists by name with their ids, statuses by their labels, no English keys")
    func filtersInChinese() {
        let basis = ViewBasis(headSeq: 7, headHash: String(repeating: "0", count: 64), asOf: "all", at: Timestamp(micros: 0, offsetMinutes: 480),
                              filters: [("batch", .null), ("unit", .string("U-cgzf")), ("status", .array([.string("assigned"), .string("submitted")])),
                                        ("overdue", .bool(true)), ("backdateHours", .double(72))])
        let caption = basis.caption(title: "问题台账", names: ["U-cgzf": "城管执法大队"])
        #expect(caption.hasSuffix("筛选：责任单位 城管执法大队（U-cgzf），状态 已交办、待核实，仅看超期，补录提示阈值 72 小时"), "\(caption)")
        #expect(!caption.contains("unit") && !caption.contains("="))
        #expect(basis.caption(title: "问题台账").contains("责任单位 U-cgzf"))
        let none = ViewBasis(headSeq: 7, headHash: String(repeating: "0", count: 64), asOf: "all", at: Timestamp(micros: 0, offsetMinutes: 480),
                             filters: [("overdue", .bool(false)), ("status", .array([]))])
        #expect(!none.caption(title: "问题台账").contains("筛选"))
    }
}
