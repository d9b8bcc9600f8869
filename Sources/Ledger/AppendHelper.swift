import Campaign
import Dispatch
import EventLog
import Foundation

/// What an event of an append needs that no state does: its stored bytes, and whether it is well
/// formed (`Rules.checkWellFormed`).
struct Prepared {
    var body: [UInt8]
    var malformed: Refusal?

    init(_ event: Event) {
        body = StoredEvent.encode(event)
        do { try Rules.checkWellFormed(event) } catch { malformed = error }
    }
}

/// The second core's share of a large append, done in order on a queue of its own, chunk by chunk:
/// first every event prepared (encoded, checked for form) ahead of the rules, which take them three
/// times slower; then the entries of the events the rules staged, made and chained ahead of the writes,
/// each chunk as it is handed over. The appending thread keeps the rules' state and the transaction;
/// this touches neither.
final class AppendHelper: @unchecked Sendable {
    /// An event the rules accepted, to be stored at the next seq; `line` is its line in the input.
    struct Staged {
        var line: Int
        var id: String
        var subject: String
        var version: UInt64
        var body: [UInt8]
    }

    private let queue = DispatchQueue(label: "civic.append")
    private let condition = NSCondition()
    private var prepared: [[Prepared]] = []  // chunks ready and not yet taken, in order
    private var chained: [[ChainedEntry]] = []
    private var cancelled = false
    private var last: (seq: UInt64, hash: [UInt8])  // of the last entry chained (used on the queue only)

    /// Starts preparing `incoming`, `chunkSize` events a chunk, for an append after `head`.
    init(_ incoming: [Incoming], chunkSize: Int, after head: LogHead) {
        last = (head.seq, head.hash)
        for start in stride(from: incoming.startIndex, to: incoming.endIndex, by: max(chunkSize, 1)) {
            let end = min(start + max(chunkSize, 1), incoming.endIndex)
            queue.async { [self] in
                guard !isCancelled else { return }
                let chunk = incoming[start..<end].map { Prepared($0.event) }
                hand { $0.prepared.append(chunk) }
            }
        }
    }

    /// The next chunk of prepared events, in order. Ask no more often than there are chunks.
    func nextPrepared() -> [Prepared] { take { $0.prepared.isEmpty ? nil : $0.prepared.removeFirst() } }

    /// Hands over `staged` events, which follow the ones handed over before, to be chained.
    func chain(_ staged: [Staged], recordedAtMicros: Int64) {
        queue.async { [self] in
            guard !isCancelled else { return }
            var entries: [ChainedEntry] = []
            entries.reserveCapacity(staged.count)
            for event in staged {
                let entry = ChainedEntry(seq: last.seq + 1, version: event.version, recordedAtMicros: recordedAtMicros,
                                         id: event.id, subject: event.subject, body: event.body, after: last.hash)
                last = (entry.seq, entry.hash)
                entries.append(entry)
            }
            hand { $0.chained.append(entries) }
        }
    }

    /// The entries of the next chunk handed to `chain`, in order. Ask no more often than chunks were
    /// handed over.
    func nextChained() -> [ChainedEntry] { take { $0.chained.isEmpty ? nil : $0.chained.removeFirst() } }

    /// Stops the work not yet begun (the append ended early or is done).
    func cancel() {
        condition.lock()
        cancelled = true
        condition.unlock()
    }

    private var isCancelled: Bool {
        condition.lock()
        defer { condition.unlock() }
        return cancelled
    }

    private func hand(_ put: (AppendHelper) -> Void) {
        condition.lock()
        put(self)
        condition.broadcast()
        condition.unlock()
    }

    private func take<T>(_ next: (AppendHelper) -> T?) -> T {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let found = next(self) { return found }
            condition.wait()
        }
    }
}
