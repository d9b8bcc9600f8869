import ArgumentParser
import CivicServer
import Dispatch
import Foundation
import Hummingbird
import Ledger
import Logging

/// Where `serve` and `demo` listen.
struct ListenOptions: ParsableArguments {
    @Option(help: "The address to listen on (default 127.0.0.1: this machine only).") var host = "127.0.0.1"
    @Option(help: "The port (0: any free one).") var port = 8080

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port \(port)：须在 0 至 65535 之间") }
    }

    /// Serves the reports of `ledger` (and, `writable`, the write routes) until SIGTERM or SIGINT.
    func serve(_ ledger: Ledger, writable: Bool = false) throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "civic.serve")
        logger.logLevel = .info
        let host = host
        let app = try ReportServer.application(ledger: ledger, host: host, port: port, logger: logger, writable: writable) { port in
            let shown = host == "0.0.0.0" || host == "::" ? "localhost" : host
            let mode = writable ? "可写：POST /api/events、/api/evidence，须账号令牌" : "只读"
            print("仪表盘：http://\(shown):\(port)/    接口：http://\(shown):\(port)/api/board （\(mode)；Ctrl-C 或 SIGTERM 停止）")
            flushOutput()
        }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { try await app.runService() } catch { outcome.failure = "\(error)" }
            done.signal()
        }
        done.wait()
        ReportServer.flushAccessLog()
        if let failure = outcome.failure { throw ServeFailure(message: "服务未能启动或异常停止：\(failure)") }
    }
}

/// The server could not start, or stopped on an error.
struct ServeFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// What the server's task ended with.
private final class Outcome: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: String?
    var failure: String? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the views and the dashboard: read-only (the store opened with MDB_RDONLY), or with --writable the write routes for accounts.",
        discussion: "GET /  the dashboard · /api/board /api/progress /api/ranking /api/audit (the JSON of the commands, options as query parameters: at, asOf, batch, unit, status, overdue, week, subject, actor, backdateHours) · /api/events?after=SEQ&limit=N · /api/verify")
    @OptionGroup var store: StoreOptions
    @OptionGroup var listen: ListenOptions
    @Flag(name: .customLong("read-only"), help: "Accepted for clarity: without --writable the server is read-only.") var readOnly = false
    @Flag(help: "Also take events and evidence files over HTTP from accounts (POST /api/events, /api/evidence; docs/server.md).")
    var writable = false

    func validate() throws {
        if readOnly && writable { throw ValidationError("--read-only 与 --writable 不能同时使用") }
    }

    func run() throws {
        // Writing, the subjects' records are written to their table every 1,000 events rather than 10,000:
        // each such write is a tenth as long, so no group of requests waits behind a long one.
        try listen.serve(try store.open(writable ? .readWrite : .readOnly, flushEvery: 1_000), writable: writable)
    }
}
