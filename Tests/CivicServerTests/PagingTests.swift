import Campaign
@testable import CivicServer
import Crypto
import Demo
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JSON
import Ledger
import Queries
import Testing

/// Pages through `uri` with `limit`, returning the pages' bodies and their count.
func pages(_ client: any TestClientProtocol, _ uri: String, limit: Int) async throws -> [String] {
    var bodies: [String] = []
    var next: String? = "\(uri)\(uri.contains("?") ? "&" : "?")limit=\(limit)"
    while let current = next, bodies.count < 1_000 {
        let (status, body, cursor) = try await client.execute(uri: current, method: .get) {
            ($0.status, $0.text, $0.headers[HTTPField.Name("Civic-Next-Cursor")!])
        }
        #expect(status == .ok, "\(current): \(body)")
        bodies.append(body)
        next = cursor.map { "\(uri.split(separator: "?")[0])?cursor=\($0)&limit=\(limit)" }
    }
    return bodies
}

@Suite("The server's pages: a long view in pages whose bytes are the whole view")
struct PagingTests {
    @Test("the pages of a board, of any size, are the board's JSON, digest included", arguments: [1, 7, 40, 500])
    func boardPages(limit: Int) async throws {
        let whole = try commandLineJSON(.board(batch: nil, unit: nil, statuses: [], overdue: false, Moment(at: Moment.now(now))))
        try await withClient { client in
            let bodies = try await pages(client, "/api/board", limit: limit)
            #expect(bodies.joined() == whole)
            let rows = (try JSONParser.parse(Array(whole.utf8)))["problems"]?.array.count ?? 0
            #expect(bodies.count == max(1, (rows + limit - 1) / limit))
        }
    }

    @Test("a filtered board of a past moment and prefix pages the same way")
    func filteredPastPages() async throws {
        let at = Timestamp(local: "2022-08-25 12:00")!
        let whole = try commandLineJSON(.board(batch: "B-20220819", unit: nil, statuses: [.assigned, .submitted], overdue: false,
                                                Moment(at: at, asOf: .seq(90))))
        try await withClient { client in
            let bodies = try await pages(client, "/api/board?batch=B-20220819&status=assigned,submitted&at=2022-08-25%2012:00&asOf=seq:90", limit: 2)
            #expect(bodies.count > 1)
            #expect(bodies.joined() == whole)
        }
    }

    @Test("the pages of an audit trail are its JSON; the digest is the SHA-256 of the document without it")
    func auditPages() async throws {
        let whole = try commandLineJSON(.audit(.unit("U-zt"), rules: AuditRules(backdateHours: 72), Moment(at: Moment.now(now))))
        try await withClient { client in
            let bodies = try await pages(client, "/api/audit?unit=U-zt", limit: 3)
            #expect(bodies.count > 2)
            let joined = bodies.joined()
            #expect(joined == whole)
            let parsed = try JSONParser.parse(Array(joined.utf8))
            let cut = try #require(joined.range(of: ",\"digest\":"))
            let digest = SHA256.hash(data: Data((String(joined[..<cut.lowerBound]) + "}").utf8)).map { String(format: "%02x", $0) }.joined()
            #expect(parsed["digest"]?.text == digest)
        }
    }

    @Test("a page goes on reading the log and the moment its first page read, whatever was appended since")
    func pagesArePinned() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("civic-pin-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try Ledger(path: path, access: .create)
        _ = try DemoFill.fill(writer)
        let reader = try Ledger(path: path, access: .readOnly)
        let app = Application(router: try ReportServer.router(ledger: reader, clock: { now }, logRequests: false))
        try await app.test(.router) { client in
            let first = try await client.execute(uri: "/api/board?limit=5", method: .get) { $0 }
            let cursor = try #require(first.headers[HTTPField.Name("Civic-Next-Cursor")!])
            let headBefore = first.headers[HTTPField.Name("Civic-Head")!]
            // Another process appends meanwhile.
            try DemoFill.appendExtra(writer)
            let second = try await client.execute(uri: "/api/board?cursor=\(cursor)&limit=5", method: .get) { $0 }
            #expect(second.status == .ok)
            #expect(second.headers[HTTPField.Name("Civic-Head")!] == headBefore)
            #expect(!second.text.contains("P-EXTRA-1"))
        }
    }

