import Foundation

/// A C2SP tlog-proof: an entry's index, its inclusion proof, the checkpoint (with its cosignatures), and
/// optional extra data — for civic, the entry's stored bytes, so that the leaf is recomputed from them.
public struct TlogProof: Equatable, Sendable {
    public static let header = "c2sp.org/tlog-proof@v1"

    public let extra: [UInt8]?
    public let index: UInt64
    public let hashes: [[UInt8]]
    public let checkpoint: SignedNote

    public init(extra: [UInt8]?, index: UInt64, hashes: [[UInt8]], checkpoint: SignedNote) {
        self.extra = extra; self.index = index; self.hashes = hashes; self.checkpoint = checkpoint
    }

    public var rendered: String {
        var lines = [Self.header]
        if let extra { lines.append("extra " + Data(extra).base64EncodedString()) }
        lines.append("index \(index)")
        lines += hashes.map { Data($0).base64EncodedString() }
        return lines.joined(separator: "\n") + "\n\n" + checkpoint.rendered
    }

    public init(parsing text: String) throws(NoteProblem) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)[...]
        guard lines.first == Substring(Self.header) else { throw NoteProblem("不是 tlog-proof：首行应为 \(Self.header)") }
        lines = lines.dropFirst()
        var extra: [UInt8]?
        if let line = lines.first, line.hasPrefix("extra ") {
            guard let data = Data(base64Encoded: String(line.dropFirst(6))) else { throw NoteProblem("extra 行不是 base64") }
            extra = Array(data)
            lines = lines.dropFirst()
        }
        guard let line = lines.first, line.hasPrefix("index "), let index = UInt64(line.dropFirst(6)), String(index) == line.dropFirst(6) else {
            throw NoteProblem("缺少 index 行，或序号不是十进制整数")
        }
        lines = lines.dropFirst()
        var hashes: [[UInt8]] = []
        while let line = lines.first, !line.isEmpty {
            guard let hash = Data(base64Encoded: String(line)), hash.count == 32 else { throw NoteProblem("包含证明中“\(line)”不是 32 字节哈希的 base64") }
            hashes.append(Array(hash))
            lines = lines.dropFirst()
        }
        guard lines.first == "" else { throw NoteProblem("包含证明之后缺少空行") }
        let note = lines.dropFirst().joined(separator: "\n")
        self.init(extra: extra, index: index, hashes: hashes, checkpoint: try SignedNote(parsing: note))
    }

    /// The proofs of a file holding several, one after another (each begins with the header line, which
    /// no other line of a proof can be).
    public static func all(in text: String) throws(NoteProblem) -> [TlogProof] {
        var parts: [[Substring]] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == Substring(header) { parts.append([]) }
            guard !parts.isEmpty else { throw NoteProblem("证明文件须以 \(header) 开头") }
            parts[parts.count - 1].append(line)
        }
        return try parts.map { lines throws(NoteProblem) in
            var lines = lines
            while lines.last == "" { lines.removeLast() }
            return try TlogProof(parsing: lines.joined(separator: "\n") + "\n")
        }
    }
}

/// A file of tlog-proofs of a log's entries (a civic proof bundle), checked with nothing but the proofs:
/// each checkpoint signed by the log's pinned key, cosigned by at least `need` of `witnesses`, and each
/// entry's bytes (its `extra`) hashed into a leaf that the inclusion proof takes to the checkpoint's root.
public enum ProofBundle {
    public struct Proven: Sendable {
        public let index: UInt64
        /// The entry's stored bytes, now known to be the log's.
        public let entry: [UInt8]
        public let checkpoint: Checkpoint
    }

    /// - Throws: `NoteProblem` naming the proof and what failed.
    public static func check(_ text: String, log: VerifierKey, witnesses: [VerifierKey] = [], need: Int = 0) throws(NoteProblem) -> [Proven] {
        let proofs: [TlogProof]
        do { proofs = try TlogProof.all(in: text) } catch { throw NoteProblem("证明文件格式不对：\(error)") }
        guard !proofs.isEmpty else { throw NoteProblem("证明文件中没有 tlog-proof") }
        return try proofs.enumerated().map { (n, proof) throws(NoteProblem) -> Proven in
            let which = "第 \(n + 1) 个证明（index \(proof.index)）"
            let checkpoint: Checkpoint
            do { checkpoint = try Checkpoint(text: proof.checkpoint.text) } catch { throw NoteProblem("\(which)：检查点格式不对：\(error)") }
            guard checkpoint.origin == log.name else { throw NoteProblem("\(which)：检查点来自“\(checkpoint.origin)”，不是“\(log.name)”") }
            guard proof.checkpoint.isSigned(by: log) else { throw NoteProblem("\(which)：检查点没有 \(log.name) 的有效签名（被改动，或不是该日志签发）") }
            let cosigned = witnesses.filter { proof.checkpoint.cosignatureTime(by: $0) != nil }
            guard cosigned.count >= need else {
                throw NoteProblem("\(which)：只有 \(cosigned.count) 个见证方联署有效，须至少 \(need) 个")
            }
            guard let bytes = proof.extra else { throw NoteProblem("\(which)：缺少 extra 行（条目的原始字节）") }
            do {
                try Merkle.verifyInclusion(leafHash: Merkle.leafHash(bytes), index: proof.index, size: checkpoint.size,
                                           proof: proof.hashes, root: checkpoint.root)
            } catch {
                throw NoteProblem("\(which)：由条目字节与包含证明算不出检查点的树根：\(error)")
            }
            return Proven(index: proof.index, entry: bytes, checkpoint: checkpoint)
        }
    }
}
