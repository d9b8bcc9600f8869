import Campaign
import Crypto
@testable import CivicServer
import Demo
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JSON
import Ledger
import NIOCore
import Testing

/// A demo store opened for writing, with three accounts: a unit's (unit/hp-zhao of U-hpsq, to which
/// P-20220905-002 is assigned), the office's (office/li) and an inspector's (inspector/wu).
final class WritableStore: Sendable {
    let path: String
    let ledger: Ledger
    let unitToken: String, officeToken: String, inspectorToken: String

    static let problem = "P-20220905-002"

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("civic-write-\(UUID().uuidString)").path
        ledger = try Ledger(path: path, access: .create)
        _ = try DemoCampaign.fill(ledger)
        let office = OfficeActor(actor: "office/li", unit: "U-office")
        officeToken = try ledger.enroll("office/li", name: "李先锋", role: .office, unit: "U-office", by: office, recordedBy: "local:test")
        unitToken = try ledger.enroll("unit/hp-zhao", name: "赵六", role: .unit, unit: "U-hpsq", by: office, recordedBy: "local:test")
        inspectorToken = try ledger.enroll("inspector/wu", name: "吴七", role: .inspector, unit: "U-office", by: office, recordedBy: "local:test")
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func withClient(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = Application(router: try ReportServer.router(ledger: ledger, logRequests: false, writable: true))
        try await app.test(.router) { client in try await body(client) }
    }
}

/// Calls the store's synchronous API from a test's async body (it holds no transaction across an await).
@discardableResult
func blocking<T>(_ body: () throws -> T) rethrows -> T { try body() }

/// A PNG of one pixel, whose colour makes it differ from another's.
func png(_ shade: UInt8 = 0) -> [UInt8] {
    func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return UInt32(data.count).bigEndianBytes4 + body + crc32(body).bigEndianBytes4
    }
    let header = UInt32(1).bigEndianBytes4 + UInt32(1).bigEndianBytes4 + [8, 2, 0, 0, 0]
    // An uncompressed (stored) deflate block of one scanline: filter 0, then R, G, B.
    let scanline: [UInt8] = [0, shade, 0x80, 0x40]
    var zlib: [UInt8] = [0x78, 0x01, 0x01, UInt8(scanline.count), 0, ~UInt8(scanline.count), 0xFF] + scanline
    zlib += adler32(scanline).bigEndianBytes4
    return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header) + chunk("IDAT", zlib) + chunk("IEND", [])
}

private func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}

private func adler32(_ bytes: [UInt8]) -> UInt32 {
    var a: UInt32 = 1, b: UInt32 = 0
    for byte in bytes { a = (a + UInt32(byte)) % 65_521; b = (b + a) % 65_521 }
    return b << 16 | a
}

extension UInt32 {
    var bigEndianBytes4: [UInt8] { [UInt8(self >> 24), UInt8(self >> 16 & 0xFF), UInt8(self >> 8 & 0xFF), UInt8(self & 0xFF)] }
}

/// A line of NDJSON for `type` on `subject`, without actor fields unless given.
func line(_ id: String, _ type: String, _ subject: String, _ data: String, time: String = "2022-09-10T10:00:00+08:00",
          extra: String = "") -> String {
    #"{"specversion":"1.0","id":"\#(id)","source":"/test","type":"\#(type)","subject":"\#(subject)","time":"\#(time)"\#(extra),"data":\#(data)}"#
}

extension TestClientProtocol {
    func post(_ path: String, token: String?, type: String = "application/x-ndjson", _ body: [UInt8]) async throws -> TestResponse {
        var headers = HTTPFields()
        headers[.contentType] = type
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await execute(uri: path, method: .post, headers: headers, body: ByteBuffer(bytes: body))
    }

    func postEvents(_ lines: String, token: String?, type: String = "application/x-ndjson") async throws -> TestResponse {
        try await post("/api/events", token: token, type: type, Array(lines.utf8))
    }

    func upload(_ bytes: [UInt8], token: String) async throws -> String {
        let response = try await post("/api/evidence", token: token, type: "image/png", bytes)
        #expect(response.status == .ok, "\(response.text)")
        return response.json?["sha256"]?.text ?? ""
    }
}

