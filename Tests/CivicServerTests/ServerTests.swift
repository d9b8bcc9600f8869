import Campaign
@testable import CivicServer
import Demo
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JSON
import Ledger
import Queries
import Testing

/// The demo campaign in a store of its own, filled once, then opened read-only as `civic serve` opens it.
final class DemoStore: Sendable {
    let path: String
    let ledger: Ledger

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("civic-serve-\(UUID().uuidString)").path
        do {
            let writer = try Ledger(path: path, access: .create)
            _ = try DemoCampaign.fill(writer)
        }
        ledger = try Ledger(path: path, access: .readOnly)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

let demo = Result { try DemoStore() }

/// "Now" for every request of these tests: a week after the demo campaign's last event.
let now = Timestamp(rfc3339: "2022-10-01T12:00:00+08:00")!

/// Runs `body` with a client of the router over the demo store.
func withClient(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
    let store = try demo.get()
    let app = Application(router: try ReportServer.router(ledger: store.ledger, clock: { now }, logRequests: false))
    try await app.test(.router) { client in try await body(client) }
}

/// The JSON `civic` prints for `query` on the demo store.
func commandLineJSON(_ query: ViewQuery) throws -> String {
    try Views(ledger: try demo.get().ledger).answer(query).rendered(.json)
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var json: JSONValue? { try? JSONParser.parse(Array(text.utf8)) }
}

extension JSONValue {
    var text: String? { if case .string(let s) = self { s } else { nil } }
    var array: [JSONValue] { if case .array(let a) = self { a } else { [] } }
}

@Suite("The read-only server: every endpoint, every refusal")
struct ServerTests {
    @Test("each view answers with exactly the command line's JSON for the same options", arguments: [
        ("/api/board?at=2022-08-25%2012:00", ViewQuery.board(batch: nil, unit: nil, statuses: [], overdue: false, Moment(at: Timestamp(local: "2022-08-25 12:00")!))),
        ("/api/board?unit=U-zt&status=assigned,submitted&overdue=true&at=2022-08-25T12:00:00%2B08:00",
         .board(batch: nil, unit: "U-zt", statuses: [.assigned, .submitted], overdue: true, Moment(at: Timestamp(local: "2022-08-25 12:00")!))),
        ("/api/board?asOf=seq:60", .board(batch: nil, unit: nil, statuses: [], overdue: false, Moment(at: Moment.now(now), asOf: .seq(60)))),
        ("/api/progress?at=2022-09-06%2000:00&batch=B-20220819",
         .progress(batch: "B-20220819", Moment(at: Timestamp(local: "2022-09-06 00:00")!))),
        ("/api/progress", .progress(batch: nil, Moment(at: Moment.now(now)))),
        ("/api/ranking?week=2022-W34", .ranking(Week("2022-W34")!, asOf: .all)),
        ("/api/ranking?week=2022-W35&asOf=seq:80", .ranking(Week("2022-W35")!, asOf: .seq(80))),
        ("/api/audit?unit=U-zt", .audit(.unit("U-zt"), rules: AuditRules(backdateHours: 72), Moment(at: Moment.now(now)))),
        ("/api/audit?subject=P-20220819-008&backdateHours=1", .audit(.subject("P-20220819-008"), rules: AuditRules(backdateHours: 1), Moment(at: Moment.now(now)))),
        ("/api/audit?actor=office/li-xianfeng&asOf=seq:40", .audit(.actor("office/li-xianfeng"), rules: AuditRules(backdateHours: 72), Moment(at: Moment.now(now), asOf: .seq(40)))),
    ])
    func sameAsCommandLine(_ uri: String, _ query: ViewQuery) async throws {
        let expected = try commandLineJSON(query)
        try await withClient { client in
            try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                #expect(response.text == expected)
            }
        }
    }

    @Test("now, when no at is given, is the end of the current second: what was dated a moment ago in it is in the view")
    func nowIncludesTheCurrentSecond() {
        for micros: Int64 in [1_669_420_800_000_000, 1_669_420_800_300_001, 1_669_420_800_999_999, -1_500_000] {
            let clock = Timestamp(micros: micros, offsetMinutes: 0)
            let now = Moment.now(clock)
            #expect(now.micros >= clock.micros, "\(micros)")
            #expect(now.micros - clock.micros < 1_000_000)
            #expect((now.micros + 1) % 1_000_000 == 0, "\(micros)")
            #expect(now.offsetMinutes == Timestamp.chinaOffset)
        }
    }

