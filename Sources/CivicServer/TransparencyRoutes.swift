import Foundation
import HTTPTypes
import Hummingbird
import JSON
import Ledger
import NIOCore
import Queries
import Transparency

/// The verifiable log's routes (docs/transparency.md): the latest signed checkpoint, proofs from the
/// stored tree, and an entry's stored bytes. Read-only: they are served with or without `--writable`.
enum TransparencyRoutes {
    static func add(to router: Router<CivicContext>, ledger: Ledger, lane: WorkLane) {
        router.get("/checkpoint") { _, _ -> Response in
            guard let note = try await lane.run({ try ledger.latestCheckpoint() }) else {
                throw WriteRefusal(.notFound, "还没有签名的检查点：由存储所在机器运行 civic checkpoint --key 私钥文件")
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: note.rendered)))
        }
        router.get("/api/proof/inclusion") { request, _ -> Response in
            let (seq, size) = try numbers(request, "seq", "size")
            guard seq >= 1, seq <= size else { throw QueryError("seq", "seq 须在 1 与 size 之间") }
            let hashes = try await lane.run { try within(ledger, size) { try ledger.inclusionProof(seq: seq, size: size) } }
            return .json(JSONText.render(.object([("leafIndex", .int(seq - 1)), ("treeSize", .int(size)),
                                                  ("hashes", .array(hashes.map { .string(Data($0).base64EncodedString()) }))])) + "\n")
        }
        router.get("/api/proof/consistency") { request, _ -> Response in
            let (from, to) = try numbers(request, "from", "to")
            guard from <= to else { throw QueryError("from", "from 不能大于 to") }
            let hashes = try await lane.run { try within(ledger, to) { try ledger.consistencyProof(from: from, to: to) } }
            return .json(JSONText.render(.object([("from", .int(from)), ("to", .int(to)),
                                                  ("hashes", .array(hashes.map { .string(Data($0).base64EncodedString()) }))])) + "\n")
        }
        router.get("/api/entry/:seq") { _, context -> Response in
            guard let seq = context.parameters.get("seq").flatMap(UInt64.init), seq >= 1 else {
                throw QueryError("seq", "seq 须为正整数")
            }
            guard let bytes = try await lane.run({ try ledger.entryBytes(seq) }) else {
                throw WriteRefusal(.notFound, "没有 seq \(seq) 的条目")
            }
            var headers = HTTPFields()
            headers[.contentType] = "application/octet-stream"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }

    /// Two whole numbers given as parameters `a` and `b` (nothing else).
    static func numbers(_ request: Request, _ a: String, _ b: String) throws -> (UInt64, UInt64) {
        var found: [String: UInt64] = [:]
        for (key, value) in try parameters(request) {
            guard key == a || key == b else { throw QueryError(key, "未知参数 “\(key)”：可用 \(a)、\(b)") }
            guard found[key] == nil else { throw QueryError(key, "参数 \(key) 重复") }
            guard let n = UInt64(value) else { throw QueryError(key, "\(key) “\(value)” 须为非负整数") }
            found[key] = n
        }
        guard let x = found[a] else { throw QueryError(a, "缺少参数 \(a)") }
        guard let y = found[b] else { throw QueryError(b, "缺少参数 \(b)") }
        return (x, y)
    }

    /// `body`, when the log holds `size` entries; else 400.
    @available(*, noasync)
    static func within<T>(_ ledger: Ledger, _ size: UInt64, _ body: () throws -> T) throws -> T {
        let head = try ledger.head().seq
        guard size <= head else { throw QueryError("size", "日志只有 \(head) 个条目，没有大小为 \(size) 的树") }
        return try body()
    }
}
