import Foundation
import LMDB
import Transparency
import Wire

/// The right edge of the log's Merkle tree (docs/transparency.md): its size and the hashes of the complete
/// subtrees it is made of, largest first. Appending a leaf pushes its hash and merges equal levels, each
/// merge a node the store keeps. Leaves (level 0) are not stored: their hash is the entry's.
struct TreeEdge {
    /// Set once the tree holds every entry: from then on every append grows it in its own transaction,
    /// so its size is the head's seq (no write of its size with each commit).
    static let keptFact = "tree.kept"

    var frontier: Merkle.Frontier
    var size: UInt64 { frontier.size }

    /// The key of the node at `level` (≥ 1) and `index`: the number of leaves when it was completed
    /// ((index + 1) · 2^level, big-endian), then its level. Nodes are made in that order, so each is put
    /// after every key there is (`MDB_APPEND`), and the table's pages are filled whole.
    static func key(level: Int, index: UInt64) -> [UInt8] { ((index + 1) << level).bigEndianBytes + [UInt8(level)] }
}

/// What is wrong with the stored tree.
public struct TreeDamage: Error, Sendable, CustomStringConvertible {
    public var problem: String
    public var description: String { "Merkle 树：\(problem)" }
}

extension LogWriter {
    /// Adds the leaf of the entry just appended, writing the nodes it completes. The first time in a
    /// transaction the edge is read from the stored nodes, and leaves the tree lacks (a store made before
    /// it had one) are added first.
    mutating func grow(leaf: [UInt8]) throws {
        guard let db = reader.tree else { return }
        if tree == nil { try completeTree() }
        try Self.add(leaf, to: &tree!, db, reader)
    }

    fileprivate static func add(_ leaf: [UInt8], to edge: inout TreeEdge, _ db: Database, _ reader: borrowing LogReader) throws {
        try edge.frontier.append(leaf) { level, index, hash in
            try reader.txn.put(db, key: TreeEdge.key(level: level, index: index), value: hash, options: .append)
        }
    }
}

extension LogReader {
    /// How many leaves the stored tree holds: the head's seq once it is kept; 0 for a store that has none yet.
    public func treeSize() throws -> UInt64 {
        guard tree != nil, try txn.get(meta, key: Array(TreeEdge.keptFact.utf8)) != nil else { return 0 }
        return try head().seq
    }

    /// The tree's right edge over the first `size` leaves, from the stored nodes.
    func treeEdge(size: UInt64) throws -> TreeEdge {
        var subtrees: [(level: Int, hash: [UInt8])] = []
        var start: UInt64 = 0
        for level in (0..<64).reversed() where size & (UInt64(1) << level) != 0 {
            subtrees.append((level, try node(start..<(start + (UInt64(1) << level)))))
            start += UInt64(1) << level
        }
        return TreeEdge(frontier: Merkle.Frontier(size: size, subtrees: subtrees))
    }

    /// The hash of an aligned range of leaves (a power of two long, starting at a multiple of it): a
    /// leaf's hash from its entry, a node from the table.
    /// - Throws: `TreeDamage` for a node missing or not 32 bytes; `LogDamage` for a leaf's entry.
    func node(_ range: Range<UInt64>) throws -> [UInt8] {
        let count = UInt64(range.count)
        if count == 1 {
            return try withEntry(range.lowerBound + 1) { entry in
                guard let entry else { throw LogDamage(seq: range.lowerBound + 1, problem: "missing: the tree's leaf has no entry") }
                return Merkle.leafHash(entry.entryBytes)
            }
        }
        let level = count.trailingZeroBitCount
        guard let db = tree, let hash = try txn.get(db, key: TreeEdge.key(level: level, index: range.lowerBound >> level)), hash.count == 32 else {
            throw TreeDamage(problem: "缺少节点（层 \(level)，第 \(range.lowerBound >> level) 个）")
        }
        return hash
    }

    /// The root of the tree of the first `size` leaves, from the stored nodes.
    public func treeRoot(size: UInt64) throws -> [UInt8] {
        try Merkle.hash(0..<size) { range in try node(range) }
    }

    /// The inclusion proof of the leaf of `seq` in the tree of `size` leaves.
    public func inclusionProof(seq: UInt64, size: UInt64) throws -> [[UInt8]] {
        try Merkle.inclusionProof(seq - 1, size: size) { range in try node(range) }
    }

