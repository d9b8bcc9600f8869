import Campaign
import Dispatch
import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import JSON
import Ledger
import Logging
import Projections
import Queries
import Reports

/// The read-only server of §9: the views of §5 as JSON, the log for consumers to catch up, the chain's
/// head, and the dashboard. The ledger it is given should be opened read-only (`MDB_RDONLY`): then no
/// request can write, whatever it carries; and the router answers only GET and HEAD.
public enum ReportServer {
    /// The most events one `/api/events` page holds.
    public static let maxPage = 10_000

    /// Every route of §9 over `ledger`. `clock` gives "now" for views without `at`.
    public static func router(ledger: Ledger, clock: @escaping @Sendable () -> Timestamp = Ledger.systemClock,
                              logRequests: Bool = true) -> Router<BasicRequestContext> {
        let cache = LatestProjection(ledger: ledger)
        let views = Views(ledger: ledger, project: { asOf, at in try cache.projection(asOf: asOf, at: at) })
        let router = Router(context: BasicRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: ReadOnlyMethods())
        if logRequests { router.add(middleware: LogRequestsMiddleware(.info)) }
        router.add(middleware: ErrorsAsJSON())

        for view in ["board", "progress", "ranking", "audit"] {
            router.get("/api/\(view)") { request, _ -> Response in
                let query = try ViewQuery.parse(view: view, parameters: parameters(request), clock: clock())
                let answer = try await offLoop { try views.answer(query) }
                return .json(answer.rendered(.json))
            }
        }
        router.get("/api/events") { request, _ -> Response in
            let (after, limit) = try eventsPage(parameters(request))
            return try await offLoop {
                var body = ""
                var last: UInt64 = after
                let head = try ledger.head()
                try ledger.events(after: after) { entry in
                    guard entry.recorded.seq - after <= UInt64(limit) else { return false }
                    JSONText.write(CloudEvents.json(entry.recorded, recordedBy: entry.recordedBy, prevHash: entry.prevHash ?? [],
                                                    hash: entry.hash), to: &body)
                    body += "\n"
                    last = entry.recorded.seq
                    return true
                }
                var headers = HTTPFields()
                headers[.contentType] = "application/x-ndjson; charset=utf-8"
                headers[HTTPField.Name("Civic-Head")!] = head.description
                headers[HTTPField.Name("Civic-Next-After")!] = String(last)
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
            }
        }
        router.get("/api/verify") { request, _ -> Response in
            guard try parameters(request).isEmpty else { throw QueryError("verify", "/api/verify 不带参数") }
            return try await offLoop {
                let head = try ledger.head()
                do {
                    let verified = try ledger.verify(logOnly: true).head
                    return .json(JSONText.render(.object([
                        ("head", .object([("seq", .int(verified.seq)), ("hash", .string(verified.hash.hex))])),
                        ("verified", .bool(true)),
                    ])) + "\n")
                } catch let damage as LogDamage {
                    return .json(JSONText.render(.object([
                        ("head", .object([("seq", .int(head.seq)), ("hash", .string(head.hash.hex))])),
                        ("verified", .bool(false)),
                        ("firstBadSeq", .int(damage.seq)),
                        ("problem", .string(damage.problem)),
                    ])) + "\n")
                }
            }
        }
        router.get("/") { request, _ -> Response in
            let page = try DashboardRequest(parameters(request), clock: clock())
            let html = try await offLoop { try page.render(views) }
            var headers = HTTPFields()
            headers[.contentType] = "text/html; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
        }
        return router
    }

    /// The server on `host:port`; `runService()` serves until SIGTERM or SIGINT, then finishes the
    /// requests under way and stops.
    /// `listening` is called with the port once the server listens (the one chosen, for port 0).
    public static func application(ledger: Ledger, host: String, port: Int, logger: Logger,
                                   listening: @escaping @Sendable (Int) -> Void = { _ in }) -> some ApplicationProtocol {
        Application(router: router(ledger: ledger), configuration: .init(address: .hostname(host, port: port), serverName: "civic"),
                    onServerRunning: { channel in listening(channel.localAddress?.port ?? port) }, logger: logger)
    }

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
                guard let n = Int(value), (1...maxPage).contains(n) else {
                    throw QueryError(key, "limit “\(value)” 须为 1 至 \(maxPage) 之间的整数")
                }
                limit = n
            default:
                throw QueryError(key, "未知参数 “\(key)”：events 可用 after、limit")
            }
        }
        return (after, limit)
    }
}

/// The query parameters of `request`, percent-decoded, in order.
func parameters(_ request: Request) -> [(String, String)] {
    request.uri.queryParameters.map { (String($0.key), String($0.value)) }
}

/// Runs LMDB work on a thread of its own: reads are synchronous and must not hold an event loop.
func offLoop<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}

extension Response {
    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
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

/// Only GET and HEAD reach the routes; anything else is 405, before any route runs.
struct ReadOnlyMethods: RouterMiddleware {
    typealias Context = BasicRequestContext
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .get || request.method == .head else {
            var response = Response.error(.methodNotAllowed, "只读服务：只接受 GET 和 HEAD，不接受 \(request.method.rawValue)")
            response.headers[.allow] = "GET, HEAD"
            return response
        }
        return try await next(request, context)
    }
}

/// Errors as JSON: a parameter that cannot be read is 400 naming it; an unknown path 404; a damaged
/// or failing store 500 with what failed.
struct ErrorsAsJSON: RouterMiddleware {
    typealias Context = BasicRequestContext
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as QueryError {
            return .error(.badRequest, error.message, parameter: error.parameter)
        } catch let error as HTTPError where error.status == .notFound {
            return .error(.notFound, "没有这个地址：\(request.uri.path)；可用 /、/api/board、/api/progress、/api/ranking、/api/audit、/api/events、/api/verify")
        } catch let error as HTTPError {
            return .error(error.status, error.body ?? "\(error.status)")
        } catch {
            context.logger.error("request failed", metadata: ["uri": "\(request.uri)", "error": "\(error)"])
            return .error(.internalServerError, "读取存储失败：\(error)")
        }
    }
}

/// The projection of the whole log, kept between requests: most requests ask for the latest head at
/// "now". It is folded at the end of time and judged at each request's `at`, which gives the same
/// projection as a fold at `at` whenever no event's `time` lies after `at` (the checkpoints' rule);
/// otherwise, and for past prefixes, the ledger folds as usual.
final class LatestProjection: @unchecked Sendable {
    private let ledger: Ledger
    private let lock = NSLock()
    private var latest: (projection: Projection, head: LogHead)?

    init(ledger: Ledger) { self.ledger = ledger }

    @available(*, noasync)
    func projection(asOf: AsOf, at: Timestamp) throws -> (Projection, LogHead) {
        guard case .all = asOf else { return try ledger.projection(asOf: asOf, at: at) }
        let head = try ledger.head()
        let cached = lock.withLock { latest }
        if let cached, cached.head.seq == head.seq {
            if cached.projection.latestTime.map({ $0 <= at }) ?? true { return (cached.projection.judged(at: at), cached.head) }
            return try ledger.projection(asOf: .seq(head.seq), at: at)
        }
        let (whole, wholeHead) = try ledger.projection(asOf: .seq(head.seq), at: Projection.endOfTime)
        lock.withLock { latest = (whole, wholeHead) }
        if whole.latestTime.map({ $0 <= at }) ?? true { return (whole.judged(at: at), wholeHead) }
        return try ledger.projection(asOf: .seq(head.seq), at: at)
    }
}
