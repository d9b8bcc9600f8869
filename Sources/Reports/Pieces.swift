import Foundation

/// The rows of a long view, to be read in pieces by more than one thread. Each thread that renders some
/// opens its own reading (for a board: a read transaction of the log, where the reports are) and asks it
/// for the rows of the pieces it renders.
public struct RowSource<Row>: Sendable {
    public typealias Rows = (Range<Int>) throws -> [Row]
    public let count: Int
    /// Calls its argument, on the calling thread, with a function that gives the rows of a range.
    public let reading: @Sendable (_ body: (_ rows: Rows) throws -> Void) throws -> Void

    public init(count: Int, reading: @escaping @Sendable (_ body: (_ rows: Rows) throws -> Void) throws -> Void) {
        self.count = count
        self.reading = reading
    }

    /// Rows held in memory.
    public init(_ rows: [Row]) where Row: Sendable {
        self.init(count: rows.count) { body in try body { Array(rows[$0]) } }
    }

    /// Every row, read on this thread.
    public func all() throws -> [Row] {
        var all: [Row] = []
        try reading { rows in all = try rows(0..<count) }
        return all
    }
}

/// Writes a long run of rows in order while rendering it on two threads: this one renders two pieces in
/// five and writes them all, another renders the other three into memory, a few pieces ahead at most. On
/// two cores the board's JSON is written in little more than half the time (docs/performance.md, "Where
/// the time goes").
enum Pieces {
    /// Runs `work` on another thread while `body` runs on this one. - Returns: what `work` gave.
    /// (A table's digest is that of its JSON, rendered meanwhile rather than after.)
    static func alongside<T: Sendable>(_ work: @escaping @Sendable () throws -> T, _ body: () throws -> Void) throws -> T {
        let done = NSCondition()
        nonisolated(unsafe) var result: Result<T, any Error>?
        Thread.detachNewThread {
            let outcome = Result { try work() }
            done.lock()
            result = outcome
            done.broadcast()
            done.unlock()
        }
        var failure: (any Error)?
        do { try body() } catch { failure = error }
        done.lock()
        while result == nil { done.wait() }
        done.unlock()
        if let failure { throw failure }
        return try result!.get()
    }

    static let rowsEach = 2048
    /// How many pieces the other thread may have ready before this one writes them.
    static let ahead = 4

    /// Whether piece `k` is rendered by the other thread: three in five. This one also writes every
    /// piece and hashes it for the view's digest, so with half each it finished last: on the whole
    /// board of 288k problems (149 MB of JSON) 790 ms of CPU on this thread against 580 on the other.
    static func rendersAlongside(_ k: Int) -> Bool { k % 5 != 0 && k % 5 != 2 }

    /// Writes the rows of `source` to `out` in order, `render` writing each piece (`first`: the very
    /// first rows of all) to the output it is given.
    static func write<Row>(_ source: RowSource<Row>, to out: Output,
                           render: @escaping @Sendable (_ rows: [Row], _ first: Bool, _ out: Output) throws -> Void) throws {
        let count = source.count
        let pieces = (count + rowsEach - 1) / rowsEach
        @Sendable func range(_ k: Int) -> Range<Int> { (k * rowsEach)..<min(count, (k + 1) * rowsEach) }
        guard pieces > 1 else {
            try source.reading { rows in if pieces == 1 { try render(rows(range(0)), true, out) } }
            return
        }
        let exchange = Exchange()
        Thread.detachNewThread {
            do {
                try source.reading { rows in
                    for k in 1..<pieces where rendersAlongside(k) {
                        guard exchange.waitForRoom(k) else { return }
                        let memory = MemorySink()
                        let piece = Output(memory)
                        try render(rows(range(k)), false, piece)
                        try piece.flush()
                        exchange.finish(k, memory.bytes)
                    }
                }
            } catch { exchange.fail(error) }
            exchange.finishWorking()
        }
        defer { exchange.stop() }
        try source.reading { rows in
            for k in 0..<pieces {
                if !rendersAlongside(k) {
                    try render(rows(range(k)), k == 0, out)
                } else {
                    out.bytes(try exchange.take(k))
                }
                exchange.wrote(k)
                try out.flushIfFull()
            }
        }
    }

    /// What the two threads share: the pieces done and not yet written, how far the writing is, a failure.
    private final class Exchange: @unchecked Sendable {
        private let condition = NSCondition()
        private var done: [Int: [UInt8]] = [:]
        private var written = -1
        private var failure: (any Error)?
        private var stopped = false
        private var working = true

        /// Waits until piece `k` is few enough ahead of the writing. - Returns: false when the writing stopped.
        func waitForRoom(_ k: Int) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            while !stopped, k > written + 2 * Pieces.ahead { condition.wait() }
            return !stopped
        }

        func finish(_ k: Int, _ bytes: [UInt8]) {
            condition.lock()
            done[k] = bytes
            condition.broadcast()
            condition.unlock()
        }

        func fail(_ error: any Error) {
            condition.lock()
            failure = error
            condition.broadcast()
            condition.unlock()
        }

        func finishWorking() {
            condition.lock()
            working = false
            condition.broadcast()
            condition.unlock()
        }

        /// Piece `k`, once the other thread has rendered it. - Throws: what stopped that thread.
        func take(_ k: Int) throws -> [UInt8] {
            condition.lock()
            defer { condition.unlock() }
            while done[k] == nil {
                if let failure { throw failure }
                if !working { throw CancellationError() }
                condition.wait()
            }
            return done.removeValue(forKey: k)!
        }

        func wrote(_ k: Int) {
            condition.lock()
            written = k
            condition.broadcast()
            condition.unlock()
        }

        /// Stops the other thread and waits until it has stopped (its reading closed).
        func stop() {
            condition.lock()
            stopped = true
            condition.broadcast()
            while working { condition.wait() }
            condition.unlock()
        }
    }
}
