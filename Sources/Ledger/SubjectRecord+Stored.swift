import Campaign
import Wire

/// The stored form of a subject's record, in the derived table `subjects` (docs/storage.md): the untagged
/// values of `Wire`, field after field; private to civic, checked by `civic verify` against the log.
extension SubjectRecord {
    /// The record's bytes.
    func encoded() -> [UInt8] {
        var w = WireWriter(capacity: 96)
        w.byte(kind.number)
        w.varint(version)
        Self.time(&w, lastTime)
        w.varint(lastSeq)
        switch payload {
        case nil:
            break  // a stream opened by nothing (refused by the rules): a record that does not decode
        case .unit(let u):
            w.string(u.name)
            w.varint(UInt64(u.kind.number))
            Self.optional(&w, u.parent)
            Self.optional(&w, u.leader)
            // Aliases only when there are some: a unit's record without them is as it was before they existed.
            if !u.aliases.isEmpty {
                w.varint(UInt64(u.aliases.count))
                for alias in u.aliases { w.string(alias) }
            }
        case .batch(let b):
            w.string(b.name)
            w.varint(UInt64(b.source.number))
            Self.time(&w, b.dueAt)
        case .problem(let p):
            w.byte(UInt8(p.status.number))
            Self.optional(&w, p.batch)
            Self.optional(&w, p.unit)
            Self.optional(&w, p.leader)
            Self.optionalTime(&w, p.deadline)
            Self.optional(&w, p.submittedBy)
            Self.time(&w, p.reportedAt)
            Self.optionalTime(&w, p.closedAt)
            w.varint(UInt64(p.rejections))
            w.varint(UInt64(p.escalations))
            w.varint(UInt64(p.reopens))
        case .accountability(let a):
            w.byte(UInt8(a.target.kind.number))
            w.string(a.target.id)
            Self.optional(&w, a.target.name)
            Self.optional(&w, a.target.unit)
            w.varint(UInt64(a.measure.number))
            w.varint(UInt64(a.problems.count))
            for problem in a.problems { w.string(problem) }
            w.byte(a.revoked ? 1 : 0)
        case .account(let a):
            w.string(a.name)
            w.varint(UInt64(a.role.number))
            Self.optional(&w, a.unit)
            w.byte(a.revoked ? 1 : 0)
        }
        return w.bytes
    }

    /// The record stored as `bytes`.
    /// - Throws: `WireReader.Malformed` when they are not one.
    init(stored bytes: UnsafeRawBufferPointer) throws(WireReader.Malformed) {
        var r = WireReader(bytes)
        guard let kind = StreamKind(number: try r.byte()) else { throw WireReader.Malformed() }
        self.init(kind: kind, version: try r.varint(), lastTime: try Self.time(&r), lastSeq: try r.varint())
        switch kind {
        case .unit:
            var unit = UnitRegistration(name: try r.validString(), kind: try Self.code(&r), parent: try Self.optional(&r),
                                        leader: try Self.optional(&r))
            if !r.isAtEnd {
                let count = try r.varint()
                guard count > 0, count <= 1_000 else { throw WireReader.Malformed() }
                for _ in 0..<count { unit.aliases.append(try r.validString()) }
            }
            payload = .unit(unit)
        case .batch:
            payload = .batch(BatchOpening(name: try r.validString(), source: try Self.code(&r), dueAt: try Self.time(&r)))
        case .problem:
            guard let status = ProblemStatus(number: Int(try r.byte())) else { throw WireReader.Malformed() }
            let batch = try Self.optional(&r), unit = try Self.optional(&r), leader = try Self.optional(&r)
            let deadline = try Self.optionalTime(&r), submittedBy = try Self.optional(&r)
            var p = Problem(reportedAt: try Self.time(&r), batch: batch)
            p.status = status
            p.unit = unit
            p.leader = leader
            p.deadline = deadline
            p.submittedBy = submittedBy
            p.closedAt = try Self.optionalTime(&r)
            p.rejections = try r.count(atMost: Int(Int32.max))
            p.escalations = try r.count(atMost: Int(Int32.max))
            p.reopens = try r.count(atMost: Int(Int32.max))
            payload = .problem(p)
        case .accountability:
            guard let targetKind = TargetKind(number: Int(try r.byte())) else { throw WireReader.Malformed() }
            let target = AccountabilityTarget(kind: targetKind, id: try r.validString(), name: try Self.optional(&r),
                                              unit: try Self.optional(&r))
            let measure: Measure = try Self.code(&r)
            var problems: [String] = []
            for _ in 0..<(try r.count(atMost: r.remaining)) { problems.append(try r.validString()) }
            let revoked = try r.byte()
            guard revoked <= 1 else { throw WireReader.Malformed() }
            payload = .accountability(AccountabilityCase(target: target, measure: measure, problems: problems, revoked: revoked == 1))
        case .account:
            let name = try r.validString()
            let role: Role = try Self.code(&r)
            let unit = try Self.optional(&r)
            let revoked = try r.byte()
            guard revoked <= 1 else { throw WireReader.Malformed() }
            payload = .account(Account(name: name, role: role, unit: unit, revoked: revoked == 1))
        }
        guard r.isAtEnd else { throw WireReader.Malformed() }
    }

    private static func time(_ w: inout WireWriter, _ t: Timestamp) {
        w.zigzag(t.micros)
        w.zigzag(Int64(t.offsetMinutes))
    }

    private static func optionalTime(_ w: inout WireWriter, _ t: Timestamp?) {
        w.byte(t == nil ? 0 : 1)
        if let t { time(&w, t) }
    }

    private static func optional(_ w: inout WireWriter, _ s: String?) {
        w.byte(s == nil ? 0 : 1)
        if let s { w.string(s) }
    }

    private static func time(_ r: inout WireReader) throws(WireReader.Malformed) -> Timestamp {
        let micros = try r.zigzag()
        guard let offset = Int32(exactly: try r.zigzag()) else { throw WireReader.Malformed() }
        return Timestamp(micros: micros, offsetMinutes: offset)
    }

    private static func optionalTime(_ r: inout WireReader) throws(WireReader.Malformed) -> Timestamp? {
        switch try r.byte() {
        case 0: return nil
        case 1: return try time(&r)
        default: throw WireReader.Malformed()
        }
    }

    private static func optional(_ r: inout WireReader) throws(WireReader.Malformed) -> String? {
        switch try r.byte() {
        case 0: return nil
        case 1: return try r.validString()
        default: throw WireReader.Malformed()
        }
    }

    private static func code<V: Vocabulary>(_ r: inout WireReader) throws(WireReader.Malformed) -> V {
        guard let v = V(number: try r.count(atMost: 1 << 16)) else { throw WireReader.Malformed() }
        return v
    }
}
