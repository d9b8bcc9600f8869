import Campaign
import Ledger
@testable import CivicServer
import Foundation
import Glibc
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

extension TestClientProtocol {
    /// Signs in with `token`; the session's cookie and the page's CSRF token.
    func signIn(_ token: String) async throws -> (cookie: String, csrf: String) {
        var headers = HTTPFields()
        headers[.contentType] = "application/x-www-form-urlencoded"
        let answer = try await execute(uri: "/signin", method: .post, headers: headers,
                                       body: ByteBuffer(string: "token=" + (token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")))
        #expect(answer.status == .seeOther, "\(String(buffer: answer.body))")
        let setCookie = try #require(answer.headers[.setCookie])
        #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"))
        let cookie = String(setCookie.split(separator: ";")[0])
        let page = try await work(cookie)
        let csrf = try #require(page.components(separatedBy: "name=\"csrf\" value=\"").dropFirst().first?.split(separator: "\"").first.map(String.init))
        return (cookie, csrf)
    }

    func work(_ cookie: String) async throws -> String {
        var headers = HTTPFields()
        headers[.cookie] = cookie
        return String(buffer: try await execute(uri: "/work", method: .get, headers: headers).body)
    }

    func form(_ path: String, cookie: String, _ fields: [(String, String)], files: [(String, [UInt8])] = []) async throws -> TestResponse {
        let boundary = "civic-test-boundary"
        var body: [UInt8] = []
        for (name, value) in fields {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        for (name, bytes) in files {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"p.png\"\r\nContent-Type: image/png\r\n\r\n".utf8)
            body += bytes + Array("\r\n".utf8)
        }
        body += Array("--\(boundary)--\r\n".utf8)
        var headers = HTTPFields()
        headers[.cookie] = cookie
        headers[.contentType] = "multipart/form-data; boundary=\(boundary)"
        return try await execute(uri: path, method: .post, headers: headers, body: ByteBuffer(bytes: body))
    }
}

/// `text` in `encoding`, by the C library's iconv (as Excel on Chinese Windows saves a CSV: GBK).
func encoded(_ text: String, _ encoding: String) -> [UInt8] {
    let cd = iconv_open(encoding, "UTF-8")!
    defer { iconv_close(cd) }
    var input = Array(text.utf8)
    var output = [UInt8](repeating: 0, count: input.count * 4 + 16)
    let written = input.withUnsafeMutableBufferPointer { ib in
        output.withUnsafeMutableBufferPointer { ob -> Int in
            var ip = ib.baseAddress.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: CChar.self) }
            var il = ib.count
            var op = ob.baseAddress.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: CChar.self) }
            var ol = ob.count
            _ = iconv(cd, &ip, &il, &op, &ol)
            return ob.count - ol
        }
    }
    return Array(output.prefix(written))
}

@Suite("Each role's pages: a unit reports its fix with a photo, the office verifies it, forms guarded")
struct WorkPagesTests {
    @Test("a unit signs in, sees its own problems, reports a fix with a photo; the office verifies it; the problem is closed")
    func unitFixOfficeVerifies() async throws {
        let store = try WritableStore()
        try await store.withClient { client in
            let unit = try await client.signIn(store.unitToken)
            let page = try await client.work(unit.cookie)
            #expect(page.contains("本单位待办") && page.contains(WritableStore.problem), "\(page)")
            #expect(!page.contains("待核实的整改"))
            let fixed = try await client.form("/work/fix", cookie: unit.cookie,
                                              [("csrf", unit.csrf), ("problem", WritableStore.problem), ("summary", "已清理<script>")],
                                              files: [("photo", png(21))])
            #expect(fixed.status == .ok, "\(String(buffer: fixed.body))")
            #expect(String(buffer: fixed.body).contains("已登记"))

            let office = try await client.signIn(store.officeToken)
            let waiting = try await client.work(office.cookie)
            #expect(waiting.contains("待核实的整改") && waiting.contains(WritableStore.problem))
            let verified = try await client.form("/work/verify", cookie: office.cookie, [("csrf", office.csrf), ("problem", WritableStore.problem)])
            #expect(verified.status == .ok, "\(String(buffer: verified.body))")

            // On the dashboard, the problem's trail says what was done, by whom, recorded by whom, with the photo.
            let trail = String(buffer: try await client.execute(uri: "/?subject=\(WritableStore.problem)", method: .get).body)
            #expect(trail.contains("已清理&lt;script&gt;") && !trail.contains("已清理<script>"))
            #expect(trail.contains("<img class=\"evidence\" src=\"/api/evidence/"), "\(trail.suffix(3000))")
            #expect(trail.contains("unit/hp-zhao") && trail.contains("office/li"))
        }
        #expect(try blocking { try store.ledger.record(of: WritableStore.problem)?.problem?.status } == .closed)
        let fix = try blocking { try store.ledger.latest(of: [.rectificationSubmitted], in: WritableStore.problem) }
        guard case .rectificationSubmitted(let r)? = fix?.event.data else { Issue.record("no fix"); return }
        #expect(r.summary == "已清理<script>" && r.evidence.count == 1 && fix?.event.actor == "unit/hp-zhao")
        #expect(try blocking { try store.ledger.evidence.has(r.evidence[0].sha256) })
    }

