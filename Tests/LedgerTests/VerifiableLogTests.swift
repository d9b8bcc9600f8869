import Campaign
import EventLog
import Foundation
import LMDB
import Testing
import Transparency
@testable import Ledger

@Suite("The verifiable log in the store: the tree as the log grows, proofs from its nodes, checkpoints that catch a rewrite")
struct VerifiableLogTests {
    @Test("the stored tree gives the root of every prefix recomputed from the entries' bytes, and proofs that verify")
    func treeAsTheLogGrows() throws {
        let store = TemporaryStore()
        let ledger = try store.open()
        try randomCampaign(seed: 15, events: 260, into: ledger, store: store)
        let size = try ledger.head().seq
        #expect(size > 200)
        try ledger.log.read { reader in
            #expect(try reader.treeSize() == size)
            var roots: [UInt64: [UInt8]] = [:]
            for n in 0...size {
                let root = try reader.treeRoot(size: n)
                roots[n] = root
                if n % 37 == 0 || n == size { #expect(root == (try reader.recomputedRoot(size: n)), "size \(n)") }
            }
            for seq in 1...size {
                let leaf = try reader.withEntry(seq) { Merkle.leafHash($0!.entryBytes) }
                try Merkle.verifyInclusion(leafHash: leaf, index: seq - 1, size: size,
                                           proof: try reader.inclusionProof(seq: seq, size: size), root: roots[size]!)
            }
            for (first, second) in [(1, size), (7, 64), (64, 65), (100, size), (size, size)] {
                try Merkle.verifyConsistency(first: first, second: second, root1: roots[first]!, root2: roots[second]!,
                                             proof: try reader.consistencyProof(from: first, to: second))
            }
            #expect(try reader.checkTree() == nil)
        }
    }

    @Test("a changed node of the stored tree is named by verify, the log itself holding, and rebuild makes the tree again from the entries")
    func changedNodeNamed() throws {
        let store = TemporaryStore()
        do {
            let ledger = try store.open()
            try randomCampaign(seed: 16, events: 120, into: ledger, store: store)
            #expect(try ledger.verify().derived.isEmpty)
        }
        do {
            let environment = try Environment(path: store.path, maxDatabases: 16)
            let tree = try environment.database("tree")
            try environment.write { txn in try txn.put(tree, key: UInt64(3 << 3).bigEndianBytes + [3], value: [UInt8](repeating: 7, count: 32)) }
        }
        let ledger = try store.open()
        let found = try ledger.verify()
        #expect(found.derived.map(\.table) == ["tree"], "\(found.derived)")
        #expect(found.derived.first?.problem.contains("层 3") == true)
        #expect(try ledger.verify(logOnly: true).derived.isEmpty)
        // What verify then tells the operator to run makes the tree again from the entries' bytes.
        let root = try ledger.log.read { try $0.recomputedRoot(size: try $0.head().seq) }
        try ledger.rebuildDerived()
        #expect(try ledger.verify().derived.isEmpty)
        #expect(try ledger.log.read { try $0.treeRoot(size: try $0.head().seq) } == root)
    }

    @Test("the tree checked from stretches cut anywhere (nodes across two stretches among them) finds it sound, and names a changed node whatever stretch holds it")
    func treeFromStretches() throws {
        let store = TemporaryStore()
        let ledger = try store.open()
        try randomCampaign(seed: 18, events: 300, into: ledger, store: store)
        let size = try ledger.head().seq
        var random = SystemRandomNumberGenerator()
        func parts(_ reader: borrowing LogReader, cuts: [UInt64]) throws -> [StretchNodes] {
            try zip([0] + cuts, cuts + [size]).map { lo, hi in
                try LogStretch(reader, seqs: (lo + 1)...hi, checkingStreams: false, hashingLeaves: true) { _ in nil }.nodes!
            }
        }
        let cutsTried: [[UInt64]] = [[], [1], [size - 1], [128], [127, 129], [3, 64, 65, 200]]
            + (0..<20).map { _ in Array(Set((0..<Int.random(in: 1...9, using: &random)).map { _ in UInt64.random(in: 1..<size, using: &random) })).sorted() }
        try ledger.log.read { reader throws in
            for cuts in cutsTried {
                let found = try reader.checkTree(try parts(reader, cuts: cuts), size: size)
                #expect(found == nil, "cuts \(cuts)")
            }
        }
        // A node across the cuts at 100 and 200 (level 7, leaves 128 to 255), then a leaf's pair at level 1.
        for (level, index) in [(7, UInt64(1)), (1, UInt64(70))] {
            let key = ((index + 1) << UInt64(level)).bigEndianBytes + [UInt8(level)]
            let environment = try Environment(path: store.path, maxDatabases: 16)
            let tree = try environment.database("tree")
            let kept = try environment.read { txn in try txn.get(tree, key: key) }!
            try environment.write { txn in try txn.put(tree, key: key, value: kept.map { $0 ^ 1 }) }
            try store.open().log.read { reader throws in
                for cuts: [UInt64] in [[100, 200], [], [140]] {
                    let found = try reader.checkTree(try parts(reader, cuts: cuts), size: size)
                    #expect(found?.problem == "节点（层 \(level)，第 \(index) 个）与由条目重算的不符", "cuts \(cuts)")
                }
            }
            try environment.write { txn in try txn.put(tree, key: key, value: kept) }
        }
    }

    @Test("a store made before it had a tree gets its whole tree at its next write")
    func treeCompletedLater() throws {
        let store = TemporaryStore()
        do {
            let ledger = try store.open()
            try randomCampaign(seed: 17, events: 90, into: ledger, store: store)
        }
        do {
            // As a store of the version before the tree: no node, no mark that the tree is kept.
            let environment = try Environment(path: store.path, maxDatabases: 16)
            let tree = try environment.database("tree"), meta = try environment.database("meta")
            try environment.write { txn in
                try txn.clear(tree)
                try txn.delete(meta, key: Array("tree.kept".utf8))
            }
        }
        let ledger = try store.open()
        #expect(try ledger.log.read { try $0.treeSize() } == 0)
        #expect(try ledger.verify().derived.map(\.table) == ["tree"])
        let before = try ledger.head().seq
        _ = try ledger.append(try events(line("late-1", "unit.registered", "U-late", "2022-09-30T09:00:00+08:00", #"{"name":"后来的单位","kind":"department"}"#)))
        let (size, stored, recomputed) = try ledger.log.read { reader throws -> (UInt64, [UInt8], [UInt8]) in
            (try reader.treeSize(), try reader.treeRoot(size: before + 1), try reader.recomputedRoot(size: before + 1))
        }
        #expect(size == before + 1)
        #expect(stored == recomputed)
        #expect(try ledger.verify().derived.isEmpty)
    }

    @Test("a history rewritten with its chain recomputed, or cut short, is refused against a checkpoint signed before, naming where it stops matching")
    func rewriteRefused() throws {
        let key = try SignerKey.generate(name: "test.civic/ledger")
        let honest = TemporaryStore(), forged = TemporaryStore(), cut = TemporaryStore()
        let events = try hengkouSetup()
        let a = try honest.open()
        _ = try a.append(Array(events.prefix(5)))
        let early = try a.signCheckpoint(with: key)
        _ = try a.append(Array(events.dropFirst(5)))
        let signed = try a.signCheckpoint(with: key)
        #expect(try a.verify(checkpoint: signed, key: key.verifier).holds)

        // The same events, one of them (after the early checkpoint) told otherwise: a valid chain of its own.
        var changed = events
        changed[7].event.data = .unitRegistered(UnitRegistration(name: "改过的名称", kind: .department))
        let b = try forged.open()
        _ = try b.append(Array(changed.prefix(5)))
        _ = try b.signCheckpoint(with: key)  // the operator signs the early one again: it still matches
        _ = try b.append(Array(changed.dropFirst(5)))
        _ = try b.verify()
        let check = try b.verify(checkpoint: signed, key: key.verifier)
        #expect(check.signed == true && !check.holds)
        #expect(check.lastMatching == 5)
        #expect(try b.verify(checkpoint: early, key: key.verifier).holds)

        let c = try cut.open()
        _ = try c.append(Array(events.prefix(8)))
        let short = try c.verify(checkpoint: signed, key: key.verifier)
        #expect(!short.holds && short.logSize == 8)

        // A checkpoint changed by one byte no longer carries the log's signature.
        let tampered = SignedNote(text: signed.text.replacingOccurrences(of: "\n\(events.count)\n", with: "\n8\n"), signatures: signed.signatures)
        #expect(try c.verify(checkpoint: tampered, key: key.verifier).signed == false)
    }

    @Test("a proof bundle checks offline, and one byte changed anywhere in it is refused or changes nothing it says")
    func bundleBytes() throws {
        let key = try SignerKey.generate(name: "test.civic/ledger")
        let store = TemporaryStore()
        let ledger = try store.open()
        _ = try ledger.append(try hengkouSetup())
        let note = try ledger.signCheckpoint(with: key)
        let bundle = try ledger.proofBundle(seqs: [3], against: note)
        let proven = try ProofBundle.check(bundle, log: key.verifier)
        #expect(proven.map(\.index) == [2])
        #expect(proven.first?.entry == (try ledger.entryBytes(3)))
        let original = try TlogProof.all(in: bundle)
        let bytes = Array(bundle.utf8)
        var refused = 0
        for i in bytes.indices {
            var changed = bytes
            changed[i] ^= 0x01
            let text = String(decoding: changed, as: UTF8.self)
            if (try? ProofBundle.check(text, log: key.verifier)) == nil { refused += 1; continue }
            // Accepted: then it must say exactly what the original says (a change base64 or a blank line ignores).
            #expect(try TlogProof.all(in: text) == original, "byte \(i) changed and accepted with other content")
        }
        #expect(refused > bytes.count * 9 / 10)
    }
}
