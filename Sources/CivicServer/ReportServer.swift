import Campaign
import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import JSON
import Ledger
import Logging
import NIOCore
import Projections
import Queries
import Reports

/// What the server allows, whatever its clients do (docs/server.md, "Under load").
public struct ServerLimits: Sendable {
    /// Connections open at once; one more is closed as it opens.
    public var connections = 512
    /// A connection that brings no request (or no whole request head) for this long is closed.
    public var idleSeconds: Int64 = 15
    /// A response whose client reads nothing of it for this long is cut off.
    public var stalledSeconds: Int64 = 20
    /// Threads and queue of the quick lane (pages of folded views, the verified head, short stretches of the log).
    public var quickThreads = 2, quickQueue = 256
    /// Threads and queue of the bulk lane (pages of whole boards already folded).
    public var bulkThreads = 2, bulkQueue = 256
    /// Threads and queue of the heavy lane (folds of past moments, large pages, long trails).
    public var heavyThreads = 2, heavyQueue = 32
    /// Past projections kept.
    public var projections = 4
    /// A page of more rows than this is heavy work.
    public var quickRows = 1_000
    /// A page of a board without conditions, of more rows than this, is bulk work.
    public var bulkRows = 100

    public init() {}
}

/// The server of docs/server.md: the views as JSON (long ones paged), the log for consumers to catch up,
/// the verified head, and the dashboard. The ledger it is given should be opened read-only
/// (`MDB_RDONLY`): then no request can write, whatever it carries; and the router answers only GET and HEAD.
public enum ReportServer {
    /// The most events, or rows, one page holds.
    public static let maxPage = 10_000
    /// Rows a page of a view holds when `limit` is not given.
    public static let defaultRows = 500

