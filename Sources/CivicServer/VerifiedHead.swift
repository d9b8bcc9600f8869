import EventLog
import Foundation
import JSON
import Ledger

/// The head the server has verified, kept up to date with what is appended (docs/server.md, "Verify"):
/// the whole store (log and derived data) is verified once, on the heavy lane, when the server starts;
/// afterwards each request checks only what was appended since the head verified last, so that
/// `/api/verify` costs the time of what is new, not of a scan of the log.
final class VerifiedHead: @unchecked Sendable {
    private let ledger: Ledger
    private let lock = NSLock()
    private var state: State = .verifying
    private var waiting: [CheckedContinuation<Void, Never>] = []

    enum State {
        case verifying
        /// The log holds up to `head`; the derived data as of `derivedAt` with what was found damaged.
        case holds(head: LogHead, derivedAt: LogHead, derived: [DerivedDamage])
        case broken(LogDamage, at: LogHead)
        case failed(String)
    }

    init(ledger: Ledger, lane: WorkLane) {
        self.ledger = ledger
        try? lane.start { [self] in
            let outcome: State
            do {
                let found = try ledger.verify()
                outcome = .holds(head: found.head, derivedAt: found.head, derived: found.derived)
            } catch let damage as LogDamage {
                outcome = .broken(damage, at: (try? ledger.head()) ?? .empty)
            } catch {
                outcome = .failed("\(error)")
            }
            // The verification's fold held every subject's record: give that memory back to the system.
            releaseFreeMemory()
            let resume = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
                state = outcome
                defer { waiting = [] }
                return waiting
            }
            for continuation in resume { continuation.resume() }
        }
    }

    /// The answer of `/api/verify`, once the first verification is done.
    func answer() async throws -> JSONValue {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = lock.withLock { () -> Bool in
                if case .verifying = state { waiting.append(continuation); return false }
                return true
            }
            if done { continuation.resume() }
        }
        return try current()
    }

    @available(*, noasync)
    private func follow(_ head: LogHead) throws -> LogHead { try ledger.verifyAppended(after: head) }

    private func current() throws -> JSONValue {
        try lock.withLock {
            if case .holds(let head, let derivedAt, let derived) = state, try ledger.head().seq != head.seq {
                do {
                    state = .holds(head: try ledger.verifyAppended(after: head), derivedAt: derivedAt, derived: derived)
                } catch let damage as LogDamage {
                    state = .broken(damage, at: (try? ledger.head()) ?? .empty)
                }
            }
            func head(_ h: LogHead) -> JSONValue { .object([("seq", .int(h.seq)), ("hash", .string(h.hash.hex))]) }
            switch state {
            case .verifying:
                return .object([("verified", .null)])
            case .holds(let verified, let derivedAt, let derived):
                return .object([
                    ("head", head(verified)), ("verified", .bool(true)),
                    ("derived", .object([("verifiedAt", head(derivedAt)), ("damaged", .array(derived.map { .string($0.description) }))])),
                ])
            case .broken(let damage, let at):
                return .object([("head", head(at)), ("verified", .bool(false)), ("firstBadSeq", .int(damage.seq)),
                                ("problem", .string(damage.problem))])
            case .failed(let message):
                return .object([("verified", .null), ("problem", .string(message))])
            }
        }
    }
}

/// glibc's `malloc_trim` (malloc.h, which Swift's Glibc module does not bring in).
@_silgen_name("malloc_trim")
private func malloc_trim(_ pad: Int) -> Int32

private func releaseFreeMemory() {
    #if os(Linux)
    _ = malloc_trim(0)
    #endif
}
