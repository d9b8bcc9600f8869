import Crypto
import Foundation
import Transparency
import Wire

extension EventLog {
    /// Re-reads every stored byte of the log: keys gapless from 1, each entry decodable with its own seq,
    /// the hash chain, the store's clock never going backwards, each stream's versions and back-pointers,
    /// and the id index both ways. The log is cut into `parts` stretches checked at once, one a thread:
    /// every link of the chain holds by itself (the hash of the entry before is stored), and what joins
    /// the stretches (versions, back-pointers, the clock) is checked after.
    ///
    /// Each stretch reads in a read transaction of its own, and no thread waits for another while it
    /// holds one. Logs shorter than `smallestPart` × 2 are read as one stretch.
    /// - Returns: the head, when everything holds.
    /// - Throws: `LogDamage` naming the first seq that does not hold; `LMDBError` when reading fails.
    /// `check` is asked of every entry (on the thread of its stretch) whether its body holds; it returns a
    /// problem or nil.
    @available(*, noasync)
    public func verifyLog(parts: Int = 2, smallestPart: UInt64 = 50_000,
                          check: @escaping @Sendable (EntryView) -> String? = { _ in nil }) throws -> LogHead {
        let count = UInt64(try read { try $0.count() })
        guard count > 0 else { return try verifyLog(visit: check) }
        let parts = Int(min(UInt64(max(1, parts)), max(1, count / max(smallestPart, 1))))
        let size = (count + UInt64(parts) - 1) / UInt64(parts)
        let ranges = stride(from: 1, through: count, by: Int(size)).map { first in first...min(count, first + size - 1) }
        let others = Handover<Result<LogStretch, any Error>>()
        let group = DispatchGroup()
        for (k, seqs) in ranges.enumerated().dropFirst() {
            DispatchQueue.global().async(group: group) {
                // Later appends may be seen; a stretch reads only up to `count`.
                others.put(k, Result { try self.read { try LogStretch($0, seqs: seqs, checkingStreams: true, visit: check) } })
            }
        }
        let first = Result { try read { try LogStretch($0, seqs: ranges[0], checkingStreams: true, visit: check) } }
        group.wait()
        var stretches = [try first.get()]
        for k in 1..<ranges.count { stretches.append(try others.take(k).get()) }
        // The first damage in seq order: a stretch's own, or where it fails to join the ones before.
        var streams: [String: (version: UInt64, seq: UInt64)] = [:]
        var lastClock = Int64.min
        var damage: LogDamage?
        for (k, stretch) in stretches.enumerated() {
            damage = Self.damage { try stretch.join(&streams, lastClock: lastClock, isLast: k == stretches.count - 1) }
            if damage != nil { break }
            lastClock = stretch.lastClock
        }
        return try read { reader in
            try Self.throwFirst(damage, Self.idIndexDamage(reader, stretches: stretches, count: count,
                                                           before: damage?.seq ?? .max))
            return try reader.withEntry(count) { entry in
                entry.map { LogHead(seq: $0.seq, hash: Array($0.hash), recordedAtMicros: $0.recordedAtMicros) } ?? LogHead.empty
            }
        }
    }

