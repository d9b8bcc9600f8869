import Wire

/// The stored encoding of a campaign event: civic.v1.Event (Schemas/civic/v1/event.proto), the bytes
/// the log chains. One writer and one reader, both straight over the protobuf wire format; the tests hold
/// them to swift-protobuf's generated code byte for byte, and to what it refuses.
public enum EventCodec {
    /// The bytes stored for `event` (id and subject are stored by the log beside them): civic.v1.Event
    /// written field by field as swift-protobuf writes it: fields in number order, singular fields at
    /// zero left out, `optional` fields and messages written when set.
    public static func encode(_ event: Event) -> [UInt8] {
        var w = WireWriter(capacity: 512)
        w.bytes(field: 1, event.source.utf8)
        w.zigzag(field: 2, event.time.micros)
        w.zigzag(field: 3, Int64(event.time.offsetMinutes))
        w.bytes(field: 4, event.actor.utf8)
        w.varint(field: 5, UInt64(event.role.number))
        if let unit = event.actorUnit { w.present(field: 6, unit.utf8) }
        switch event.data {
        case .unitRegistered(let u):
            w.message(field: 10) { m in
                m.bytes(field: 1, u.name.utf8)
                m.varint(field: 2, UInt64(u.kind.number))
                if let parent = u.parent { m.present(field: 3, parent.utf8) }
                if let leader = u.leader { m.present(field: 4, leader.utf8) }
                for alias in u.aliases { m.present(field: 5, alias.utf8) }
            }
        case .batchOpened(let b):
            w.message(field: 11) { m in
                m.bytes(field: 1, b.name.utf8)
                m.varint(field: 2, UInt64(b.source.number))
                m.zigzag(field: 3, b.dueAt.micros)
                m.zigzag(field: 4, Int64(b.dueAt.offsetMinutes))
            }
        case .problemReported(let p):
            w.message(field: 12) { m in
                if let batch = p.batch { m.present(field: 1, batch.utf8) }
                m.varint(field: 2, UInt64(p.source.number))
                m.varint(field: 3, UInt64(p.category.number))
                m.bytes(field: 4, p.description.utf8)
                m.message(field: 5) { l in
                    l.bytes(field: 1, p.location.area.utf8)
                    if let street = p.location.street { l.present(field: 2, street.utf8) }
                    if let point = p.location.point { l.present(field: 3, point.utf8) }
                    if let lat = p.location.lat { l.double(field: 4, lat) }
                    if let lon = p.location.lon { l.double(field: 5, lon) }
                }
                for e in p.evidence { m.message(field: 6) { encode(e, into: &$0) } }
            }
        case .problemAssigned(let a):
            w.message(field: 13) { m in
                m.bytes(field: 1, a.unit.utf8)
                if let leader = a.leader { m.present(field: 2, leader.utf8) }
                m.zigzag(field: 3, a.deadline.micros)
                m.zigzag(field: 4, Int64(a.deadline.offsetMinutes))
            }
        case .deadlineExtended(let d):
            w.message(field: 14) { m in
                m.zigzag(field: 1, d.deadline.micros)
                m.zigzag(field: 2, Int64(d.deadline.offsetMinutes))
                m.bytes(field: 3, d.reason.utf8)
            }
        case .rectificationSubmitted(let r):
            w.message(field: 15) { m in
                m.bytes(field: 1, r.summary.utf8)
                for e in r.evidence { m.message(field: 2) { encode(e, into: &$0) } }
            }
        case .rectificationVerified(let note):
            w.message(field: 16) { m in if let note { m.present(field: 1, note.utf8) } }
        case .rectificationRejected(let reason):
            w.message(field: 17) { $0.bytes(field: 1, reason.utf8) }
        case .problemEscalated(let e):
            w.message(field: 18) { m in
                m.bytes(field: 1, e.to.utf8)
                m.bytes(field: 2, e.reason.utf8)
            }
        case .problemReopened(let r):
            w.message(field: 19) { m in
                m.bytes(field: 1, r.reason.utf8)
                m.zigzag(field: 2, r.deadline.micros)
                m.zigzag(field: 3, Int64(r.deadline.offsetMinutes))
                if let unit = r.unit { m.present(field: 4, unit.utf8) }
            }
        case .problemWithdrawn(let reason):
            w.message(field: 20) { $0.bytes(field: 1, reason.utf8) }
        case .accountabilityRecorded(let a):
            w.message(field: 21) { m in
                m.message(field: 1) { t in
                    t.varint(field: 1, UInt64(a.target.kind.number))
                    t.bytes(field: 2, a.target.id.utf8)
                    if let name = a.target.name { t.present(field: 3, name.utf8) }
                    if let unit = a.target.unit { t.present(field: 4, unit.utf8) }
                }
                m.varint(field: 2, UInt64(a.measure.number))
                m.bytes(field: 3, a.reason.utf8)
                for problem in a.problems { m.present(field: 4, problem.utf8) }
                if let organ = a.organ { m.present(field: 5, organ.utf8) }
                if let document = a.document { m.present(field: 6, document.utf8) }
            }
        case .accountabilityRevoked(let reason):
            w.message(field: 22) { $0.bytes(field: 1, reason.utf8) }
        case .accountEnrolled(let a):
            w.message(field: 23) { m in
                m.bytes(field: 1, a.name.utf8)
                m.varint(field: 2, UInt64(a.role.number))
                if let unit = a.unit { m.present(field: 3, unit.utf8) }
            }
        case .accountChanged(let c):
            w.message(field: 24) { m in
                if let role = c.role { m.varint(field: 1, UInt64(role.number)) }
                if let unit = c.unit { m.present(field: 2, unit.utf8) }
            }
        case .accountRevoked(let reason):
            w.message(field: 25) { $0.bytes(field: 1, reason.utf8) }
        }
        return w.bytes
    }

