import Campaign
import Foundation
import HTTPTypes
import Hummingbird
import JSON
import Ledger
import NIOCore

/// What `civic serve --writable` adds (docs/server.md, "Writing"): `POST /api/events` and the evidence
/// routes, for accounts signing in with their token. The actor of every event is the account's own; an
/// office account may record for another enrolled actor (代录, flagged `proxy` in the trail).
final class WriteSide: Sendable {
    let ledger: Ledger
    let credentials: Credentials
    let evidence: EvidenceStore
    let commits: GroupCommit
    let signIns = SignInLimiter()
    let accounts: AccountCache
    /// Where requests are read and checked before they wait for the commit (off the event loops).
    let lane = WorkLane(name: "write", threads: 2, queued: 4_096)

    /// The most bytes of events one request may bring.
    static let maximumEventBytes = 4 << 20

    init(ledger: Ledger) throws {
        self.ledger = ledger
        credentials = try ledger.credentials()
        evidence = ledger.evidence
        commits = GroupCommit(ledger: ledger)
        accounts = AccountCache(ledger: ledger)
    }

    func addRoutes(to router: Router<CivicContext>) {
        router.post("/api/events") { request, context -> Response in
            try await self.postEvents(request, context)
        }
        router.post("/api/evidence") { request, context -> Response in
            try await self.postEvidence(request, context)
        }
    }

    // MARK: signing in

    /// The bearer token of the request, if its address may still try one.
    /// - Throws: `WriteRefusal` 401 (no token) or 429 (too many failures from its address).
    func token(_ request: Request, _ context: CivicContext) throws -> (token: String, address: String) {
        let address = context.remoteAddress?.ipAddress ?? "unknown"
        if let wait = signIns.blocked(address) {
            throw WriteRefusal(.tooManyRequests, "登录失败次数过多：请 \(wait) 秒后再试", retryAfter: wait)
        }
        // The token, the spaces around it dropped byte by byte: Foundation's trimming by character set
        // cost ~15 µs of the ~135 µs of CPU the server spent on each request under 64 clients.
        let token = request.headers[.authorization].flatMap { header -> String? in
            guard header.hasPrefix("Bearer ") else { return nil }
            let bytes = header.utf8.dropFirst(7).drop { $0 == 0x20 || $0 == 0x09 }
            let end = bytes.lastIndex { $0 != 0x20 && $0 != 0x09 }
            return end.map { String(decoding: bytes[...$0], as: UTF8.self) }
        }
        guard let token else {
            throw WriteRefusal(.unauthorized, "须登录：请求头 Authorization: Bearer 后写账号的令牌（civic account add 或 token 给出）")
        }
        return (token, address)
    }

    /// The account `token` signs in as (on a lane's thread: it reads the store).
    /// - Throws: `WriteRefusal` 401 for a wrong token or a revoked account.
    @available(*, noasync)
    func signIn(_ token: String, from address: String) throws -> (id: String, account: Account) {
        guard let id = try credentials.account(signingInWith: token) else {
            signIns.failed(address)
            throw WriteRefusal(.unauthorized, "令牌无效（或其账号已停用、令牌已换发）：请核对令牌，或请创文办用 civic account token 换发")
        }
        guard let account = try accounts.account(id), !account.revoked else {
            throw WriteRefusal(.unauthorized, "账号 \(id) 已停用：不能再登记事件")
        }
        accounts.used(id)
        return (id, account)
    }

    /// Signs in on the lane (for routes that only need to know the account).
    func signIn(_ request: Request, _ context: CivicContext) async throws -> (id: String, account: Account) {
        let (token, address) = try token(request, context)
        return try await lane.run { try self.signIn(token, from: address) }
    }

    // MARK: POST /api/events

