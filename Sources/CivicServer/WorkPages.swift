import Campaign
import Foundation
import HTTPTypes
import Hummingbird
import JSON
import Ledger
import NIOCore
import Projections
import Queries
import Reports

/// The pages of each role's daily work (docs/server.md, "Pages for each role"), with `--writable`: sign in
/// with an account's token, then a unit sees its problems by deadline (overdue first, why a fix was sent
/// back) and reports a fix with photos; the office sees the fixes waiting for 核实 and verifies or rejects
/// them. Each action is one form, written as events over the same path as `POST /api/events` (the same
/// rules, the same refusals, shown in words on the page). Pages work without scripts and on a phone.
struct WorkPages {
    let write: WriteSide
    let views: Views
    let sessions = Sessions()
    let pending = PendingImports()
    let clock: @Sendable () -> Timestamp

    func addRoutes(to router: Router<CivicContext>) {
        router.get("/signin") { _, _ -> Response in page(signInForm(message: nil)) }
        router.post("/signin") { request, context -> Response in try await signIn(request, context) }
        router.post("/signout") { request, _ -> Response in
            let (id, session) = try signedIn(request)
            try await checkCSRF(request, session)
            sessions.end(id)
            return redirect("/signin", cookie: Sessions.setCookie(nil))
        }
        router.get("/work") { request, _ -> Response in
            guard let (id, session) = sessions.session(of: request) else { return redirect("/signin") }
            guard try await liveAccount(session) != nil else {
                sessions.end(id)
                return redirect("/signin", cookie: Sessions.setCookie(nil))
            }
            return try await workPage(session, message: nil)
        }
        router.post("/work/fix") { request, _ -> Response in try await act(request, roles: [.unit]) { form, account in
            let problem = try required(form, "problem")
            var evidence: [JSONValue] = []
            for file in form.files where file.name == "photo" {
                let stored = try await write.lane.run { try write.evidence.store(file.bytes) }
                evidence.append(.object([("sha256", .string(stored.sha256))]))
            }
            guard !evidence.isEmpty else { throw PageRefusal("请附上至少一张整改后的照片（或 PDF 材料）") }
            return event("rectification.submitted", problem, [("summary", .string(try required(form, "summary"))), ("evidence", .array(evidence))])
        } }
        router.post("/work/assign") { request, _ -> Response in try await act(request, roles: [.office]) { form, _ in
            event("problem.assigned", try required(form, "problem"),
                  [("unit", .string(try required(form, "unit"))), ("deadline", .string(try moment(form, "deadline").rfc3339))])
        } }
        router.post("/work/report") { request, _ -> Response in try await act(request, roles: [.inspector, .office]) { form, _ in
            var evidence: [JSONValue] = []
            for file in form.files where file.name == "photo" {
                let stored = try await write.lane.run { try write.evidence.store(file.bytes) }
                evidence.append(.object([("sha256", .string(stored.sha256))]))
            }
            var location: [(key: String, value: JSONValue)] = [("area", .string(try required(form, "area")))]
            for key in ["street", "point"] { if let v = optional(form, key) { location.append((key, .string(v))) } }
            var data: [(key: String, value: JSONValue)] = []
            if let batch = optional(form, "batch") { data.append(("batch", .string(batch))) }
            data += [("source", .string(try required(form, "source"))), ("category", .string(try required(form, "category"))),
                     ("description", .string(try required(form, "description"))), ("location", .object(location))]
            if !evidence.isEmpty { data.append(("evidence", .array(evidence))) }
            return event("problem.reported", "P-web-\(clock().micros / 1_000_000)-\(UInt16.random(in: 0...UInt16.max))", data)
        } }
        router.post("/work/extend") { request, _ -> Response in try await act(request, roles: [.office]) { form, _ in
            event("problem.deadlineExtended", try required(form, "problem"),
                  [("deadline", .string(try moment(form, "deadline").rfc3339)), ("reason", .string(try required(form, "reason")))])
        } }
        router.post("/work/reopen") { request, _ -> Response in try await act(request, roles: [.office, .inspector]) { form, _ in
            var data: [(key: String, value: JSONValue)] = [("reason", .string(try required(form, "reason"))),
                                                          ("deadline", .string(try moment(form, "deadline").rfc3339))]
            if let unit = optional(form, "unit") { data.append(("unit", .string(unit))) }
            return event("problem.reopened", try required(form, "problem"), data)
        } }
        router.post("/work/unit") { request, _ -> Response in try await act(request, roles: [.office]) { form, _ in
            var data: [(key: String, value: JSONValue)] = [("name", .string(try required(form, "name"))), ("kind", .string(try required(form, "kind")))]
            if let leader = optional(form, "leader") { data.append(("leader", .string(leader))) }
            return event("unit.registered", try required(form, "unitId"), data)
        } }
        router.post("/work/list") { request, _ -> Response in try await act(request, roles: [.office]) { form, _ in
            event("batch.opened", try required(form, "listId"), [("name", .string(try required(form, "name"))),
                                                                ("source", .string(try required(form, "source"))),
                                                                ("dueAt", .string(try moment(form, "dueAt").rfc3339))])
        } }
        router.post("/work/escalate") { request, _ -> Response in try await act(request, roles: [.office]) { form, _ in
            event("problem.escalated", try required(form, "problem"), [("to", .string(try required(form, "to"))), ("reason", .string(try required(form, "reason")))])
        } }
        router.post("/work/withdraw") { request, _ -> Response in try await act(request, roles: [.office]) { form, _ in
            event("problem.withdrawn", try required(form, "problem"), [("reason", .string(try required(form, "reason")))])
        } }
        router.post("/work/accountability") { request, _ -> Response in try await act(request, roles: [.discipline]) { form, _ in
            var target: [(key: String, value: JSONValue)] = [("kind", .string(try required(form, "kind"))), ("id", .string(try required(form, "target")))]
            if let name = optional(form, "name") { target.append(("name", .string(name))) }
            if let unit = optional(form, "targetUnit") { target.append(("unit", .string(unit))) }
            let problems = (optional(form, "problems") ?? "").split(whereSeparator: { $0 == "," || $0 == "，" || $0 == " " }).map { JSONValue.string(String($0)) }
            var data: [(key: String, value: JSONValue)] = [("target", .object(target)), ("measure", .string(try required(form, "measure"))),
                                                          ("reason", .string(try required(form, "reason"))), ("problems", .array(problems))]
            for key in ["organ", "document"] { if let v = optional(form, key) { data.append((key, .string(v))) } }
            return event("accountability.recorded", "A-web-\(clock().micros / 1_000_000)-\(UInt16.random(in: 0...UInt16.max))", data)
        } }
        router.post("/work/revoke") { request, _ -> Response in try await act(request, roles: [.discipline]) { form, _ in
            event("accountability.revoked", try required(form, "case"), [("reason", .string(try required(form, "reason")))])
        } }
        router.post("/work/import") { request, _ -> Response in try await importList(request) }
        router.post("/work/verify") { request, _ -> Response in try await act(request, roles: [.office, .inspector]) { form, _ in
            event("rectification.verified", try required(form, "problem"), [])
        } }
        router.post("/work/reject") { request, _ -> Response in try await act(request, roles: [.office, .inspector]) { form, _ in
            event("rectification.rejected", try required(form, "problem"), [("reason", .string(try required(form, "reason")))])
        } }
    }