    /// Every route over `ledger`. `clock` gives "now" for views without `at`.
    ///
    /// With `writable` (a ledger opened for writing), the write routes of docs/server.md ("Writing") are
    /// added, and POST reaches them alone; without it, the server is read-only as before.
    public static func router(ledger: Ledger, clock: @escaping @Sendable () -> Timestamp = Ledger.systemClock,
                              logRequests: Bool = true, limits: ServerLimits = ServerLimits(),
                              writable: Bool = false) throws -> Router<CivicContext> {
        let state = ServerState(ledger: ledger, limits: limits)
        let router = Router(context: CivicContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: ReadOnlyMethods(writes: writable ? WriteRoutes.posted : []))
        if logRequests { router.add(middleware: AccessLogMiddleware(log: .standardError)) }
        router.add(middleware: ErrorsAsJSON())

        for view in ["board", "progress", "ranking", "audit"] {
            router.get("/api/\(view)") { request, _ -> Response in
                try await state.view(view, request, clock: clock())
            }
        }
        router.get("/api/events") { request, _ -> Response in
            try await state.events(request)
        }
        router.get("/api/verify") { request, _ -> Response in
            guard try parameters(request).isEmpty else { throw QueryError("verify", "/api/verify 不带参数") }
            return .json(JSONText.render(try await state.verified.answer()) + "\n")
        }
        if writable {
            let write = try WriteSide(ledger: ledger)
            write.addRoutes(to: router)
            WorkPages(write: write, views: state.views, clock: clock).addRoutes(to: router)
        }
        TransparencyRoutes.add(to: router, ledger: ledger, lane: state.quick)
        let evidence = ledger.evidence
        router.get("/api/evidence/:sha256") { _, context -> Response in
            try await state.quick.run { try EvidenceRoute.answer(evidence, context.parameters.get("sha256") ?? "") }
        }
        router.get("/") { request, _ -> Response in
            let page = try DashboardRequest(parameters(request), clock: clock())
            let pipe = ResponsePipe(stall: TimeInterval(limits.stalledSeconds))
            let lane = try state.isQuick(page.board.moment) ? state.quick : state.heavy
            try lane.start {
                do {
                    let html = try page.render(state.views)
                    let out = Output(pipe)
                    out.text(html)
                    try out.flush()
                    pipe.finish(nil)
                } catch { pipe.finish(error) }
            }
            return try await pipe.response(for: request, contentType: "text/html; charset=utf-8")
        }
        // The inspector's workbench (docs/server.md): the ledger of cases and the clues, as JSON and as pages.
        for (name, title) in [("cases", "问责台账"), ("clues", "问题线索")] {
            for path in ["/api/\(name)", "/\(name)"] {
                router.get(RouterPath(path)) { request, _ -> Response in
                    var at: Timestamp?, asOf: AsOf = .all, since: Timestamp?, unit: String?, hasty: Double?
                    for (key, value) in try parameters(request) {
                        switch key {
                        case "at": at = try Moment.at(value, "at", clock: clock())
                        case "asOf": asOf = try Moment.asOf(value, "asOf")
                        case "since" where name == "clues": since = try Moment.time(value, "since")
                        case "unit" where name == "clues": unit = value
                        case "hastyMinutes" where name == "clues": hasty = try ViewQuery.hastyMinutes(value, "hastyMinutes")
                        default: throw QueryError(key, "未知参数 “\(key)”：/\(name) 可用 at、asOf\(name == "clues" ? "、since、unit、hastyMinutes" : "")")
                        }
                    }
                    let moment = Moment(at: at ?? Moment.now(clock()), asOf: asOf)
                    let page = !path.hasPrefix("/api/"), since_ = since, unit_ = unit, rules = AuditRules(hastyMinutes: hasty)
                    let pipe = ResponsePipe(stall: TimeInterval(limits.stalledSeconds))
                    try state.heavy.start {
                        do {
                            let out = Output(pipe)
                            if name == "cases" {
                                let (rows, basis) = try state.views.cases(moment)
                                if page {
                                    out.text(try InspectionReport.page(rows, InspectionReport.caseColumns, title: title, basis: basis, api: name) { _ in nil })
                                } else {
                                    try InspectionReport.write(rows, InspectionReport.caseColumns, view: name, member: name, title: title, basis: basis, format: .json, to: out)
                                }
                            } else {
                                let (rows, basis) = try state.views.clues(since: since_, unit: unit_, rules: rules, moment)
                                if page {
                                    out.text(try InspectionReport.page(rows, InspectionReport.clueColumns, title: title, basis: basis, api: name) { row in
                                        (row.trail, row.kind == .unit ? "/api/audit?unit=\(HTML.percent(row.id))" : "/api/audit?actor=\(HTML.percent(row.id))")
                                    })
                                } else {
                                    try InspectionReport.write(rows, InspectionReport.clueColumns, view: name, member: name, title: title, basis: basis, format: .json, to: out)
                                }
                            }
                            try out.flush()
                            pipe.finish(nil)
                        } catch { pipe.finish(error) }
                    }
                    return try await pipe.response(for: request, contentType: page ? "text/html; charset=utf-8" : "application/json")
                }
            }
        }
        // The weekly bulletin (docs/server.md): HTML for the browser and print, or the Word file offices circulate.
        router.get("/bulletin") { request, _ -> Response in
            var week: Week?, asOf: AsOf = .all, format = "html"
            for (key, value) in try parameters(request) {
                switch key {
                case "week": week = try ViewQuery.week(value, "week", clock: clock())
                case "asOf": asOf = try Moment.asOf(value, "asOf")
                case "format":
                    guard value == "html" || value == "docx" || value == "json" else { throw QueryError("format", "format 可用 html、docx 或 json") }
                    format = value
                default: throw QueryError(key, "未知参数 “\(key)”：/bulletin 可用 week、asOf、format")
                }
            }
            let now = clock(), current = Week(containing: now)
            let chosen = week ?? (now >= current.lastInstant ? current : current.previous)
            let pipe = ResponsePipe(stall: TimeInterval(limits.stalledSeconds))
            let prefix = asOf, kind = format
            try state.heavy.start {
                do {
                    let content = try state.views.bulletin(chosen, asOf: prefix)
                    let out = Output(pipe)
                    switch kind {
                    case "docx": out.bytes(try BulletinReport.docx(content))
                    case "json": try BulletinReport.writeJSON(content, to: out)
                    default: out.text(try BulletinReport.html(content))
                    }
                    try out.flush()
                    pipe.finish(nil)
                } catch { pipe.finish(error) }
            }
            let type = format == "docx" ? "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                : format == "json" ? "application/json" : "text/html; charset=utf-8"
            var response = try await pipe.response(for: request, contentType: type)
            if format == "docx" {
                response.headers[.contentDisposition] = "attachment; filename=\"bulletin-\(chosen).docx\"; filename*=UTF-8''%E5%91%A8%E9%80%9A%E6%8A%A5-\(chosen).docx"
            }
            return response
        }
        return router
    }

