import ArgumentParser
import Foundation
import CivicServer
import Ledger
import Logging
import Transparency

/// `civic keys init|show` (docs/transparency.md).
struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Signing keys of the log (or of a witness): Ed25519, kept outside the store.",
        subcommands: [Init.self, Show.self])

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "init", abstract: "Make a key (file 0600) and print its verifier key, to give to inspectors and witnesses.")
        @Option(help: "The log's (or witness's) name, e.g. hengkou.chuangwen/ledger.") var origin: String
        @Option(help: "Where to write the private key; never inside the store.") var key: String
        @OptionGroup var store: StoreOptions

        func run() throws {
            guard !FileManager.default.fileExists(atPath: key) else { throw ValidationError("\(key) 已存在：不覆盖已有的私钥") }
            // Inside the store's folder, the key would travel with every copy of the store.
            let folder = URL(fileURLWithPath: store.path).standardizedFileURL.resolvingSymlinksInPath().path
            let file = URL(fileURLWithPath: key).standardizedFileURL.deletingLastPathComponent().resolvingSymlinksInPath().path
            if file == folder || file.hasPrefix(folder + "/") {
                throw ValidationError("\(key) 在存储目录 \(store.path) 之内：私钥须放在存储之外（随存储复制的私钥谁都能用来签发）")
            }
            let signer = try SignerKey.generate(name: origin)
            guard FileManager.default.createFile(atPath: key, contents: Data((signer.text + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
                throw ValidationError("无法写入 \(key)")
            }
            print("已生成私钥 \(key)（仅本人可读；请妥善保管，不要放在存储目录中）")
            print("验证密钥（交给督查、纪检与见证方）：")
            print(signer.verifier)
            print("作为见证方时的联署验证密钥：")
            print(signer.cosignatureVerifier)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Print the verifier keys of a key file.")
        @Option(help: "The private key file.") var key: String
        func run() throws {
            let signer = try readSigner(key)
            print(signer.verifier)
            print(signer.cosignatureVerifier)
        }
    }
}

func readSigner(_ path: String) throws -> SignerKey {
    guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("无法读取私钥文件 \(path)") }
    return try SignerKey(parsing: String(decoding: data, as: UTF8.self))
}

struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Sign the log's Merkle tree as it stands (C2SP tlog-checkpoint), keep it, have witnesses cosign it, and print it.")
    @OptionGroup var store: StoreOptions
    @Option(help: "The log's private key (civic keys init).") var key: String
    @Option(parsing: .upToNextOption, help: "Witnesses (their base URL) to cosign it: each is sent it with a consistency proof.")
    var witness: [String] = []
    @Flag(help: "Sign with a key other than the one the store's checkpoints were signed with (a deliberate change of key).")
    var newKey = false

    func run() throws {
        let ledger = try store.open()
        let previous = try ledger.latestCheckpoint()
        var note = try ledger.signCheckpoint(with: try readSigner(key), newKey: newKey)
        let checkpoint = try Checkpoint(text: note.text)
        var missing: [String] = []
        for url in witness {
            do {
                note = try cosign(note, checkpoint, previous: previous, by: url, ledger)
            } catch {
                FileHandle.standardError.write("见证方 \(url) 未联署：\(error)\n")
                missing.append(url)
            }
        }
        if !witness.isEmpty { try ledger.keepCheckpoint(note) }
        print(note.rendered, terminator: "")
        // Signed and kept by the log, but not cosigned by every witness asked: not a success to a script.
        if !missing.isEmpty {
            throw CheckpointProblem("检查点已签发并保存，但 \(missing.count) 个见证方未联署（见上）：请查明原因后再次运行 civic checkpoint")
        }
    }

    /// Sends the checkpoint to a witness (C2SP tlog-witness add-checkpoint) and adds its cosignature.
    private func cosign(_ note: SignedNote, _ checkpoint: Checkpoint, previous: SignedNote?, by url: String, _ ledger: Ledger) throws -> SignedNote {
        var oldSize = previous.flatMap { try? Checkpoint(text: $0.text) }?.size ?? 0
        for _ in 0..<2 {
            let proof = oldSize == 0 ? [] : try ledger.consistencyProof(from: oldSize, to: checkpoint.size)
            let body = AddCheckpoint(oldSize: oldSize, proof: proof, checkpoint: note).rendered
            let (status, text) = try post(url.hasSuffix("/") ? url + "add-checkpoint" : url + "/add-checkpoint", body)
            switch status {
            case 200:
                let lines = text.split(separator: "\n").map { String($0) + "\n" }
                let added = try SignedNote(parsing: note.text + "\n" + lines.joined())
                return SignedNote(text: note.text, signatures: note.signatures + added.signatures)
            case 409:
                // The witness saw another size last: try again from it.
                guard let latest = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)), latest <= checkpoint.size else {
                    throw CheckpointProblem("见证方所见的日志大小为 \(text.trimmingCharacters(in: .whitespacesAndNewlines))，与本日志不一致")
                }
                oldSize = latest
            default:
                throw CheckpointProblem("HTTP \(status)：\(text)")
            }
        }
        throw CheckpointProblem("见证方两次拒绝旧大小")
    }
}

