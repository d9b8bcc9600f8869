import Campaign
import EventLog
import Foundation

/// Stored events decoded on a thread of their own and handed over in chunks, so that a long fold uses
/// both cores: one reads the map and decodes, the other folds. The decoding thread reads in a read
/// transaction of its own; it may see later appends, but stops at the seq it was given. The folding
/// thread must hold no transaction while it waits (a map grown by another process is adopted only when
/// no transaction of ours is open).
final class DecodedEvents: @unchecked Sendable {
    /// Events a chunk holds (by default), and chunks decoded ahead of the fold at most.
    static let chunkSize = 2048
    static let depth = 8

    private let condition = NSCondition()
    private var chunks: [[RecordedEvent]] = []
    private var finished = false
    private var failure: (any Error)?
    private var cancelled = false

    /// Starts decoding the events after seq `after` through seq `end`, their free text left out.
    init(log: EventLog, after: UInt64, through end: UInt64, chunkSize: Int = DecodedEvents.chunkSize) {
        Thread.detachNewThread { [self] in
            var chunk: [RecordedEvent] = []
            chunk.reserveCapacity(chunkSize)
            do {
                try log.read { reader in
                    try reader.forEachRecorded(after: after, through: end) { recorded in
                        chunk.append(recorded)
                        guard chunk.count >= chunkSize else { return true }
                        chunk.reverse()
                        guard put(chunk) else { return false }
                        chunk.removeAll(keepingCapacity: true)
                        return true
                    }
                }
                if !chunk.isEmpty {
                    chunk.reverse()
                    _ = put(chunk)
                }
                finish(nil)
            } catch {
                finish(error)  // LogDamage where an entry does not decode; LMDBError where the store failed
            }
        }
    }

    /// The next chunk in seq order, its events last first (the fold pops them off the end: each is
    /// moved out, not copied); nil when every event has been handed over.
    /// - Throws: what stopped the decoding thread: `LogDamage` where an entry does not decode,
    ///   `LMDBError` where the store failed.
    func next() throws -> [RecordedEvent]? {
        condition.lock()
        defer { condition.unlock() }
        while chunks.isEmpty && !finished { condition.wait() }
        if !chunks.isEmpty {
            condition.broadcast()
            return chunks.removeFirst()
        }
        if let failure { throw failure }
        return nil
    }

    /// Stops the decoding thread (the fold ended early).
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }

    /// Hands over a chunk, waiting while the fold is `depth` chunks behind; false once cancelled.
    private func put(_ chunk: [RecordedEvent]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while chunks.count >= Self.depth && !cancelled { condition.wait() }
        guard !cancelled else { return false }
        chunks.append(chunk)
        condition.broadcast()
        return true
    }

    private func finish(_ error: (any Error)?) {
        condition.lock()
        finished = true
        failure = error
        condition.broadcast()
        condition.unlock()
    }
}