    /// The server on `host:port`; `runService()` serves until SIGTERM or SIGINT, then finishes the
    /// requests under way and stops. `listening` is called with the port once the server listens.
    public static func application(ledger: Ledger, host: String, port: Int, logger: Logger, limits: ServerLimits = ServerLimits(),
                                   writable: Bool = false,
                                   listening: @escaping @Sendable (Int) -> Void = { _ in }) throws -> some ApplicationProtocol {
        let connections = ConnectionLimit(limit: limits.connections)
        let stalled = TimeAmount.seconds(limits.stalledSeconds)
        return Application(
            router: try router(ledger: ledger, limits: limits, writable: writable),
            server: .http1(configuration: .init(additionalChannelHandlers: [connections.handler(), StalledReaderCutoff(timeout: stalled)],
                                                idleTimeout: .seconds(limits.idleSeconds))),
            configuration: .init(address: .hostname(host, port: port), serverName: "civic"),
            onServerRunning: { channel in listening(channel.localAddress?.port ?? port) }, logger: logger)
    }

    /// Writes the access log's lines not yet written (at the server's stop).
    public static func flushAccessLog() { AccessLog.standardError.flush() }

    /// `after` (default 0) and `limit` (default and most: `maxPage`) of `/api/events`.
    static func eventsPage(_ parameters: [(String, String)]) throws(QueryError) -> (after: UInt64, limit: Int) {
        var after: UInt64 = 0, limit = maxPage
        var seen: Set<String> = []
        for (key, value) in parameters {
            guard seen.insert(key).inserted else { throw QueryError(key, "参数 \(key) 重复") }
            switch key {
            case "after":
                guard let n = UInt64(value) else { throw QueryError(key, "after “\(value)” 须为非负整数（seq）") }
                after = n
            case "limit":
                limit = try pageLimit(value)
            default:
                throw QueryError(key, "未知参数 “\(key)”：events 可用 after、limit")
            }
        }
        return (after, limit)
    }

    static func pageLimit(_ value: String) throws(QueryError) -> Int {
        guard let n = Int(value), (1...maxPage).contains(n) else {
            throw QueryError("limit", "limit “\(value)” 须为 1 至 \(maxPage) 之间的整数")
        }
        return n
    }
}

/// What the routes share: the ledger's views over the projection cache, the two lanes, the digests of
/// views paged through, and the verified head.
final class ServerState: Sendable {
    let ledger: Ledger
    let limits: ServerLimits
    let cache: ProjectionCache
    let views: Views
    let quick: WorkLane
    let bulk: WorkLane
    let heavy: WorkLane
    let digests = DigestCache()
    let verified: VerifiedHead

    init(ledger: Ledger, limits: ServerLimits) {
        self.ledger = ledger
        self.limits = limits
        let cache = ProjectionCache(ledger: ledger, capacity: limits.projections)
        self.cache = cache
        // The cache keeps every projection with its weekly counts: one projection answers every view.
        views = Views(ledger: ledger, project: { asOf, at, _ in try cache.projection(asOf: asOf, at: at) })
        quick = WorkLane(name: "quick", threads: limits.quickThreads, queued: limits.quickQueue)
        bulk = WorkLane(name: "bulk", threads: limits.bulkThreads, queued: limits.bulkQueue, niceness: 5)
        heavy = WorkLane(name: "heavy", threads: limits.heavyThreads, queued: limits.heavyQueue, niceness: 10)
        // The latest projection folded before the first request asks for it, then the store verified.
        try? heavy.start { _ = try? cache.projection(asOf: .all, at: Projection.endOfTime) }
        verified = VerifiedHead(ledger: ledger, lane: heavy)
    }

    /// Whether a view of `moment` is quick work: its projection is at hand.
    func isQuick(_ moment: Moment) throws -> Bool { try cache.isAtHand(asOf: moment.asOf, at: moment.at) }

