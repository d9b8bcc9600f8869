import Campaign
import EventLog
import Projections
import Wire

/// A stored event as a trail shows it: the event, where the log holds it, its hash and who recorded it.
public struct TrailEntry: Sendable {
    public var recorded: RecordedEvent
    public var hash: [UInt8]
    public var prevHash: [UInt8]?
    public var recordedBy: String
    /// False for an event read only for what it tells of the others (a deadline in force, for an actor's
    /// trail): the trail does not show it.
    public var shown = true
}

extension Ledger {
    /// The accountability cases in force for each of `problems` in the prefix `asOf` at `at` (recorded by
    /// then, not revoked by then): found by key among the derived links (docs/storage.md), and in the log
    /// after the tables' stamp; each case's own stream then read.
    @available(*, noasync)
    public func cases(concerning problems: [String], asOf: AsOf = .all, at: Timestamp = Projection.endOfTime) throws -> [String: [String]] {
        guard !problems.isEmpty else { return [:] }
        var found: [String: [String]] = [:]
        let wanted = Set(problems)
        try withIndex { index, reader in
            for problem in problems {
                let prefix = UnitLink.prefix("#c" + problem)
                try reader.forEach(index.links, from: prefix) { key, _ in
                    guard key.starts(with: prefix) else { return false }
                    found[problem, default: []].append(String(decoding: key.dropFirst(prefix.count), as: UTF8.self))
                    return true
                }
            }
            for (key, _) in index.tailLinks where key.starts(with: Array("#c".utf8)) {
                guard let zero = key.firstIndex(of: 0) else { continue }
                let problem = String(decoding: key[2..<zero], as: UTF8.self)
                let case_ = String(decoding: key[(zero + 1)...], as: UTF8.self)
                if wanted.contains(problem), !(found[problem] ?? []).contains(case_) { found[problem, default: []].append(case_) }
            }
        }
        for (problem, cases) in found {
            found[problem] = try cases.sorted().filter { id in
                let events = try trail(.subject(id), asOf: asOf, at: at).0.map(\.recorded.event).filter { $0.time <= at }
                return events.contains { $0.type == .accountabilityRecorded } && !events.contains { $0.type == .accountabilityRevoked }
            }
        }
        return found.filter { !$0.value.isEmpty }
    }

    /// Every use, in the prefix `asOf`, of each evidence hash of `hashes`: for each subject, the first report
    /// and the first fix that named it. Found by key in the unit-links table (docs/storage.md), and in the
    /// log after the tables' stamp.
    @available(*, noasync)
    public func evidenceUses(of hashes: Set<String>, asOf: AsOf = .all) throws -> [String: [EvidenceUse]] {
        guard !hashes.isEmpty else { return [:] }
        var uses: [String: [EvidenceUse]] = [:]
        try log.read { reader in
            let end = try Self.end(of: asOf, reader)
            let stamp = fromLog ? 0 : try SubjectIndex.storedStamp(reader)  // from the log: all of it read
            for hash in hashes {
                for byFix in [true, false] {
                    let prefix = UnitLink.prefix(UnitLink.evidenceKey(hash, byFix: byFix))
                    try reader.forEach(index.links, from: prefix) { key, value in
                        guard key.starts(with: prefix) else { return false }
                        let link = try UnitLink(stored: value)
                        if link.seq <= end {
                            uses[hash, default: []].append(EvidenceUse(subject: String(decoding: key.dropFirst(prefix.count), as: UTF8.self),
                                                                       seq: link.seq, byFix: byFix))
                        }
                        return true
                    }
                }
            }
            guard stamp < end else { return }
            try reader.forEach(after: stamp) { entry in
                guard entry.seq <= end else { return false }
                guard UnitLink.reading(entry) == .forLinks else { return true }
                let event = try EventCodec.recorded(entry).event
                for (hash, use) in EvidenceUse.made(by: event, seq: entry.seq) where hashes.contains(hash) {
                    uses[hash, default: []].append(use)
                }
                return entry.seq < end
            }
        }
        return uses
    }

