import Campaign
import Projections
import JSON
import Wire

extension CloudEvents {
    /// A stored event as CloudEvents JSON (docs/formats.md) with the envelope the store adds: `seq`,
    /// `version`, `recordedat`, `recordedby` (and `proxy`: true when an account recorded it for another actor),
    /// `prevhash`, `hash`.
    public static func json(_ recorded: RecordedEvent, recordedBy: String, prevHash: [UInt8], hash: [UInt8]) -> JSONValue {
        var members = json(recorded.event).objectMembers
        members += [
            ("seq", .int(recorded.seq)),
            ("version", .int(recorded.version)),
            ("recordedat", .time(recorded.recordedAt)),
        ]
        if !recordedBy.isEmpty { members.append(("recordedby", .string(recordedBy))) }
        if AuditFlag.isProxy(actor: recorded.event.actor, recordedBy: recordedBy) { members.append(("proxy", .bool(true))) }
        members += [
            ("prevhash", .string(prevHash.hex)),
            ("hash", .string(hash.hex)),
        ]
        return .object(members)
    }

    /// An event as CloudEvents JSON (docs/formats.md), as it would be appended.
    public static func json(_ event: Event) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("specversion", .string("1.0")),
            ("id", .string(event.id)),
            ("source", .string(event.source)),
            ("type", .string(event.type.rawValue)),
            ("subject", .string(event.subject)),
            ("time", .time(event.time)),
            ("actor", .string(event.actor)),
            ("actorrole", .string(event.role.rawValue)),
        ]
        if let unit = event.actorUnit { members.append(("actorunit", .string(unit))) }
        members.append(("data", data(event.data)))
        return .object(members)
    }

    static func data(_ data: EventData) -> JSONValue {
        var m: [(key: String, value: JSONValue)] = []
        func add(_ key: String, _ value: String?) { if let value { m.append((key, .string(value))) } }
        func evidence(_ list: [Evidence]) -> JSONValue {
            .array(list.map { e in
                var o: [(key: String, value: JSONValue)] = [("sha256", .string(e.sha256))]
                if let uri = e.uri { o.append(("uri", .string(uri))) }
                if let caption = e.caption { o.append(("caption", .string(caption))) }
                return .object(o)
            })
        }
        switch data {
        case .unitRegistered(let u):
            add("name", u.name); add("kind", u.kind.rawValue); add("parent", u.parent); add("leader", u.leader)
            if !u.aliases.isEmpty { m.append(("aliases", .array(u.aliases.map { .string($0) }))) }
        case .batchOpened(let b):
            add("name", b.name); add("source", b.source.rawValue); m.append(("dueAt", .time(b.dueAt)))
        case .problemReported(let p):
            add("batch", p.batch); add("source", p.source.rawValue); add("category", p.category.rawValue)
            add("description", p.description)
            var l: [(key: String, value: JSONValue)] = [("area", .string(p.location.area))]
            if let street = p.location.street { l.append(("street", .string(street))) }
            if let point = p.location.point { l.append(("point", .string(point))) }
            if let lat = p.location.lat { l.append(("lat", .number("\(lat)"))) }
            if let lon = p.location.lon { l.append(("lon", .number("\(lon)"))) }
            m.append(("location", .object(l)))
            if !p.evidence.isEmpty { m.append(("evidence", evidence(p.evidence))) }
        case .problemAssigned(let a):
            add("unit", a.unit); add("leader", a.leader); m.append(("deadline", .time(a.deadline)))
        case .deadlineExtended(let d):
            m.append(("deadline", .time(d.deadline))); add("reason", d.reason)
        case .rectificationSubmitted(let r):
            add("summary", r.summary); m.append(("evidence", evidence(r.evidence)))
        case .rectificationVerified(let note):
            add("note", note)
        case .rectificationRejected(let reason), .problemWithdrawn(let reason), .accountabilityRevoked(let reason),
             .accountRevoked(let reason):
            add("reason", reason)
        case .accountEnrolled(let a):
            add("name", a.name); add("role", a.role.rawValue); add("unit", a.unit)
        case .accountChanged(let c):
            add("role", c.role?.rawValue); add("unit", c.unit)
        case .problemEscalated(let e):
            add("to", e.to); add("reason", e.reason)
        case .problemReopened(let r):
            add("reason", r.reason); m.append(("deadline", .time(r.deadline))); add("unit", r.unit)
        case .accountabilityRecorded(let a):
            var t: [(key: String, value: JSONValue)] = [("kind", .string(a.target.kind.rawValue)), ("id", .string(a.target.id))]
            if let name = a.target.name { t.append(("name", .string(name))) }
            if let unit = a.target.unit { t.append(("unit", .string(unit))) }
            m.append(("target", .object(t)))
            add("measure", a.measure.rawValue); add("reason", a.reason)
            m.append(("problems", .array(a.problems.map { .string($0) })))
            add("organ", a.organ); add("document", a.document)
        }
        return .object(m)
    }
}

extension JSONValue {
    var objectMembers: [(key: String, value: JSONValue)] {
        if case .object(let members) = self { members } else { [] }
    }

    static func time(_ t: Timestamp) -> JSONValue { .string(t.rfc3339) }
}
