import Campaign
import EventLog
import Foundation
import Projections

/// The snapshots of the projection kept in the derived table `snapshots`, one every `interval` seqs: a
/// whole one now and then, and between them only what changed since the one before (a delta), so that
/// they take room in proportion to the log, not to its square (docs/storage.md, "Snapshots").
///
/// A whole snapshot is taken when the deltas since the last whole one add up to its size: the whole ones
/// then take no more room than the deltas, and restoring any snapshot reads at most twice a whole one.
struct Snapshots {
    let table: DerivedTable?
    let interval: UInt64
    /// The size of the parts a snapshot is written in by `write(_:_:into:inParts:)`.
    var partBytes = 1 << 20

    /// A stored snapshot's header and size.
    struct Stored {
        var header: ProjectionSnapshot.Header
        var size: Int
    }

    /// The key of part `k` (1, 2, …) of the snapshot at `seq`: the seq and k, big-endian. The snapshot's
    /// first part is under the seq alone, so its parts sort right after it and before the next seq.
    static func partKey(_ seq: UInt64, _ k: UInt32) -> [UInt8] {
        seq.bigEndianBytes + withUnsafeBytes(of: k.bigEndian) { Array($0) }
    }

    /// Whether `key` is that of a part (after the first) of a snapshot; its seq and part number.
    static func part(_ key: UnsafeRawBufferPointer) -> (seq: UInt64, k: UInt32)? {
        guard key.count == 12 else { return nil }
        let k = UInt32(key[8]) << 24 | UInt32(key[9]) << 16 | UInt32(key[10]) << 8 | UInt32(key[11])
        return k == 0 ? nil : (UInt64(bigEndianBytes: UnsafeRawBufferPointer(rebasing: key[..<8])), k)
    }

    /// The headers of the stored snapshots at or before `end`, in seq order, with their sizes (their
    /// parts counted in); those that do not begin as snapshots are left out (and so is whatever rests on them).
    func stored(upTo end: UInt64 = .max, _ reader: borrowing LogReader) throws -> [Stored] {
        var found: [Stored] = []
        try reader.forEach(table) { key, value in
            if let part = Self.part(key) {
                if part.seq == found.last?.header.seq { found[found.count - 1].size += value.count }
                return true
            }
            guard key.count == 8 else { return true }
            let seq = UInt64(bigEndianBytes: key)
            guard seq <= end else { return false }
            if let header = try? ProjectionSnapshot.header(value), header.seq == seq { found.append(Stored(header: header, size: value.count)) }
            return true
        }
        return found
    }

    /// Calls `body` with the bytes of the snapshot stored at `seq` (nil: none): in place when it is one
    /// value, else its first part and the parts after it put together in order (a part missing makes
    /// bytes whose checksum fails, so the snapshot reads as damaged).
    func withSnapshot<R>(_ seq: UInt64, _ reader: borrowing LogReader, _ body: (UnsafeRawBufferPointer?) throws -> R) throws -> R {
        var rest: [UInt8]?
        var expected: UInt32 = 1
        try reader.forEach(table, from: Self.partKey(seq, 1)) { key, value in
            guard let part = Self.part(key), part.seq == seq, part.k == expected else { return false }
            expected += 1
            if rest == nil { rest = [] }
            rest!.append(contentsOf: value)
            return true
        }
        guard let rest else { return try reader.withValue(table, seq.bigEndianBytes, body) }
        return try reader.withValue(table, seq.bigEndianBytes) { first in
            guard let first else { return try body(nil) }
            var whole = [UInt8]()
            whole.reserveCapacity(first.count + rest.count)
            whole.append(contentsOf: first)
            whole.append(contentsOf: rest)
            return try whole.withUnsafeBytes { try body($0) }
        }
    }

    /// Writes the snapshot `bytes` at `seq` inside `writer`'s transaction, in one value, removing the parts
    /// of an earlier write of the same seq that did not finish.
    func put(_ seq: UInt64, _ bytes: [UInt8], _ writer: inout LogWriter) throws {
        guard let table else { return }
        try removeParts(of: seq, &writer)
        try writer.put(table, seq.bigEndianBytes, bytes)
    }

    /// Writes the snapshot `bytes` at `seq`. `inParts`: a large one goes in parts of `partBytes`, each in a
    /// write transaction of its own and the first part last, so that the snapshot appears whole or not at
    /// all, and the writer lock is never held for the whole of it: a request of the writable server waits
    /// behind one part (a millisecond or two), not behind tens of megabytes (docs/storage.md,
    /// "Snapshots in parts"). Parts of a write cut short are derived data nobody reads; the next write of
    /// that seq removes them.
    func write(_ seq: UInt64, _ bytes: [UInt8], into log: EventLog, inParts: Bool) throws {
        guard let table else { return }
        guard inParts, bytes.count > partBytes else {
            return try log.write { writer in try put(seq, bytes, &writer); return .commit(()) }
        }
        let starts = Array(stride(from: 0, to: bytes.count, by: partBytes))
        for (k, start) in starts.enumerated().dropFirst() {
            try log.write { writer in
                if k == 1 {
                    try writer.delete(table, seq.bigEndianBytes)
                    try removeParts(of: seq, &writer)
                }
                try writer.put(table, Self.partKey(seq, UInt32(k)), bytes[start..<min(start + partBytes, bytes.count)])
                return .commit(())
            }
            Thread.sleep(forTimeInterval: 0.001)  // the lock goes to a commit waiting for it, not back to this thread
        }
        try log.write { writer in
            try writer.put(table, seq.bigEndianBytes, bytes[..<partBytes])
            return .commit(())
        }
    }