    func postEvents(_ request: Request, _ context: CivicContext) async throws -> Response {
        let (token, address) = try token(request, context)
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/x-ndjson") || type.hasPrefix("application/json") else {
            throw WriteRefusal(.unsupportedMediaType, "事件须以 NDJSON 提交：Content-Type: application/x-ndjson（每行一个 CloudEvents JSON）")
        }
        let body = try await Self.collect(request, upTo: Self.maximumEventBytes)
        // Signing in, reading the events and handing them to the commit (whose thread answers once they
        // are durable) happen on the lane. A small request of an account known a moment ago is read here
        // instead (it needs no read of the store but the token's): the hop to the lane would cost more than
        // the reading. Coming to an idle server, it is also committed here, on the calling thread: a lone
        // request's latency is otherwise mostly hops between threads. Else it joins the next group commit.
        if body.count <= 16 << 10, Self.namesNoOtherActor(body), let (id, events) = try readHere(token: token, body) {
            if commits.isIdle, let outcome = blockingHere({ commits.alone(events, recordedBy: id) }) {
                return try await answered(try outcome.get(), events)
            }
            return try await answered(try await commits.append(events, recordedBy: id), events)
        }
        let (report, events) = try await withCheckedThrowingContinuation {
            (continuation: CheckedContinuation<(GroupCommit.Committed, [Incoming]), any Error>) in
            let take = { @Sendable (id: String, account: Account) throws in
                let events = try Self.events(body, of: id, account, accounts: self.accounts, evidence: self.evidence)
                self.commits.enqueue(events, recordedBy: id) { outcome in continuation.resume(with: outcome.map { ($0, events) }) }
            }
            do {
                try lane.start {
                    do {
                        let (id, account) = try self.signIn(token, from: address)
                        try take(id, account)
                    } catch { continuation.resume(throwing: error) }
                }
            } catch { continuation.resume(throwing: error) }
        }
        return try await answered(report, events)
    }

    /// The account and the events of a request read where it came, when its account was read a moment
    /// ago; nil otherwise (then it goes by the lane, which reads the account and notes a failed sign-in).
    private func readHere(token: String, _ body: [UInt8]) throws -> (id: String, events: [Incoming])? {
        try blockingHere {
            guard let id = try credentials.account(signingInWith: token), let account = accounts.recent(id), !account.revoked
            else { return nil }
            accounts.used(id)
            return (id, try Self.events(body, of: id, account, accounts: accounts, evidence: evidence))
        }
    }

    /// The answer to a request whose events were stored: after an account event, the cache forgotten and
    /// a revoked account's token taken away. `Server-Timing` says how long the durable commit took
    /// (milliseconds), so that a client, or the benchmark, sees the store's share of the answer's time.
    private func answered(_ committed: GroupCommit.Committed, _ events: [Incoming]) async throws -> Response {
        if events.contains(where: { StreamKind(of: $0.event.type) == .account }) {
            accounts.forget()
            let revoked = events.filter { $0.event.type == .accountRevoked }.map(\.event.subject)
            if !revoked.isEmpty {
                let credentials = credentials
                try await lane.run { for subject in revoked { try credentials.withdraw(from: subject) } }
            }
        }
        var response = Response.json(JSONText.render(Self.json(committed.report)) + "\n")
        let micros = Int((committed.commitSeconds * 1e6).rounded())
        response.headers[.serverTiming] = "commit;dur=\(micros / 1_000).\(String(1_000 + micros % 1_000).dropFirst())"
        return response
    }

    /// Whether the body names no actor (so that reading it needs no other account, which may mean a
    /// read of the store): the usual request, whose actor is the account's own.
    static func namesNoOtherActor(_ body: [UInt8]) -> Bool {
        let key = Array(#""actor""#.utf8)
        guard body.count >= key.count else { return true }
        for i in 0...(body.count - key.count) where body[i] == 0x22 && body[i..<(i + key.count)].elementsEqual(key) { return false }
        return true
    }

    /// The events of an NDJSON body, each actor taken from the account that signed in (or, for an office
    /// account recording for someone, from that actor's account), every evidence file uploaded.
    /// - Throws: `WriteRefusal` 403 for an actor the account may not write as; 422 for lines that do not
    ///   read as events, or name files never uploaded.
    static func events(_ body: [UInt8], of id: String, _ account: Account, accounts: AccountCache,
                       evidence: EvidenceStore) throws -> [Incoming] {
        var events: [Incoming] = []
        var refusals: [LineRefusal] = []
        try CloudEvents.forEachLine(body) { line, text in
            do {
                let incoming: Incoming
                if let asItself = CloudEvents.read(line: line, text, actedBy: id, role: account.role, unit: account.unit) {
                    incoming = asItself  // the usual line: no actor named, read straight from its bytes
                } else {
                    let filled = try actorFilled(text, line: line, of: id, account, accounts: accounts)
                    guard text.count <= CloudEvents.maximumLineBytes else {
                        throw LineRefusal(line: line, id: nil, subject: nil, refusal: Refusal(.malformed, "这一行超过 \(CloudEvents.maximumLineBytes) 字节"))
                    }
                    incoming = try CloudEvents.read(line: line, value: filled)
                }
                for sha256 in incoming.event.evidence.map({ $0.sha256.lowercased() }) where !evidence.has(sha256) {
                    throw LineRefusal(line: line, id: incoming.event.id, subject: incoming.event.subject, refusal: Refusal(
                        .reference, "佐证材料 \(sha256) 未上传：请先 POST /api/evidence 上传照片或文件，再用它给出的 sha256"))
                }
                events.append(incoming)
            } catch let refusal as LineRefusal {
                refusals.append(refusal)
            }
        }
        if !refusals.isEmpty { throw AppendRefused(refusals: refusals) }
        if events.isEmpty { throw WriteRefusal(.badRequest, "请求中没有事件：每行一个 CloudEvents JSON") }
        return events
    }

    /// The line's JSON with `actor`, `actorrole` and `actorunit` as the account says: filled when absent;
    /// refused (403) when they name someone the account may not write as.
    static func actorFilled(_ text: ArraySlice<UInt8>, line: Int, of id: String, _ account: Account,
                            accounts: AccountCache) throws -> JSONValue {
        guard case .object(var members)? = try? JSONParser.parse(text) else {
            throw LineRefusal(line: line, id: nil, subject: nil, refusal: Refusal(.malformed, "第 \(line) 行不是一个 JSON 对象"))
        }
        func string(_ key: String) -> String? {
            if case .string(let s)? = members.first(where: { $0.key == key })?.value { return s }
            return nil
        }
        let actor = string("actor") ?? id
        let acting: Account
        if actor == id {
            acting = account
        } else {
            guard account.role == .office else {
                throw WriteRefusal(.forbidden, "第 \(line) 行：账号 \(id) 只能以本人名义登记，不能写作 \(actor)")
            }
            guard let other = try accounts.account(actor), !other.revoked else {
                throw WriteRefusal(.forbidden, "第 \(line) 行：代录须为已开通且未停用的账号，\(actor) 不是")
            }
            acting = other
        }
        if let role = string("actorrole"), role != acting.role.rawValue {
            throw WriteRefusal(.forbidden, "第 \(line) 行：\(actor) 的账号角色为 \(acting.role.rawValue)，不能写作 \(role)")
        }
        if let unit = string("actorunit"), unit != acting.unit {
            throw WriteRefusal(.forbidden, "第 \(line) 行：\(actor) 的账号单位为 \(acting.unit ?? "—")，不能写作 \(unit)")
        }
        members.removeAll { ["actor", "actorrole", "actorunit"].contains($0.key) }
        members.append(("actor", .string(actor)))
        members.append(("actorrole", .string(acting.role.rawValue)))
        if let unit = acting.unit { members.append(("actorunit", .string(unit))) }
        return .object(members)
    }

    static func json(_ report: AppendReport) -> JSONValue {
        .object([
            ("appended", .array(report.appended.map {
                .object([("line", .int(UInt64($0.line))), ("id", .string($0.id)), ("seq", .int($0.seq)), ("version", .int($0.version))])
            })),
            ("duplicates", .array(report.duplicates.map {
                .object([("line", .int(UInt64($0.line))), ("id", .string($0.id)), ("seq", .int($0.seq))])
            })),
            ("head", .string(report.head.description)),
        ])
    }

    static func json(_ refused: AppendRefused) -> JSONValue {
        .object([("refusals", .array(refused.refusals.map { r in
            var members: [(key: String, value: JSONValue)] = [("line", .int(UInt64(r.line)))]
            if let id = r.id { members.append(("id", .string(id))) }
            if let subject = r.subject { members.append(("subject", .string(subject))) }
            members.append(("rule", .string(r.refusal.rule.rawValue)))
            members.append(("message", .string(r.refusal.message)))
            return .object(members)
        })), ("more", .int(UInt64(refused.more)))])
    }

    // MARK: evidence

    func postEvidence(_ request: Request, _ context: CivicContext) async throws -> Response {
        _ = try await signIn(request, context)
        let body = try await Self.collect(request, upTo: EvidenceStore.maximumBytes)
        let evidence = evidence
        let stored: EvidenceStore.Stored
        do {
            stored = try await lane.run { try evidence.store(body) }
        } catch let refused as EvidenceStore.Refused {
            switch refused.reason {
            case .tooLarge: throw WriteRefusal(.contentTooLarge, refused.description)
            case .notAcceptedKind, .empty: throw WriteRefusal(.unsupportedMediaType, refused.description)
            }
        }
        return .json(JSONText.render(.object([("sha256", .string(stored.sha256)), ("size", .int(UInt64(stored.size))),
                                               ("type", .string(stored.kind.rawValue))])) + "\n")
    }

    /// The body, refused (413) past `limit` bytes without reading the rest.
    static func collect(_ request: Request, upTo limit: Int) async throws -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw WriteRefusal(.contentTooLarge, "请求体 \(length) 字节，超过上限 \(limit) 字节")
        }
        var bytes: [UInt8] = []
        for try await buffer in request.body {
            guard bytes.count + buffer.readableBytes <= limit else {
                throw WriteRefusal(.contentTooLarge, "请求体超过上限 \(limit) 字节")
            }
            bytes.append(contentsOf: buffer.readableBytesView)
        }
        return bytes
    }
}

