import Campaign
import Crypto
import JSON

/// What a view was built from: the log head it read, the prefix (`asOf`), the moment (`at`), filters.
///
/// Every JSON view carries these and a `digest`: SHA-256 of the view's canonical JSON (compact, keys in
/// the documented order, the digest itself left out), so that a printed report can be rebuilt later,
/// from the same head and moment, and shown to match.
public struct ViewBasis: Sendable {
    public var headSeq: UInt64
    public var headHash: String
    public var asOf: String
    public var at: Timestamp
    public var filters: [(key: String, value: JSONValue)]

    public init(headSeq: UInt64, headHash: String, asOf: String, at: Timestamp, filters: [(key: String, value: JSONValue)] = []) {
        self.headSeq = headSeq; self.headHash = headHash; self.asOf = asOf; self.at = at; self.filters = filters
    }

    /// `{"view", "head":{seq,hash}, "asOf", "at", "filters", "digest", …members}`.
    public func document(view: String, members: [(key: String, value: JSONValue)]) -> JSONValue {
        let basis: [(key: String, value: JSONValue)] = [
            ("view", .string(view)),
            ("head", .object([("seq", .int(headSeq)), ("hash", .string(headHash))])),
            ("asOf", .string(asOf)),
            ("at", .time(at)),
            ("filters", .object(filters)),
        ]
        let digest = Self.digest(of: .object(basis + members))
        return .object(basis + [("digest", .string(digest))] + members)
    }

    /// SHA-256 (hex) of the compact JSON of `document`.
    public static func digest(of document: JSONValue) -> String {
        SHA256.hash(data: Array(JSONText.render(document).utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// The lines above a table: what it shows, as of when, and the digest of its JSON.
    public func caption(title: String, members: [(key: String, value: JSONValue)], view: String) -> String {
        var text = "\(title)  截至 \(at.inOffset(Timestamp.chinaOffset).rfc3339)（业务时间）"
        if asOf != "all" { text += "  按登记截至 \(asOf)" }
        text += "  日志 seq \(headSeq)"
        let shown = filters.filter { $0.value != .null && $0.value != .bool(false) && $0.value != .array([]) }
        if !shown.isEmpty { text += "  筛选 " + shown.map { "\($0.key)=\(Render.plain($0.value))" }.joined(separator: " ") }
        let digest = document(view: view, members: members)["digest"].map(Render.plain) ?? ""
        return text + "\n摘要 sha256:\(digest)（与 --format json 的 digest 相同，可据此核对打印件）"
    }
}
