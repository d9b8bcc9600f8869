import Foundation

/// Where the store work of requests runs: threads of the lane's own, off the event loops (LMDB reads are
/// synchronous), at most `threads` at once and at most `queued` waiting. A request that finds the queue
/// full is refused at once (`Busy`: 503 with `Retry-After`) rather than waiting behind it.
///
/// The server has two lanes (docs/server.md, "Under load"): quick work (a page of a view already folded,
/// the verified head, a short stretch of the log) and heavy work (folds of past moments, whole-view
/// digests, long trails), whose threads run at a lower priority: however many heavy requests come, a
/// quick one finds a thread of its own and the processor's attention.
final class WorkLane: @unchecked Sendable {
    /// The lane's queue is full: try again in `retryAfter` seconds.
    struct Busy: Error { let lane: String; let retryAfter: Int }

    let name: String
    private let queued: Int
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var running = 0

    /// A lane of `threads` threads at `niceness` (0: normal; 10: yields to normal threads).
    init(name: String, threads: Int, queued: Int, niceness: Int32 = 0) {
        self.name = name
        self.queued = queued
        for k in 0..<max(1, threads) {
            let thread = Thread { [self] in
                // On Linux, setpriority of "the calling process" (0) is that of the calling thread alone.
                if niceness != 0 { setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness) }
                work()
            }
            thread.name = "civic-\(name)-\(k)"
            thread.start()
        }
    }

    /// How many jobs wait or run.
    var load: Int { condition.withLock { jobs.count + running } }

    /// Runs `job` on one of the lane's threads. - Throws: `Busy` at once when the queue is full.
    func run<T: Sendable>(_ job: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let accepted = condition.withLock { () -> Bool in
                guard jobs.count < queued else { return false }
                jobs.append { continuation.resume(with: Result { try job() }) }
                condition.signal()
                return true
            }
            if !accepted { continuation.resume(throwing: Busy(lane: name, retryAfter: 1)) }
        }
    }

    /// Starts `job` on one of the lane's threads without waiting for it. - Throws: `Busy` when full.
    func start(_ job: @escaping @Sendable () -> Void) throws {
        let accepted = condition.withLock { () -> Bool in
            guard jobs.count < queued else { return false }
            jobs.append(job)
            condition.signal()
            return true
        }
        if !accepted { throw Busy(lane: name, retryAfter: 1) }
    }

    private func work() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            running += 1
            condition.unlock()
            job()
            condition.withLock { running -= 1 }
        }
    }
}
