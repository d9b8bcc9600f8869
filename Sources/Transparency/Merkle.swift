import Crypto

/// The Merkle tree of RFC 9162 §2.1 over a log's entries: leaf hash SHA-256(0x00 ‖ entry), node hash
/// SHA-256(0x01 ‖ left ‖ right), the tree of `size` leaves split at the largest power of two below it
/// (docs/transparency.md). Proofs are made from a function giving the hash of any range of leaves,
/// so that a store can answer from the nodes it keeps; verification needs nothing but the proof.
public enum Merkle {
    /// SHA-256 of no bytes: the root of the empty tree.
    public static let emptyRoot: [UInt8] = Array(SHA256.hash(data: [UInt8]()))

    public static func leafHash(_ entry: some Collection<UInt8>) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        out.withUnsafeMutableBytes { out in
            if entry.withContiguousStorageIfAvailable({ leafHash(UnsafeRawBufferPointer($0), into: out.baseAddress!) }) == nil {
                Array(entry).withUnsafeBytes { leafHash($0, into: out.baseAddress!) }
            }
        }
        return out
    }

    public static func nodeHash(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        left.withUnsafeBytes { l in right.withUnsafeBytes { r in out.withUnsafeMutableBytes { nodeHash(l, r, into: $0.baseAddress!) } } }
        return out
    }

    /// `leafHash` written into the 32 bytes at `out`, with no array made (the many leaves of a verify).
    public static func leafHash(_ entry: UnsafeRawBufferPointer, into out: UnsafeMutableRawPointer) {
        var h = SHA256()
        withUnsafeBytes(of: UInt8(0)) { h.update(bufferPointer: $0) }
        h.update(bufferPointer: entry)
        h.finalize().withUnsafeBytes { out.copyMemory(from: $0.baseAddress!, byteCount: 32) }
    }

    /// `nodeHash` written into the 32 bytes at `out`, with no array made.
    public static func nodeHash(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer, into out: UnsafeMutableRawPointer) {
        var h = SHA256()
        withUnsafeBytes(of: UInt8(1)) { h.update(bufferPointer: $0) }
        h.update(bufferPointer: left)
        h.update(bufferPointer: right)
        h.finalize().withUnsafeBytes { out.copyMemory(from: $0.baseAddress!, byteCount: 32) }
    }

    /// The largest power of two smaller than `n` (n ≥ 2).
    public static func split(_ n: UInt64) -> UInt64 {
        precondition(n >= 2)
        return UInt64(1) << (63 - (n - 1).leadingZeroBitCount)
    }

    /// The root of the tree over `leaves` (leaf hashes), computed from them alone: the reference.
    public static func root(_ leaves: ArraySlice<[UInt8]>) -> [UInt8] {
        switch leaves.count {
        case 0: return emptyRoot
        case 1: return leaves.first!
        default:
            let k = Int(split(UInt64(leaves.count)))
            return nodeHash(root(leaves.prefix(k)), root(leaves.dropFirst(k)))
        }
    }

    /// The hash of the leaves `range` (MTH of RFC 9162), from `aligned`, which gives the hash of a range
    /// whose length is a power of two and whose start is a multiple of it (a node a store keeps).
    public static func hash(_ range: Range<UInt64>, aligned: (Range<UInt64>) throws -> [UInt8]) rethrows -> [UInt8] {
        let n = UInt64(range.count)
        if n == 0 { return emptyRoot }
        if n & (n - 1) == 0 && range.lowerBound % n == 0 { return try aligned(range) }
        let k = split(n)
        let middle = range.lowerBound + k
        return nodeHash(try hash(range.lowerBound..<middle, aligned: aligned), try hash(middle..<range.upperBound, aligned: aligned))
    }

    /// The inclusion proof of leaf `index` in the tree of `size` leaves (RFC 9162 §2.1.3.1), from the
    /// leaf's sibling up.
    public static func inclusionProof(_ index: UInt64, size: UInt64, aligned: (Range<UInt64>) throws -> [UInt8]) throws -> [[UInt8]] {
        precondition(index < size)
        func path(_ lo: UInt64, _ hi: UInt64) throws -> [[UInt8]] {
            let n = hi - lo
            if n == 1 { return [] }
            let k = split(n)
            if index - lo < k { return try path(lo, lo + k) + [try hash((lo + k)..<hi, aligned: aligned)] }
            return try path(lo + k, hi) + [try hash(lo..<(lo + k), aligned: aligned)]
        }
        return try path(0, size)
    }

    /// The consistency proof between the trees of `first` and `second` leaves (RFC 9162 §2.1.4.1).
    public static func consistencyProof(from first: UInt64, to second: UInt64, aligned: (Range<UInt64>) throws -> [UInt8]) throws -> [[UInt8]] {
        precondition(first <= second)
        if first == 0 || first == second { return [] }
        func subproof(_ m: UInt64, _ lo: UInt64, _ hi: UInt64, _ whole: Bool) throws -> [[UInt8]] {
            let n = hi - lo
            if m == n { return whole ? [] : [try hash(lo..<hi, aligned: aligned)] }
            let k = split(n)
            if m <= k { return try subproof(m, lo, lo + k, whole) + [try hash((lo + k)..<hi, aligned: aligned)] }
            return try subproof(m - k, lo + k, hi, false) + [try hash(lo..<(lo + k), aligned: aligned)]
        }
        return try subproof(first, 0, second, true)
    }

    /// Why a proof does not verify.
    public struct ProofFailure: Error, Equatable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Checks that `leafHash` is leaf `index` of the tree of `size` leaves whose root is `root`
    /// (RFC 9162 §2.1.3.2). - Throws: `ProofFailure` saying what does not hold.
    public static func verifyInclusion(leafHash: [UInt8], index: UInt64, size: UInt64, proof: [[UInt8]], root: [UInt8]) throws(ProofFailure) {
        guard leafHash.count == 32, root.count == 32, proof.allSatisfy({ $0.count == 32 }) else {
            throw ProofFailure("哈希长度不是 32 字节")
        }
        guard index < size else { throw ProofFailure("序号 \(index) 不在大小为 \(size) 的树中") }
        var fn = index, sn = size - 1
        var r = leafHash
        for p in proof {
            guard sn != 0 else { throw ProofFailure("包含证明多出了哈希") }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 { while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 } }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1; sn >>= 1
        }
        guard sn == 0 else { throw ProofFailure("包含证明缺少哈希") }
        guard r == root else { throw ProofFailure("由包含证明算出的树根与检查点的树根不符") }
    }

    /// Checks that the tree of `second` leaves with root `root2` extends the tree of `first` leaves with
    /// root `root1` (RFC 9162 §2.1.4.2). - Throws: `ProofFailure` saying what does not hold.
    public static func verifyConsistency(first: UInt64, second: UInt64, root1: [UInt8], root2: [UInt8], proof: [[UInt8]]) throws(ProofFailure) {
        guard first <= second else { throw ProofFailure("旧树大小 \(first) 大于新树大小 \(second)") }
        if first == second {
            // The same tree: nothing to prove but that the roots are the same.
            guard proof.isEmpty else { throw ProofFailure("两棵树一样大，一致性证明应为空") }
            guard root1 == root2 else { throw ProofFailure("两棵树一样大，树根却不同") }
            guard first != 0 || root1 == emptyRoot else { throw ProofFailure("空树的树根不对") }
            return
        }
        guard root1.count == 32, root2.count == 32, proof.allSatisfy({ $0.count == 32 }) else {
            throw ProofFailure("哈希长度不是 32 字节")
        }
        guard first != 0 else { throw ProofFailure("从空树出发的一致性证明没有意义") }
        guard !proof.isEmpty else { throw ProofFailure("一致性证明为空") }
        var path = proof
        if first & (first - 1) == 0 { path.insert(root1, at: 0) }
        var fn = first - 1, sn = second - 1
        while fn & 1 == 1 { fn >>= 1; sn >>= 1 }
        var fr = path[0], sr = path[0]
        for c in path.dropFirst() {
            guard sn != 0 else { throw ProofFailure("一致性证明多出了哈希") }
            if fn & 1 == 1 || fn == sn {
                fr = nodeHash(c, fr)
                sr = nodeHash(c, sr)
                if fn & 1 == 0 { while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 } }
            } else {
                sr = nodeHash(sr, c)
            }
            fn >>= 1; sn >>= 1
        }
        guard sn == 0 else { throw ProofFailure("一致性证明缺少哈希") }
        guard fr == root1 else { throw ProofFailure("由一致性证明算出的旧树根与旧检查点不符") }
        guard sr == root2 else { throw ProofFailure("由一致性证明算出的新树根与新检查点不符") }
    }
}