@Suite("The writable server: accounts write as themselves, evidence first, every refusal a clear error")
struct WriteServerTests {
    @Test("a unit reports its fix with a photo, the office verifies it: each event's actor and recorder are the accounts")
    func unitFixOfficeVerifies() async throws {
        let store = try WritableStore()
        let uploaded = SHA256.hash(data: png(1)).map { String(format: "%02x", $0) }.joined()
        try await store.withClient { client in
            let photo = png(1)
            let sha = try await client.upload(photo, token: store.unitToken)
            #expect(sha == uploaded)
            let back = try await client.execute(uri: "/api/evidence/\(sha)", method: .get)
            #expect(back.status == .ok && Array(back.body.readableBytesView) == photo)
            #expect(back.headers[.contentType] == "image/png")

            let submit = line("fix-1", "rectification.submitted", WritableStore.problem,
                              #"{"summary":"已清理","evidence":[{"sha256":"\#(sha)"}]}"#)
            let submitted = try await client.postEvents(submit, token: store.unitToken)
            #expect(submitted.status == .ok, "\(submitted.text)")
            let timing = submitted.headers[HTTPField.Name("Server-Timing")!] ?? ""
            #expect(timing.hasPrefix("commit;dur=") && Double(timing.dropFirst("commit;dur=".count)).map { $0 > 0 } == true, "\(timing)")
            let verified = try await client.postEvents(
                line("ver-1", "rectification.verified", WritableStore.problem, "{}", time: "2022-09-10T12:00:00+08:00"), token: store.officeToken)
            #expect(verified.status == .ok, "\(verified.text)")
        }
        var seen: [(String, String, String)] = []
        try blocking {
            try store.ledger.events(asOf: .all, after: 0) { entry in
                if entry.recorded.event.id.hasSuffix("-1") && !entry.recordedBy.hasPrefix("local:") {
                    seen.append((entry.recorded.event.id, entry.recorded.event.actor, entry.recordedBy))
                }
                return true
            }
        }
        #expect(seen.map(\.0) == ["fix-1", "ver-1"])
        #expect(seen.map(\.1) == ["unit/hp-zhao", "office/li"])
        #expect(seen.map(\.2) == ["unit/hp-zhao", "office/li"])
        #expect(try blocking { try store.ledger.record(of: WritableStore.problem)?.problem?.status } == .closed)
        #expect(try blocking { try store.ledger.checkEvidence().isSound })
        // The photo gone from the folder: named missing, by the walk of its own and by verify's one pass alike.
        try FileManager.default.removeItem(atPath: store.ledger.evidence.path(of: uploaded))
        let (walked, verified) = try blocking { (try store.ledger.checkEvidence(), store.ledger.checkEvidence(requiredBy: try store.ledger.verify())) }
        #expect(walked.missing == [uploaded])
        #expect(verified.missing == [uploaded] && verified.files == walked.files)
    }

    @Test("each forgery and bad request is refused with its status and a message, and nothing is stored")
    func refusals() async throws {
        let store = try WritableStore()
        let (otherUnit, revoked, before) = try blocking { () throws -> (String, String, String) in
        let otherUnit = try store.ledger.enroll("unit/cg-qian", name: "钱八", role: .unit, unit: "U-cgzf",
                                                by: OfficeActor(actor: "office/li", unit: "U-office"), recordedBy: "local:test")
        let revoked = try store.ledger.enroll("unit/hp-sun", name: "孙九", role: .unit, unit: "U-hpsq",
                                              by: OfficeActor(actor: "office/li", unit: "U-office"), recordedBy: "local:test")
        try store.ledger.revokeAccount("unit/hp-sun", reason: "调离", by: OfficeActor(actor: "office/li", unit: "U-office"), recordedBy: "local:test")
        return (otherUnit, revoked, try store.ledger.head().description)
        }
        try await store.withClient { client in
            let sha = try await client.upload(png(2), token: store.unitToken)
            let fix = line("fix-x", "rectification.submitted", WritableStore.problem, #"{"summary":"已清理","evidence":[{"sha256":"\#(sha)"}]}"#)
            let cases: [(String, HTTPResponse.Status, () async throws -> TestResponse)] = [
                ("no token", .unauthorized, { try await client.postEvents(fix, token: nil) }),
                ("a wrong token", .unauthorized, { try await client.postEvents(fix, token: "civic_" + String(repeating: "A", count: 43)) }),
                ("a Bearer without a token", .unauthorized, { try await client.postEvents(fix, token: "  ") }),
                ("a revoked account", .unauthorized, { try await client.postEvents(fix, token: revoked) }),
                ("another unit's problem", .unprocessableContent, { try await client.postEvents(fix, token: otherUnit) }),
                ("another actor", .forbidden, {
                    try await client.postEvents(line("fix-y", "rectification.submitted", WritableStore.problem,
                                                     #"{"summary":"x","evidence":[{"sha256":"\#(sha)"}]}"#, extra: #","actor":"unit/cg-qian""#),
                                                token: store.unitToken)
                }),
                ("another unit written in", .forbidden, {
                    try await client.postEvents(line("fix-z", "rectification.submitted", WritableStore.problem,
                                                     #"{"summary":"x","evidence":[{"sha256":"\#(sha)"}]}"#, extra: #","actorunit":"U-cgzf""#),
                                                token: store.unitToken)
                }),
                ("a unit acting as inspector", .forbidden, {
                    try await client.postEvents(line("ver-z", "rectification.verified", WritableStore.problem, "{}", extra: #","actorrole":"inspector""#),
                                                token: store.unitToken)
                }),
                ("office recording for someone not enrolled", .forbidden, {
                    try await client.postEvents(line("fix-w", "rectification.submitted", WritableStore.problem,
                                                     #"{"summary":"x","evidence":[{"sha256":"\#(sha)"}]}"#, extra: #","actor":"unit/nobody""#),
                                                token: store.officeToken)
                }),
                ("a body too large", .contentTooLarge, {
                    try await client.postEvents(String(repeating: " ", count: WriteSide.maximumEventBytes + 1), token: store.unitToken)
                }),
                ("a wrong content type", .unsupportedMediaType, { try await client.postEvents(fix, token: store.unitToken, type: "text/plain") }),
                ("an upload that is not an image or PDF", .unsupportedMediaType, {
                    try await client.post("/api/evidence", token: store.unitToken, type: "image/png", Array("<html>not a photo</html>".utf8))
                }),
                ("evidence never uploaded", .unprocessableContent, {
                    try await client.postEvents(line("fix-v", "rectification.submitted", WritableStore.problem,
                                                     #"{"summary":"x","evidence":[{"sha256":"\#(String(repeating: "cd", count: 32))"}]}"#),
                                                token: store.unitToken)
                }),
                ("an event that breaks a rule", .unprocessableContent, {
                    try await client.postEvents(line("ver-v", "rectification.verified", WritableStore.problem, "{}"), token: store.officeToken)
                }),
            ]
            for (what, status, request) in cases {
                let response = try await request()
                #expect(response.status == status, "\(what): \(response.status) \(response.text)")
                let json = response.json
                let message = json?["error"]?["message"]?.text ?? json?["refusals"]?.array.first?["message"]?.text
                #expect(message?.isEmpty == false, "\(what): \(response.text)")
                if status == .unauthorized { #expect(response.headers[.wwwAuthenticate] != nil, "\(what)") }
                if status == .unprocessableContent { #expect(json?["refusals"]?.array.first?["rule"]?.text != nil, "\(what)") }
            }
        }
        #expect(try blocking { try store.ledger.head().description } == before)
        _ = try blocking { try store.ledger.verify() }
        // The spaces around a token are not part of it.
        try await store.withClient { client in
            let sha = try await client.upload(png(4), token: store.unitToken)
            let fix = line("fix-s", "rectification.submitted", WritableStore.problem, #"{"summary":"已清理","evidence":[{"sha256":"\#(sha)"}]}"#)
            let spaced = try await client.postEvents(fix, token: " \t\(store.unitToken)  ")
            #expect(spaced.status == .ok, "\(spaced.text)")
        }
    }

    @Test("the office records a fix for an enrolled unit (代录): stored as the unit's, recorded by the office, flagged proxy")
    func proxy() async throws {
        let store = try WritableStore()
        try await store.withClient { client in
            let sha = try await client.upload(png(3), token: store.officeToken)
            let response = try await client.postEvents(
                line("fix-p", "rectification.submitted", WritableStore.problem, #"{"summary":"代录整改","evidence":[{"sha256":"\#(sha)"}]}"#,
                     extra: #","actor":"unit/hp-zhao""#), token: store.officeToken)
            #expect(response.status == .ok, "\(response.text)")
            let trail = try await client.execute(uri: "/api/audit?subject=\(WritableStore.problem)", method: .get)
            let row = trail.json?["events"]?.array.last
            #expect(row?["actor"]?.text == "unit/hp-zhao")
            #expect(row?["recordedBy"]?.text == "office/li")
            #expect(row?["flags"]?.array.contains(.string("proxy")) == true, "\(trail.text)")
            let last = try blocking { try store.ledger.head().seq }
            let feed = try await client.execute(uri: "/api/events?after=\(last - 1)", method: .get)
            #expect(feed.text.contains(#""proxy":true"#), "\(feed.text)")
        }
    }

    @Test("a flood of failed sign-ins from one address is refused with 429, even with a right token then")
    func flood() async throws {
        let store = try WritableStore()
        try await store.withClient { client in
            for _ in 0..<10 {
                let response = try await client.postEvents("{}", token: "civic_guess")
                #expect(response.status == .unauthorized)
            }
            let blocked = try await client.postEvents("{}", token: store.unitToken)
            #expect(blocked.status == .tooManyRequests)
            #expect(Int(blocked.headers[.retryAfter] ?? "") ?? 0 > 0)
        }
    }

    @Test("concurrent single-event requests are committed together: each acknowledged, each in the log once")
    func concurrentRequests() async throws {
        let store = try WritableStore()
        let before = try blocking { try store.ledger.head().seq }
        let count = 200
        try await store.withClient { client in
            let seqs = try await withThrowingTaskGroup(of: UInt64?.self) { group in
                for k in 0..<count {
                    group.addTask {
                        let report = line("report-\(k)", "problem.reported", "P-load-\(k)",
                                          #"{"source":"inspection","category":"sanitation","description":"垃圾未清","location":{"area":"恒口"}}"#)
                        let response = try await client.postEvents(report, token: store.inspectorToken)
                        guard response.status == .ok, case .number(let n)? = response.json?["appended"]?.array.first?["seq"] else {
                            Issue.record("request \(k): \(response.status) \(response.text)")
                            return nil
                        }
                        return UInt64(n)
                    }
                }
                var seqs: [UInt64?] = []
                for try await seq in group { seqs.append(seq) }
                return seqs
            }
            #expect(seqs.allSatisfy { $0 != nil })
            #expect(Set(seqs.compactMap { $0 }) == Set((before + 1)...(before + UInt64(count))))
        }
        #expect(try blocking { try store.ledger.head().seq } == before + UInt64(count))
        _ = try blocking { try store.ledger.verify() }
    }

    @Test("an evidence file changed on disk is never served as evidence, is named by verify, and uploading the original puts it right")
    func changedEvidence() async throws {
        let store = try WritableStore()
        let photo = png(9)
        try await store.withClient { client in
            let sha = try await client.upload(photo, token: store.unitToken)
            let path = store.ledger.evidence.path(of: sha)
            var changed = photo
            changed[changed.count - 1] ^= 1
            try Data(changed).write(to: URL(fileURLWithPath: path))
            let served = try await client.execute(uri: "/api/evidence/\(sha)", method: .get)
            #expect(served.status == .internalServerError)
            #expect(served.text.contains("已被改动"))
            #expect(try blocking { try store.ledger.evidence.check(required: []) }.changed == [sha])
            #expect(try await client.upload(photo, token: store.unitToken) == sha)
            let again = try await client.execute(uri: "/api/evidence/\(sha)", method: .get)
            #expect(again.status == .ok && Array(again.body.readableBytesView) == photo)
        }
    }

    @Test("the read-only server serves evidence files too, and has no write routes: POST is 405")
    func readOnlyStays() async throws {
        try await withClient { client in
            let response = try await client.execute(uri: "/api/events", method: .post, body: ByteBuffer(string: "{}"))
            #expect(response.status == .methodNotAllowed)
            let upload = try await client.execute(uri: "/api/evidence", method: .post, body: ByteBuffer(bytes: png()))
            #expect(upload.status == .methodNotAllowed)
            let missing = try await client.execute(uri: "/api/evidence/\(String(repeating: "ab", count: 32))", method: .get)
            #expect(missing.status == .notFound)
        }
    }
}
