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

/// The leaves of one stretch of the log and the nodes of the Merkle tree wholly inside it, hashed on the
/// stretch's thread as verify reads it (docs/transparency.md, "The tree").
public struct StretchNodes: Sendable {
    /// The index of the stretch's first leaf (its first seq − 1) and how many leaves it holds.
    let start: UInt64, count: UInt64
    /// By level from the leaves (0) up: the hashes, 32 bytes each, of the nodes wholly inside, from
    /// the first index `first(level)`.
    private var levels: [[UInt8]]

    /// Takes the leaves' hashes (32 bytes each) of the stretch starting at leaf `start`, and hashes the
    /// nodes they make.
    init(start: UInt64, leaves: [UInt8]) {
        self.start = start
        count = UInt64(leaves.count / 32)
        levels = [leaves]
        var level = 1
        while first(level) < end(level) {
            let below = levels[level - 1], belowFirst = first(level - 1)
            var nodes = [UInt8](repeating: 0, count: Int(end(level) - first(level)) * 32)
            below.withUnsafeBytes { children in
                nodes.withUnsafeMutableBytes { out in
                    for k in 0..<(out.count / 32) {
                        let child = Int(2 * (first(level) + UInt64(k)) - belowFirst) * 32
                        Merkle.nodeHash(UnsafeRawBufferPointer(rebasing: children[child..<(child + 32)]),
                                        UnsafeRawBufferPointer(rebasing: children[(child + 32)..<(child + 64)]), into: out.baseAddress! + 32 * k)
                    }
                }
            }
            levels.append(nodes)
            level += 1
        }
    }

    private func first(_ level: Int) -> UInt64 { (start + (UInt64(1) << level) - 1) >> level }
    private func end(_ level: Int) -> UInt64 { (start + count) >> level }

    /// `body` with the hash of the node at `level` and `index` when it lies wholly inside; else nil.
    func withNode<R>(level: Int, index: UInt64, _ body: (UnsafeRawBufferPointer) -> R) -> R? {
        guard level < levels.count, index >= first(level), index < end(level) else { return nil }
        let at = Int(index - first(level)) * 32
        return levels[level].withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[at..<(at + 32)])) }
    }
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
    /// missing, or nil when the tree is sound up to its size (which must be the head's). Reads the log
    /// for its leaves; verify takes them from the stretches it reads anyway (`checkTree(_:size:)`).
    public func checkTree() throws -> TreeDamage? {
        let count = UInt64(try count())
        guard count > 0 else { return try checkTree([], size: 0) }
        let stretch = try LogStretch(self, seqs: 1...count, checkingStreams: false, hashingLeaves: true) { _ in nil }
        if let damage = stretch.damage { throw damage }
        return try checkTree([stretch.nodes!], size: count)
    }

    /// Every stored node of the tree of `size` leaves compared with the nodes recomputed from `parts`
    /// (the stretches of the log from seq 1 to `size`, in order, each with the nodes wholly inside it;
    /// the few across two stretches are computed here from their children): the first that differs or
    /// is missing, or nil when the tree is sound up to its size (which must be the head's). The nodes are
    /// compared in the order they are stored, with one walk of the table.
    public func checkTree(_ parts: [StretchNodes], size: UInt64) throws -> TreeDamage? {
        guard let db = tree else { return nil }
        if size > 0, try treeSize() != size { return TreeDamage(problem: "存储尚无 Merkle 树（由早先的版本写成）：下一次写入时补齐") }
        guard size >= 2 else { return nil }
        var across = [UInt64: [UInt8]]()  // by the node's key as a number: (leaves when completed) · 64 + level
        func node(_ level: Int, _ index: UInt64, _ body: (UnsafeRawBufferPointer) -> Bool) -> Bool {
            let leaf = index << level
            var lo = 0, hi = parts.count - 1
            while lo < hi {  // the part holding the node's first leaf
                let mid = (lo + hi + 1) / 2
                if parts[mid].start <= leaf { lo = mid } else { hi = mid - 1 }
            }
            if let inside = parts[lo].withNode(level: level, index: index, body) { return inside }
            precondition(level > 0, "leaf \(index) lies in none of the stretches given")
            let key = ((index + 1) << level) << 6 | UInt64(level)
            if across[key] == nil {
                var children = [UInt8](repeating: 0, count: 64)
                _ = node(level - 1, 2 * index) { c in children.withUnsafeMutableBytes { $0.copyMemory(from: c) }; return true }
                _ = node(level - 1, 2 * index + 1) { c in children.withUnsafeMutableBytes { UnsafeMutableRawBufferPointer(rebasing: $0[32...]).copyMemory(from: c) }; return true }
                var hash = [UInt8](repeating: 0, count: 32)
                children.withUnsafeBytes { c in
                    hash.withUnsafeMutableBytes {
                        Merkle.nodeHash(UnsafeRawBufferPointer(rebasing: c[..<32]), UnsafeRawBufferPointer(rebasing: c[32...]), into: $0.baseAddress!)
                    }
                }
                across[key] = hash
            }
            return across[key]!.withUnsafeBytes(body)
        }
        func place(_ completed: UInt64, _ level: Int) -> String { "节点（层 \(level)，第 \((completed >> level) - 1) 个）" }
        // The stored order: by the number of leaves when a node was completed, then by level.
        var completed: UInt64 = 2, level = 1
        var found: TreeDamage?
        try txn.forEach(db, from: TreeEdge.key(level: 1, index: 0)) { key, value in
            let storedCompleted = key.count == 9 ? UInt64(bigEndianBytes: UnsafeRawBufferPointer(rebasing: key.prefix(8))) : 0
            guard storedCompleted == completed, key.count == 9, Int(key[8]) == level else {
                found = TreeDamage(problem: "缺少\(place(completed, level))")
                return false
            }
            guard node(level, (completed >> level) - 1, { $0.sameBytes(as: value) }) else {
                found = TreeDamage(problem: "\(place(completed, level))与由条目重算的不符")
                return false
            }
            if level < completed.trailingZeroBitCount { level += 1 } else { completed += 2; level = 1 }
            return completed <= size
        }
        if found == nil, completed <= size { found = TreeDamage(problem: "缺少\(place(completed, level))") }
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

    /// Throws away the stored tree and makes it again from the entries' bytes: what a rebuild of the
    /// derived data does to a tree `verify` found damaged.
    public mutating func rebuildTree() throws {
        guard let db = reader.tree else { return }
        try reader.txn.clear(db)
        let kept = Array(TreeEdge.keptFact.utf8)
        if try reader.txn.get(reader.meta, key: kept) != nil { try reader.txn.delete(reader.meta, key: kept) }
        tree = nil
        try completeTree()
    }

    /// Keeps a signed checkpoint (its note) under its tree size.
    public func keep(checkpoint note: String, size: UInt64) throws {
        guard let db = reader.checkpoints else { return }
        try reader.txn.put(db, key: size.bigEndianBytes, value: Array(note.utf8))
    }
}
