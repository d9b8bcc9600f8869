import Campaign
import EventLog
import Foundation
import Ledger
import Projections

/// The projections the server has folded, kept between requests: the latest head's (folded at the end
/// of time, judged at each request's `at`, which gives the same projection whenever no event's `time`
/// lies after `at`), and the last few past ones by prefix and moment, so that a past view asked again,
/// or paged through, is folded once (docs/server.md, "Under load"). Memory: a projection is some tens of
/// MB for a city; at most `capacity` past ones are kept.
final class ProjectionCache: @unchecked Sendable {
    private let ledger: Ledger
    private let capacity: Int
    private let lock = NSLock()
    private var latest: (projection: Projection, head: LogHead)?
    private var past: [Key: (Projection, LogHead)] = [:]
    private var order: [Key] = []

    struct Key: Hashable {
        var asOf: AsOf
        var at: Int64
        /// The head when the prefix could still grow (`.all`, a moment not yet past).
        var head: UInt64
    }

    init(ledger: Ledger, capacity: Int = 4) {
        self.ledger = ledger
        self.capacity = capacity
    }

    /// Whether the projection of `asOf` at `at` is at hand (a request for it is quick work).
    func isAtHand(asOf: AsOf, at: Timestamp) throws -> Bool {
        let head = try ledger.head()
        return lock.withLock {
            if case .all = asOf, let latest, latest.head.seq == head.seq, latest.projection.latestTime.map({ $0 <= at }) ?? true { return true }
            return past[key(asOf, at, head.seq)] != nil
        }
    }

    @available(*, noasync)
    func projection(asOf: AsOf, at: Timestamp) throws -> (Projection, LogHead) {
        let head = try ledger.head()
        if case .all = asOf {
            let whole = try latestWhole(head)
            if whole.projection.latestTime.map({ $0 <= at }) ?? true { return (whole.projection.judged(at: at), whole.head) }
        }
        let key = key(asOf, at, head.seq)
        if let found = lock.withLock({ past[key] }) { return found }
        let made = try ledger.projection(asOf: asOf == .all ? .seq(head.seq) : asOf, at: at)
        lock.withLock {
            if past[key] == nil {
                past[key] = made
                order.append(key)
                if order.count > capacity { past[order.removeFirst()] = nil }
            }
        }
        return made
    }

    private func latestWhole(_ head: LogHead) throws -> (projection: Projection, head: LogHead) {
        if let cached = lock.withLock({ latest }), cached.head.seq == head.seq { return cached }
        let made = try ledger.projection(asOf: .seq(head.seq), at: Projection.endOfTime)
        lock.withLock { if (latest?.head.seq ?? 0) <= made.1.seq { latest = (made.0, made.1) } }
        return (made.0, made.1)
    }

    private func key(_ asOf: AsOf, _ at: Timestamp, _ head: UInt64) -> Key {
        switch asOf {
        case .seq: Key(asOf: asOf, at: at.micros, head: 0)
        case .all, .time: Key(asOf: asOf, at: at.micros, head: head)
        }
    }
}