extension Merkle {
    /// The right edge of a tree being built leaf by leaf: the hashes of the complete subtrees its leaves
    /// make, largest first. Appending a leaf merges the equal levels at its end, each merge a node.
    public struct Frontier: Sendable {
        public private(set) var size: UInt64 = 0
        public private(set) var subtrees: [(level: Int, hash: [UInt8])] = []

        public init() {}

        /// The edge of a tree of `size` leaves whose complete subtrees (largest first) are `subtrees`.
        public init(size: UInt64, subtrees: [(level: Int, hash: [UInt8])]) { self.size = size; self.subtrees = subtrees }

        /// Adds a leaf, calling `completed` with the level (≥ 1), index and hash of each node it completes.
        public mutating func append(_ leaf: [UInt8], completed: (Int, UInt64, [UInt8]) throws -> Void = { _, _, _ in }) rethrows {
            subtrees.append((0, leaf))
            while subtrees.count >= 2, subtrees[subtrees.count - 1].level == subtrees[subtrees.count - 2].level {
                let right = subtrees.removeLast(), left = subtrees.removeLast()
                let level = left.level + 1
                let hash = nodeHash(left.hash, right.hash)
                try completed(level, (size + 1 - (UInt64(1) << level)) >> level, hash)
                subtrees.append((level, hash))
            }
            size += 1
        }

        /// The root of the tree so far.
        public var root: [UInt8] {
            guard let last = subtrees.last else { return emptyRoot }
            return subtrees.dropLast().reversed().reduce(last.hash) { nodeHash($1.hash, $0) }
        }
    }
}
