import Foundation
import HTTPTypes
import Hummingbird
import Ledger

/// Who is signed in in the browser (docs/server.md, "Pages for each role"): a session per sign-in, in the
/// server's memory, named by a random id in an `HttpOnly`, `SameSite=Strict` cookie, with a CSRF token
/// each form carries. A session ends at sign-out, after 30 minutes unused or 8 hours in all, and at the
/// first request after its account is revoked.
final class Sessions: @unchecked Sendable {
    struct Session: Sendable {
        var account: String
        var csrf: String
        var started: Date
        var used: Date
    }

    static let cookie = "civic_session"
    static let idle: TimeInterval = 30 * 60
    static let longest: TimeInterval = 8 * 3600

    private let lock = NSLock()
    private var sessions: [String: Session] = [:]

    /// A new session for `account`: its id (for the cookie) and CSRF token.
    func start(_ account: String) -> (id: String, csrf: String) {
        let id = Self.random(), csrf = Self.random()
        let now = Date()
        lock.withLock {
            if sessions.count > 10_000 { sessions = sessions.filter { Self.isLive($0.value, now) } }
            sessions[id] = Session(account: account, csrf: csrf, started: now, used: now)
        }
        return (id, csrf)
    }

    /// The live session the request's cookie names, marked used now; nil when there is none.
    func session(of request: Request) -> (id: String, session: Session)? {
        guard let id = Self.cookieValue(request) else { return nil }
        let now = Date()
        return lock.withLock {
            guard var session = sessions[id] else { return nil }
            guard Self.isLive(session, now) else { sessions[id] = nil; return nil }
            session.used = now
            sessions[id] = session
            return (id, session)
        }
    }

    func end(_ id: String) { lock.withLock { sessions[id] = nil } }

    private static func isLive(_ s: Session, _ now: Date) -> Bool {
        now.timeIntervalSince(s.used) < idle && now.timeIntervalSince(s.started) < longest
    }

    static func cookieValue(_ request: Request) -> String? {
        guard let header = request.headers[.cookie] else { return nil }
        for part in header.split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces)
            if pair.hasPrefix(cookie + "=") { return String(pair.dropFirst(cookie.count + 1)) }
        }
        return nil
    }

    /// The cookie that names session `id` (or, with nil, ends it in the browser).
    static func setCookie(_ id: String?) -> String {
        guard let id else { return "\(cookie)=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0" }
        return "\(cookie)=\(id); HttpOnly; SameSite=Strict; Path=/; Max-Age=\(Int(longest))"
    }

    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    }

    /// Whether `given` is the session's CSRF token (compared in constant time).
    static func csrfHolds(_ given: String?, _ session: Session) -> Bool {
        guard let given else { return false }
        return Credentials.sameInConstantTime(Array(given.utf8), Array(session.csrf.utf8))
    }
}

/// A form as a browser sends it: `application/x-www-form-urlencoded` fields, or `multipart/form-data`
/// fields and files.
struct SubmittedForm {
    var fields: [String: String] = [:]
    var files: [(name: String, bytes: [UInt8])] = []

    init(contentType: String?, body: [UInt8]) throws {
        let type = contentType?.lowercased() ?? ""
        if type.hasPrefix("application/x-www-form-urlencoded") {
            for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1).map {
                    String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
                }
                if let key = kv.first { fields[key] = kv.count > 1 ? kv[1] : "" }
            }
        } else if type.hasPrefix("multipart/form-data"), let range = contentType?.range(of: "boundary=") {
            let boundary = String(contentType![range.upperBound...]).trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
            try readMultipart(body, boundary: Array(("--" + boundary).utf8))
        } else {
            throw WriteRefusal(.unsupportedMediaType, "表单的格式不对")
        }
    }

    /// The parts between `boundary` lines: each a header block, a blank line, its bytes.
    private mutating func readMultipart(_ body: [UInt8], boundary: [UInt8]) throws {
        var starts: [Int] = []
        var i = 0
        while i + boundary.count <= body.count {
            if body[i] == boundary[0], body[i..<(i + boundary.count)].elementsEqual(boundary) { starts.append(i); i += boundary.count } else { i += 1 }
        }
        guard starts.count >= 2 else { throw WriteRefusal(.badRequest, "表单的格式不对（multipart 缺少分隔行）") }
        for (a, b) in zip(starts, starts.dropFirst()) {
            var part = Array(body[(a + boundary.count)..<b])
            if part.starts(with: [13, 10]) { part.removeFirst(2) }
            if part.suffix(2) == [13, 10] { part.removeLast(2) }
            guard let split = Self.find([13, 10, 13, 10], in: part) else { continue }
            let headers = String(decoding: part[..<split], as: UTF8.self)
            let content = Array(part[(split + 4)...])
            guard let disposition = headers.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-disposition") }),
                  let name = Self.parameter("name", in: String(disposition)) else { continue }
            if Self.parameter("filename", in: String(disposition)) != nil {
                if !content.isEmpty { files.append((name, content)) }
            } else {
                fields[name] = String(decoding: content, as: UTF8.self)
            }
        }
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        for i in 0...(bytes.count - needle.count) where bytes[i..<(i + needle.count)].elementsEqual(needle) { return i }
        return nil
    }

    private static func parameter(_ key: String, in header: String) -> String? {
        for piece in header.split(separator: ";") {
            let p = piece.trimmingCharacters(in: .whitespaces)
            if p.hasPrefix(key + "=") { return String(p.dropFirst(key.count + 1)).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        }
        return nil
    }
}