/// Runs store work (synchronous: no transaction is held across an await) from an async route.
private func blockingHere<T>(_ body: () throws -> T) rethrows -> T { try body() }

/// A write refused before any rule was asked: its status and why.
struct WriteRefusal: Error {
    var status: HTTPResponse.Status
    var message: String
    var retryAfter: Int?
    init(_ status: HTTPResponse.Status, _ message: String, retryAfter: Int? = nil) {
        self.status = status; self.message = message; self.retryAfter = retryAfter
    }
}

/// Failed sign-ins per address: past `allowed` in `window` seconds, that address is refused until the
/// window ends (429), whatever token it brings.
final class SignInLimiter: @unchecked Sendable {
    private let lock = NSLock()
    private var failures: [String: (count: Int, since: Date)] = [:]
    let allowed: Int
    let window: TimeInterval

    init(allowed: Int = 10, window: TimeInterval = 60) { self.allowed = allowed; self.window = window }

    func failed(_ address: String) {
        lock.withLock {
            let now = Date()
            if failures.count > 100_000 { failures = failures.filter { now.timeIntervalSince($0.value.since) < window } }
            if let f = failures[address], now.timeIntervalSince(f.since) < window {
                failures[address] = (f.count + 1, f.since)
            } else {
                failures[address] = (1, now)
            }
        }
    }

