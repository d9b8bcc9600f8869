import Dispatch
import Foundation
import Ledger

/// Commits the writes of concurrent requests together (docs/server.md, "Writing"): requests wait in a
/// queue; one thread of its own takes all that are waiting (up to `most` events), appends them in one
/// durable transaction, each request in a nested transaction of its own, and answers each once the
/// transaction has committed. While it commits, the next requests gather: the busier the server, the
/// more requests share one disk sync.
final class GroupCommit: @unchecked Sendable {
    typealias Outcome = Result<Committed, any Error>

    /// A request's events stored, and how long the durable commit that stored them took (the commit of
    /// its group: from the start of the transaction to the disk's acknowledgement).
    struct Committed {
        var report: AppendReport
        var commitSeconds: Double
    }

    private struct Waiting {
        var events: [Incoming]
        var recordedBy: String
        var answer: @Sendable (Outcome) -> Void
    }

    private let ledger: Ledger
    private let most: Int
    private let condition = NSCondition()
    private var queue: [Waiting] = []
    /// Commits under way: the thread's, and a lone request's committed where it came (`alone`).
    private var committing = 0
    /// How many requests each commit took, for the tests and the log.
    private(set) var groups: [Int] = []

    /// Wakes the thread that takes the snapshots commits made due.
    private let snapshotsDue = NSCondition()
    private var snapshotsPoked = false

    init(ledger: Ledger, most: Int = 10_000) {
        self.ledger = ledger
        self.most = most
        let thread = Thread { [self] in run() }
        thread.name = "civic-group-commit"
        thread.start()
        let snapshotter = Thread { [self] in takeSnapshots() }
        snapshotter.name = "civic-snapshots"
        snapshotter.start()
    }

    /// Takes the snapshots that commits left due, on a thread of its own: the commits go on meanwhile.
    /// The thread yields the processor to the requests' threads (nice 10, as the heavy lane): its restore
    /// and fold are maintenance, and on two cores they took the time the requests needed.
    private func takeSnapshots() {
        // On Linux, setpriority of "the calling process" (0) is that of the calling thread alone.
        setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
        while true {
            snapshotsDue.lock()
            while !snapshotsPoked { snapshotsDue.wait() }
            snapshotsPoked = false
            snapshotsDue.unlock()
            _ = try? ledger.takeOwedSnapshots()  // derived data: a failure loses nothing; the next one due takes this one too
        }
    }

    /// Appends `events` recorded by `recordedBy`, once durable. - Throws: `AppendRefused`, `StoreFull`, `LMDBError`.
    func append(_ events: [Incoming], recordedBy: String) async throws -> Committed {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Committed, any Error>) in
            enqueue(events, recordedBy: recordedBy) { continuation.resume(with: $0) }
        }
    }

    /// Queues `events` for the next commit; `answer` is called on the commit's thread once it is durable.
    func enqueue(_ events: [Incoming], recordedBy: String, answer: @escaping @Sendable (Outcome) -> Void) {
        condition.lock()
        queue.append(Waiting(events: events, recordedBy: recordedBy, answer: answer))
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty { condition.wait() }
            var taken: [Waiting] = []
            var events = 0
            while let next = queue.first, taken.isEmpty || events + next.events.count <= most {
                events += next.events.count
                taken.append(queue.removeFirst())
            }
            committing += 1
            condition.unlock()
            commit(taken)
            condition.withLock { committing -= 1 }
        }
    }

    private func commit(_ requests: [Waiting]) {
        do {
            let (results, seconds) = try timed {
                try ledger.append(group: requests.map { ($0.events, $0.recordedBy) }, deferringSnapshots: true)
            }
            condition.lock()
            groups.append(requests.count)
            if groups.count > 10_000 { groups.removeFirst(5_000) }
            condition.unlock()
            for (request, result) in zip(requests, results) {
                request.answer(result.map { Committed(report: $0, commitSeconds: seconds) }.mapError { $0 })
            }
            pokeSnapshots()
        } catch {
            for request in requests { request.answer(.failure(error)) }
        }
    }

    /// Commits `events` at once on the calling thread, when nothing else waits or commits (a lone request
    /// then waits for no other thread); nil when something does, and the request must queue.
    @available(*, noasync)
    func alone(_ events: [Incoming], recordedBy: String) -> Outcome? {
        condition.lock()
        guard queue.isEmpty && committing == 0 else { condition.unlock(); return nil }
        committing += 1
        condition.unlock()
        defer {
            condition.lock()
            committing -= 1
            if !queue.isEmpty { condition.signal() }
            condition.unlock()
            pokeSnapshots()
        }
        do {
            let (results, seconds) = try timed { try ledger.append(group: [(events, recordedBy)], deferringSnapshots: true) }
            return results[0].map { Committed(report: $0, commitSeconds: seconds) }.mapError { $0 }
        } catch {
            return .failure(error)
        }
    }

    private func timed<T>(_ work: () throws -> T) rethrows -> (T, Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        let value = try work()
        return (value, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// Wakes the snapshots' thread when a commit left some due (one in 10,000 seqs): waking it after every
    /// commit would cost each lone request a switch of threads on a machine of two cores.
    private func pokeSnapshots() {
        guard ledger.owesSnapshots else { return }
        snapshotsDue.withLock { snapshotsPoked = true; snapshotsDue.signal() }
    }

    /// Whether no request waits and none is being committed.
    var isIdle: Bool { condition.lock(); defer { condition.unlock() }; return queue.isEmpty && committing == 0 }

    /// How many requests the commits so far took, each.
    var groupSizes: [Int] { condition.lock(); defer { condition.unlock() }; return groups }
}