    /// Calls `body` with every stored event of the prefix `asOf` after seq `after`, in seq order, whole and
    /// with its chain, until it returns false (the export, and the feed of the server). With `types`, only
    /// the events of those types are decoded and given.
    /// - Returns: the head of the prefix.
    @available(*, noasync)
    @discardableResult
    public func events(asOf: AsOf = .all, after: UInt64 = 0, types: Set<EventType>? = nil, _ body: (TrailEntry) throws -> Bool) throws -> LogHead {
        try log.read { reader in
            let end = try Self.end(of: asOf, reader)
            let head = try reader.withEntry(end) { e in
                e.map { LogHead(seq: $0.seq, hash: Array($0.hash), recordedAtMicros: $0.recordedAtMicros) } ?? LogHead.empty
            }
            guard after < end else { return head }
            var prev: [UInt8] = after == 0 ? EventLog.genesisHash : try reader.withEntry(after) { $0.map { Array($0.hash) } } ?? []
            try reader.forEach(after: after) { entry in
                guard entry.seq <= end else { return false }
                let hash = Array(entry.hash)
                defer { prev = hash }
                if let types { guard let type = EventCodec.type(of: entry.body), types.contains(type) else { return entry.seq < end } }
                let more = try body(TrailEntry(recorded: try EventCodec.recorded(entry), hash: hash, prevHash: prev,
                                               recordedBy: entry.recordedByString))
                return more && entry.seq < end
            }
            return head
        }
    }

    /// The stored events an audit trail covers, in seq order, from the prefix `asOf`: one subject's stream,
    /// read back from its latest entry by each entry's back-pointer (a look-up an event); a unit's own
    /// stream with every problem ever assigned to it and every case aimed at it by `at`, found by the unit
    /// links; or every event of an actor, found by reading the log. With `fromLog`, every trail is found
    /// by reading the whole log, from no derived data.
    /// - Returns: the events, and the head of the prefix.
    @available(*, noasync)
    public func trail(_ selector: AuditSelector, asOf: AsOf = .all, at: Timestamp = Projection.endOfTime,
                      fromLog: Bool = false) throws -> ([TrailEntry], LogHead) {
        try log.read { reader in
            let end = try Self.end(of: asOf, reader)
            let head = try reader.withEntry(end) { e in
                e.map { LogHead(seq: $0.seq, hash: Array($0.hash), recordedAtMicros: $0.recordedAtMicros) } ?? LogHead.empty
            }
            var entries: [TrailEntry] = []
            if fromLog || self.fromLog || { if case .actor = selector { true } else { false } }() {
                try Self.scanTrail(selector, through: end, at: at, reader, into: &entries)
                return (entries, head)
            }
            let stamp = try SubjectIndex.storedStamp(reader)
            // What was appended after the tables' stamp: each subject's latest entry, and new unit links.
            var tailLast: [String: UInt64] = [:]
            var tailLinked: [String] = []
            if stamp < end {
                try reader.forEach(after: stamp) { entry in
                    guard entry.seq <= end else { return false }
                    let subject = entry.subjectString
                    tailLast[subject] = entry.seq
                    if case .unit(let unit) = selector {
                        let event = try EventCodec.recorded(entry, reading: .forFolds).event
                        if event.time <= at, UnitLink.units(of: event).contains(unit) { tailLinked.append(subject) }
                    }
                    return entry.seq < end
                }
            }
            var subjects: [String] = []
            switch selector {
            case .subject(let subject): subjects = [subject]
            case .unit(let unit):
                let prefix = UnitLink.prefix(unit)
                try reader.forEach(index.links, from: prefix) { key, value in
                    guard key.starts(with: prefix) else { return false }
                    let link = try UnitLink(stored: value)
                    if link.seq <= end, link.time <= at.micros {
                        subjects.append(String(decoding: key.dropFirst(prefix.count), as: UTF8.self))
                    }
                    return true
                }
                subjects += tailLinked
                subjects = Array(Set(subjects))
            case .actor: break
            }
            for subject in subjects {
                var seq = tailLast[subject] ?? 0
                if seq == 0, let record = try SubjectIndex.stored(subject, in: index.subjects, reader), record.lastSeq <= stamp {
                    seq = record.lastSeq
                }
                var stream: [TrailEntry] = []
                while seq > 0 {
                    let previous: UInt64 = try reader.withEntry(seq) { entry in
                        guard let entry, entry.subject.sameBytes(as: subject) else {
                            throw LogDamage(seq: seq, problem: "the trail of \(subject) points here, to an entry of another stream")
                        }
                        if entry.seq <= end {
                            stream.append(TrailEntry(recorded: try EventCodec.recorded(entry), hash: Array(entry.hash), prevHash: nil,
                                                     recordedBy: entry.recordedByString))
                        }
                        guard entry.previous < seq else { throw LogDamage(seq: seq, problem: "the back-pointer does not point back") }
                        return entry.previous
                    }
                    seq = previous
                }
                entries += stream.reversed()
            }
            entries.sort { $0.recorded.seq < $1.recorded.seq }
            return (entries, head)
        }
    }

