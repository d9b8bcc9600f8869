import Campaign
import JSON

/// What a view was built from: the log head it read, the prefix (`asOf`), the moment (`at`), filters.
///
/// Every JSON view is one object: `view`, `head` {seq, hash}, `asOf`, `at`, `filters`, then the view's own
/// members, and last `digest`: the SHA-256 of the object's compact JSON without the digest (everything
/// up to the last member, then `}`), so that a printed report can be rebuilt later, from the same head and
/// moment, and shown to match (docs/views.md). Hashed as it is written: the document is never held whole.
public struct ViewBasis: Sendable {
    public var headSeq: UInt64
    public var headHash: String
    public var asOf: String
    public var at: Timestamp
    public var filters: [(key: String, value: JSONValue)]

    public init(headSeq: UInt64, headHash: String, asOf: String, at: Timestamp, filters: [(key: String, value: JSONValue)] = []) {
        self.headSeq = headSeq; self.headHash = headHash; self.asOf = asOf; self.at = at; self.filters = filters
    }

    /// Writes `{"view", "head", "asOf", "at", "filters"` and starts the digest.
    public func beginDocument(view: String, _ out: Output) throws {
        try out.flush()
        out.startHashing()
        writeBeginning(view: view, out)
    }

    /// Writes `{"view", "head", "asOf", "at", "filters"` (the first page of a paged view: not hashed).
    public func writeBeginning(view: String, _ out: Output) {
        out.text("{\"view\":")
        out.jsonString(view)
        out.text(",\"head\":{\"seq\":")
        out.number(headSeq)
        out.text(",\"hash\":")
        out.jsonString(headHash)
        out.text("},\"asOf\":")
        out.jsonString(asOf)
        out.text(",\"at\":")
        out.jsonString(at.rfc3339)
        out.text(",\"filters\":")
        out.text(JSONText.render(.object(filters)))
    }

    /// Writes `,"key":`, for the next member of the document.
    public func member(_ key: String, _ out: Output) {
        out.byte(44)
        out.jsonString(key)
        out.byte(58)
    }

    /// Writes the digest and closes the document (and a line end). - Returns: the digest.
    @discardableResult
    public func endDocument(_ out: Output) throws -> String {
        let digest = out.digest(endingWith: "}")
        out.stopHashing()
        try end(digest: digest, out)
        return digest
    }

    /// Writes the digest (of the whole document) and closes the document.
    public func end(digest: String, _ out: Output) throws {
        out.text(",\"digest\":\"\(digest)\"}\n")
        try out.flush()
    }

    /// The lines above a table: what it shows, as of when, and its filters as a clerk reads them (`names`:
    /// the names of the units and lists the filters give by id).
    public func caption(title: String, names: [String: String] = [:]) -> String {
        var text = "\(title)  截至 \(at.chineseMinute)（业务时间）"
        if asOf != "all" { text += "  按登记截至 \(asOf)" }
        text += "  日志 seq \(headSeq)"
        let shown = setFilters
        if !shown.isEmpty { text += "  筛选：" + shown.map { Self.filter($0.key, $0.value, names) }.joined(separator: "，") }
        return text
    }

    /// The filters that narrow the view: those given (not null, false or empty).
    var setFilters: [(key: String, value: JSONValue)] {
        filters.filter { $0.value != .null && $0.value != .bool(false) && $0.value != .array([]) }
    }

    /// One filter in Chinese: `责任单位 城管执法大队（U-cgzf）`, `状态 已交办、待核实`, `仅看超期`.
    static func filter(_ key: String, _ value: JSONValue, _ names: [String: String]) -> String {
        let plain = Self.plain(value)
        func named(_ id: String) -> String { Named.withID(names[id], id) }
        switch key {
        case "unit": return "责任单位 " + named(plain)
        case "batch": return "清单 " + named(plain)
        case "status":
            guard case .array(let items) = value else { return "状态 " + plain }
            return "状态 " + items.map { item in
                let code = Self.plain(item)
                return ProblemStatus(rawValue: code)?.label ?? code
            }.joined(separator: "、")
        case "overdue": return "仅看超期"
        case "week": return "周 " + plain
        case "since": return "自 " + plain
        case "subject": return "对象 " + plain
        case "actor": return "经办人 " + plain
        case "backdateHours": return "补录提示阈值 \(plain) 小时"
        case "hastyMinutes": return "核实过快提示阈值 \(plain) 分钟"
        default: return "\(key) \(plain)"
        }
    }

    /// The line below a table: the digest of the same view's JSON.
    public static func digestLine(_ digest: String) -> String {
        "摘要 sha256:\(digest)（与 --format json 的 digest 相同，可据此核对打印件）\n"
    }

    static func plain(_ value: JSONValue) -> String {
        switch value {
        case .null: ""
        case .string(let s): s
        case .bool(let b): b ? "true" : "false"
        case .number(let n): n
        case .array(let items): items.map(plain).joined(separator: ",")
        case .object: JSONText.render(value)
        }
    }
}

/// Bytes thrown away (a digest is all that is wanted).
final class Discard: ByteSink {
    func write(_ bytes: UnsafeRawBufferPointer) throws {}
}
