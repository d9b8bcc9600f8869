import Campaign
import JSON

/// Reads and writes the CloudEvents 1.0 structured-mode JSON of docs/formats.md (Schemas/cloudevent.schema.json).
public enum CloudEvents {
    /// The longest line accepted: 1 MiB.
    public static let maximumLineBytes = 1 << 20

    /// Envelope attributes an export adds; accepted and ignored on the way in.
    static let outgoingAttributes: Set<String> = ["seq", "version", "recordedat", "recordedby", "proxy", "prevhash", "hash"]

    /// Reads every non-blank line of an NDJSON text (a UTF-8 BOM at its start is skipped).
    /// - Returns: the events read, and a refusal for each line that is not a well-formed event.
    public static func readLines(_ bytes: [UInt8]) -> (events: [Incoming], refusals: [LineRefusal]) {
        var events: [Incoming] = []
        var refusals: [LineRefusal] = []
        forEachLine(bytes) { line, text in
            do throws(LineRefusal) { events.append(try read(line: line, text)) } catch { refusals.append(error) }
        }
        return (events, refusals)
    }

    /// Calls `body` with the number and text of each non-blank line of an NDJSON text (a UTF-8 BOM at its
    /// start skipped, a CR before each line end dropped).
    public static func forEachLine(_ bytes: [UInt8], _ body: (Int, ArraySlice<UInt8>) throws -> Void) rethrows {
        var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var line = 0
        while start < bytes.count {
            line += 1
            let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            var slice = bytes[start..<end]
            if slice.last == 0x0D { slice = slice.dropLast() }
            start = end + 1
            if slice.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            try body(line, slice)
        }
    }

    /// Reads one event from one JSON text.
    /// - Throws: `LineRefusal` (rule `malformed`) naming the field and what is wrong with it.
    public static func read(line: Int, _ text: some Collection<UInt8>) throws(LineRefusal) -> Incoming {
        // Most lines are read straight from their bytes; the rest (and every refusal) as a JSON value.
        if let fast = text.withContiguousStorageIfAvailable({ FastEventLine.read(UnsafeRawBufferPointer($0), number: line) }) ?? nil {
            return fast
        }
        return try readWhole(line: line, text)
    }

    /// The event of a line that names no actor, role or unit, acted by `actor` (of `role`, of `unit`): the
    /// writable server's reading of a line its account wrote as itself. Nil when the line names any of
    /// them, or is not one the fast reading is sure of: then the caller reads it as a JSON value, and
    /// fills in the actor or refuses the line with its message.
    public static func read(line: Int, _ text: some Collection<UInt8>, actedBy actor: String, role: Role, unit: String?) -> Incoming? {
        text.withContiguousStorageIfAvailable {
            FastEventLine.read(UnsafeRawBufferPointer($0), number: line, actedBy: .init(id: actor, role: role, unit: unit))
        } ?? nil
    }

    /// `read` through a JSON value: the reference the fast reading is held to, and every refusal's message.
    static func readWhole(line: Int, _ text: some Collection<UInt8>) throws(LineRefusal) -> Incoming {
        guard text.count <= maximumLineBytes else {
            throw LineRefusal(line: line, id: nil, subject: nil,
                              refusal: Refusal(.malformed, "这一行有 \(text.count) 字节，超过上限 \(maximumLineBytes)"))
        }
        let value: JSONValue
        do { value = try JSONParser.parse(text) } catch {
            throw LineRefusal(line: line, id: nil, subject: nil, refusal: Refusal(.malformed, error.description))
        }
        return try read(line: line, value: value)
    }

    /// Reads one event from a JSON value already parsed (the server fills in the actor first).
    public static func read(line: Int, value: JSONValue) throws(LineRefusal) -> Incoming {
        let id = value["id"].flatMap { if case .string(let s) = $0 { s } else { nil } }
        let subject = value["subject"].flatMap { if case .string(let s) = $0 { s } else { nil } }
        do {
            let (event, expected) = try event(from: value)
            return Incoming(line: line, event: event, expectedVersion: expected)
        } catch {
            throw LineRefusal(line: line, id: id, subject: subject, refusal: error)
        }
    }