/// POSTs `body` as text to an `http://host[:port]/path` address and waits for the answer (status, body).
/// A plain HTTP/1.1 request on a socket of its own, closed after the answer: witnesses are reached on the
/// office's network or through a proxy of its own (docs/transparency.md); `https` is not spoken here.
func post(_ url: String, _ body: String) throws -> (Int, String) {
    guard let target = URL(string: url), target.scheme == "http", let host = target.host else {
        throw ValidationError("见证方地址须为 http://主机[:端口]/路径，而不是 \(url)")
    }
    let port = target.port ?? 80
    var hints = addrinfo(ai_flags: 0, ai_family: AF_UNSPEC, ai_socktype: Int32(SOCK_STREAM.rawValue), ai_protocol: 0,
                         ai_addrlen: 0, ai_addr: nil, ai_canonname: nil, ai_next: nil)
    var found: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(host, String(port), &hints, &found) == 0, let address = found else { throw CheckpointProblem("找不到主机 \(host)") }
    defer { freeaddrinfo(found) }
    let fd = socket(address.pointee.ai_family, address.pointee.ai_socktype, address.pointee.ai_protocol)
    guard fd >= 0 else { throw CheckpointProblem("无法建立连接") }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 30, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    guard connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 else {
        throw CheckpointProblem("无法连接 \(host):\(port)：\(String(cString: strerror(errno)))")
    }
    let payload = Array(body.utf8)
    let path = target.path.isEmpty ? "/" : target.path
    let request = Array("POST \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(payload.count)\r\nConnection: close\r\n\r\n".utf8) + payload
    var sent = 0
    while sent < request.count {
        let n = request.withUnsafeBytes { send(fd, $0.baseAddress! + sent, request.count - sent, Int32(MSG_NOSIGNAL)) }
        guard n > 0 else { throw CheckpointProblem("发送失败：\(String(cString: strerror(errno)))") }
        sent += n
    }
    var answer: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 16 << 10)
    while answer.count < 1 << 20 {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        answer += buffer[0..<n]
    }
    let text = String(decoding: answer, as: UTF8.self)
    guard let split = text.range(of: "\r\n\r\n"), let statusLine = text[..<split.lowerBound].split(separator: "\r\n").first,
          let status = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else {
        throw CheckpointProblem("见证方的回应不是 HTTP")
    }
    let headers = text[..<split.lowerBound].lowercased()
    guard !headers.contains("transfer-encoding: chunked") else { throw CheckpointProblem("见证方的回应分块传输，本命令不支持") }
    return (status, String(text[split.upperBound...]))
}

struct Proof: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proof",
        abstract: "Write an offline proof of events (C2SP tlog-proof each, with the entry's bytes) against the latest checkpoint.",
        discussion: "Check it anywhere with civic-verify-proof or Tools/verify-proof, given the log's verifier key.")
    @OptionGroup var store: StoreOptions
    @Option(help: "Every event of this subject (a problem, case, unit or account).") var subject: String?
    @Option(parsing: .upToNextOption, help: "These seqs.") var seq: [UInt64] = []
    @Option(help: "Write the proof here (default: standard output).") var output: String?

    func validate() throws {
        if (subject == nil) == seq.isEmpty { throw ValidationError("请写明 --subject 或 --seq（二选一）") }
    }

    func run() throws {
        let ledger = try store.open(.readOnly)
        guard let checkpoint = try ledger.latestCheckpoint() else {
            throw CheckpointProblem("存储中还没有签名的检查点：请先运行 civic checkpoint --key 私钥文件")
        }
        let seqs = try subject.map { try ledger.seqs(ofSubject: $0) } ?? seq
        guard !seqs.isEmpty else { throw CheckpointProblem("\(subject ?? "") 没有任何事件") }
        let size = try Checkpoint(text: checkpoint.text).size
        if let late = seqs.first(where: { $0 > size }) {
            throw CheckpointProblem("seq \(late) 记于最近一个检查点（\(size) 个条目）之后：请先运行 civic checkpoint")
        }
        let bundle = try ledger.proofBundle(seqs: seqs, against: checkpoint)
        if let output {
            try Data(bundle.utf8).write(to: URL(fileURLWithPath: output))
            FileHandle.standardError.write("已写出 \(seqs.count) 个事件的证明到 \(output)（检查点 \(size) 个条目）\n")
        } else {
            print(bundle, terminator: "")
        }
    }
}

struct WitnessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "witness",
        abstract: "Run a C2SP tlog-witness: cosign checkpoints of the logs given, only when consistent with the last one it saw.",
        discussion: "POST /add-checkpoint (old size, consistency proof, checkpoint). 200 with the cosignature; 409 with the latest size seen; 422 when the proof fails; 403 for a bad signature; 404 for an unknown log.")
    @Option(help: "The witness's own private key (civic keys init).") var key: String
    @Option(parsing: .upToNextOption, help: "Verifier keys of the logs it witnesses.") var log: [String]
    @Option(help: "Folder where it keeps the latest checkpoint of each log.") var state: String
    @OptionGroup var listen: ListenOptions

    func run() throws {
        let signer = try readSigner(key)
        let logs = try log.map { try VerifierKey(parsing: $0) }
        let state = try WitnessState(folder: self.state)
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let host = listen.host
        let app = WitnessServer.application(key: signer, logs: logs, state: state, host: host, port: listen.port,
                                            logger: Logger(label: "civic.witness")) { port in
            print("见证方 \(signer.name) 在 http://\(host):\(port)/add-checkpoint 联署 \(logs.map(\.name).joined(separator: "、")) 的检查点；联署验证密钥 \(signer.cosignatureVerifier)")
            flushOutput()
        }
        let done = DispatchSemaphore(value: 0)
        let failure = Failed()
        Task {
            do { try await app.runService() } catch { failure.note("\(error)") }
            done.signal()
        }
        done.wait()
        if let error = failure.message { throw ServeFailure(message: "见证服务未能启动或异常停止：\(error)") }
    }
}

/// What a server's task ended with.
private final class Failed: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: String?
    func note(_ message: String) { lock.withLock { stored = message } }
    var message: String? { lock.withLock { stored } }
}