    /// The trail found by reading the log from the first entry to `end`: for a unit, once to learn which
    /// subjects concern it (by `at`), then for their events.
    private static func scanTrail(_ selector: AuditSelector, through end: UInt64, at: Timestamp, _ reader: borrowing LogReader,
                                  into entries: inout [TrailEntry]) throws {
        var concerned: Set<String> = []
        if case .unit(let unit) = selector {
            try reader.forEach(after: 0) { entry in
                guard entry.seq <= end else { return false }
                let event = try EventCodec.recorded(entry, reading: .forFolds).event
                if event.time <= at, UnitLink.units(of: event).contains(unit) { concerned.insert(event.subject) }
                return entry.seq < end
            }
        }
        try reader.forEach(after: 0) { entry in
            guard entry.seq <= end else { return false }
            let include: Bool
            switch selector {
            case .subject(let s): include = entry.subject.sameBytes(as: s)
            case .unit: include = concerned.contains(entry.subjectString)
            case .actor(let actor):
                let event = try EventCodec.recorded(entry, reading: .forFolds).event
                include = event.actor == actor
                if !include {
                    // The deadlines in force, for the flags of the actor's own events.
                    switch event.data {
                    case .problemAssigned, .deadlineExtended, .problemReopened:
                        entries.append(TrailEntry(recorded: try EventCodec.recorded(entry, reading: .forFolds), hash: [], prevHash: nil,
                                                  recordedBy: "", shown: false))
                    default: break
                    }
                }
            }
            if include {
                entries.append(TrailEntry(recorded: try EventCodec.recorded(entry), hash: Array(entry.hash), prevHash: nil,
                                          recordedBy: entry.recordedByString))
            }
            return entry.seq < end
        }
    }
}

extension Ledger {
    /// The latest event of `types` in `subject`'s stream, walking back from its latest event: for the
    /// pages that show why a fix was sent back.
    @available(*, noasync)
    public func latest(of types: Set<EventType>, in subject: String) throws -> RecordedEvent? {
        guard var seq = try record(of: subject)?.lastSeq else { return nil }
        return try log.read { reader -> RecordedEvent? in
            while seq > 0 {
                let (found, previous) = try reader.withEntry(seq) { entry -> (RecordedEvent?, UInt64) in
                    guard let entry, entry.previous < seq else { throw LogDamage(seq: seq, problem: "the back-pointer does not point back") }
                    if let type = EventCodec.type(of: entry.body), types.contains(type) { return (try EventCodec.recorded(entry), 0) }
                    return (nil, entry.previous)
                }
                if let found { return found }
                seq = previous
            }
            return nil
        }
    }
}