    @Test("a board row carries its report's text, read from the log")
    func boardHasReports() async throws {
        try await withClient { client in
            try await client.execute(uri: "/api/board?at=2022-08-25%2012:00&unit=U-zt", method: .get) { response in
                let rows = response.json?["problems"]?.array ?? []
                #expect(!rows.isEmpty)
                #expect(rows.allSatisfy { ($0["description"]?.text ?? "").count > 2 })
            }
        }
    }

    @Test("a malformed or unknown parameter is 400 naming it: a JSON error from the API, a page from the dashboard", arguments: [
        ("/api/board?at=yesterday", "at"), ("/api/board?at=2099-01-01%2000:00", "at"), ("/api/board?asOf=seq:-1", "asOf"),
        ("/api/board?asOf=seq:x", "asOf"), ("/api/board?status=open", "status"), ("/api/board?overdue=maybe", "overdue"),
        ("/api/board?batch=", "batch"), ("/api/board?unit=U-zt&unit=U-hw", "unit"), ("/api/board?week=2022-W34", "week"),
        ("/api/progress?status=closed", "status"), ("/api/ranking?week=2022-34", "week"), ("/api/ranking?week=2022-W54", "week"),
        ("/api/ranking?at=2022-08-25%2012:00", "at"), ("/api/audit", "subject"), ("/api/audit?subject=P-1&unit=U-zt", "subject"),
        ("/api/audit?unit=U-zt&backdateHours=-3", "backdateHours"), ("/api/audit?unit=U-zt&backdateHours=nan", "backdateHours"),
        ("/api/events?after=x", "after"), ("/api/events?limit=0", "limit"), ("/api/events?limit=10001", "limit"),
        ("/api/events?from=3", "from"), ("/api/verify?deep=1", "verify"), ("/?colour=red", "colour"), ("/?at=soon", "at"),
        ("/?week=W34", "week"),
    ])
    func badParameter(_ uri: String, _ parameter: String) async throws {
        try await withClient { client in
            try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == .badRequest)
                guard uri.hasPrefix("/api/") else {
                    // The dashboard's form typed wrong: a page that says what, and the way back.
                    #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                    #expect(response.text.contains("无法显示这一页") && response.text.contains(parameter) && response.text.contains("返回仪表盘"), "\(response.text)")
                    return
                }
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                #expect(response.json?["error"]?["parameter"]?.text == parameter, "\(response.text)")
                let message = response.json?["error"]?["message"]?.text
                #expect(message?.contains(parameter) == true)
            }
        }
    }

    @Test("only GET and HEAD: every other method is 405 before any route runs, and the store is unchanged",
          arguments: [HTTPRequest.Method.post, .put, .delete, .patch, .options, HTTPRequest.Method("PROPFIND")!])
    func readOnlyMethods(_ method: HTTPRequest.Method) async throws {
        let before = try demo.get().ledger.head()
        try await withClient { client in
            for uri in ["/", "/api/board", "/api/events", "/api/verify", "/api/nothing"] {
                try await client.execute(uri: uri, method: method, body: ByteBuffer(string: "{\"type\":\"problem.withdrawn\"}")) { response in
                    #expect(response.status == .methodNotAllowed)
                    #expect(response.headers[.allow] == "GET, HEAD")
                }
            }
        }
        #expect(try demo.get().ledger.head() == before)
    }

    @Test("HEAD answers like GET without a body; an unknown path is 404 in JSON")
    func headAndNotFound() async throws {
        try await withClient { client in
            try await client.execute(uri: "/api/progress", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == 0)
            }
            try await client.execute(uri: "/api/nothing", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.json?["error"]?["status"] == .number("404"))
            }
        }
    }

    @Test("/api/events pages through the log in seq order, as civic export writes it")
    func eventsPaging() async throws {
        let head = try demo.get().ledger.head()
        try await withClient { client in
            var after: UInt64 = 0
            var seqs: [UInt64] = []
            while after < head.seq {
                let (status, headSeen, body, next) = try await client.execute(uri: "/api/events?after=\(after)&limit=50", method: .get) {
                    ($0.status, $0.headers[HTTPField.Name("Civic-Head")!], $0.text, $0.headers[HTTPField.Name("Civic-Next-After")!])
                }
                #expect(status == .ok)
                #expect(headSeen == head.description)
                let lines = body.split(separator: "\n")
                #expect(lines.count == min(50, Int(head.seq - after)))
                for line in lines {
                    guard case .number(let n)? = try JSONParser.parse(Array(line.utf8))["seq"], let seq = UInt64(n) else { break }
                    seqs.append(seq)
                }
                after = UInt64(next ?? "") ?? head.seq
            }
            #expect(seqs == Array(1...head.seq))
            try await client.execute(uri: "/api/events?after=\(head.seq)", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.text.isEmpty)
            }
            try await client.execute(uri: "/api/events?after=18446744073709551615", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.text.isEmpty)
            }
        }
    }

    @Test("/api/verify recomputes the chain and gives its head")
    func verify() async throws {
        let head = try demo.get().ledger.head()
        try await withClient { client in
            try await client.execute(uri: "/api/verify", method: .get) { response in
                #expect(response.json?["verified"] == .bool(true))
                #expect(response.json?["head"]?["hash"]?.text == head.hash.hex)
            }
        }
    }

    @Test("the dashboard: board rows, a burn-down chart per list, the ranking, the moment control, an audit trail")
    func dashboard() async throws {
        try await withClient { client in
            try await client.execute(uri: "/?at=2022-08-25%2012:00&overdue=true&batch=&unit=", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                let page = response.text
                for piece in ["<html lang=\"zh-CN\">", "问题台账", "清零进度", "周排名", "<svg class=\"chart\"", "<polyline",
                              "name=\"at\" value=\"2022-08-25 12:00\"", "name=\"asOf\"", "P-20220819-008", "超期"] {
                    #expect(page.contains(piece), "\(piece)")
                }
                #expect(!page.contains("P-20220819-001"))  // closed by then: not overdue
                #expect(!page.contains("http://") && !page.contains("https://"))  // nothing fetched from elsewhere
            }
            // The trail's own events, by their hashes: every event of this problem, and only on its page.
            let trail = try JSONParser.parse(Array(try commandLineJSON(.audit(.subject("P-20220819-008"), rules: AuditRules(backdateHours: 72),
                                                                                    Moment(at: Moment.now(now)))).utf8))
            let hashes = trail["events"]?.array.compactMap { $0["hash"]?.text.map { String($0.prefix(12)) } } ?? []
            #expect(hashes.count == 7)
            try await client.execute(uri: "/?subject=P-20220819-008", method: .get) { response in
                let page = response.text
                #expect(page.contains("id=\"audit\""))
                for hash in hashes { #expect(page.contains(hash), "\(hash)") }
            }
            try await client.execute(uri: "/", method: .get) { response in
                #expect(!response.text.contains("id=\"audit\""))
                for hash in hashes { #expect(!response.text.contains(hash)) }
            }
        }
    }

    @Test("each panel of the dashboard names the API request that answers with its document: its moment, asOf and filters")
    func dashboardNamesItsRequests() async throws {
        try await withClient { client in
            var named: [String] = []
            try await client.execute(uri: "/?at=2022-08-25%2012:00&asOf=seq:60&overdue=true", method: .get) { response in
                let page = response.text
                for piece in page.components(separatedBy: "视图摘要见 <code>").dropFirst() {
                    named.append(String(piece.prefix { $0 != "<" }).replacingOccurrences(of: "&amp;", with: "&"))
                }
            }
            #expect(named.contains { $0.hasPrefix("/api/board?") } && named.contains { $0.hasPrefix("/api/progress?") }
                    && named.contains { $0.hasPrefix("/api/ranking?week=") })
            for path in named {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .ok, "\(path)")
                    let document = try JSONParser.parse(Array(response.text.utf8))
                    #expect(document["asOf"]?.text == "seq:60", "\(path)")
                    if !path.hasPrefix("/api/ranking") { #expect(document["at"]?.text == "2022-08-25T12:00:00+08:00", "\(path)") }
                    if path.hasPrefix("/api/board") { #expect(document["filters"]?["overdue"] == .bool(true), "\(path)") }
                }
            }
        }
    }
}