    /// `/api/<view>`: one page of it (`limit`, `cursor`), streamed; the next page's cursor in
    /// `Civic-Next-Cursor` (and `Link`), none on the last.
    func view(_ view: String, _ request: Request, clock: Timestamp) async throws -> Response {
        let given = try parameters(request)
        var limit = ReportServer.defaultRows
        var rest: [(String, String)] = []
        var cursorText: String?
        for (key, value) in given {
            switch key {
            case "limit":
                guard view == "board" || view == "audit" else { throw QueryError("limit", "\(view) 不分页，不接受 limit") }
                limit = try ReportServer.pageLimit(value)
            case "cursor":
                guard view == "board" || view == "audit" else { throw QueryError("cursor", "\(view) 不分页，不接受 cursor") }
                cursorText = value
            default: rest.append((key, value))
            }
        }
        var page = PageRequest(limit: limit)
        let query: ViewQuery
        let parametersOfView: [(String, String)]
        if let cursorText {
            guard rest.isEmpty else { throw QueryError(rest[0].0, "带 cursor 翻页时只可另给 limit：查询条件已在 cursor 中") }
            let cursor = try Cursor(cursorText, view: view)
            parametersOfView = cursor.parameters
            query = try ViewQuery.parse(view: view, parameters: cursor.parameters + [("at", cursor.at.rfc3339)], clock: clock)
            page.offset = cursor.offset
            page.pinned = cursor.head
        } else {
            parametersOfView = rest
            query = try ViewQuery.parse(view: view, parameters: rest, clock: clock)
        }
        let lane: WorkLane
        if try !isQuick(query.moment) || page.limit > limits.quickRows || query.isLongTrail {
            lane = heavy
        } else if query.isWholeBoard, page.limit > limits.bulkRows {
            lane = bulk
        } else {
            lane = quick
        }
        let pipe = ResponsePipe(stall: TimeInterval(limits.stalledSeconds))
        let views = views, digests = digests, asked = page
        try lane.start {
            do {
                let out = Output(pipe)
                _ = try views.writePage(query, asked, digests: digests, starting: { written in
                    var fields = HTTPFields()
                    fields[HTTPField.Name("Civic-Head")!] = String(written.head)
                    if let next = written.next {
                        let cursor = Cursor(parameters: parametersOfView, head: written.head, at: written.at, offset: next).text
                        fields[HTTPField.Name("Civic-Next-Cursor")!] = cursor
                        fields[HTTPField.Name("Link")!] = "</api/\(view)?cursor=\(cursor)&limit=\(asked.limit)>; rel=\"next\""
                    }
                    pipe.start(fields)
                }, to: out)
                try out.flush()
                pipe.finish(nil)
            } catch { pipe.finish(error) }
        }
        return try await pipe.response(for: request, contentType: "application/json; charset=utf-8")
    }

    /// `/api/events`: a stretch of the log as NDJSON, streamed.
    func events(_ request: Request) async throws -> Response {
        let (after, limit) = try ReportServer.eventsPage(parameters(request))
        let pipe = ResponsePipe(stall: TimeInterval(limits.stalledSeconds))
        let ledger = ledger
        try (limit > limits.quickRows ? heavy : quick).start {
            do {
                let head = try ledger.head()
                let last = after >= head.seq ? after : min(head.seq, after + UInt64(limit))
                var fields = HTTPFields()
                fields[HTTPField.Name("Civic-Head")!] = head.description
                fields[HTTPField.Name("Civic-Next-After")!] = String(last)
                pipe.start(fields)
                let out = Output(pipe)
                try ledger.events(asOf: .seq(head.seq), after: after) { entry in
                    guard entry.recorded.seq <= last else { return false }
                    out.text(JSONText.render(CloudEvents.json(entry.recorded, recordedBy: entry.recordedBy, prevHash: entry.prevHash ?? [],
                                                              hash: entry.hash)))
                    out.byte(10)
                    try out.flushIfFull()
                    return entry.recorded.seq < last
                }
                try out.flush()
                pipe.finish(nil)
            } catch { pipe.finish(error) }
        }
        return try await pipe.response(for: request, contentType: "application/x-ndjson; charset=utf-8")
    }
}

extension ViewQuery {
    /// Its two clocks.
    var moment: Moment {
        switch self {
        case .board(_, _, _, _, let m), .progress(_, let m), .audit(_, _, let m): m
        case .ranking(let week, let asOf): Moment(at: week.lastInstant, asOf: asOf)
        }
    }

