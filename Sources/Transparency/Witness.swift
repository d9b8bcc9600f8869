import Foundation

/// The body of a C2SP tlog-witness `add-checkpoint` request: the size the log last showed the witness,
/// a consistency proof from it, and the new checkpoint.
public struct AddCheckpoint: Equatable, Sendable {
    public let oldSize: UInt64
    public let proof: [[UInt8]]
    public let checkpoint: SignedNote

    public init(oldSize: UInt64, proof: [[UInt8]], checkpoint: SignedNote) {
        self.oldSize = oldSize; self.proof = proof; self.checkpoint = checkpoint
    }

    public var rendered: String {
        (["old \(oldSize)"] + proof.map { Data($0).base64EncodedString() }).joined(separator: "\n") + "\n\n" + checkpoint.rendered
    }

    public init(parsing text: String) throws(NoteProblem) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)[...]
        guard let first = lines.first, first.hasPrefix("old "), let old = UInt64(first.dropFirst(4)), String(old) == first.dropFirst(4) else {
            throw NoteProblem("首行应为 old 与旧树大小")
        }
        lines = lines.dropFirst()
        var proof: [[UInt8]] = []
        while let line = lines.first, !line.isEmpty {
            guard let hash = Data(base64Encoded: String(line)), hash.count == 32 else { throw NoteProblem("一致性证明中“\(line)”不是 32 字节哈希的 base64") }
            proof.append(Array(hash))
            lines = lines.dropFirst()
        }
        guard lines.first == "" else { throw NoteProblem("一致性证明之后缺少空行") }
        self.init(oldSize: old, proof: proof, checkpoint: try SignedNote(parsing: lines.dropFirst().joined(separator: "\n")))
    }
}

/// What a witness decides on an `add-checkpoint` (C2SP tlog-witness), given what it knows of the log.
public enum WitnessDecision: Equatable, Sendable {
    /// Cosign, and keep this checkpoint as the log's latest.
    case cosign(Checkpoint)
    /// 400: the body does not read.
    case badRequest(String)
    /// 403: the checkpoint is not signed by the log's key.
    case forbidden(String)
    /// 404: no log of that origin is configured.
    case unknownLog(String)
    /// 409: the old size is not the latest the witness has; the body gives that size.
    case conflict(latest: UInt64)
    /// 422: the consistency proof does not verify.
    case unprocessable(String)
}

/// A witness's rules (C2SP tlog-witness), over the logs it trusts and the latest checkpoint it saw of each.
public enum WitnessRules {
    /// The decision on `body` for the trusted `logs` (by origin), of which `latest` gives the checkpoint
    /// last cosigned (nil: none yet, size 0 and the empty root).
    public static func decide(_ body: String, logs: [String: VerifierKey], latest: (String) -> Checkpoint?) -> WitnessDecision {
        let request: AddCheckpoint
        do { request = try AddCheckpoint(parsing: body) } catch { return .badRequest(error.description) }
        let checkpoint: Checkpoint
        do { checkpoint = try Checkpoint(text: request.checkpoint.text) } catch { return .badRequest(error.description) }
        guard let key = logs[checkpoint.origin] else { return .unknownLog("不认识来源为“\(checkpoint.origin)”的日志") }
        guard request.checkpoint.isSigned(by: key) else { return .forbidden("检查点没有该日志密钥 \(key.name) 的有效签名") }
        let known = latest(checkpoint.origin) ?? Checkpoint(origin: checkpoint.origin, size: 0, root: Merkle.emptyRoot)
        guard request.oldSize == known.size else { return .conflict(latest: known.size) }
        guard checkpoint.size >= known.size else { return .badRequest("新检查点的大小 \(checkpoint.size) 小于旧大小 \(known.size)") }
        if known.size == 0 {
            guard request.proof.isEmpty else { return .unprocessable("从空树出发，一致性证明应为空") }
            return .cosign(checkpoint)
        }
        do {
            try Merkle.verifyConsistency(first: known.size, second: checkpoint.size, root1: known.root, root2: checkpoint.root, proof: request.proof)
        } catch {
            return .unprocessable("一致性证明不成立：\(error.description)")
        }
        return .cosign(checkpoint)
    }
}