    /// `verifyLog` in one stretch, in seq order on this thread, handing each entry that holds to `visit`
    /// (after `prepare` has read what it needs from the same snapshot of the store),
    /// which checks what the layer above derives from it and returns a problem or nil. With
    /// `checkingStreams` false, versions and back-pointers are left to `visit` (a fold that keeps each
    /// stream's last version and seq anyway checks them for nothing).
    /// - Returns: the head of the log as read.
    /// - Throws: `LogDamage` naming the first seq that does not hold (the log's own, or `visit`'s).
    @available(*, noasync)
    public func verifyLog(checkingStreams: Bool = true, visit: (EntryView) throws -> String?,
                          prepare: (borrowing LogReader) throws -> Void = { _ in }) throws -> LogHead {
        try read { reader in
            try prepare(reader)
            let count = UInt64(try reader.count())
            guard count > 0 else {
                try Self.throwFirst(nil, Self.idIndexDamage(reader, stretches: [], count: 0, before: .max))
                return LogHead.empty
            }
            let stretch = try LogStretch(reader, seqs: 1...count, checkingStreams: checkingStreams, visit: visit)
            let damage = Self.damage { try stretch.conclude() }
            try Self.throwFirst(damage, Self.idIndexDamage(reader, stretches: [stretch], count: count,
                                                           before: damage?.seq ?? .max))
            return try reader.withEntry(count) { entry in
                entry.map { LogHead(seq: $0.seq, hash: Array($0.hash), recordedAtMicros: $0.recordedAtMicros) } ?? LogHead.empty
            }
        }
    }

    /// The first damage in seq order of `stretches`, read one after another from seq 1 up to the head:
    /// a stretch's own, or where it fails to join the ones before (the clock; with `checkingStreams`,
    /// each stream's versions and back-pointers).
    public static func firstDamage(joining stretches: [LogStretch]) -> LogDamage? {
        var streams: [String: (version: UInt64, seq: UInt64)] = [:]
        var lastClock = Int64.min
        for (k, stretch) in stretches.enumerated() {
            if let damage = Self.damage({ try stretch.join(&streams, lastClock: lastClock, isLast: k == stretches.count - 1) }) {
                return damage
            }
            if stretch.lastClock != .min { lastClock = stretch.lastClock }
        }
        return nil
    }

    /// The first damage of the id index (`idIndexDamage(_:stretches:count:before:)`) and of `found`.
    public static func firstDamage(_ found: LogDamage?, idIndexOf reader: borrowing LogReader, stretches: [LogStretch], count: UInt64) throws -> LogDamage? {
        let index = try idIndexDamage(reader, stretches: stretches, count: count, before: found?.seq ?? .max)
        switch (found, index) {
        case (let a?, let b?): return b.seq < a.seq ? b : a
        case (let a, let b): return a ?? b
        }
    }

    private static func damage(_ body: () throws -> Void) -> LogDamage? {
        do { try body(); return nil } catch { return error as? LogDamage ?? LogDamage(seq: 0, problem: "\(error)") }
    }

    private static func throwFirst(_ a: LogDamage?, _ b: LogDamage?) throws {
        switch (a, b) {
        case (let a?, let b?): throw b.seq < a.seq ? b : a
        case (let a?, nil): throw a
        case (nil, let b?): throw b
        case (nil, nil): return
        }
    }

    /// The id index both ways: every seq below `before` is named by its own id, and (when the log was
    /// read whole) the index names nothing else. Ids are compared byte for byte with those the stretches
    /// copied. The index may hold the ids of later appends (a later snapshot): those are looked up.
    /// - Returns: the damage at the first seq that does not hold, or nil.
    private static func idIndexDamage(_ reader: borrowing LogReader, stretches: [LogStretch], count: UInt64,
                                      before: UInt64) throws -> LogDamage? {
        var named = [Bool](repeating: false, count: Int(count))
        var ghost: String?
        try reader.forEachID { id, seq in
            if seq >= 1, seq <= count, let stretch = stretches.first(where: { $0.seqs.contains(seq) }) {
                switch stretch.hasID(id, at: seq) {
                case true?: named[Int(seq - 1)] = true
                case false?: if ghost == nil { ghost = String(decoding: id, as: UTF8.self) }
                case nil: break  // past the damage its stretch stopped at
                }
            } else if seq > count, try reader.withEntry(seq, { $0.map { $0.id.elementsEqual(id) } ?? false }) {
                // appended after the stretches were read
            } else if ghost == nil {
                ghost = String(decoding: id, as: UTF8.self)
            }
            return true
        }
        if let missing = named.firstIndex(of: false), UInt64(missing) + 1 < before,
           let stretch = stretches.first(where: { $0.seqs.contains(UInt64(missing) + 1) }) {
            let seq = UInt64(missing) + 1
            return LogDamage(seq: seq, problem: "id index does not point \(stretch.id(at: seq)) to this seq")
        }
        if before == .max, let ghost { return LogDamage(seq: count + 1, problem: "id index holds \(ghost), which no entry has") }
        return nil
    }
}

