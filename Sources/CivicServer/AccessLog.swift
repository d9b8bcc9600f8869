import Foundation
import Hummingbird

/// The server's access log: one line per request on standard error (the time in UTC, the client's
/// address, method, path, status and milliseconds taken), gathered in memory and written every 0.2 s or
/// at 64 KiB, not a write per request. swift-log's line per request (`LogRequestsMiddleware`: a
/// formatted line and a write of its own each) took ~10% of the CPU of a request under 64 writing
/// clients (docs/server.md, "Under load"). Lines of the last 0.2 s before a crash may be lost: the log of
/// events, not this, is the record of what was written.
final class AccessLog: @unchecked Sendable {
    private let lock = NSLock()
    /// Held through a flush, so that two (the timer's and a full buffer's) write in the order they took.
    private let writing = NSLock()
    private var pending: [UInt8] = []
    private let descriptor: Int32
    static let flushBytes = 64 << 10

    /// The one on standard error.
    static let standardError = AccessLog()

    /// A log written to `descriptor`, its lines written every `interval` seconds or at 64 KiB.
    init(descriptor: Int32 = 2, every interval: TimeInterval = 0.2) {
        self.descriptor = descriptor
        pending.reserveCapacity(Self.flushBytes)
        let flusher = Thread { [weak self] in
            // The wait first, holding no reference to the log meanwhile: its lines are written an interval
            // after they come at the latest, and a log let go of is not kept for the thread's sake.
            while true {
                Thread.sleep(forTimeInterval: interval)
                guard let log = self else { return }
                log.flush()
            }
        }
        flusher.name = "civic-access-log"
        flusher.start()
    }

    /// Notes a request answered with `status` after `milliseconds`.
    func note(address: String, method: String, path: String, status: Int, milliseconds: Double) {
        let hundredths = Int((milliseconds * 100).rounded())
        let fraction = hundredths % 100
        let line = "\(Self.utcNow()) \(address) \(method) \(path) \(status) \(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)ms\n"
        lock.lock()
        pending.append(contentsOf: line.utf8)
        let full = pending.count >= Self.flushBytes
        lock.unlock()
        if full { flush() }
    }

    /// Writes what is gathered.
    func flush() {
        writing.lock()
        defer { writing.unlock() }
        lock.lock()
        let bytes = pending
        pending.removeAll(keepingCapacity: true)
        lock.unlock()
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if n <= 0 { break }  // standard error gone: nothing to tell it
            written += n
        }
    }

    /// `2026-12-01T20:30:00Z`, formatted once a second.
    private static let clock = NSLock()
    nonisolated(unsafe) private static var lastSecond = 0
    nonisolated(unsafe) private static var lastText = ""
    private static func utcNow() -> String {
        var now = time(nil)
        return clock.withLock {
            if now != lastSecond {
                var parts = tm()
                gmtime_r(&now, &parts)
                lastText = String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                                  Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
                lastSecond = now
            }
            return lastText
        }
    }
}

/// Notes every request in the access log, once answered (outside the errors turned into JSON, so a
/// refusal's status is the one noted).
struct AccessLogMiddleware<Context: RequestContext & RemoteAddressRequestContext>: RouterMiddleware {
    let log: AccessLog

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        func note(_ status: Int) {
            let taken = ContinuousClock.now - started
            let milliseconds = Double(taken.components.seconds) * 1_000 + Double(taken.components.attoseconds) / 1e15
            log.note(address: context.remoteAddress?.ipAddress ?? "-", method: request.method.rawValue, path: request.uri.path,
                     status: status, milliseconds: milliseconds)
        }
        do {
            let response = try await next(request, context)
            note(response.status.code)
            return response
        } catch {
            note((error as? any HTTPResponseError)?.status.code ?? 500)
            throw error
        }
    }
}
