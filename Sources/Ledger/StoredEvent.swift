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

    /// The bytes stored for `event` (id and subject are stored by the log beside them).
    static func encode(_ event: Event) -> [UInt8] {
        var m = Civic_V1_Event()
        m.source = event.source
        m.timeUs = event.time.micros
        m.timeOffsetMin = event.time.offsetMinutes
        m.actor = event.actor
        m.actorRole = .init(rawValue: number(event.role)) ?? .unspecified
        if let unit = event.actorUnit { m.actorUnit = unit }
        switch event.data {
        case .unitRegistered(let u):
            m.unitRegistered = .with {
                $0.name = u.name
                $0.kind = .init(rawValue: number(u.kind)) ?? .unspecified
                if let parent = u.parent { $0.parent = parent }
                if let leader = u.leader { $0.leader = leader }
            }
        case .batchOpened(let b):
            m.batchOpened = .with {
                $0.name = b.name
                $0.source = .init(rawValue: number(b.source)) ?? .unspecified
                $0.dueAtUs = b.dueAt.micros
                $0.dueAtOffsetMin = b.dueAt.offsetMinutes
            }
        case .problemReported(let p):
            m.problemReported = .with {
                if let batch = p.batch { $0.batch = batch }
                $0.source = .init(rawValue: number(p.source)) ?? .unspecified
                $0.category = .init(rawValue: number(p.category)) ?? .unspecified
                $0.description_p = p.description
                $0.location = .with { l in
                    l.area = p.location.area
                    if let street = p.location.street { l.street = street }
                    if let point = p.location.point { l.point = point }
                    if let lat = p.location.lat { l.lat = lat }
                    if let lon = p.location.lon { l.lon = lon }
                }
                $0.evidence = p.evidence.map(encode)
            }
        case .problemAssigned(let a):
            m.problemAssigned = .with {
                $0.unit = a.unit
                if let leader = a.leader { $0.leader = leader }
                $0.deadlineUs = a.deadline.micros
                $0.deadlineOffsetMin = a.deadline.offsetMinutes
            }
        case .deadlineExtended(let d):
            m.deadlineExtended = .with {
                $0.deadlineUs = d.deadline.micros
                $0.deadlineOffsetMin = d.deadline.offsetMinutes
                $0.reason = d.reason
            }
        case .rectificationSubmitted(let r):
            m.rectificationSubmitted = .with {
                $0.summary = r.summary
                $0.evidence = r.evidence.map(encode)
            }
        case .rectificationVerified(let note):
            m.rectificationVerified = .with { if let note { $0.note = note } }
        case .rectificationRejected(let reason):
            m.rectificationRejected = .with { $0.reason = reason }
        case .problemEscalated(let e):
            m.problemEscalated = .with {
                $0.to = e.to
                $0.reason = e.reason
            }
        case .problemReopened(let r):
            m.problemReopened = .with {
                $0.reason = r.reason
                $0.deadlineUs = r.deadline.micros
                $0.deadlineOffsetMin = r.deadline.offsetMinutes
                if let unit = r.unit { $0.unit = unit }
            }
        case .problemWithdrawn(let reason):
            m.problemWithdrawn = .with { $0.reason = reason }
        case .accountabilityRecorded(let a):
            m.accountabilityRecorded = .with {
                $0.target = .with { t in
                    t.kind = a.target.kind == .unit ? .unit : .person
                    t.id = a.target.id
                    if let name = a.target.name { t.name = name }
                    if let unit = a.target.unit { t.unit = unit }
                }
                $0.measure = .init(rawValue: number(a.measure)) ?? .unspecified
                $0.reason = a.reason
                $0.problems = a.problems
            }
        case .accountabilityRevoked(let reason):
            m.accountabilityRevoked = .with { $0.reason = reason }
        }
        // Serializing a message built from known fields cannot fail.
        return (try? m.serializedBytes()) ?? []
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

    private static func encode(_ e: Evidence) -> Civic_V1_Evidence {
        .with {
            $0.sha256 = e.sha256
            if let uri = e.uri { $0.uri = uri }
            if let caption = e.caption { $0.caption = caption }
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