    static func event(from value: JSONValue) throws(Refusal) -> (Event, UInt64?) {
        let o = try Fields(value, path: "")
        let version = try o.string("specversion")
        guard version == "1.0" else { throw Refusal(.malformed, "specversion 须为 \"1.0\"，而不是 \"\(version)\"") }
        let typeName = try o.string("type")
        guard let type = EventType(rawValue: typeName) else {
            throw Refusal(.malformed, "未知的事件类型 type “\(typeName)”；可用：\(EventType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let contentType = try o.optionalString("datacontenttype"), !contentType.hasPrefix("application/json") {
            throw Refusal(.malformed, "datacontenttype 须为 application/json")
        }
        var expected: UInt64?
        if let v = o["expectedversion"] {
            guard case .number(let text) = v, let n = UInt64(text) else {
                throw Refusal(.malformed, "expectedversion 须为非负整数，而不是\(v.kindLabel) \(JSONText.render(v))")
            }
            expected = n
        }
        try o.refuseOthers(["specversion", "id", "source", "type", "subject", "time", "actor", "actorrole",
                            "actorunit", "expectedversion", "datacontenttype", "dataschema", "data"] + outgoingAttributes)
        let event = Event(
            id: try o.string("id"), source: try o.string("source"), subject: try o.string("subject"),
            time: try o.time("time"), actor: try o.string("actor"), role: try o.vocabulary("actorrole"),
            actorUnit: try o.optionalString("actorunit"), data: try data(type, try o.object("data")))
        return (event, expected)
    }

    static func data(_ type: EventType, _ d: Fields) throws(Refusal) -> EventData {
        func evidence(_ key: String) throws(Refusal) -> [Evidence] {
            var list: [Evidence] = []
            for item in try d.array(key, required: false) {
                try item.refuseOthers(["sha256", "uri", "caption"])
                list.append(Evidence(sha256: try item.string("sha256"), uri: try item.optionalString("uri"),
                                     caption: try item.optionalString("caption")))
            }
            return list
        }
        let data: EventData
        switch type {
        case .unitRegistered:
            try d.refuseOthers(["name", "kind", "parent", "leader", "aliases"])
            data = .unitRegistered(UnitRegistration(
                name: try d.string("name"), kind: try d.vocabulary("kind"), parent: try d.optionalString("parent"),
                leader: try d.optionalString("leader"), aliases: try d.optionalStrings("aliases")))
        case .batchOpened:
            try d.refuseOthers(["name", "source", "dueAt"])
            data = .batchOpened(BatchOpening(name: try d.string("name"), source: try d.vocabulary("source"),
                                             dueAt: try d.time("dueAt")))
        case .problemReported:
            try d.refuseOthers(["batch", "source", "category", "description", "location", "evidence"])
            let l = try d.object("location")
            try l.refuseOthers(["area", "street", "point", "lat", "lon"])
            data = .problemReported(ProblemReport(
                batch: try d.optionalString("batch"), source: try d.vocabulary("source"),
                category: try d.vocabulary("category"), description: try d.string("description"),
                location: Location(area: try l.string("area"), street: try l.optionalString("street"),
                                   point: try l.optionalString("point"), lat: try l.optionalDouble("lat"),
                                   lon: try l.optionalDouble("lon")),
                evidence: try evidence("evidence")))
        case .problemAssigned:
            try d.refuseOthers(["unit", "leader", "deadline"])
            data = .problemAssigned(Assignment(unit: try d.string("unit"), leader: try d.optionalString("leader"),
                                               deadline: try d.time("deadline")))
        case .deadlineExtended:
            try d.refuseOthers(["deadline", "reason"])
            data = .deadlineExtended(DeadlineExtension(deadline: try d.time("deadline"), reason: try d.string("reason")))
        case .rectificationSubmitted:
            try d.refuseOthers(["summary", "evidence"])
            guard d["evidence"] != nil else { throw Refusal(.malformed, "提交整改须附至少一份佐证材料(data.evidence)") }
            data = .rectificationSubmitted(Rectification(summary: try d.string("summary"), evidence: try evidence("evidence")))
        case .rectificationVerified:
            try d.refuseOthers(["note"])
            data = .rectificationVerified(note: try d.optionalString("note"))
        case .rectificationRejected:
            try d.refuseOthers(["reason"])
            data = .rectificationRejected(reason: try d.string("reason"))
        case .problemEscalated:
            try d.refuseOthers(["to", "reason"])
            data = .problemEscalated(Escalation(to: try d.string("to"), reason: try d.string("reason")))
        case .problemReopened:
            try d.refuseOthers(["reason", "deadline", "unit"])
            data = .problemReopened(Reopening(reason: try d.string("reason"), deadline: try d.time("deadline"),
                                              unit: try d.optionalString("unit")))
        case .problemWithdrawn:
            try d.refuseOthers(["reason"])
            data = .problemWithdrawn(reason: try d.string("reason"))
        case .accountabilityRecorded:
            try d.refuseOthers(["target", "measure", "reason", "problems", "organ", "document"])
            let t = try d.object("target")
            try t.refuseOthers(["kind", "id", "name", "unit"])
            var problems: [String] = []
            if let list = d["problems"] {
                guard case .array(let items) = list else { throw Refusal(.malformed, "data.problems 须为数组") }
                for (k, item) in items.enumerated() {
                    guard case .string(let s) = item else { throw Refusal(.malformed, "data.problems[\(k)] 须为字符串") }
                    problems.append(s)
                }
            } else {
                throw Refusal(.malformed, "缺少字段 data.problems（可为空数组）")
            }
            data = .accountabilityRecorded(Accountability(
                target: AccountabilityTarget(kind: try t.vocabulary("kind"), id: try t.string("id"),
                                             name: try t.optionalString("name"), unit: try t.optionalString("unit")),
                measure: try d.vocabulary("measure"), reason: try d.string("reason"), problems: problems,
                organ: try d.optionalString("organ"), document: try d.optionalString("document")))
        case .accountabilityRevoked:
            try d.refuseOthers(["reason"])
            data = .accountabilityRevoked(reason: try d.string("reason"))
        case .accountEnrolled:
            try d.refuseOthers(["name", "role", "unit"])
            data = .accountEnrolled(AccountEnrollment(name: try d.string("name"), role: try d.vocabulary("role"),
                                                      unit: try d.optionalString("unit")))
        case .accountChanged:
            try d.refuseOthers(["role", "unit"])
            let role: Role? = d["role"] == nil ? nil : try d.vocabulary("role")
            data = .accountChanged(AccountChange(role: role, unit: try d.optionalString("unit")))
        case .accountRevoked:
            try d.refuseOthers(["reason"])
            data = .accountRevoked(reason: try d.string("reason"))
        }
        return data
    }
}

/// The members of one JSON object, read with messages that name the field's path.
struct Fields {
    let members: [(key: String, value: JSONValue)]
    let path: String

