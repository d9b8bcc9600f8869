import EventLog
import Foundation
import Transparency

/// What `verify(checkpoint:)` found.
public struct CheckpointCheck: Sendable {
    public var checkpoint: Checkpoint
    /// Whether its signature was checked against a verifier key, and held (nil: no key to check with).
    public var signed: Bool?
    /// The log holds at least its size, and the root of that many entries, recomputed from their bytes, is its root.
    public var holds: Bool
    /// How many entries the log holds.
    public var logSize: UInt64
    /// When it does not hold: the largest checkpoint the store keeps that the log still matches.
    public var lastMatching: UInt64?
}

extension Ledger {
    /// The fact under which the store keeps the verifier key of its checkpoints.
    static let verifierFact = "log.vkey"

    /// Signs the tree as it stands (C2SP tlog-checkpoint, origin = the key's name), keeps it in the store's
    /// history of checkpoints with the verifier key, and returns it. A key other than the one the store's
    /// checkpoints were signed with is refused unless `newKey`: a checkpoint under another name would
    /// become the store's latest, its proofs no longer checked by the log's verifier key, and an
    /// inspector's older checkpoint reported as not the log's.
    /// - Throws: `CheckpointProblem` for such a key.
    @available(*, noasync)
    public func signCheckpoint(with key: SignerKey, newKey: Bool = false) throws -> SignedNote {
        try log.write { writer in
            if !newKey, let kept = try writer.read.fact(Self.verifierFact), let stored = try? VerifierKey(parsing: String(decoding: kept, as: UTF8.self)),
               stored.description != key.verifier.description {
                throw CheckpointProblem("私钥 \(key.name) 不是签发本日志检查点的密钥（\(stored.name)，验证密钥 \(stored)）：请用那把私钥；"
                                        + "确要换用新密钥时加 --new-key，并把新的验证密钥交给督查与见证方")
            }
            try writer.completeTree()
            let size = writer.head.seq
            let root = try writer.read.treeRoot(size: size)
            let note = SignedNote(text: Checkpoint(origin: key.name, size: size, root: root).text).signed(by: key)
            try writer.keep(checkpoint: note.rendered, size: size)
            try writer.setFact(Self.verifierFact, Array(key.verifier.description.utf8))
            return .commit(note)
        }
    }

    /// Keeps `note` (the same checkpoint, now cosigned) in place of the one of its size.
    @available(*, noasync)
    public func keepCheckpoint(_ note: SignedNote) throws {
        let checkpoint = try Checkpoint(text: note.text)
        try log.write { writer in
            try writer.keep(checkpoint: note.rendered, size: checkpoint.size)
            return .commit(())
        }
    }

    /// The latest checkpoint the store keeps, or nil.
    @available(*, noasync)
    public func latestCheckpoint() throws -> SignedNote? {
        try log.read { try $0.signedCheckpoints().last }.flatMap { try? SignedNote(parsing: $0.note) }
    }

    /// The verifier key the store's checkpoints were signed with, as the store keeps it.
    @available(*, noasync)
    public func storedVerifierKey() throws -> VerifierKey? {
        try log.read { try $0.fact(Self.verifierFact) }.flatMap { try? VerifierKey(parsing: String(decoding: $0, as: UTF8.self)) }
    }

    /// Checks that the log extends `note`: signed by `key` (if given), and the root of its first `size`
    /// entries, recomputed from their bytes (no stored node is trusted), is its root.
    @available(*, noasync)
    public func verify(checkpoint note: SignedNote, key: VerifierKey?) throws -> CheckpointCheck {
        let checkpoint = try Checkpoint(text: note.text)
        return try log.read { reader in
            let size = try reader.head().seq
            var check = CheckpointCheck(checkpoint: checkpoint, signed: key.map { note.isSigned(by: $0) }, holds: false, logSize: size)
            guard checkpoint.size <= size else { return check }
            let kept = try reader.signedCheckpoints().compactMap { stored in
                (try? SignedNote(parsing: stored.note)).flatMap { try? Checkpoint(text: $0.text) }
            }.filter { $0.size < checkpoint.size }
            let roots = try reader.recomputedRoots(sizes: Set(kept.map(\.size) + [checkpoint.size]))
            check.holds = roots[checkpoint.size] == checkpoint.root
            if !check.holds { check.lastMatching = kept.filter { roots[$0.size] == $0.root }.map(\.size).max() }
            return check
        }
    }

    /// The inclusion proof of `seq` in the tree of `size` entries, from the stored nodes.
    @available(*, noasync)
    public func inclusionProof(seq: UInt64, size: UInt64) throws -> [[UInt8]] {
        try log.read { try $0.inclusionProof(seq: seq, size: size) }
    }

    /// The consistency proof between the trees of `first` and `second` entries.
    @available(*, noasync)
    public func consistencyProof(from first: UInt64, to second: UInt64) throws -> [[UInt8]] {
        try log.read { try $0.consistencyProof(from: first, to: second) }
    }

    /// The stored bytes of the entry at `seq` (what the chain hashes and the tree takes as its leaf).
    @available(*, noasync)
    public func entryBytes(_ seq: UInt64) throws -> [UInt8]? {
        try log.read { try $0.withEntry(seq) { $0.map { Array($0.entryBytes) } } }
    }

    /// An offline proof of the events at `seqs` against the checkpoint `note`: one C2SP tlog-proof each,
    /// its `extra` the entry's stored bytes (docs/transparency.md, "Proof bundles").
    @available(*, noasync)
    public func proofBundle(seqs: [UInt64], against note: SignedNote) throws -> String {
        let checkpoint = try Checkpoint(text: note.text)
        return try log.read { reader in
            try seqs.map { seq -> String in
                guard seq >= 1, seq <= checkpoint.size else { throw CheckpointProblem("seq \(seq) 不在检查点的 \(checkpoint.size) 个条目之内") }
                let bytes = try reader.withEntry(seq) { $0.map { Array($0.entryBytes) } }
                return TlogProof(extra: bytes, index: seq - 1, hashes: try reader.inclusionProof(seq: seq, size: checkpoint.size),
                                 checkpoint: note).rendered
            }.joined()
        }
    }

    /// The seqs of a subject's events, in order.
    @available(*, noasync)
    public func seqs(ofSubject subject: String) throws -> [UInt64] {
        guard var seq = try record(of: subject)?.lastSeq else { return [] }
        var seqs: [UInt64] = []
        try log.read { reader in
            while seq > 0 {
                seqs.append(seq)
                let previous = try reader.withEntry(seq) { entry -> UInt64 in
                    guard let entry, entry.previous < seq else { throw LogDamage(seq: seq, problem: "the back-pointer does not point back") }
                    return entry.previous
                }
                seq = previous
            }
        }
        return seqs.reversed()
    }
}

/// A checkpoint or proof request that cannot be answered, in an inspector's words.
public struct CheckpointProblem: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension LogReader {
    /// The roots of the first `size` entries for each of `sizes`, recomputed from the entries' bytes in one pass.
    func recomputedRoots(sizes: Set<UInt64>) throws -> [UInt64: [UInt8]] {
        var roots: [UInt64: [UInt8]] = [:]
        if sizes.contains(0) { roots[0] = Merkle.emptyRoot }
        guard let last = sizes.max(), last > 0 else { return roots }
        var frontier = Merkle.Frontier()
        try forEach(after: 0) { entry in
            try frontier.append(Merkle.leafHash(entry.entryBytes))
            if sizes.contains(entry.seq) { roots[entry.seq] = frontier.root }
            return entry.seq < last
        }
        return roots
    }
}
