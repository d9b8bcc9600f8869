import Campaign
import EventLog

/// The stored encoding read straight from the LMDB map, for folds: one pass over the protobuf wire
/// format of `civic.v1.Entry` and the `civic.v1.Event` inside it, building the domain event with no
/// intermediate message. It must read exactly what `StoredEvent.decode` reads (a test holds the two
/// together over every example and random campaigns), and refuse what it refuses.
extension WireReader {
    mutating func vocabulary<V: Vocabulary>() throws -> V { try StoredEvent.value(Int(try varint())) }

    // MARK: the messages

    /// A stored value of the `log` database (hash ‖ Entry) as a recorded event and its hash.
    /// With `skippingText`, its free text is left out (""): what folds read.
    static func recorded(_ value: UnsafeRawBufferPointer, skippingText: Bool = false) throws -> RecordedEvent {
        let entry = try StoredEntry(value)
        var event = WireReader(entry.body)
        event.skippingText = skippingText
        return RecordedEvent(seq: entry.seq, version: entry.version, recordedAt: Timestamp(micros: entry.recordedAtMicros),
                             event: try event.event(id: entry.idString, subject: entry.subjectString))
    }

    mutating func event(id: String, subject: String) throws -> Event {
        var source = "", actor = ""
        var time: Int64 = 0, offset: Int32 = 0
        var role = 0
        var actorUnit: String?
        var data: EventData?
        while !isAtEnd {
            let (field, wire) = try tag()
            switch (field, wire) {
            case (1, 2): source = try text()
            case (2, 0): time = try zigzag()
            case (3, 0): offset = try zigzag32()
            case (4, 2): actor = try string()
            case (5, 0): role = Int(try varint())
            case (6, 2): actorUnit = try string()
            case (10...22, 2):
                var m = try message()
                data = try m.data(field)
            default: try skip(wire)
            }
        }
        guard let data else { throw Malformed() }
        return Event(id: id, source: source, subject: subject, time: Timestamp(micros: time, offsetMinutes: offset),
                     actor: actor, role: try StoredEvent.value(role), actorUnit: actorUnit, data: data)
    }