    private static func encode(_ e: Evidence, into m: inout WireWriter) {
        m.bytes(field: 1, e.sha256.utf8)
        if let uri = e.uri { m.present(field: 2, uri.utf8) }
        if let caption = e.caption { m.present(field: 3, caption.utf8) }
    }

    /// What a read keeps of an event.
    public enum Reading: Sendable {
        /// Everything.
        case whole
        /// Ids, times, states, units and deadlines, without the free text (descriptions, places,
        /// evidence, reasons) the log keeps for people: what folds read.
        case forFolds
        /// What folds read, with the free text left out still checked as a whole reading checks it:
        /// what verify reads.
        case forVerification
        /// What folds read, with the evidence reports and fixes name (hash, where kept, caption): what
        /// the unit links are made from.
        case forLinks
    }

    /// Why stored bytes are not an event civic can read.
    public struct Undecodable: Error, Sendable {}

    /// The event stored as `body` under `id` and `subject`, read as swift-protobuf reads a civic.v1.Event
    /// (a field given twice: the last value, or for a message both merged; unknown fields and fields of
    /// another wire type skipped), then refused unless it is an event: data of a known type, every code
    /// (role, kinds, sources, categories, measures) one the vocabulary knows.
    /// - Throws: `Undecodable`.
    public static func decode(_ body: UnsafeRawBufferPointer, id: String, subject: String, reading: Reading = .whole) throws(Undecodable) -> Event {
        do {
            var r = WireReader(body)
            r.skippingText = reading != .whole
            r.checkingSkippedText = reading == .forVerification
            return try readEvent(&r, id: id, subject: subject, keepingEvidence: reading == .forLinks)
        } catch { throw Undecodable() }
    }

    /// Whether `body` decodes as an event, checked without building its text.
    public static func isEvent(_ body: UnsafeRawBufferPointer) -> Bool {
        var r = WireReader(body)
        r.checkingOnly = true
        return (try? readEvent(&r, id: "", subject: "")) != nil
    }

    /// The business time of the stored event `body`, read as `decode` reads it (the last field 2 and 3
    /// given win) without decoding the rest; nil when its fields do not read.
    public static func time(of body: UnsafeRawBufferPointer) -> Timestamp? {
        var r = WireReader(body)
        var micros: UInt64 = 0, offset: UInt64 = 0
        while !r.isAtEnd {
            guard let (field, wire) = try? r.tag() else { return nil }
            switch (field, wire) {
            case (2, 0): guard let v = try? r.varint() else { return nil }; micros = v
            case (3, 0): guard let v = try? r.varint() else { return nil }; offset = v
            default: guard (try? r.skip(wire, field: field)) != nil else { return nil }
            }
        }
        return time(micros, offset)
    }