    init(_ value: JSONValue, path: String) throws(Refusal) {
        guard case .object(let members) = value else {
            throw Refusal(.malformed, path.isEmpty ? "每行须为一个 JSON 对象" : "\(path) 须为对象，而不是\(value.kindLabel)")
        }
        self.members = members
        self.path = path
    }

    subscript(key: String) -> JSONValue? {
        guard let v = members.first(where: { $0.key == key })?.value, v != .null else { return nil }
        return v
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func refuseOthers(_ known: some Sequence<String>) throws(Refusal) {
        let known = Set(known)
        if let unknown = members.first(where: { !known.contains($0.key) }) {
            throw Refusal(.malformed, "未知字段 \(name(unknown.key))；可用的字段：\(known.sorted().joined(separator: ", "))")
        }
    }

    func optionalString(_ key: String) throws(Refusal) -> String? {
        guard let v = self[key] else { return nil }
        guard case .string(let s) = v else { throw Refusal(.malformed, "\(name(key)) 须为字符串，而不是\(v.kindLabel)") }
        if s.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\n" && $0 != "\t" && $0 != "\r") || $0.value == 0x7F }) {
            throw Refusal(.malformed, "\(name(key)) 含有控制字符（如 \\u0000）：请去掉后重新提交")
        }
        return s
    }

    func string(_ key: String) throws(Refusal) -> String {
        guard let s = try optionalString(key) else { throw Refusal(.malformed, "缺少字段 \(name(key))") }
        return s
    }

    func time(_ key: String) throws(Refusal) -> Timestamp {
        let s = try string(key)
        guard let t = Timestamp(rfc3339: s) else {
            throw Refusal(.malformed, "\(name(key)) “\(s)” 不是带时区的 RFC 3339 时间，例如 2022-08-19T16:00:00+08:00")
        }
        return t
    }

    func vocabulary<V: Vocabulary>(_ key: String) throws(Refusal) -> V {
        let s = try string(key)
        guard let v = V(rawValue: s) else {
            throw Refusal(.malformed, "\(name(key)) “\(s)” 不在可用代码之中：\(V.listing)")
        }
        return v
    }

    func optionalDouble(_ key: String) throws(Refusal) -> Double? {
        guard let v = self[key] else { return nil }
        guard case .number(let text) = v, let d = Double(text) else {
            throw Refusal(.malformed, "\(name(key)) 须为数字，而不是\(v.kindLabel)")
        }
        return d
    }

    /// An array of texts, empty when absent; none empty, none given twice.
    func optionalStrings(_ key: String) throws(Refusal) -> [String] {
        guard let v = self[key] else { return [] }
        guard case .array(let items) = v else { throw Refusal(.malformed, "\(name(key)) 须为数组，而不是\(v.kindLabel)") }
        var out: [String] = []
        for (k, item) in items.enumerated() {
            guard case .string(let s) = item, !s.isEmpty else { throw Refusal(.malformed, "\(name(key))[\(k)] 须为非空字符串") }
            guard !out.contains(s) else { throw Refusal(.malformed, "\(name(key))[\(k)] “\(s)” 重复") }
            out.append(s)
        }
        return out
    }

    func object(_ key: String) throws(Refusal) -> Fields {
        guard let v = self[key] else { throw Refusal(.malformed, "缺少字段 \(name(key))") }
        return try Fields(v, path: name(key))
    }

    func array(_ key: String, required: Bool) throws(Refusal) -> [Fields] {
        guard let v = self[key] else {
            if required { throw Refusal(.malformed, "缺少字段 \(name(key))") }
            return []
        }
        guard case .array(let items) = v else { throw Refusal(.malformed, "\(name(key)) 须为数组，而不是\(v.kindLabel)") }
        var out: [Fields] = []
        for (k, item) in items.enumerated() { out.append(try Fields(item, path: "\(name(key))[\(k)]")) }
        return out
    }
}
