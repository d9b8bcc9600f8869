import Campaign
import EventLog
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

    /// A stored snapshot's header and size.
    struct Stored {
        var header: ProjectionSnapshot.Header
        var size: Int
    }

    /// The headers of the stored snapshots at or before `end`, in seq order; those that do not begin as
    /// snapshots are left out (and so is whatever rests on them).
    func stored(upTo end: UInt64 = .max, _ reader: borrowing LogReader) throws -> [Stored] {
        var found: [Stored] = []
        try reader.forEach(table) { key, value in
            guard key.count == 8 else { return true }
            let seq = UInt64(bigEndianBytes: key)
            guard seq <= end else { return false }
            if let header = try? ProjectionSnapshot.header(value), header.seq == seq { found.append(Stored(header: header, size: value.count)) }
            return true
        }
        return found
    }

    /// The projection restored from the latest sound snapshot at or before `end` that holds no event after
    /// `at` (all of them when `at` is the end of time), judged at the end of time; an empty one when there
    /// is none. `skipped` names the snapshots found damaged on the way, which are passed over.
    func restore(upTo end: UInt64, before at: Timestamp, _ reader: borrowing LogReader,
                 skipped: inout [UInt64]) throws -> Projection {
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
            for seq in chain.reversed() {
                let ok = try reader.withValue(table, seq.bigEndianBytes) { value -> Bool in
                    guard let value else { return false }
                    do { try ProjectionSnapshot.apply(value, to: &projection) } catch { return false }
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
    init(_ snapshots: Snapshots, from projection: Projection, stored: [Snapshots.Stored]) {
        self.snapshots = snapshots
        var projection = projection
        projection.startNoting()
        self.projection = projection
        self.stored = stored.filter { $0.header.seq <= projection.seq }
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