    /// The time of fields 2 (sint64) and 3 (sint32) as read: swift-protobuf's readings of them.
    private static func time(_ micros: UInt64, _ offset: UInt64) -> Timestamp {
        var top = Fields()
        top.n2 = micros
        top.n3 = offset
        return Timestamp(micros: top.int64(2), offsetMinutes: top.int32(3))
    }

    /// The type of the event stored as `body`, read from its data field alone; nil when it has none.
    public static func type(of body: UnsafeRawBufferPointer) -> EventType? {
        var r = WireReader(body)
        var found: EventType?
        while !r.isAtEnd {
            guard let (field, wire) = try? r.tag() else { return nil }
            if wire == 2, let type = EventType(number: field) { found = type }
            guard (try? r.skip(wire, field: field)) != nil else { return nil }
        }
        return found
    }

    // MARK: reading

    private struct Unreadable: Error {}

    /// The fields one message of event.proto can carry, by number (1 to 6): each is a string, a number or
    /// a message, never two of these; what a field of another wire type brings is skipped. Given twice, a
    /// field keeps the last value; repeated fields gather every value. (Fixed fields rather than arrays:
    /// a fold reads a million of these, and arrays would cost an allocation each.)
    private struct Fields {
        var s1: String?, s2: String?, s3: String?, s4: String?, s5: String?, s6: String?
        var n1: UInt64?, n2: UInt64?, n3: UInt64?, n4: UInt64?
        var d4: Double?, d5: Double?
        var m1: Box?, m5: Box?
        var repeatedStrings: [String] = []
        var repeatedMessages: [Fields] = []

        func strings(_ f: Int) -> String? {
            switch f {
            case 1: s1
            case 2: s2
            case 3: s3
            case 4: s4
            case 5: s5
            case 6: s6
            default: nil
            }
        }
        mutating func set(string value: String, _ f: Int) {
            switch f {
            case 1: s1 = value
            case 2: s2 = value
            case 3: s3 = value
            case 5: s5 = value
            case 6: s6 = value
            default: s4 = value
            }
        }
        func number(_ f: Int) -> UInt64 {
            switch f {
            case 1: n1 ?? 0
            case 2: n2 ?? 0
            case 3: n3 ?? 0
            case 4: n4 ?? 0
            default: 0
            }
        }
        mutating func set(number value: UInt64, _ f: Int) {
            switch f {
            case 1: n1 = value
            case 2: n2 = value
            case 3: n3 = value
            default: n4 = value
            }
        }
        func string(_ f: Int) -> String { strings(f) ?? "" }
        func int64(_ f: Int) -> Int64 { WireReader.unzig(number(f)) }
        /// A sint32: swift-protobuf keeps the low 32 bits of the varint, then undoes the zigzag.
        func int32(_ f: Int) -> Int32 {
            let low = UInt32(truncatingIfNeeded: number(f))
            return Int32(bitPattern: (low >> 1) ^ (0 &- (low & 1)))
        }
        /// An enum's number: swift-protobuf keeps the low 32 bits.
        func enumNumber(_ f: Int) -> Int { Int(Int32(truncatingIfNeeded: number(f))) }
    }

    /// A nested message's fields, boxed (a struct cannot hold itself).
    private final class Box {
        var fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    /// How a field of a message of event.proto is read.
    private enum Kind { case string, text, number, double, message, repeatedMessage, repeatedString }