    // MARK: signing in and out

    private func signIn(_ request: Request, _ context: CivicContext) async throws -> Response {
        let address = context.remoteAddress?.ipAddress ?? "unknown"
        if let wait = write.signIns.blocked(address) {
            return page(signInForm(message: "登录失败次数过多，请 \(wait) 秒后再试"), status: .tooManyRequests)
        }
        let form = try SubmittedForm(contentType: request.headers[.contentType], body: try await WriteSide.collect(request, upTo: 16 << 10))
        let token = (form.fields["token"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        do {
            let (id, _) = try await write.lane.run { try write.signIn(token, from: address) }
            let (session, _) = sessions.start(id)
            return redirect("/work", cookie: Sessions.setCookie(session))
        } catch let refusal as WriteRefusal {
            return page(signInForm(message: refusal.message), status: .unauthorized)
        }
    }

    /// The request's live session. - Throws: `PageRefusal` (401) when it has none.
    private func signedIn(_ request: Request) throws -> (String, Sessions.Session) {
        guard let found = sessions.session(of: request) else { throw PageRefusal("请先登录", status: .unauthorized) }
        return found
    }

    private func checkCSRF(_ request: Request, _ session: Sessions.Session, form: SubmittedForm? = nil) async throws {
        let given = form?.fields["csrf"]
        guard Sessions.csrfHolds(given, session) else { throw PageRefusal("表单已过期或不是从本站提交的：请刷新页面后重试", status: .forbidden) }
    }

    // MARK: actions

    /// A form's action: signed in, CSRF token held, the account still valid and of one of `roles`; the
    /// events it makes written as the account's; the page shown again with what happened.
    private func act(_ request: Request, roles: Set<Role>,
                     _ make: @escaping @Sendable (SubmittedForm, Account) async throws -> String) async throws -> Response {
        let (id, session) = try signedIn(request)
        let form = try SubmittedForm(contentType: request.headers[.contentType],
                                     body: try await WriteSide.collect(request, upTo: EvidenceStore.maximumBytes * 4))
        try await checkCSRF(request, session, form: form)
        guard let account = try await liveAccount(session) else {
            sessions.end(id)
            return redirect("/signin", cookie: Sessions.setCookie(nil))
        }
        guard roles.contains(account.role) else {
            throw PageRefusal("\(account.role.label)账号不能做这件事", status: .forbidden)
        }
        do {
            let line = try await make(form, account)
            let events = try await write.lane.run {
                try WriteSide.events(Array(line.utf8), of: session.account, account, accounts: write.accounts, evidence: write.evidence)
            }
            _ = try await write.commits.append(events, recordedBy: session.account)
            return try await workPage(session, message: ("已登记", false))
        } catch let refused as AppendRefused {
            return try await workPage(session, message: (refused.refusals.map(\.refusal.message).joined(separator: "；"), true),
                                      status: .unprocessableContent)
        } catch let refusal as PageRefusal {
            return try await workPage(session, message: (refusal.message, true), status: refusal.status)
        } catch let refused as EvidenceStore.Refused {
            return try await workPage(session, message: (refused.description, true), status: .unsupportedMediaType)
        }
    }

    /// A list imported from a file: first the dry run's preview (the columns as read, the rows passed over,
    /// the units recognised, what it would append, every refusal by sheet, row and column), the file kept
    /// for this session a quarter of an hour; then, on 确认导入, the same file planned again against the
    /// store as it is now and appended as the account's events.
    private func importList(_ request: Request) async throws -> Response {
        let (id, session) = try signedIn(request)
        let form = try SubmittedForm(contentType: request.headers[.contentType],
                                     body: try await WriteSide.collect(request, upTo: PendingImports.maximumBytes + (64 << 10)))
        try await checkCSRF(request, session, form: form)
        guard let account = try await liveAccount(session) else {
            sessions.end(id)
            return redirect("/signin", cookie: Sessions.setCookie(nil))
        }
        guard account.role == .office else { throw PageRefusal("\(account.role.label)账号不能导入问题清单", status: .forbidden) }
        let upload: PendingImports.Upload
        if let token = optional(form, "pending") {
            guard let kept = pending.take(token, account: session.account, now: clock()) else {
                throw PageRefusal("预览已过期（15 分钟）或已导入：请重新选择文件")
            }
            upload = kept
        } else {
            guard let file = form.files.first(where: { $0.name == "list" }), !file.bytes.isEmpty else { throw PageRefusal("请选择要导入的清单文件（.xlsx 或 .csv）") }
            guard file.bytes.count <= PendingImports.maximumBytes else { throw PageRefusal("文件超过 \(PendingImports.maximumBytes >> 20) MB") }
            upload = .init(account: session.account, bytes: file.bytes, batch: optional(form, "batch"), sheet: optional(form, "sheet"), expires: clock().adding(seconds: 900))
        }
        let confirmed = optional(form, "pending") != nil
        let ledger = write.ledger, clock = clock
        let importer = ProblemList.Actor(actor: session.account, role: account.role, unit: account.unit, source: "civic/web")
        do {
            let (list, plan) = try await write.lane.run {
                try ledger.planImport(upload.bytes, fileName: "上传的清单", sheet: upload.sheet, batch: upload.batch, by: importer, now: clock())
            }
            if confirmed {
                let report = try await write.commits.append(plan.events, recordedBy: session.account).report
                return try await workPage(session, message: ("已导入：\(report.appended.count) 个事件写入日志（新问题 \(plan.newProblems.count) 个，变化 \(plan.changes.count) 处）", false))
            }
            // The rules' answer too, before anything is kept: a dry run of the append.
            let rehearsed = try await write.lane.run { try ledger.append(plan.events, dryRun: true, recordedBy: session.account) }
            let token = pending.keep(upload, now: clock())
            return try await workPage(session, message: nil, preview: .init(list: list, plan: plan, events: rehearsed.appended.count, token: token))
        } catch let refused as ImportRefused {
            return try await workPage(session, message: (refused.description, true), status: .unprocessableContent)
        } catch let unreadable as SheetError {
            return try await workPage(session, message: ("无法读取：\(unreadable.message)", true), status: .unprocessableContent)
        } catch let refused as AppendRefused {
            return try await workPage(session, message: ("未导入：" + refused.refusals.map { "第 \($0.line) 行：\($0.refusal.message)" }.joined(separator: "；"), true),
                                      status: .unprocessableContent)
        }
    }

    /// The session's account as the log has it now (not cached: a revoked account is signed out at its
    /// next request), or nil when it is revoked.
    private func liveAccount(_ session: Sessions.Session) async throws -> Account? {
        let ledger = write.ledger
        return try await write.lane.run { try ledger.account(session.account) }.flatMap { $0.revoked ? nil : $0 }
    }

    private func required(_ form: SubmittedForm, _ field: String) throws -> String {
        let value = (form.fields[field] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !value.isEmpty else { throw PageRefusal("请填写\(Self.fieldNames[field] ?? field)") }
        return value
    }

    private func optional(_ form: SubmittedForm, _ field: String) -> String? {
        let value = (form.fields[field] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        return value.isEmpty ? nil : value
    }

    /// A moment written in the form (Beijing time when it gives no offset).
    private func moment(_ form: SubmittedForm, _ field: String) throws -> Timestamp {
        let text = try required(form, field)
        guard let t = Timestamp(local: text) else { throw PageRefusal("\(Self.fieldNames[field] ?? field)“\(text)”读不懂：请写作 2022-08-26 18:00") }
        return t
    }

    static let fieldNames = ["problem": "问题编号", "summary": "整改情况", "reason": "原因", "unit": "责任单位", "deadline": "整改时限",
                             "area": "片区", "source": "来源", "category": "类别", "description": "问题描述", "to": "点球对象",
                             "kind": "类别", "target": "问责对象", "measure": "问责方式", "case": "问责案件编号",
                             "unitId": "单位编号", "name": "名称", "listId": "清单编号", "dueAt": "清零时限"]

    /// One event line (NDJSON) without actor fields: the account fills them.
    private func event(_ type: String, _ subject: String, _ data: [(key: String, value: JSONValue)]) -> String {
        // To the second, as views take "now": a view asked in the same second then shows what was just done.
        let now = Timestamp(micros: clock().micros / 1_000_000 * 1_000_000, offsetMinutes: Timestamp.chinaOffset)
        return JSONText.render(.object([
            ("specversion", .string("1.0")), ("id", .string("web-\(clock().micros)-\(Sessions.random().prefix(8).filter { $0.isLetter || $0.isNumber })")),
            ("source", .string("civic/web")), ("type", .string(type)), ("subject", .string(subject)),
            ("time", .string(now.rfc3339)), ("data", .object(data)),
        ]))
    }

    // MARK: pages

    private func workPage(_ session: Sessions.Session, message: (text: String, error: Bool)?, preview: ImportPreview? = nil,
                          status: HTTPResponse.Status = .ok) async throws -> Response {
        let views = views, write = write, clock = clock
        let html = try await write.lane.run { () throws -> String in
            guard let account = try write.ledger.account(session.account) else { return "" }
            var h = HTML()
            h.raw("<header><h1>创文问题台账</h1><p>")
            h.text("\(account.name)（\(account.role.label)\(account.unit.map { "，\($0)" } ?? "")）")
            h.raw("</p><form method=\"post\" action=\"/signout\"><input type=\"hidden\" name=\"csrf\" value=\"")
            h.text(session.csrf)
            h.raw("\"><button class=\"plain\">退出</button></form></header><main>")
            if let message {
                h.raw(message.error ? "<p class=\"error\" role=\"alert\">" : "<p class=\"done\">")
                h.text(message.text)
                h.raw("</p>")
            }
            if let preview { Self.importPreview(&h, preview, csrf: session.csrf) }
            let now = clock()
            switch account.role {
            case .unit:
                guard let unit = account.unit,
                      case .board(let rows, _, _, _) = try views.answer(.board(batch: nil, unit: unit, statuses: [.assigned, .submitted],
                                                                               overdue: false, Moment(at: now)), reportsFor: 200) else { break }
                Self.unitWork(&h, rows.sorted(by: Self.byDeadline), csrf: session.csrf, reasons: { id in
                    guard let last = try? write.ledger.latest(of: [.rectificationRejected, .rectificationSubmitted], in: id),
                          case .rectificationRejected(let reason) = last.event.data else { return nil }
                    return reason
                })
            case .office, .inspector:
                // The office's daily work first (to assign, to verify), then its other actions and a report;
                // an inspector reports first.
                if account.role == .inspector { Self.reportForm(&h, registry: try write.ledger.registry(), csrf: session.csrf) }
                if account.role == .office,
                   case .board(let reported, _, _, let units) = try views.answer(.board(batch: nil, unit: nil, statuses: [.reported],
                                                                                         overdue: false, Moment(at: now)), reportsFor: 200) {
                    Self.assignWork(&h, reported, units: units, csrf: session.csrf)
                }
                guard case .board(let rows, _, _, let names) = try views.answer(.board(batch: nil, unit: nil, statuses: [.submitted],
                                                                                        overdue: false, Moment(at: now)), reportsFor: 200) else { break }
                Self.verifyWork(&h, rows, names: names, csrf: session.csrf, fix: { id in
                    guard let last = try? write.ledger.latest(of: [.rectificationSubmitted], in: id),
                          case .rectificationSubmitted(let fix) = last.event.data else { return nil }
                    return (fix, last.event.actor)
                })
                if account.role == .office {
                    Self.importForm(&h, registry: try write.ledger.registry(), csrf: session.csrf)
                    Self.officeForms(&h, csrf: session.csrf)
                    Self.reportForm(&h, registry: try write.ledger.registry(), csrf: session.csrf)
                }
            case .discipline:
                Self.accountabilityForms(&h, csrf: session.csrf)
            case .auditor:
                h.raw("<section><p>审计查阅账号只读：请在<a href=\"/\">台账</a>查看问题与审计轨迹。</p></section>")
            }
            h.raw("<p class=\"more\"><a href=\"/\">查看全部台账与清零进度</a></p></main>")
            return h.text
        }
        return page(html, status: status)
    }

    private func signInForm(message: String?) -> String {
        var h = HTML()
        h.raw("<header><h1>创文问题台账 · 登录</h1></header><main><section>")
        if let message { h.raw("<p class=\"error\" role=\"alert\">"); h.text(message); h.raw("</p>") }
        h.raw("<form method=\"post\" action=\"/signin\"><label>账号令牌（由创文办发给本人）<input name=\"token\" type=\"password\" autocomplete=\"off\" required></label>")
        h.raw("<button>登录</button></form></section></main>")
        return h.text
    }

    private func page(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        let html = "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            + "<title>创文问题台账</title><style>\(Self.style)</style></head><body>\(body)</body></html>\n"
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[HTTPField.Name("Content-Security-Policy")!] = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    private func redirect(_ to: String, cookie: String? = nil) -> Response {
        var headers = HTTPFields()
        headers[.location] = to
        if let cookie { headers[.setCookie] = cookie }
        return Response(status: .seeOther, headers: headers)
    }

}

/// A page's action refused before the rules: its message and status.
struct PageRefusal: Error {
    var message: String
    var status: HTTPResponse.Status
    init(_ message: String, status: HTTPResponse.Status = .unprocessableContent) { self.message = message; self.status = status }
}

/// Files uploaded for an import, kept between their preview and its confirmation: per account, a quarter
/// of an hour, at most 16 at once (the oldest given up first).
final class PendingImports: @unchecked Sendable {
    static let maximumBytes = 8 << 20
    struct Upload {
        var account: String
        var bytes: [UInt8]
        var batch: String?
        var sheet: String?
        var expires: Timestamp
    }
    private let lock = NSLock()
    private var kept: [(token: String, upload: Upload)] = []

    func keep(_ upload: Upload, now: Timestamp) -> String {
        let token = Sessions.random()
        lock.lock(); defer { lock.unlock() }
        kept.removeAll { $0.upload.expires < now }
        if kept.count >= 16 { kept.removeFirst() }
        kept.append((token, upload))
        return token
    }

    /// The upload kept as `token` for `account`, given once.
    func take(_ token: String, account: String, now: Timestamp) -> Upload? {
        lock.lock(); defer { lock.unlock() }
        guard let k = kept.firstIndex(where: { $0.token == token && $0.upload.account == account }) else { return nil }
        let upload = kept.remove(at: k).upload
        return upload.expires < now ? nil : upload
    }
}

/// What a list's dry run shows on the office's page.
struct ImportPreview {
    var list: ProblemList
    var plan: ImportPlan
    /// Events the rules would take.
    var events: Int
    var token: String
}