    private func removeParts(of seq: UInt64, _ writer: inout LogWriter) throws {
        guard let table else { return }
        var keys: [[UInt8]] = []
        try writer.read.forEach(table, from: Self.partKey(seq, 1)) { key, _ in
            guard let part = Self.part(key), part.seq == seq else { return false }
            keys.append(Array(key))
            return true
        }
        for key in keys { try writer.delete(table, key) }
    }

    /// The projection restored from the latest sound snapshot at or before `end` that holds no event after
    /// `at` (all of them when `at` is the end of time), judged at the end of time; an empty one when there
    /// is none. `skipped` names the snapshots found damaged on the way, which are passed over. Without
    /// `weeks`, the weekly counts are left out (`Projection.keepsWeeks`).
    func restore(upTo end: UInt64, before at: Timestamp, _ reader: borrowing LogReader,
                 skipped: inout [UInt64], weeks: Bool = true) throws -> Projection {
        let all = try stored(upTo: end, reader)
        var bySeq: [UInt64: Stored] = [:]
        for s in all { bySeq[s.header.seq] = s }
        var bad: Set<UInt64> = []
        for candidate in all.reversed() {
            guard at == Projection.endOfTime || candidate.header.latestTime.map({ $0 <= at }) ?? true else { continue }
            // The chain back to a whole snapshot, then forward.
            var chain: [UInt64] = []
            var seq = candidate.header.seq
            var broken = false
            while true {
                guard !bad.contains(seq), let s = bySeq[seq] else { broken = true; break }
                chain.append(seq)
                if s.header.isFull { break }
                seq = s.header.base
            }
            if broken { continue }
            var projection = Projection(at: Projection.endOfTime)
            var sound = true
            var deltas = chain.dropLast().reduce(0) { $0 + bySeq[$1]!.size }
            for seq in chain.reversed() {
                let ok = try withSnapshot(seq, reader) { value -> Bool in
                    guard let value else { return false }
                    do { try ProjectionSnapshot.apply(value, to: &projection, weeks: weeks, room: deltas) } catch { return false }
                    deltas = 0
                    return true
                }
                if !ok {
                    bad.insert(seq)
                    skipped.append(seq)
                    sound = false
                    break
                }
            }
            if sound { return projection }
        }
        return Projection(at: Projection.endOfTime)
    }

    /// Where a fold after seq `from` up to `end` may skip a whole block of the log: those between two
    /// snapshots whose events all lie after `at`, with the latest business time up to the block's end.
    func skippable(after from: UInt64, upTo end: UInt64, at: Timestamp, _ reader: borrowing LogReader)
        throws -> [(seqs: ClosedRange<UInt64>, latest: Timestamp?)] {
        guard at != Projection.endOfTime else { return [] }
        return try stored(upTo: end, reader).compactMap { s in
            guard s.header.blockStart >= from, let earliest = s.header.earliestInBlock, earliest > at else { return nil }
            return ((s.header.blockStart + 1)...s.header.seq, s.header.latestTime)
        }
    }

    /// Decides, for the snapshot to take at `seq` after those `stored`, whether it is to be whole.
    func isWholeDue(after stored: [Stored]) -> Bool {
        guard let lastWhole = stored.lastIndex(where: { $0.header.isFull }) else { return true }
        let deltas = stored[(lastWhole + 1)...].reduce(0) { $0 + $1.size }
        return deltas >= stored[lastWhole].size
    }
}

/// Takes snapshots while a fold goes on: fed every event in seq order from a stored snapshot (or the
/// start), it gives the bytes of a snapshot at each multiple of the interval.
struct SnapshotMaker {
    let snapshots: Snapshots
    private(set) var projection: Projection
    /// The snapshots stored so far (headers and sizes), the ones this maker made included.
    private(set) var stored: [Snapshots.Stored]

    /// A maker that continues from `projection` (restored from a stored snapshot, or empty), among the
    /// snapshots `stored`: those after the projection's seq (damaged ones, or resting on one) are taken again.
    init(_ snapshots: Snapshots, from projection: consuming Projection, stored: [Snapshots.Stored]) {
        self.snapshots = snapshots
        projection.startNoting()
        let seq = projection.seq
        self.projection = projection
        self.stored = stored.filter { $0.header.seq <= seq }
    }

    /// The seq of the last snapshot stored.
    var last: UInt64 { stored.last?.header.seq ?? 0 }

    /// Folds `recorded`; returns the snapshot to store when its seq is a multiple of the interval.
    mutating func apply(_ recorded: RecordedEvent) -> (seq: UInt64, bytes: [UInt8])? {
        apply(seq: recorded.seq, recorded.event, recordedAt: recorded.recordedAt)
    }

    /// Folds the event stored at `seq`, recorded at `recordedAt`; returns the snapshot to store when `seq`
    /// is a multiple of the interval.
    mutating func apply(seq: UInt64, _ event: borrowing Event, recordedAt: Timestamp) -> (seq: UInt64, bytes: [UInt8])? {
        projection.apply(seq: seq, event, recordedAt: recordedAt)
        guard seq % snapshots.interval == 0, seq > last else { return nil }
        let whole = snapshots.isWholeDue(after: stored)
        let bytes = ProjectionSnapshot.take(&projection, base: whole ? nil : last, blockStart: last)
        let header = try! ProjectionSnapshot.header(bytes.withUnsafeBytes { $0 })
        stored.append(Snapshots.Stored(header: header, size: bytes.count))
        return (seq, bytes)
    }
}