    /// The kind of field `field` of `message` (10 to 25: the data messages by their field in Event; 105
    /// Location, 106 Evidence, 121 AccountabilityTarget), nil for a field it does not have.
    private static func kind(_ message: Int, _ field: Int) -> Kind? {
        switch (message, field) {
        case (10, 1), (10, 3), (10, 4): .string                      // UnitRegistered: name, parent, leader
        case (10, 2): .number                                         //   kind
        case (10, 5): .repeatedString                                 //   aliases
        case (11, 1): .string                                         // BatchOpened: name
        case (11, 2), (11, 3), (11, 4): .number                       //   source, due_at
        case (12, 1): .string                                         // ProblemReported: batch
        case (12, 2), (12, 3): .number                                //   source, category
        case (12, 4): .text                                           //   description
        case (12, 5): .message                                        //   location
        case (12, 6): .repeatedMessage                                //   evidence
        case (13, 1), (13, 2): .string                                // ProblemAssigned: unit, leader
        case (13, 3), (13, 4): .number                                //   deadline
        case (14, 1), (14, 2): .number                                // DeadlineExtended: deadline
        case (14, 3): .text                                           //   reason
        case (15, 1): .text                                           // RectificationSubmitted: summary
        case (15, 2): .repeatedMessage                                //   evidence
        case (16, 1), (17, 1), (20, 1), (22, 1), (25, 1): .text       // note, reason
        case (18, 1), (18, 2): .text                                  // ProblemEscalated: to, reason
        case (19, 1): .text                                           // ProblemReopened: reason
        case (19, 2), (19, 3): .number                                //   deadline
        case (19, 4): .string                                         //   unit
        case (21, 1): .message                                        // AccountabilityRecorded: target
        case (21, 2): .number                                         //   measure
        case (21, 3): .text                                           //   reason
        case (21, 4): .repeatedString                                 //   problems
        case (21, 5), (21, 6): .text                                  //   organ, document
        case (23, 1): .string                                         // AccountEnrolled: name (kept by folds: the rules hold it)
        case (23, 2): .number                                         //   role
        case (23, 3): .string                                         //   unit
        case (24, 1): .number                                         // AccountChanged: role
        case (24, 2): .string                                         //   unit
        case (105, 1), (105, 2), (105, 3): .text                      // Location: area, street, point
        case (105, 4), (105, 5): .double                              //   lat, lon
        case (106, 1), (106, 2), (106, 3): .text                      // Evidence: sha256, uri, caption
        case (121, 1): .number                                        // AccountabilityTarget: kind
        case (121, 2), (121, 3), (121, 4): .string                    //   id, name, unit
        default: nil
        }
    }

    /// The nested message a field of `message` holds.
    private static func nested(_ message: Int, _ field: Int) -> Int {
        switch (message, field) {
        case (12, 5): 105
        case (12, 6), (15, 2): 106
        default: 121
        }
    }

    private static func merge(_ fields: inout Fields, message: Int, from r: inout WireReader, keepingEvidence: Bool = false) throws {
        while !r.isAtEnd {
            let (field, wire) = try r.tag()
            switch (kind(message, field), wire) {
            case (.string?, 2): fields.set(string: try r.string(), field)
            case (.text?, 2): fields.set(string: try r.text(), field)
            case (.number?, 0): fields.set(number: try r.varint(), field)
            case (.double?, 1):
                let d = try r.double()
                if field == 4 { fields.d4 = d } else { fields.d5 = d }
            case (.message?, 2):
                var sub = try r.message()
                var into = (field == 1 ? fields.m1 : fields.m5)?.fields ?? Fields()
                try merge(&into, message: nested(message, field), from: &sub)
                if field == 1 { fields.m1 = Box(into) } else { fields.m5 = Box(into) }
            case (.repeatedMessage?, 2):
                var sub = try r.message()
                if keepingEvidence {
                    sub.skippingText = false
                } else if r.skippingText {  // evidence is free text to a fold
                    if r.checkingSkippedText {
                        var unkept = Fields()
                        sub.checkingOnly = true
                        try merge(&unkept, message: nested(message, field), from: &sub)
                    }
                    continue
                }
                var item = Fields()
                try merge(&item, message: nested(message, field), from: &sub)
                fields.repeatedMessages.append(item)
            case (.repeatedString?, 2): fields.repeatedStrings.append(try r.string())
            default: try r.skip(wire, field: field)
            }
        }
    }

