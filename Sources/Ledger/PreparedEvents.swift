import Campaign
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

/// The events of an append prepared in order, in chunks. For a large append a thread of its own
/// prepares them while the appending thread applies the rules to the ones before, so that the two
/// cores share the work; it touches neither the store nor the rules' state. A small one is prepared
/// by the thread that asks, as it asks.
final class PreparedEvents: @unchecked Sendable {
    private let incoming: [Incoming]
    private let chunkSize: Int
    private var position = 0  // the next event to prepare on the asking thread
    private let helper: Helper?

    /// - Parameter onOtherThread: start a thread that prepares every chunk ahead of the asking one.
    init(_ incoming: [Incoming], chunkSize: Int, onOtherThread: Bool) {
        self.incoming = incoming
        self.chunkSize = max(chunkSize, 1)
        helper = onOtherThread ? Helper(incoming, chunkSize: self.chunkSize) : nil
    }

    /// The next chunk, in order. Ask no more often than there are chunks.
    func next() -> [Prepared] {
        if let helper { return helper.next() }
        let end = min(position + chunkSize, incoming.endIndex)
        defer { position = end }
        return incoming[position..<end].map { Prepared($0.event) }
    }

    /// Stops the preparing thread, if there is one (the append ended early or is done).
    func cancel() { helper?.cancel() }

    private final class Helper: @unchecked Sendable {
        private let condition = NSCondition()
        private var chunks: [[Prepared]] = []
        private var cancelled = false

        init(_ incoming: [Incoming], chunkSize: Int) {
            Thread.detachNewThread { [self] in
                var start = incoming.startIndex
                while start < incoming.endIndex {
                    let end = min(start + chunkSize, incoming.endIndex)
                    guard put(incoming[start..<end].map { Prepared($0.event) }) else { return }
                    start = end
                }
            }
        }

        func next() -> [Prepared] {
            condition.lock()
            defer { condition.unlock() }
            while chunks.isEmpty { condition.wait() }
            return chunks.removeFirst()
        }

        func cancel() {
            condition.lock()
            cancelled = true
            condition.unlock()
        }

        /// Hands over a chunk; false once cancelled.
        private func put(_ chunk: [Prepared]) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            guard !cancelled else { return false }
            chunks.append(chunk)
            condition.signal()
            return true
        }
    }
}