    @Test("the office imports a list from a file in the browser: a preview first (nothing written), then 确认导入 writes it as the account's events")
    func officeImportsList() async throws {
        let store = try WritableStore()
        // A list kept in GBK with a title row and 序号, its units by name and alias.
        let csv = "9月10日督查问题清单\n序号,问题类型,所属片区,存在问题,责任部门,完成时限\n1,环境卫生,城北,垃圾堆放,和平社区,2027年9月17日\n2,绿化,城南,绿地缺株,住建局,2027-09-18\n合计,2,,,,\n"
        try await store.withClient { client in
            let office = try await client.signIn(store.officeToken)
            #expect(try await client.work(office.cookie).contains("导入问题清单"))
            let preview = try await client.form("/work/import", cookie: office.cookie, [("csrf", office.csrf), ("batch", "B-20220905"), ("sheet", "")],
                                                files: [("list", encoded(csv, "GBK"))])
            let page = String(buffer: preview.body)
            #expect(preview.status == .ok, "\(page)")
            #expect(page.contains("导入预览（尚未写入）") && page.contains("“序号” → 编号") && page.contains("将写入 4 个事件"), "\(page)")
            #expect(try blocking { try store.ledger.record(of: "B-20220905-001") } == nil)  // nothing written yet
            let token = try #require(page.components(separatedBy: "name=\"pending\" value=\"").dropFirst().first?.split(separator: "\"").first.map(String.init))
            // A unit cannot confirm the office's import, nor start one.
            let unit = try await client.signIn(store.unitToken)
            #expect(try await client.form("/work/import", cookie: unit.cookie, [("csrf", unit.csrf), ("pending", token)]).status == .forbidden)
            let done = try await client.form("/work/import", cookie: office.cookie, [("csrf", office.csrf), ("pending", token)])
            #expect(done.status == .ok && String(buffer: done.body).contains("已导入：4 个事件"), "\(String(buffer: done.body))")
            // The same preview cannot be confirmed twice.
            let again = try await client.form("/work/import", cookie: office.cookie, [("csrf", office.csrf), ("pending", token)])
            #expect(String(buffer: again.body).contains("预览已过期"))
            // A bad cell is named by row and column on the page, and nothing is kept to confirm.
            let bad = try await client.form("/work/import", cookie: office.cookie, [("csrf", office.csrf), ("batch", "B-20220905")],
                                            files: [("list", Array("序号,类别,片区,问题描述,责任单位,整改时限\n1,环境卫生,城北,垃圾,和平社区,8月32日\n".utf8))])
            #expect(bad.status == .unprocessableContent && String(buffer: bad.body).contains("第 2 行“F（整改时限）”列"), "\(String(buffer: bad.body))")
        }
        let problem = try blocking { try store.ledger.record(of: "B-20220905-001")?.problem }
        #expect(problem?.unit == "U-hpsq" && problem?.deadline == Timestamp(rfc3339: "2027-09-17T23:59:59+08:00"))
        let reported = try blocking { try store.ledger.latest(of: [.problemReported], in: "B-20220905-002") }
        #expect(reported?.event.actor == "office/li" && reported?.event.role == .office)
    }