    private static var nothing: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: nil, count: 0) }

    /// Visits each field of this message.
    private mutating func each(_ body: (inout WireReader, Int, UInt8) throws -> Bool) throws {
        while !isAtEnd {
            let (field, wire) = try tag()
            if try !body(&self, field, wire) { try skip(wire) }
        }
    }

    private mutating func evidence() throws -> Evidence {
        var sha = "", uri: String?, caption: String?
        try each { r, field, wire in
            switch (field, wire) {
            case (1, 2): sha = try r.text()
            case (2, 2): uri = try r.text()
            case (3, 2): caption = try r.text()
            default: return false
            }
            return true
        }
        return Evidence(sha256: sha, uri: uri, caption: caption)
    }

    private static func time(_ micros: Int64, _ offset: Int64) throws -> Timestamp {
        guard let minutes = Int32(exactly: offset) else { throw Malformed() }
        return Timestamp(micros: micros, offsetMinutes: minutes)
    }

    private mutating func data(_ field: Int) throws -> EventData {
        // The fields every data message draws from, by their numbers in event.proto.
        var s1 = "", s2: String?, s3: String?, s4: String?
        var n1: UInt64 = 0, n2: UInt64 = 0, n3: UInt64 = 0, n4: UInt64 = 0
        var evidence: [Evidence] = []
        var list: [String] = []
        var sub: WireReader?
        switch field {
        case 10:  // UnitRegistered: name, kind, parent?, leader?
            try each { r, f, w in
                switch (f, w) {
                case (1, 2): s1 = try r.string()
                case (2, 0): n2 = try r.varint()
                case (3, 2): s3 = try r.string()
                case (4, 2): s4 = try r.string()
                default: return false
                }
                return true
            }
            return .unitRegistered(UnitRegistration(name: s1, kind: try StoredEvent.value(Int(n2)), parent: s3, leader: s4))
        case 11:  // BatchOpened: name, source, due_at_us, due_at_offset_min
            try each { r, f, w in
                switch (f, w) {
                case (1, 2): s1 = try r.string()
                case (2, 0): n2 = try r.varint()
                case (3, 0): n3 = try r.varint()
                case (4, 0): n4 = try r.varint()
                default: return false
                }
                return true
            }
            return .batchOpened(BatchOpening(name: s1, source: try StoredEvent.value(Int(n2)),
                                             dueAt: try Self.time(Self.unzig(n3), Self.unzig(n4))))
        case 12:  // ProblemReported: batch?, source, category, description, location, evidence*
            try each { r, f, w in
                switch (f, w) {
                case (1, 2): s2 = try r.string()
                case (2, 0): n2 = try r.varint()
                case (3, 0): n3 = try r.varint()
                case (4, 2): s1 = try r.text()
                case (5, 2): sub = try r.message()
                case (6, 2) where !r.skippingText: var m = try r.message(); evidence.append(try m.evidence())
                default: return false
                }
                return true
            }
            var area = "", street: String?, point: String?, lat: Double?, lon: Double?
            var l = sub ?? WireReader(Self.nothing)
            try l.each { r, f, w in
                switch (f, w) {
                case (1, 2): area = try r.text()
                case (2, 2): street = try r.text()
                case (3, 2): point = try r.text()
                case (4, 1): lat = try r.double()
                case (5, 1): lon = try r.double()
                default: return false
                }
                return true
            }
            return .problemReported(ProblemReport(
                batch: s2, source: try StoredEvent.value(Int(n2)), category: try StoredEvent.value(Int(n3)), description: s1,
                location: Location(area: area, street: street, point: point, lat: lat, lon: lon), evidence: evidence))
        case 13, 14, 19:  // ProblemAssigned: unit, leader?, deadline_us, offset · DeadlineExtended: us, offset, reason ·
                          // ProblemReopened: reason, us, offset, unit?
            try each { r, f, w in
                switch (f, w) {
                case (1, 2): s1 = try r.string()
                case (2, 2): s2 = try r.string()
                case (3, 2): s3 = try r.string()
                case (4, 2): s4 = try r.string()
                case (1, 0): n1 = try r.varint()
                case (2, 0): n2 = try r.varint()
                case (3, 0): n3 = try r.varint()
                case (4, 0): n4 = try r.varint()
                default: return false
                }
                return true
            }
            switch field {
            case 13: return .problemAssigned(Assignment(unit: s1, leader: s2, deadline: try Self.time(Self.unzig(n3), Self.unzig(n4))))
            case 14: return .deadlineExtended(DeadlineExtension(deadline: try Self.time(Self.unzig(n1), Self.unzig(n2)), reason: s3 ?? ""))
            default: return .problemReopened(Reopening(reason: s1, deadline: try Self.time(Self.unzig(n2), Self.unzig(n3)), unit: s4))
            }
        case 15:  // RectificationSubmitted: summary, evidence*
            try each { r, f, w in
                switch (f, w) {
                case (1, 2): s1 = try r.text()
                case (2, 2) where !r.skippingText: var m = try r.message(); evidence.append(try m.evidence())
                default: return false
                }
                return true
            }
            return .rectificationSubmitted(Rectification(summary: s1, evidence: evidence))
        case 16, 17, 18, 20, 22:  // one or two strings: note? · reason · to, reason · reason · reason
            try each { r, f, w in
                switch (f, w) {
                case (1, 2): s2 = try r.text()
                case (2, 2): s3 = try r.text()
                default: return false
                }
                return true
            }
            switch field {
            case 16: return .rectificationVerified(note: s2)
            case 17: return .rectificationRejected(reason: s2 ?? "")
            case 18: return .problemEscalated(Escalation(to: s2 ?? "", reason: s3 ?? ""))
            case 20: return .problemWithdrawn(reason: s2 ?? "")
            default: return .accountabilityRevoked(reason: s2 ?? "")
            }
        case 21:  // AccountabilityRecorded: target, measure, reason, problems*
            try each { r, f, w in
                switch (f, w) {
                case (1, 2): sub = try r.message()
                case (2, 0): n2 = try r.varint()
                case (3, 2): s1 = try r.string()
                case (4, 2): list.append(try r.string())
                default: return false
                }
                return true
            }
            var kind: UInt64 = 0, id = "", name: String?, unit: String?
            var t = sub ?? WireReader(Self.nothing)
            try t.each { r, f, w in
                switch (f, w) {
                case (1, 0): kind = try r.varint()
                case (2, 2): id = try r.string()
                case (3, 2): name = try r.string()
                case (4, 2): unit = try r.string()
                default: return false
                }
                return true
            }
            guard kind == 1 || kind == 2 else { throw Malformed() }
            return .accountabilityRecorded(Accountability(
                target: AccountabilityTarget(kind: kind == 1 ? .unit : .person, id: id, name: name, unit: unit),
                measure: try StoredEvent.value(Int(n2)), reason: s1, problems: list))
        default:
            throw Malformed()
        }
    }

}

extension LogReader {
    /// Calls `body` with each stored event after seq `after` through seq `end`, in seq order, read
    /// straight from the map with its free text left out (what folds read), until `body` returns false.
    /// - Throws: `LogDamage` naming the seq of an entry that does not decode; what `body` throws.
    func forEachRecorded(after: UInt64, through end: UInt64 = .max, _ body: (RecordedEvent) throws -> Bool) throws {
        guard after < end else { return }
        var seq = after
        try forEachStored(after: after) { value in
            let recorded: RecordedEvent
            do { recorded = try WireReader.recorded(value, skippingText: true) } catch {
                throw LogDamage(seq: seq + 1, problem: "entry does not decode")
            }
            guard recorded.seq <= end else { return false }
            seq = recorded.seq
            return try body(recorded) && seq < end
        }
    }
}