    /// A board without conditions: as many rows as there are problems.
    var isWholeBoard: Bool {
        if case .board(nil, nil, let statuses, false, _) = self { return statuses.isEmpty }
        return false
    }

    /// The trail of a unit or a person: read from many streams, heavy work.
    var isLongTrail: Bool {
        if case .audit(let selector, _, _) = self, case .subject = selector { return false }
        if case .audit = self { return true }
        return false
    }
}

/// Where the next page of a view begins, as the page before gave it: the view's options, the head and
/// the moment it was read at (so that every page reads the same log and judges at the same moment), and
/// the row. Opaque to clients: base64url of a small JSON object.
struct Cursor {
    var parameters: [(String, String)]
    var head: UInt64
    var at: Timestamp
    var offset: Int

    init(parameters: [(String, String)], head: UInt64, at: Timestamp, offset: Int) {
        self.parameters = parameters.filter { $0.0 != "at" }
        self.head = head; self.at = at; self.offset = offset
    }

    var text: String {
        let json = JSONText.render(.object([
            ("p", .array(parameters.map { .array([.string($0.0), .string($0.1)]) })),
            ("h", .int(head)), ("t", .string(at.rfc3339)), ("o", .int(UInt64(offset))),
        ]))
        return Data(json.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    init(_ text: String, view: String) throws(QueryError) {
        let refused = QueryError("cursor", "cursor 无效：请使用上一页回应中 Civic-Next-Cursor 给出的值")
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard text.count < 8_192, let data = Data(base64Encoded: base64),
              let json = try? JSONParser.parse(Array(data)),
              case .array(let pairs)? = json["p"], case .number(let h)? = json["h"], let head = UInt64(h),
              case .string(let t)? = json["t"], let at = Timestamp(rfc3339: t),
              case .number(let o)? = json["o"], let offset = Int(o), offset > 0
        else { throw refused }
        var parameters: [(String, String)] = []
        for pair in pairs {
            guard case .array(let kv) = pair, kv.count == 2, case .string(let k) = kv[0], case .string(let v) = kv[1] else { throw refused }
            parameters.append((k, v))
        }
        self.init(parameters: parameters, head: head, at: at, offset: offset)
    }
}

/// The query parameters of `request`, names and values percent-decoded (`+` is a space, as forms send it),
/// in order. - Throws: `QueryError` for an encoding that does not decode.
func parameters(_ request: Request) throws(QueryError) -> [(String, String)] {
    guard let query = request.uri.query, !query.isEmpty else { return [] }
    var pairs: [(String, String)] = []
    for part in query.split(separator: "&", omittingEmptySubsequences: true) {
        let (rawName, rawValue) = part.firstIndex(of: "=").map { (part[..<$0], part[part.index(after: $0)...]) } ?? (part, "")
        func decoded(_ s: Substring) throws(QueryError) -> String {
            guard let text = String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding else {
                throw QueryError(String(rawName), "参数 “\(rawName)” 的编码无效（百分号编码不完整或不是 UTF-8）")
            }
            return text
        }
        pairs.append((try decoded(rawName), try decoded(rawValue)))
    }
    return pairs
}

extension Response {
    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        whole(text, type: "application/json; charset=utf-8", status: status)
    }

    static func page(_ html: String, status: HTTPResponse.Status) -> Response {
        whole(html, type: "text/html; charset=utf-8", status: status)
    }

    private static func whole(_ text: String, type: String, status: HTTPResponse.Status) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// `{"error":{"status","parameter"?,"message"}}`.
    static func error(_ status: HTTPResponse.Status, _ message: String, parameter: String? = nil) -> Response {
        var members: [(key: String, value: JSONValue)] = [("status", .int(UInt64(status.code)))]
        if let parameter { members.append(("parameter", .string(parameter))) }
        members.append(("message", .string(message)))
        return .json(JSONText.render(.object([("error", .object(members))])) + "\n", status: status)
    }
}

/// Only GET and HEAD reach the routes, and POST the write routes `writes` (none on a read-only server);
/// anything else is 405, before any route runs.
struct ReadOnlyMethods: RouterMiddleware {
    typealias Context = CivicContext
    let writes: Set<String>
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.method == .post && writes.contains(request.uri.path) { return try await next(request, context) }
        guard request.method == .get || request.method == .head else {
            var response = writes.isEmpty
                ? Response.error(.methodNotAllowed, "只读服务：只接受 GET 和 HEAD，不接受 \(request.method.rawValue)")
                : Response.error(.methodNotAllowed, "\(request.uri.path) 不接受 \(request.method.rawValue)：写入请 POST \(writes.sorted().joined(separator: " 或 "))")
            response.headers[.allow] = "GET, HEAD"
            return response
        }
        return try await next(request, context)
    }
}