    @Test("a cursor is the only condition of its page; a forged or foreign one is 400 naming it", arguments: [
        "/api/board?cursor=nonsense", "/api/board?cursor=eyJ4IjoxfQ", "/api/audit?cursor=%%%",
    ])
    func badCursor(_ uri: String) async throws {
        try await withClient { client in
            try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(response.json?["error"]?["parameter"]?.text == "cursor" || response.json?["error"]?["parameter"] != nil)
            }
        }
    }

    @Test("with a cursor, another condition is refused: it is in the cursor already")
    func cursorAndConditions() async throws {
        try await withClient { client in
            let cursor = try await client.execute(uri: "/api/board?limit=2", method: .get) { $0.headers[HTTPField.Name("Civic-Next-Cursor")!] }
            try await client.execute(uri: "/api/board?cursor=\(try #require(cursor))&unit=U-zt", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(response.json?["error"]?["parameter"]?.text == "unit")
            }
            try await client.execute(uri: "/api/progress?limit=2", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(response.json?["error"]?["parameter"]?.text == "limit")
            }
        }
    }

    @Test("parameter names are percent-decoded as values are")
    func percentDecodedNames() async throws {
        let expected = try commandLineJSON(.board(batch: nil, unit: "U-zt", statuses: [], overdue: false, Moment(at: Moment.now(now))))
        try await withClient { client in
            try await client.execute(uri: "/api/board?%75nit=U%2Dzt", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.text == expected)
            }
            try await client.execute(uri: "/api/board?unit=%E4%B8", method: .get) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test("heavy work beyond the lane's queue is 503 with Retry-After at once, and quick work still answers")
    func busyLane() async throws {
        var limits = ServerLimits()
        limits.heavyQueue = 0
        let app = Application(router: try ReportServer.router(ledger: try demo.get().ledger, clock: { now }, logRequests: false, limits: limits))
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/board?asOf=seq:60&limit=5000", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "1")
                #expect(response.json?["error"]?["message"]?.text?.contains("繁忙") == true)
            }
            try await client.execute(uri: "/api/events?limit=10", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.text.split(separator: "\n").count == 10)
            }
        }
    }

    @Test("HEAD of a streamed view answers with its headers and no body")
    func headOfStreamed() async throws {
        try await withClient { client in
            try await client.execute(uri: "/api/board?limit=3", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("Civic-Next-Cursor")!] != nil)
                #expect(response.body.readableBytes == 0)
            }
        }
    }
}

/// The demo campaign, and one report more for a later append.
enum DemoFill {
    static func fill(_ ledger: Ledger) throws -> Int { try DemoCampaign.fill(ledger) }

    @available(*, noasync)
    static func appendExtraNow(_ ledger: Ledger) throws {
        _ = try ledger.append(EventList([extraReport]), AppendOptions(recordedBy: "local:test"))
    }

    static func appendExtra(_ ledger: Ledger) throws {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var failure: (any Error)?
        Thread.detachNewThread {
            do { try appendExtraNow(ledger) } catch { failure = error }
            done.signal()
        }
        done.wait()
        if let failure { throw failure }
    }

    static let extraReport = Incoming(line: 1, event: Event(
        id: "extra-1", source: "/test", subject: "P-EXTRA-1", time: Timestamp(rfc3339: "2022-09-01T09:00:00+08:00")!,
        actor: "office/li-xianfeng", role: .office, actorUnit: "U-office",
        data: .problemReported(ProblemReport(batch: "B-20220819", source: .inspection, category: .cityAppearance,
                                             description: "新增问题", location: Location(area: "恒口")))))
}