    /// Seconds to wait, when `address` failed too often.
    func blocked(_ address: String) -> Int? {
        lock.withLock {
            guard let f = failures[address], f.count >= allowed else { return nil }
            let left = window - Date().timeIntervalSince(f.since)
            return left > 0 ? Int(left.rounded(.up)) : nil
        }
    }
}

/// The accounts signing in, kept a few seconds (the rules check every event's actor against its account
/// inside the transaction all the same); forgotten when an account event is written; the times of use
/// written to the credentials now and then.
final class AccountCache: @unchecked Sendable {
    private let ledger: Ledger
    private let lock = NSLock()
    private var known: [String: (account: Account?, at: Date)] = [:]
    /// When each account signed in last, since the times were last written.
    private var usedAt: [String: Int64] = [:]
    private var writing = false

    init(ledger: Ledger) { self.ledger = ledger }

    @available(*, noasync)
    func account(_ id: String) throws -> Account? {
        if let hit = lock.withLock({ known[id] }), -hit.at.timeIntervalSinceNow < 5 { return hit.account }
        let account = try ledger.account(id)
        lock.withLock { known[id] = (account, Date()) }
        return account
    }

    /// The account of `id` if it was read a moment ago (no read of the store).
    func recent(_ id: String) -> Account? {
        lock.withLock { known[id].flatMap { -$0.at.timeIntervalSinceNow < 5 ? $0.account : nil } }
    }

    func forget() { lock.withLock { known = [:] } }

    /// Notes that `id` signed in now; the times are written to the credentials every few seconds, by a
    /// thread of their own (one write for many sign-ins).
    func used(_ id: String) {
        let now = Ledger.systemClock().micros
        let start = lock.withLock { () -> Bool in
            usedAt[id] = now
            defer { writing = true }
            return !writing
        }
        if start {
            let thread = Thread { [self] in writeUses() }
            thread.name = "civic-account-uses"
            thread.start()
        }
    }

    private func writeUses() {
        guard let credentials = try? ledger.credentials() else { return }
        while true {
            Thread.sleep(forTimeInterval: 5)
            let due = lock.withLock { () -> [String: Int64] in defer { usedAt = [:] }; return usedAt }
            if !due.isEmpty { try? credentials.noteUse(due) }
        }
    }
}

extension Event {
    /// The evidence it names.
    var evidence: [Evidence] {
        switch data {
        case .problemReported(let report): report.evidence
        case .rectificationSubmitted(let fix): fix.evidence
        default: []
        }
    }
}

extension HTTPField.Name {
    static let serverTiming = Self("Server-Timing")!
}

/// The context of every request: the client's address, for limiting failed sign-ins.
public struct CivicContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
    /// Evidence files are up to 20 MB.
    public var maxUploadSize: Int { EvidenceStore.maximumBytes + (1 << 20) }
}