    private static func readEvent(_ r: inout WireReader, id: String, subject: String, keepingEvidence: Bool = false) throws -> Event {
        var source = "", actor = "", actorUnit: String?
        var time: UInt64 = 0, offset: UInt64 = 0, role: UInt64 = 0
        var data: (field: Int, fields: Fields)?
        while !r.isAtEnd {
            let (field, wire) = try r.tag()
            switch (field, wire) {
            case (1, 2): source = try r.text()
            case (2, 0): time = try r.varint()
            case (3, 0): offset = try r.varint()
            case (4, 2): actor = try r.string()
            case (5, 0): role = try r.varint()
            case (6, 2): actorUnit = try r.string()
            case (10...25, 2):
                var sub = try r.message()
                // A oneof field given again merges into the same message; another one replaces it.
                var fields = data?.field == field ? data!.fields : Fields()
                try merge(&fields, message: field, from: &sub, keepingEvidence: keepingEvidence)
                data = (field, fields)
            default: try r.skip(wire, field: field)
            }
        }
        guard let data else { throw Unreadable() }
        var top = Fields()
        top.n4 = role
        return Event(id: id, source: source, subject: subject, time: Self.time(time, offset),
                     actor: actor, role: try code(top.enumNumber(4)), actorUnit: actorUnit,
                     data: try eventData(data.field, data.fields))
    }

    private static func code<V: Vocabulary>(_ number: Int) throws -> V {
        guard let v = V(number: number) else { throw Unreadable() }
        return v
    }

    private static func evidence(_ f: Fields) -> Evidence {
        Evidence(sha256: f.string(1), uri: f.s2, caption: f.s3)
    }

    private static func eventData(_ message: Int, _ f: Fields) throws -> EventData {
        switch message {
        case 10:
            return .unitRegistered(UnitRegistration(name: f.string(1), kind: try code(f.enumNumber(2)), parent: f.s3, leader: f.s4,
                                                    aliases: f.repeatedStrings))
        case 11:
            return .batchOpened(BatchOpening(name: f.string(1), source: try code(f.enumNumber(2)),
                                             dueAt: Timestamp(micros: f.int64(3), offsetMinutes: f.int32(4))))
        case 12:
            let l = f.m5?.fields ?? Fields()
            return .problemReported(ProblemReport(
                batch: f.s1, source: try code(f.enumNumber(2)), category: try code(f.enumNumber(3)), description: f.string(4),
                location: Location(area: l.string(1), street: l.s2, point: l.s3, lat: l.d4, lon: l.d5),
                evidence: f.repeatedMessages.map(evidence)))
        case 13:
            return .problemAssigned(Assignment(unit: f.string(1), leader: f.s2,
                                               deadline: Timestamp(micros: f.int64(3), offsetMinutes: f.int32(4))))
        case 14:
            return .deadlineExtended(DeadlineExtension(deadline: Timestamp(micros: f.int64(1), offsetMinutes: f.int32(2)), reason: f.string(3)))
        case 15: return .rectificationSubmitted(Rectification(summary: f.string(1), evidence: f.repeatedMessages.map(evidence)))
        case 16: return .rectificationVerified(note: f.s1)
        case 17: return .rectificationRejected(reason: f.string(1))
        case 18: return .problemEscalated(Escalation(to: f.string(1), reason: f.string(2)))
        case 19:
            return .problemReopened(Reopening(reason: f.string(1), deadline: Timestamp(micros: f.int64(2), offsetMinutes: f.int32(3)),
                                              unit: f.s4))
        case 20: return .problemWithdrawn(reason: f.string(1))
        case 21:
            let t = f.m1?.fields ?? Fields()
            return .accountabilityRecorded(Accountability(
                target: AccountabilityTarget(kind: try code(t.enumNumber(1)), id: t.string(2), name: t.s3, unit: t.s4),
                measure: try code(f.enumNumber(2)), reason: f.string(3), problems: f.repeatedStrings,
                organ: f.s5, document: f.s6))
        case 22: return .accountabilityRevoked(reason: f.string(1))
        case 23: return .accountEnrolled(AccountEnrollment(name: f.string(1), role: try code(f.enumNumber(2)), unit: f.s3))
        case 24:
            return .accountChanged(AccountChange(role: f.n1 == nil ? nil : try code(f.enumNumber(1)), unit: f.s2))
        default: return .accountRevoked(reason: f.string(1))
        }
    }
}