/// One stretch of the log, checked entry by entry: keys, decoding, each link of the chain, the clock,
/// and (when it checks streams) each stream's versions and back-pointers within it; with what it takes to
/// join it to the stretches before (each subject's first and last entry in it, the clock at its ends)
/// and a copy of each entry's id for the id index.
public struct LogStretch: Sendable {
    public let seqs: ClosedRange<UInt64>
    /// The first damage found inside it (the scan stops there).
    public internal(set) var damage: LogDamage?
    public internal(set) var firstClock = Int64.min
    public internal(set) var lastClock = Int64.min
    /// Per subject: its first entry here (version, back-pointer, seq), and its last (version, seq).
    var streams: [String: (firstVersion: UInt64, firstPrevious: UInt64, firstSeq: UInt64, lastVersion: UInt64, lastSeq: UInt64)] = [:]
    /// With `hashingLeaves`, its leaves of the Merkle tree and the nodes wholly inside it (nil when it
    /// stopped at damage).
    public internal(set) var nodes: StretchNodes?
    /// The ids of its entries, one after another, and where each ends.
    private var ids: [UInt8] = []
    private var idEnds: [Int] = []

    /// Checks the entries of `seqs`, handing each that holds to `visit`, which checks what is derived
    /// from it and returns a problem or nil (the scan stops at the first damage, which it keeps). With
    /// `hashingLeaves`, also hashes each entry's leaf of the Merkle tree from the bytes just read, and
    /// the nodes they make (`nodes`).
    public init(_ reader: borrowing LogReader, seqs: ClosedRange<UInt64>, checkingStreams: Bool, hashingLeaves: Bool = false,
                visit: (EntryView) throws -> String?) throws {
        self.seqs = seqs
        idEnds.reserveCapacity(seqs.count)
        ids.reserveCapacity(seqs.count * 24)
        var leaves = [UInt8](repeating: 0, count: hashingLeaves ? seqs.count * 32 : 0)
        var previous = EventLog.genesisHash
        if seqs.lowerBound > 1 {
            previous = try reader.withEntry(seqs.lowerBound - 1) { $0.map { Array($0.hash) } } ?? []
            guard previous.count == 32 else {
                damage = LogDamage(seq: seqs.lowerBound - 1, problem: "missing")
                return
            }
        }
        var expected = seqs.lowerBound
        let last = seqs.upperBound
        do {
            try previous.withUnsafeBytes { genesis in
                var prev = genesis
                try reader.forEachStored(after: seqs.lowerBound - 1) { key, value in
                    guard key.count == 8 else { throw LogDamage(seq: expected, problem: "key of \(key.count) bytes") }
                    let seq = UInt64(bigEndianBytes: key)
                    guard seq == expected else {
                        throw LogDamage(seq: expected, problem: "missing: the next stored seq is \(seq)")
                    }
                    let entry = try LogReader.view(value, seq: seq)
                    guard entry.seq == seq else {
                        throw LogDamage(seq: seq, problem: "entry stored under seq \(seq) says seq \(entry.seq)")
                    }
                    var hasher = SHA256()
                    hasher.update(bufferPointer: prev)
                    hasher.update(bufferPointer: entry.entryBytes)
                    let computed = hasher.finalize()
                    guard computed.withUnsafeBytes({ $0.sameBytes(as: entry.hash) }) else {
                        throw LogDamage(seq: seq, problem: "hash mismatch: stored \(entry.hash.hex), computed \(Array(computed).hex)")
                    }
                    guard entry.recordedAtMicros >= lastClock else {
                        throw LogDamage(seq: seq, problem: "recordedat goes backwards")
                    }
                    guard entry.previous < seq, entry.version >= 1 else {
                        throw LogDamage(seq: seq, problem: "version \(entry.version), back-pointer \(entry.previous): not a place in a stream")
                    }
                    if firstClock == .min { firstClock = entry.recordedAtMicros }
                    if checkingStreams { try note(entry, at: seq) }
                    ids.append(contentsOf: entry.id)
                    idEnds.append(ids.count)
                    if hashingLeaves {
                        leaves.withUnsafeMutableBytes { Merkle.leafHash(entry.entryBytes, into: $0.baseAddress! + Int(seq - seqs.lowerBound) * 32) }
                    }
                    if let problem = try visit(entry) { throw LogDamage(seq: seq, problem: problem) }
                    prev = entry.hash
                    lastClock = entry.recordedAtMicros
                    expected += 1
                    return seq < last
                }
            }
        } catch let found as LogDamage {
            damage = found
        }
        if damage == nil, expected <= last { damage = LogDamage(seq: expected, problem: "missing") }
        if hashingLeaves, damage == nil { nodes = StretchNodes(start: seqs.lowerBound - 1, leaves: leaves) }
    }