    /// The consistency proof between the trees of `first` and `second` leaves.
    public func consistencyProof(from first: UInt64, to second: UInt64) throws -> [[UInt8]] {
        try Merkle.consistencyProof(from: first, to: second) { range in try node(range) }
    }

    /// The root of the first `size` leaves recomputed from the entries' bytes alone (no stored node):
    /// what an inspector trusts.
    public func recomputedRoot(size: UInt64) throws -> [UInt8] {
        var frontier = Merkle.Frontier()
        if size > 0 {
            try forEach(after: 0) { entry in
                try frontier.append(Merkle.leafHash(entry.entryBytes))
                return entry.seq < size
            }
        }
        return frontier.root
    }

    /// Every stored node recomputed from the entries' bytes and compared: the first that differs or is
    /// missing, or nil when the tree is sound up to its size (which must be the head's). The nodes are
    /// recomputed in the order they are stored, so each batch of them is compared with one walk of the
    /// table, not a look-up each.
    public func checkTree() throws -> TreeDamage? {
        guard let db = tree else { return nil }
        let head = try self.head().seq
        if head > 0, try treeSize() != head { return TreeDamage(problem: "存储尚无 Merkle 树（由早先的版本写成）：下一次写入时补齐") }
        var frontier = Merkle.Frontier()
        var made: [(key: [UInt8], hash: [UInt8])] = []
        made.reserveCapacity(1 << 16)
        var found: TreeDamage?
        func where_(_ key: [UInt8]) -> String {
            let level = Int(key[8])
            let index = (key.prefix(8).withUnsafeBytes { UInt64(bigEndianBytes: $0) } >> level) - 1
            return "节点（层 \(level)，第 \(index) 个）"
        }
        func compare() throws {
            guard let first = made.first else { return }
            var k = 0
            try txn.forEach(db, from: first.key) { key, value in
                guard key.elementsEqual(made[k].key) else { found = TreeDamage(problem: "缺少\(where_(made[k].key))"); return false }
                guard value.elementsEqual(made[k].hash) else { found = TreeDamage(problem: "\(where_(made[k].key))与由条目重算的不符"); return false }
                k += 1
                return k < made.count
            }
            if found == nil && k < made.count { found = TreeDamage(problem: "缺少\(where_(made[k].key))") }
            made.removeAll(keepingCapacity: true)
        }
        try forEach(after: 0) { entry in
            frontier.append(Merkle.leafHash(entry.entryBytes)) { level, index, hash in
                made.append((TreeEdge.key(level: level, index: index), hash))
            }
            if made.count >= 1 << 16 { try compare() }
            return found == nil
        }
        if found == nil { try compare() }
        return found
    }

    /// The signed checkpoints the store keeps (C2SP notes), by tree size, smallest first.
    public func signedCheckpoints() throws -> [(size: UInt64, note: String)] {
        guard let db = checkpoints else { return [] }
        var found: [(size: UInt64, note: String)] = []
        try txn.forEach(db) { key, value in
            found.append((UInt64(bigEndianBytes: key), String(decoding: value, as: UTF8.self)))
            return true
        }
        return found
    }
}

extension LogWriter {
    /// Reads the tree's right edge (unless the log gave it from its last transaction), adding first the
    /// leaves a store made before it had a tree lacks, without appending.
    public mutating func completeTree() throws {
        guard let db = reader.tree, tree == nil else { return }
        // The writer's head, not the reader's: an entry put in this transaction may not be a leaf yet.
        let kept = try reader.txn.get(reader.meta, key: Array(TreeEdge.keptFact.utf8)) != nil
        var edge = try reader.treeEdge(size: kept ? head.seq : 0)
        if edge.size < head.seq {
            // A store without a tree yet (treeEdge read none): every entry becomes a leaf, then it is kept.
            // (Nodes left by a tree never completed are made again.)
            try reader.txn.clear(db)
            try reader.forEach(after: 0) { entry in
                try Self.add(Merkle.leafHash(entry.entryBytes), to: &edge, db, reader)
                return true
            }
        }
        if !kept { try reader.txn.put(reader.meta, key: Array(TreeEdge.keptFact.utf8), value: [1]) }
        tree = edge
    }

    /// Keeps a signed checkpoint (its note) under its tree size.
    public func keep(checkpoint note: String, size: UInt64) throws {
        guard let db = reader.checkpoints else { return }
        try reader.txn.put(db, key: size.bigEndianBytes, value: Array(note.utf8))
    }
}
