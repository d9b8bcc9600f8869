import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Transparency

/// What a witness keeps (docs/transparency.md, "Witnesses"): for each log it trusts, the latest checkpoint
/// it cosigned, one file per log in its folder. A new checkpoint is written to a temporary file, synced,
/// renamed over the old one and the folder synced, before the cosignature leaves: after a crash at any
/// instant the witness holds the old checkpoint (and never cosigned the new) or the new one.
public final class WitnessState: @unchecked Sendable {
    private let folder: String
    private let lock = NSLock()

    public init(folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        self.folder = folder
    }

    private func file(_ origin: String) -> String {
        let safe = origin.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) || $0 == "." || $0 == "-" ? String($0) : "_" }.joined()
        return "\(folder)/\(safe).checkpoint"
    }

    /// The checkpoint last cosigned for `origin`, or nil.
    public func latest(_ origin: String) -> Checkpoint? {
        guard let data = FileManager.default.contents(atPath: file(origin)),
              let checkpoint = try? Checkpoint(text: String(decoding: data, as: UTF8.self)), checkpoint.origin == origin else { return nil }
        return checkpoint
    }

    /// Runs `body` holding the witness's lock (one decision at a time).
    func exclusively<T>(_ body: () throws -> T) rethrows -> T { try lock.withLock(body) }

    /// Keeps `checkpoint` as the latest of its log, durably, before anything is answered.
    func keep(_ checkpoint: Checkpoint) throws {
        let final = file(checkpoint.origin)
        let temporary = final + ".new"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown) }
        let bytes = Array(checkpoint.text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced, rename(temporary, final) == 0 else { throw CocoaError(.fileWriteUnknown) }
        let dir = open(folder, O_RDONLY | O_DIRECTORY)
        if dir >= 0 { fsync(dir); close(dir) }
    }
}

/// `civic witness`: a C2SP tlog-witness (`POST /add-checkpoint`) for the logs whose verifier keys it is given.
public enum WitnessServer {
    public static func router(key: SignerKey, logs: [VerifierKey], state: WitnessState,
                              clock: @escaping @Sendable () -> UInt64 = { UInt64(Date().timeIntervalSince1970) }) -> Router<CivicContext> {
        let trusted = Dictionary(logs.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let router = Router(context: CivicContext.self)
        router.post("/add-checkpoint") { request, _ -> Response in
            var body: [UInt8] = []
            for try await buffer in request.body {
                guard body.count + buffer.readableBytes <= 1 << 20 else { return text(.contentTooLarge, "请求体过大\n") }
                body.append(contentsOf: buffer.readableBytesView)
            }
            let note = String(decoding: body, as: UTF8.self)
            return try state.exclusively { () throws -> Response in
                switch WitnessRules.decide(note, logs: trusted, latest: state.latest) {
                case .cosign(let checkpoint):
                    let signed = try AddCheckpoint(parsing: note).checkpoint
                    let (_, line) = try signed.cosigned(by: key, at: clock())
                    try state.keep(checkpoint)  // durable before the cosignature leaves
                    return text(.ok, line.line)
                case .badRequest(let why): return text(.badRequest, why + "\n")
                case .forbidden(let why): return text(.forbidden, why + "\n")
                case .unknownLog(let why): return text(.notFound, why + "\n")
                case .conflict(let latest):
                    var response = text(.conflict, "\(latest)\n")
                    response.headers[.contentType] = "text/x.tlog.size"
                    return response
                case .unprocessable(let why): return text(.unprocessableContent, why + "\n")
                }
            }
        }
        return router
    }

    static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    public static func application(key: SignerKey, logs: [VerifierKey], state: WitnessState, host: String, port: Int, logger: Logger,
                                   listening: @escaping @Sendable (Int) -> Void = { _ in }) -> some ApplicationProtocol {
        Application(router: router(key: key, logs: logs, state: state),
                    configuration: .init(address: .hostname(host, port: port), serverName: "civic-witness"),
                    onServerRunning: { channel in listening(channel.localAddress?.port ?? port) }, logger: logger)
    }
}
