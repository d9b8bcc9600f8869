import Foundation
import HTTPTypes
import Hummingbird
import Reports

/// The bytes of a response on their way from the thread that renders them to the connection that sends
/// them: at most `capacity` chunks in between, so that a response in flight holds a bounded amount of
/// memory however slowly its client reads. The renderer waits while the pipe is full; when the client has
/// gone, or has read nothing for `stall` seconds, its next write throws and the work stops, freeing its
/// thread (docs/server.md, "Under load").
final class ResponsePipe: @unchecked Sendable, ByteSink {
    /// The client is gone, or reads too slowly: the rendering stops.
    struct Gone: Error {}

    private let condition = NSCondition()
    private let capacity: Int
    private let stall: TimeInterval
    private var chunks: [ByteBuffer] = []
    private var headers: HTTPFields?
    private var finished = false
    private var failure: (any Error)?
    private var gone = false
    private var waiting: CheckedContinuation<Void, Never>?

    init(capacity: Int = 8, stall: TimeInterval = 20) {
        self.capacity = capacity
        self.stall = stall
    }

    // MARK: the rendering thread

    /// Sets the response's headers before any byte (what only the rendering knows, such as the next page).
    func start(_ fields: HTTPFields) {
        notify { headers = fields }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        let buffer = ByteBuffer(bytes: bytes)
        condition.lock()
        var deadline = Date(timeIntervalSinceNow: stall)
        var seen = chunks.count
        while chunks.count >= capacity && !gone {
            if !condition.wait(until: deadline) {
                if chunks.count < seen { seen = chunks.count; deadline = Date(timeIntervalSinceNow: stall) } else { gone = true }
            }
        }
        condition.unlock()
        if condition.withLock({ gone }) { throw Gone() }
        notify {
            if headers == nil { headers = HTTPFields() }
            chunks.append(buffer)
        }
    }

    /// The rendering ended, well (nil) or not.
    func finish(_ error: (any Error)?) {
        notify {
            finished = true
            failure = error
        }
    }

    private func notify(_ change: () -> Void) {
        let resume = condition.withLock { () -> CheckedContinuation<Void, Never>? in
            change()
            defer { waiting = nil }
            return waiting
        }
        resume?.resume()
    }

    // MARK: the connection

    /// Waits for the headers, or for the rendering to fail before it wrote anything.
    /// - Throws: what the rendering threw before its first byte (answered as an error, with its status).
    func responseHeaders() async throws -> HTTPFields {
        await wait { self.headers != nil || self.finished }
        return try condition.withLock {
            if let headers { return headers }
            if let failure { throw failure }
            return HTTPFields()
        }
    }

    /// The next chunk; nil at the end. - Throws: what the rendering threw after it began.
    func next() async throws -> ByteBuffer? {
        await wait { !self.chunks.isEmpty || self.finished }
        return try condition.withLock {
            if !chunks.isEmpty {
                condition.broadcast()
                return chunks.removeFirst()
            }
            if let failure { throw failure }
            return nil
        }
    }

    /// The client will read no more: the rendering's next write throws.
    func abandon() {
        condition.withLock {
            gone = true
            condition.broadcast()
        }
    }

    /// Waits until `ready` holds (checked under the lock, as the rendering thread changes it).
    private func wait(until ready: @escaping () -> Bool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = condition.withLock { () -> Bool in
                if ready() { return true }
                waiting = continuation
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// The response: the rendering's headers and bytes, sent as they come (none for HEAD).
    func response(for request: Request, contentType: String) async throws -> Response {
        var fields = try await responseHeaders()
        fields[.contentType] = contentType
        if request.method == .head {
            abandon()
            return Response(status: .ok, headers: fields)
        }
        let pipe = self
        return Response(status: .ok, headers: fields, body: ResponseBody { writer in
            do {
                while let chunk = try await pipe.next() { try await writer.write(chunk) }
            } catch {
                pipe.abandon()
                throw error
            }
            try await writer.finish(nil)
        })
    }
}
