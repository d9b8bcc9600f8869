import Campaign
import EventLog
import Foundation
import LMDB
import Projections

/// Takes the snapshots of a large append while it goes on, on a thread of its own: it restores the
/// projection of the log as it was before the append, then folds the appended events as the appending
/// thread hands them over, and gives back each snapshot as it is due, for the append to write in its own
/// transaction (kept only if the append commits). So a large append leaves its snapshots taken without
/// reading again what it wrote.
///
/// Its thread holds a read transaction only while it restores, and never while it waits: the appending
/// thread may wait for it while holding the write transaction.
final class AppendProjector: @unchecked Sendable {
    private let condition = NSCondition()
    private var input: [[(seq: UInt64, prepared: Prepared)]] = []
    private var ready: [(seq: UInt64, bytes: [UInt8])] = []
    private var inputDone = false
    private var finished = false
    private var cancelled = false
    private var failure: (any Error)?

    /// Starts restoring the projection of `log` up to `head` from `snapshots`.
    /// The append's clock: when every event it folds is recorded.
    private let recordedAt: Timestamp

    init(log: EventLog, snapshots: Snapshots, head: UInt64, recordedAt: Timestamp) {
        self.recordedAt = recordedAt
        Thread.detachNewThread { [self] in run(log: log, snapshots: snapshots, head: head) }
    }

    /// Hands over the next events stored (by their prepared form, shared, not copied), in seq order.
    func feed(_ events: [(seq: UInt64, prepared: Prepared)]) {
        guard !events.isEmpty else { return }
        condition.lock()
        while input.count >= 16 && !cancelled && !finished { condition.wait() }
        input.append(events)
        condition.broadcast()
        condition.unlock()
    }

    /// The snapshots made so far, taken out.
    func takeReady() -> [(seq: UInt64, bytes: [UInt8])] {
        condition.lock()
        defer { condition.unlock() }
        let out = ready
        ready = []
        return out
    }

    /// Waits for the last events to be folded. - Returns: the snapshots not taken yet.
    /// - Throws: what the thread met (a damaged store).
    func finish() throws -> [(seq: UInt64, bytes: [UInt8])] {
        condition.lock()
        inputDone = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
        if let failure { throw failure }
        return takeReady()
    }

    /// Stops the thread (the append did not commit).
    func cancel() {
        condition.lock()
        cancelled = true
        inputDone = true
        condition.broadcast()
        condition.unlock()
    }

    private func run(log: EventLog, snapshots: Snapshots, head: UInt64) {
        do {
            // From the last sound snapshot, the log up to the append folded through the maker: the next
            // delta holds what changed since that snapshot (and any snapshot missing meanwhile is taken).
            var caughtUp: [(seq: UInt64, bytes: [UInt8])] = []
            var maker: SnapshotMaker = try log.read { reader in
                var skipped: [UInt64] = []
                let stored = try snapshots.stored(upTo: head, reader)
                let projection = try snapshots.restore(upTo: head, before: Projection.endOfTime, reader, skipped: &skipped)
                let restored = projection.seq
                // Handed over, not copied: a second reference would make the fold's first change copy
                // every record of it (copy on write), into pages not asked as large ones.
                var maker = SnapshotMaker(snapshots, from: consume projection, stored: stored)
                if restored < head {
                    try reader.forEach(after: restored) { entry in
                        guard entry.seq <= head else { return false }
                        if let snapshot = maker.apply(try EventCodec.recorded(entry, reading: .forFolds)) { caughtUp.append(snapshot) }
                        return entry.seq < head
                    }
                }
                return maker
            }
            if !caughtUp.isEmpty {
                condition.lock()
                ready += caughtUp
                condition.unlock()
            }
            while true {
                condition.lock()
                while input.isEmpty && !inputDone { condition.wait() }
                if cancelled || input.isEmpty {
                    condition.unlock()
                    break
                }
                let chunk = input.removeFirst()
                condition.broadcast()
                condition.unlock()
                var made: [(seq: UInt64, bytes: [UInt8])] = []
                for (seq, prepared) in chunk {
                    if let snapshot = maker.apply(seq: seq, prepared.event, recordedAt: recordedAt) { made.append(snapshot) }
                }
                if !made.isEmpty {
                    condition.lock()
                    ready += made
                    condition.unlock()
                }
            }
        } catch {
            condition.lock()
            failure = error
            condition.unlock()
        }
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }
}