    /// Takes the entry at `seq` into its stream: the version after the last one here, pointing back to it.
    private mutating func note(_ entry: EntryView, at seq: UInt64) throws {
        let subject = entry.subjectString
        if let known = streams.index(forKey: subject) {
            let before = streams.values[known]
            guard entry.version == before.lastVersion + 1, entry.previous == before.lastSeq else {
                throw LogDamage.misplaced(seq, subject, entry.version, entry.previous, after: (before.lastVersion, before.lastSeq))
            }
            streams.values[known].lastVersion = entry.version
            streams.values[known].lastSeq = seq
        } else {
            streams[subject] = (entry.version, entry.previous, seq, entry.version, seq)
        }
    }

    /// Throws the first damage of a log read as one stretch from seq 1: its own, or a subject whose
    /// stream does not begin at version 1 with no entry before it.
    func conclude() throws {
        var first = damage
        for (subject, s) in streams where (s.firstVersion != 1 || s.firstPrevious != 0) && s.firstSeq < first?.seq ?? .max {
            first = LogDamage.misplaced(s.firstSeq, subject, s.firstVersion, s.firstPrevious, after: (0, 0))
        }
        if let first { throw first }
    }

    /// Checks that this stretch continues the ones before it (each stream's last version and seq, and
    /// the clock, are given), then takes its own streams' last entries in. Throws the first damage in seq order.
    func join(_ known: inout [String: (version: UInt64, seq: UInt64)], lastClock before: Int64, isLast: Bool) throws {
        if seqs.lowerBound == 1 {
            try conclude()
            if !isLast { known = streams.mapValues { ($0.lastVersion, $0.lastSeq) } }
            return
        }
        var first: LogDamage? = damage
        func note(_ found: LogDamage) { if first.map({ found.seq < $0.seq }) ?? true { first = found } }
        if firstClock != .min, firstClock < before {
            note(LogDamage(seq: seqs.lowerBound, problem: "recordedat goes backwards"))
        }
        for (subject, s) in streams {
            let expected = known[subject] ?? (0, 0)
            if s.firstVersion != expected.version + 1 || s.firstPrevious != expected.seq {
                note(LogDamage.misplaced(s.firstSeq, subject, s.firstVersion, s.firstPrevious, after: expected))
            }
            if !isLast { known[subject] = (s.lastVersion, s.lastSeq) }
        }
        if let first { throw first }
    }

    /// Whether the entry at `seq` (in this stretch) has the id `id`; nil when the stretch stopped before it.
    func hasID(_ id: UnsafeRawBufferPointer, at seq: UInt64) -> Bool? {
        let k = Int(seq - seqs.lowerBound)
        guard k < idEnds.count else { return nil }
        let start = k == 0 ? 0 : idEnds[k - 1]
        return ids[start..<idEnds[k]].elementsEqual(id)
    }

