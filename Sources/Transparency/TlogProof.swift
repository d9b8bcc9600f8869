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