    @Test("the office assigns a reported problem from its page: to a unit, with a deadline read as Beijing time")
    func officeAssigns() async throws {
        let store = try WritableStore()
        let reported = "P-web-1"
        try blocking {
            _ = try store.ledger.append([Incoming(line: 1, event: Event(
                id: "web-report-1", source: "/test", subject: reported, time: Timestamp(rfc3339: "2022-09-10T09:00:00+08:00")!,
                actor: "office/li", role: .office, actorUnit: "U-office",
                data: .problemReported(ProblemReport(source: .inspection, category: .sanitation, description: "垃圾堆放",
                                                     location: Location(area: "恒口")))))], recordedBy: "local:test")
        }
        try await store.withClient { client in
            let office = try await client.signIn(store.officeToken)
            let page = try await client.work(office.cookie)
            #expect(page.contains("待交办的问题") && page.contains(reported))
            let wrongDate = try await client.form("/work/assign", cookie: office.cookie,
                                                  [("csrf", office.csrf), ("problem", reported), ("unit", "U-hpsq"), ("deadline", "下周")])
            #expect(wrongDate.status == .unprocessableContent && String(buffer: wrongDate.body).contains("读不懂"))
            let assigned = try await client.form("/work/assign", cookie: office.cookie,
                                                 [("csrf", office.csrf), ("problem", reported), ("unit", "U-hpsq"), ("deadline", "2030-09-17T18:00")])
            #expect(assigned.status == .ok, "\(String(buffer: assigned.body))")
            let unit = try await client.signIn(store.unitToken)
            #expect(try await client.work(unit.cookie).contains(reported))
        }
        let problem = try blocking { try store.ledger.record(of: reported)?.problem }
        #expect(problem?.status == .assigned && problem?.unit == "U-hpsq")
        #expect(problem?.deadline == Timestamp(rfc3339: "2030-09-17T18:00:00+08:00"))
    }