    /// The id of the entry at `seq`, as this stretch copied it.
    func id(at seq: UInt64) -> String {
        let k = Int(seq - seqs.lowerBound)
        guard k < idEnds.count else { return "?" }
        return String(decoding: ids[(k == 0 ? 0 : idEnds[k - 1])..<idEnds[k]], as: UTF8.self)
    }
}

/// Results handed from worker threads to the one that waits for them, by number.
final class Handover<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int: Value] = [:]
    func put(_ k: Int, _ value: Value) { lock.withLock { values[k] = value } }
    func take(_ k: Int) -> Value { lock.withLock { values.removeValue(forKey: k)! } }
    func takeIfAny(_ k: Int) -> Value? { lock.withLock { values.removeValue(forKey: k) } }
}

extension LogDamage {
    /// An entry out of its place in its stream: what it says, and what the entries before it make it.
    public static func misplaced(_ seq: UInt64, _ subject: String, _ version: UInt64, _ previous: UInt64,
                                 after: (version: UInt64, seq: UInt64)) -> LogDamage {
        LogDamage(seq: seq, problem: "version \(version) of \(subject) pointing back to seq \(previous), "
                  + "expected version \(after.version + 1) pointing back to seq \(after.seq)")
    }
}

extension EventLog {
    /// Checks what was appended after `verified` (a head this process verified before), as `verifyLog`
    /// checks the whole log: the entry at `verified` still has its hash, then each entry after it its
    /// key, its decoding, its link of the chain, the clock, its place in its stream (the entry it points
    /// back to is of its subject, one version before), and the id index's look-up of its id. What was
    /// verified once is not read again: a server answers "does the log still verify" in the time of
    /// what was appended since (docs/server.md, "Verify").
    /// - Returns: the new head. - Throws: `LogDamage` at the first seq that does not hold.
    @available(*, noasync)
    public func verifyLog(continuing verified: LogHead, check: (EntryView) -> String? = { _ in nil }) throws -> LogHead {
        try read { reader in
            let count = UInt64(try reader.count())
            if verified.seq > 0 {
                let same = try reader.withEntry(verified.seq) { $0.map { Array($0.hash) == verified.hash } }
                guard same == true else { throw LogDamage(seq: verified.seq, problem: "no longer the entry that was verified (its hash changed)") }
            }
            guard count > verified.seq else {
                guard count == verified.seq else { throw LogDamage(seq: count + 1, problem: "missing: the log is shorter than when it was verified") }
                return verified
            }
            let stretch = try LogStretch(reader, seqs: (verified.seq + 1)...count, checkingStreams: false) { entry in
                if let problem = check(entry) { return problem }
                if entry.previous == 0 {
                    guard entry.version == 1 else { return "version \(entry.version) of \(entry.subjectString) pointing back to no entry" }
                } else {
                    let fits = try reader.withEntry(entry.previous) { before in
                        before.map { $0.subject.sameBytes(as: entry.subject) && $0.version + 1 == entry.version } ?? false
                    }
                    guard fits else {
                        return "version \(entry.version) of \(entry.subjectString) points back to seq \(entry.previous), which is not its version before"
                    }
                }
                guard try reader.seq(ofID: entry.idString) == entry.seq else { return "id index does not point \(entry.idString) to this seq" }
                return nil
            }
            if let damage = stretch.damage { throw damage }
            if stretch.firstClock < verified.recordedAtMicros {
                throw LogDamage(seq: verified.seq + 1, problem: "recordedat goes backwards")
            }
            return try reader.withEntry(count) { e in
                e.map { LogHead(seq: $0.seq, hash: Array($0.hash), recordedAtMicros: $0.recordedAtMicros) } ?? LogHead.empty
            }
        }
    }
}