/// `GET /api/evidence/SHA256`: an evidence file, byte for byte, once its bytes are checked against its
/// name (a file changed on disk is refused, never served as evidence).
enum EvidenceRoute {
    static func answer(_ evidence: EvidenceStore, _ sha256: String) throws -> Response {
        switch evidence.read(sha256.lowercased()) {
        case nil:
            throw WriteRefusal(.notFound, "没有这份佐证材料：\(sha256)")
        case .changed?:
            throw WriteRefusal(.internalServerError, "佐证材料 \(sha256) 的文件已被改动（内容与其哈希不符），不能作为佐证；请运行 civic verify，并由原件重新上传")
        case .found(let bytes, let kind)?:
            var headers = HTTPFields()
            headers[.contentType] = kind.rawValue
            headers[.cacheControl] = "private, max-age=31536000, immutable"
            headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
            headers[.contentDisposition] = kind == .pdf ? "attachment" : "inline"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }
}

/// The paths POST reaches on a writable server.
enum WriteRoutes {
    static let posted: Set<String> = ["/api/events", "/api/evidence", "/signin", "/signout", "/work/fix", "/work/assign", "/work/verify", "/work/reject",
                                        "/work/report", "/work/extend", "/work/escalate", "/work/withdraw", "/work/accountability", "/work/revoke",
                                        "/work/reopen", "/work/unit", "/work/list", "/work/import"]
}

/// Errors as JSON: a parameter that cannot be read is 400 naming it (on a page rather than the API, a page
/// that says so: `Dashboard.refusal`); an unknown path 404; a full lane 503 with `Retry-After`; a damaged or
/// failing store 500 with what failed.
struct ErrorsAsJSON: RouterMiddleware {
    typealias Context = CivicContext
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let refusal as WriteRefusal {
            var response = Response.error(refusal.status, refusal.message)
            if let wait = refusal.retryAfter { response.headers[.retryAfter] = String(wait) }
            if refusal.status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer realm=\"civic\"" }
            return response
        } catch let refused as AppendRefused {
            return .json(JSONText.render(WriteSide.json(refused)) + "\n", status: .unprocessableContent)
        } catch let refusal as PageRefusal {
            return .error(refusal.status, refusal.message)
        } catch let full as StoreFull {
            return .error(.init(code: 507, reasonPhrase: "Insufficient Storage"), full.description)
        } catch let error as QueryError {
            // A page's options come from its form: the person who typed them gets a page back, not JSON.
            if !request.uri.path.hasPrefix("/api/") { return .page(Dashboard.refusal(error.message), status: .badRequest) }
            return .error(.badRequest, error.message, parameter: error.parameter)
        } catch let error as PageOutOfRange {
            return .error(.badRequest, "cursor 指向第 \(error.offset) 行之后，视图只有 \(error.count) 行", parameter: "cursor")
        } catch let busy as WorkLane.Busy {
            var response = Response.error(.serviceUnavailable, "服务繁忙：请 \(busy.retryAfter) 秒后重试")
            response.headers[.retryAfter] = String(busy.retryAfter)
            return response
        } catch let error as HTTPError where error.status == .notFound {
            return .error(.notFound, "没有这个地址：\(request.uri.path)；可用 /、/cases、/clues、/bulletin、/checkpoint、/api/board、/api/progress、/api/ranking、/api/audit、/api/events、/api/verify、/api/cases、/api/clues、/api/evidence/SHA256、/api/proof/inclusion、/api/proof/consistency、/api/entry/SEQ（可写服务另有 /signin、/work）")
        } catch let error as HTTPError {
            return .error(error.status, error.body ?? "\(error.status)")
        } catch {
            context.logger.error("request failed", metadata: ["uri": "\(request.uri)", "error": "\(error)"])
            return .error(.internalServerError, "读取存储失败：\(error)")
        }
    }
}