    @Test("the inspector reports a problem with a photo; the office extends and escalates; 纪工委 records accountability, refused for a unit not registered")
    func otherRoles() async throws {
        let store = try WritableStore()
        let office = OfficeActor(actor: "office/li", unit: "U-office")
        let discipline = try blocking { try store.ledger.enroll("discipline/zhou", name: "周纪", role: .discipline, unit: nil, by: office, recordedBy: "local:test") }
        let escalationsBefore = try blocking { try store.ledger.record(of: WritableStore.problem)?.problem?.escalations ?? 0 }
        try await store.withClient { client in
            let inspector = try await client.signIn(store.inspectorToken)
            let page = try await client.work(inspector.cookie)
            #expect(page.contains("上报问题") && !page.contains("问题办理"))
            let reported = try await client.form("/work/report", cookie: inspector.cookie, [
                ("csrf", inspector.csrf), ("source", "inspection"), ("category", "sanitation"), ("description", "路边垃圾堆放"),
                ("area", "中心城区"), ("street", "和平路")], files: [("photo", png(31))])
            #expect(reported.status == .ok, "\(String(buffer: reported.body))")

            let officeSession = try await client.signIn(store.officeToken)
            let extended = try await client.form("/work/extend", cookie: officeSession.cookie, [
                ("csrf", officeSession.csrf), ("problem", WritableStore.problem), ("deadline", "2030-01-01T18:00"), ("reason", "汛期施工")])
            #expect(extended.status == .ok, "\(String(buffer: extended.body))")
            let escalated = try await client.form("/work/escalate", cookie: officeSession.cookie, [
                ("csrf", officeSession.csrf), ("problem", WritableStore.problem), ("to", "王局长"), ("reason", "逾期未改")])
            #expect(escalated.status == .ok)
            let unit = try await client.form("/work/unit", cookie: officeSession.cookie, [
                ("csrf", officeSession.csrf), ("unitId", "U-web"), ("name", "新设的单位"), ("kind", "street")])
            #expect(unit.status == .ok, "\(String(buffer: unit.body))")
            let list = try await client.form("/work/list", cookie: officeSession.cookie, [
                ("csrf", officeSession.csrf), ("listId", "B-web"), ("name", "网上建立的清单"), ("source", "inspection"), ("dueAt", "2030-02-01 18:00")])
            #expect(list.status == .ok, "\(String(buffer: list.body))")
            let twice = try await client.form("/work/unit", cookie: officeSession.cookie, [
                ("csrf", officeSession.csrf), ("unitId", "U-web"), ("name", "再登记一次"), ("kind", "street")])
            #expect(twice.status == .unprocessableContent && String(buffer: twice.body).contains("已登记"))
            let unitsForm = try await client.form("/work/accountability", cookie: officeSession.cookie, [("csrf", officeSession.csrf)])
            #expect(unitsForm.status == .forbidden)  // the office does not record accountability

            let jgw = try await client.signIn(discipline)
            #expect(try await client.work(jgw.cookie).contains("追责问责"))
            let recorded = try await client.form("/work/accountability", cookie: jgw.cookie, [
                ("csrf", jgw.csrf), ("kind", "unit"), ("target", "U-hpsq"), ("measure", "interview"), ("reason", "整改不力"),
                ("problems", WritableStore.problem)])
            #expect(recorded.status == .ok, "\(String(buffer: recorded.body))")
            let missing = try await client.form("/work/accountability", cookie: jgw.cookie, [
                ("csrf", jgw.csrf), ("kind", "unit"), ("target", "U-nowhere"), ("measure", "interview"), ("reason", "x")])
            #expect(missing.status == .unprocessableContent && String(buffer: missing.body).contains("未登记"))
        }
        let problem = try blocking { try store.ledger.record(of: WritableStore.problem)?.problem }
        #expect(problem?.deadline == Timestamp(rfc3339: "2030-01-01T18:00:00+08:00") && problem?.escalations == escalationsBefore + 1)
        let cases = try blocking { () throws -> Int in
            var n = 0
            try store.ledger.events(asOf: .all, after: 0) { entry in
                if entry.recorded.event.type == .accountabilityRecorded && entry.recordedBy == "discipline/zhou" { n += 1 }
                if entry.recorded.event.type == .problemReported && entry.recordedBy == "inspector/wu" {
                    if case .problemReported(let r) = entry.recorded.event.data { #expect(r.evidence.count == 1 && r.location.street == "和平路") }
                }
                return true
            }
            return n
        }
        #expect(cases == 1)
        #expect(try blocking { try store.ledger.record(of: "U-web")?.unit?.name } == "新设的单位")
        #expect(try blocking { try store.ledger.record(of: "B-web")?.batch?.dueAt } == Timestamp(rfc3339: "2030-02-01T18:00:00+08:00"))
    }

    @Test("a unit cannot use the office's forms; a form without its CSRF token is refused; a revoked account is signed out")
    func guarded() async throws {
        let store = try WritableStore()
        try await store.withClient { client in
            let unit = try await client.signIn(store.unitToken)
            let verify = try await client.form("/work/verify", cookie: unit.cookie, [("csrf", unit.csrf), ("problem", WritableStore.problem)])
            #expect(verify.status == .forbidden)
            let noToken = try await client.form("/work/fix", cookie: unit.cookie, [("problem", WritableStore.problem), ("summary", "x")],
                                                files: [("photo", png(22))])
            #expect(noToken.status == .forbidden)
            let wrong = try await client.form("/work/fix", cookie: unit.cookie, [("csrf", "forged"), ("problem", WritableStore.problem), ("summary", "x")],
                                              files: [("photo", png(22))])
            #expect(wrong.status == .forbidden)
            let noSession = try await client.form("/work/fix", cookie: "civic_session=none", [("csrf", unit.csrf)])
            #expect(noSession.status == .unauthorized)
            let bad = try await client.execute(uri: "/signin", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                               body: ByteBuffer(string: "token=civic_wrong"))
            #expect(bad.status == .unauthorized && String(buffer: bad.body).contains("令牌无效"))

            try blocking { try store.ledger.revokeAccount("unit/hp-zhao", reason: "调离", by: .init(actor: "office/li", unit: "U-office"), recordedBy: "local:test") }
            let after = try await client.form("/work/fix", cookie: unit.cookie, [("csrf", unit.csrf), ("problem", WritableStore.problem), ("summary", "x")],
                                              files: [("photo", png(23))])
            #expect(after.status == .seeOther && after.headers[.location] == "/signin")
            #expect(try await client.work(unit.cookie).isEmpty)  // signed out: /work sends to /signin
        }
        #expect(try blocking { try store.ledger.record(of: WritableStore.problem)?.problem?.status } == .assigned)
    }
}
