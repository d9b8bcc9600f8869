import Campaign
import EventLog
import Foundation
import SwiftProtobuf

/// The stored encoding of a campaign event: civic.v1.Event (Schemas/civic/v1/event.proto), the bytes
/// the log chains. Enum values are stored by the numbers in the .proto, which follow the order of each
/// vocabulary's cases (a test pins it).
enum StoredEvent {
    struct Undecodable: Error, CustomStringConvertible {
        var description: String
    }

    /// The bytes stored for `event` (id and subject are stored by the log beside them): civic.v1.Event
    /// written field by field as swift-protobuf writes it (a test holds the two byte for byte): fields in
    /// number order, singular fields at zero left out, `optional` fields and messages written when set.
    static func encode(_ event: Event) -> [UInt8] {
        var w = WireWriter(capacity: 512)
        w.bytes(field: 1, event.source.utf8)
        w.zigzag(field: 2, event.time.micros)
        w.zigzag(field: 3, Int64(event.time.offsetMinutes))
        w.bytes(field: 4, event.actor.utf8)
        w.varint(field: 5, UInt64(number(event.role)))
        if let unit = event.actorUnit { w.present(field: 6, unit.utf8) }
        switch event.data {
        case .unitRegistered(let u):
            w.message(field: 10) { m in
                m.bytes(field: 1, u.name.utf8)
                m.varint(field: 2, UInt64(number(u.kind)))
                if let parent = u.parent { m.present(field: 3, parent.utf8) }
                if let leader = u.leader { m.present(field: 4, leader.utf8) }
            }
        case .batchOpened(let b):
            w.message(field: 11) { m in
                m.bytes(field: 1, b.name.utf8)
                m.varint(field: 2, UInt64(number(b.source)))
                m.zigzag(field: 3, b.dueAt.micros)
                m.zigzag(field: 4, Int64(b.dueAt.offsetMinutes))
            }
        case .problemReported(let p):
            w.message(field: 12) { m in
                if let batch = p.batch { m.present(field: 1, batch.utf8) }
                m.varint(field: 2, UInt64(number(p.source)))
                m.varint(field: 3, UInt64(number(p.category)))
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
                    t.varint(field: 1, a.target.kind == .unit ? 1 : 2)
                    t.bytes(field: 2, a.target.id.utf8)
                    if let name = a.target.name { t.present(field: 3, name.utf8) }
                    if let unit = a.target.unit { t.present(field: 4, unit.utf8) }
                }
                m.varint(field: 2, UInt64(number(a.measure)))
                m.bytes(field: 3, a.reason.utf8)
                for problem in a.problems { m.present(field: 4, problem.utf8) }
            }
        case .accountabilityRevoked(let reason):
            w.message(field: 22) { $0.bytes(field: 1, reason.utf8) }
        }
        return w.bytes
    }

    private static func encode(_ e: Evidence, into m: inout WireWriter) {
        m.bytes(field: 1, e.sha256.utf8)
        if let uri = e.uri { m.present(field: 2, uri.utf8) }
        if let caption = e.caption { m.present(field: 3, caption.utf8) }
    }

    /// The event stored as `body` under `id` and `subject`.
    /// - Throws: `Undecodable` when the bytes are not a civic.v1.Event civic can read.
    static func decode(id: String, subject: String, body: [UInt8]) throws -> Event {
        let m: Civic_V1_Event
        do { m = try Civic_V1_Event(serializedBytes: body) } catch {
            throw Undecodable(description: "not a civic.v1.Event: \(error)")
        }
        let data: EventData
        switch m.data {
        case .unitRegistered(let u):
            data = .unitRegistered(UnitRegistration(
                name: u.name, kind: try value(u.kind.rawValue), parent: u.hasParent ? u.parent : nil,
                leader: u.hasLeader ? u.leader : nil))
        case .batchOpened(let b):
            data = .batchOpened(BatchOpening(
                name: b.name, source: try value(b.source.rawValue),
                dueAt: Timestamp(micros: b.dueAtUs, offsetMinutes: b.dueAtOffsetMin)))
        case .problemReported(let p):
            let l = p.location
            data = .problemReported(ProblemReport(
                batch: p.hasBatch ? p.batch : nil, source: try value(p.source.rawValue),
                category: try value(p.category.rawValue), description: p.description_p,
                location: Location(area: l.area, street: l.hasStreet ? l.street : nil,
                                   point: l.hasPoint ? l.point : nil, lat: l.hasLat ? l.lat : nil,
                                   lon: l.hasLon ? l.lon : nil),
                evidence: p.evidence.map(decode)))
        case .problemAssigned(let a):
            data = .problemAssigned(Assignment(
                unit: a.unit, leader: a.hasLeader ? a.leader : nil,
                deadline: Timestamp(micros: a.deadlineUs, offsetMinutes: a.deadlineOffsetMin)))
        case .deadlineExtended(let d):
            data = .deadlineExtended(DeadlineExtension(
                deadline: Timestamp(micros: d.deadlineUs, offsetMinutes: d.deadlineOffsetMin), reason: d.reason))
        case .rectificationSubmitted(let r):
            data = .rectificationSubmitted(Rectification(summary: r.summary, evidence: r.evidence.map(decode)))
        case .rectificationVerified(let v):
            data = .rectificationVerified(note: v.hasNote ? v.note : nil)
        case .rectificationRejected(let r):
            data = .rectificationRejected(reason: r.reason)
        case .problemEscalated(let e):
            data = .problemEscalated(Escalation(to: e.to, reason: e.reason))
        case .problemReopened(let r):
            data = .problemReopened(Reopening(
                reason: r.reason, deadline: Timestamp(micros: r.deadlineUs, offsetMinutes: r.deadlineOffsetMin),
                unit: r.hasUnit ? r.unit : nil))
        case .problemWithdrawn(let w):
            data = .problemWithdrawn(reason: w.reason)
        case .accountabilityRecorded(let a):
            let t = a.target
            let kind: TargetKind
            switch t.kind {
            case .unit: kind = .unit
            case .person: kind = .person
            case .unspecified, .UNRECOGNIZED: throw Undecodable(description: "accountability target kind \(t.kind.rawValue)")
            }
            data = .accountabilityRecorded(Accountability(
                target: AccountabilityTarget(kind: kind, id: t.id, name: t.hasName ? t.name : nil,
                                             unit: t.hasUnit ? t.unit : nil),
                measure: try value(a.measure.rawValue), reason: a.reason, problems: a.problems))
        case .accountabilityRevoked(let r):
            data = .accountabilityRevoked(reason: r.reason)
        case nil:
            throw Undecodable(description: "event without data")
        }
        return Event(id: id, source: m.source, subject: subject,
                     time: Timestamp(micros: m.timeUs, offsetMinutes: m.timeOffsetMin),
                     actor: m.actor, role: try value(m.actorRole.rawValue),
                     actorUnit: m.hasActorUnit ? m.actorUnit : nil, data: data)
    }

    /// The recorded event of a log entry.
    /// - Throws: `LogDamage` naming its seq when its event does not decode.
    static func recorded(_ entry: LogEntry) throws -> RecordedEvent {
        do {
            return RecordedEvent(seq: entry.seq, version: entry.version,
                                 recordedAt: Timestamp(micros: entry.recordedAtMicros),
                                 event: try decode(id: entry.id, subject: entry.subject, body: entry.body))
        } catch {
            throw LogDamage(seq: entry.seq, problem: "event does not decode: \(error)")
        }
    }

    private static func decode(_ e: Civic_V1_Evidence) -> Evidence {
        Evidence(sha256: e.sha256, uri: e.hasUri ? e.uri : nil, caption: e.hasCaption ? e.caption : nil)
    }

    /// The .proto enum number of a vocabulary entry: its position among the cases, from 1.
    static func number<V: Vocabulary>(_ v: V) -> Int {
        (V.allCases.firstIndex(of: v).map { V.allCases.distance(from: V.allCases.startIndex, to: $0) } ?? -1) + 1
    }

    /// The vocabulary entry stored as `number`.
    static func value<V: Vocabulary>(_ number: Int) throws -> V {
        let all = Array(V.allCases)
        guard number >= 1, number <= all.count else {
            throw Undecodable(description: "\(V.self) number \(number) is not known")
        }
        return all[number - 1]
    }
}
