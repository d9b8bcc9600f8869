import Campaign

/// A checkpoint of the rules' state (`CampaignState`), so that a process appending to a long log need
/// not fold it from the first event. Derived data like the views' checkpoints, with the same framing
/// (magic and format byte, 64-bit checksum, payload); only the latest is kept. Since it decides what is
/// accepted, `civic verify` compares it with the log too.
enum RulesCheckpoint {
    static let magic = Array("CIVRULE".utf8) + [2]

    static func encode(_ s: CampaignState, seq: UInt64) -> [UInt8] {
        var w = SnapshotWriter()
        w.varint(seq)
        let subjects = s.subjects.sorted(by: { $0.key < $1.key })
        w.varint(UInt64(subjects.count))
        for (subject, record) in subjects {
            let stream = record.stream
            w.string(subject)
            w.bytes.append(stream.kind == .unit ? 0 : stream.kind == .batch ? 1 : stream.kind == .problem ? 2 : 3)
            w.varint(stream.version)
            w.time(stream.lastTime)
        }
        w.varint(UInt64(s.units.count))
        for (id, unit) in s.units.sorted(by: { $0.key < $1.key }) {
            w.string(id)
            w.string(unit.registration.name)
            w.vocabulary(unit.registration.kind)
            w.optional(unit.registration.parent)
            w.optional(unit.registration.leader)
        }
        w.varint(UInt64(s.batches.count))
        for (id, batch) in s.batches.sorted(by: { $0.key < $1.key }) {
            w.string(id)
            w.string(batch.opening.name)
            w.vocabulary(batch.opening.source)
            w.time(batch.opening.dueAt)
        }
        let problems = subjects.compactMap { id, record in record.problem.map { (id, $0) } }
        w.varint(UInt64(problems.count))
        for (id, p) in problems {
            w.string(id)
            w.problem(p)
        }
        w.varint(UInt64(s.cases.count))
        for (id, c) in s.cases.sorted(by: { $0.key < $1.key }) {
            w.string(id)
            let a = c.accountability
            w.vocabulary(a.target.kind)
            w.string(a.target.id)
            w.optional(a.target.name)
            w.optional(a.target.unit)
            w.vocabulary(a.measure)
            w.string(a.reason)
            w.varint(UInt64(a.problems.count))
            for problem in a.problems { w.string(problem) }
            w.bytes.append(c.revoked ? 1 : 0)
        }
        return Snapshot.frame(magic, w.bytes)
    }

    /// The state stored in `bytes`, and the seq it is the state of.
    /// - Throws: `Snapshot.Damaged` when the bytes are not such a checkpoint or their checksum fails.
    static func decode(_ bytes: UnsafeRawBufferPointer) throws -> (CampaignState, UInt64) {
        var r = SnapshotReader(try Snapshot.payload(magic, bytes))
        let seq = try r.varint()
        var s = CampaignState()
        let kinds: [StreamKind] = [.unit, .batch, .problem, .accountability]
        for _ in 0..<(try r.count()) {
            let subject = try r.string()
            let k = Int(try r.byte())
            guard k < kinds.count else { throw Snapshot.Damaged() }
            s.subjects[subject] = .init(stream: SubjectStream(kind: kinds[k], version: try r.varint(), lastTime: try r.time()))
        }
        for _ in 0..<(try r.count()) {
            let id = try r.string()
            s.units[id] = ResponsibleUnit(id: id, registration: UnitRegistration(
                name: try r.string(), kind: try r.vocabulary(), parent: try r.optional(), leader: try r.optional()))
        }
        for _ in 0..<(try r.count()) {
            let id = try r.string()
            s.batches[id] = Batch(id: id, opening: BatchOpening(name: try r.string(), source: try r.vocabulary(), dueAt: try r.time()))
        }
        for _ in 0..<(try r.count()) {
            let id = try r.string()
            guard let found = s.subjects.index(forKey: id) else { throw Snapshot.Damaged() }  // a problem has a stream
            s.subjects.values[found].problem = try r.problem()
        }
        for _ in 0..<(try r.count()) {
            let id = try r.string()
            let target = AccountabilityTarget(kind: try r.vocabulary(), id: try r.string(), name: try r.optional(), unit: try r.optional())
            let measure: Measure = try r.vocabulary()
            let reason = try r.string()
            var problems: [String] = []
            for _ in 0..<(try r.count()) { problems.append(try r.string()) }
            s.cases[id] = AccountabilityCase(accountability: Accountability(target: target, measure: measure, reason: reason,
                                                                            problems: problems),
                                             revoked: try r.byte() == 1)
        }
        guard r.isAtEnd else { throw Snapshot.Damaged() }
        return (s, seq)
    }
}
