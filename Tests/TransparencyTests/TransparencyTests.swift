import Foundation
import Testing
@testable import Transparency

/// The published vectors (Vectors/README.md), copied into the repository as data.
let vectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors")

func text(_ name: String) throws -> String { try String(contentsOf: vectors.appendingPathComponent(name), encoding: .utf8) }
func json(_ url: URL) throws -> [String: Any] { try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any] }
/// A size or index of a vector: nil when it is not one (a negative number, which must be refused).
func count(_ any: Any?) -> UInt64? { (any as? NSNumber).flatMap { $0.int64Value >= 0 ? UInt64($0.int64Value) : nil } }
func b64(_ any: Any?) -> [UInt8] { (any as? String).flatMap { Data(base64Encoded: $0) }.map(Array.init) ?? [] }

/// Every JSON file under a folder of merkle-testdata.
func cases(_ folder: String) throws -> [URL] {
    let root = vectors.appendingPathComponent("merkle-testdata/\(folder)")
    let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)!
    return walker.compactMap { $0 as? URL }.filter { $0.pathExtension == "json" }.sorted { $0.path < $1.path }
}

/// The tessera log's 15 entries.
let tesseraEntries = ["one", "two", "three", "four", "five", "six", "seven", "eit", "nain", "ten", "ileven", "twelf", "threeten",
                      "fourten", "fivten"].map { Array($0.utf8) }
let tesseraKey = try! VerifierKey(parsing: "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx")

/// The hash of an aligned range, from the leaves themselves: the naive reference the stored tree is held to.
func naive(_ leaves: [[UInt8]]) -> (Range<UInt64>) -> [UInt8] {
    { range in Merkle.root(leaves[Int(range.lowerBound)..<Int(range.upperBound)][...]) }
}

@Suite("The verifiable log's forms, held to the published vectors")
struct TransparencyTests {
    @Test("transparency-dev/merkle's inclusion vectors: each verifies or is refused as published")
    func inclusionVectors() throws {
        let files = try cases("inclusion")
        #expect(files.count > 50)
        for file in files {
            let v = try json(file)
            let proof = (v["proof"] as? [Any] ?? []).map(b64)
            let wantErr = v["wantErr"] as! Bool
            guard let index = count(v["leafIdx"]), let size = count(v["treeSize"]) else { #expect(wantErr); continue }
            let outcome = Result { () throws(Merkle.ProofFailure) in
                try Merkle.verifyInclusion(leafHash: b64(v["leafHash"]), index: index, size: size, proof: proof, root: b64(v["root"]))
            }
            #expect((try? outcome.get()) == nil ? wantErr : !wantErr, "\(file.lastPathComponent) in \(file.deletingLastPathComponent().lastPathComponent)")
        }
    }

    @Test("transparency-dev/merkle's consistency vectors: each verifies or is refused as published")
    func consistencyVectors() throws {
        let files = try cases("consistency")
        #expect(files.count > 50)
        for file in files {
            let v = try json(file)
            let proof = (v["proof"] as? [Any] ?? []).map(b64)
            let wantErr = v["wantErr"] as! Bool
            guard let first = count(v["size1"]), let second = count(v["size2"]) else { #expect(wantErr); continue }
            let outcome = Result { () throws(Merkle.ProofFailure) in
                try Merkle.verifyConsistency(first: first, second: second, root1: b64(v["root1"]), root2: b64(v["root2"]), proof: proof)
            }
            #expect((try? outcome.get()) == nil ? wantErr : !wantErr, "\(file.lastPathComponent) in \(file.deletingLastPathComponent().lastPathComponent)")
        }
    }

    @Test("trees of every size to 300: ranges from aligned nodes give the naive roots; every proof verifies and a changed one does not")
    func randomTrees() throws {
        var generator = SystemRandomNumberGenerator()
        let leaves = (0..<300).map { k in Merkle.leafHash(Array("leaf \(k) \(UInt32.random(in: 0...UInt32.max, using: &generator))".utf8)) }
        var roots: [[UInt8]] = [Merkle.emptyRoot]
        for size in 1...300 {
            let tree = Array(leaves.prefix(size))
            let root = Merkle.hash(0..<UInt64(size), aligned: naive(tree))
            #expect(root == Merkle.root(tree[...]), "size \(size)")
            roots.append(root)
        }
        for size in 1...300 {
            let tree = Array(leaves.prefix(size))
            let indices = size <= 64 ? Array(0..<size) : [0, size / 3, size / 2, size - 1]
            for index in indices {
                let proof = try Merkle.inclusionProof(UInt64(index), size: UInt64(size), aligned: naive(tree))
                try Merkle.verifyInclusion(leafHash: leaves[index], index: UInt64(index), size: UInt64(size), proof: proof, root: roots[size])
                if let other = leaves.indices.first(where: { $0 != index }), size > 1 {
                    #expect(throws: Merkle.ProofFailure.self) {
                        try Merkle.verifyInclusion(leafHash: leaves[other], index: UInt64(index), size: UInt64(size), proof: proof, root: roots[size])
                    }
                }
            }
        }
        for second in stride(from: 1, through: 300, by: 7) {
            for first in stride(from: 1, through: second, by: max(1, second / 9)) {
                let tree = Array(leaves.prefix(second))
                let proof = try Merkle.consistencyProof(from: UInt64(first), to: UInt64(second), aligned: naive(tree))
                try Merkle.verifyConsistency(first: UInt64(first), second: UInt64(second), root1: roots[first], root2: roots[second], proof: proof)
                if first < second {
                    #expect(throws: Merkle.ProofFailure.self) {
                        try Merkle.verifyConsistency(first: UInt64(first), second: UInt64(second), root1: roots[first == 1 ? 2 : first - 1],
                                                     root2: roots[second], proof: proof)
                    }
                }
            }
        }
    }

    @Test("a tree built leaf by leaf: its root at every size and every node it completes are the naive ones")
    func frontier() {
        let leaves = (0..<300).map { Merkle.leafHash(Array("f\($0)".utf8)) }
        var frontier = Merkle.Frontier()
        #expect(frontier.root == Merkle.emptyRoot)
        var nodes = 0
        for (k, leaf) in leaves.enumerated() {
            frontier.append(leaf) { level, index, hash in
                let start = Int(index) << level
                #expect(hash == Merkle.root(leaves[start..<(start + (1 << level))]), "level \(level) index \(index)")
                nodes += 1
            }
            #expect(frontier.root == Merkle.root(leaves.prefix(k + 1)), "size \(k + 1)")
        }
        #expect(nodes == 300 - frontier.subtrees.count)  // a tree of n leaves has n − (its complete subtrees) nodes above them
    }

    @Test("tessera's 15-entry log: the roots of its checkpoints at 0, 1, 2, 7 and 15 recomputed from the entries, each signature verified")
    func tessera() throws {
        let leaves = tesseraEntries.map { Merkle.leafHash($0) }
        for size in [0, 1, 2, 7, 15] {
            let note = try SignedNote(parsing: try text("tessera-checkpoint.\(size)"))
            let checkpoint = try Checkpoint(text: note.text)
            #expect(checkpoint.size == UInt64(size))
            #expect(checkpoint.root == Merkle.root(leaves.prefix(size)), "size \(size)")
            #expect(note.isSigned(by: tesseraKey))
            #expect(note.rendered == (try text("tessera-checkpoint.\(size)")))
        }
    }

    @Test("signed notes: the C2SP and Go examples verify; a signature made with Go's key is byte for byte Go's; a changed text does not verify")
    func signedNotes() throws {
        let all = try json(vectors.appendingPathComponent("vectors.json"))
        let notes = all["signed_note"] as! [[String: Any]]
        for v in notes {
            guard let noteText = v["note"] as? String else { continue }
            let key = try VerifierKey(parsing: v["vkey"] as! String)
            #expect(key.description == v["vkey"] as! String)
            let note = try SignedNote(parsing: noteText)
            #expect(note.isSigned(by: key), "\(v["source"]!)")
            #expect(!SignedNote(text: note.text.replacingOccurrences(of: "a", with: "b"), signatures: note.signatures).isSigned(by: key))
            if let skey = v["skey"] as? String {
                let signer = try SignerKey(parsing: skey)
                #expect(signer.text == skey)
                #expect(signer.verifier == key)
                #expect(SignedNote(text: note.text).signed(by: signer).rendered == noteText)
            }
        }
        for v in all["checkpoints"] as! [[String: Any]] {
            if let noteText = v["note"] as? String {
                let note = try SignedNote(parsing: noteText)
                #expect(note.isSigned(by: try VerifierKey(parsing: v["vkey"] as! String)))
                _ = try Checkpoint(text: note.text)
            }
            if let body = v["body"] as? String, let logLine = v["log_sig_line"] as? String, let witnessLine = v["witness_sig_line"] as? String {
                // A real witness's cosignature (cosignature/v1) on a real log's checkpoint.
                let note = try SignedNote(parsing: body + "\n" + logLine + "\n" + witnessLine + "\n")
                #expect(note.isSigned(by: try VerifierKey(parsing: v["log_vkey"] as! String)))
                #expect(note.cosignatureTime(by: try VerifierKey(parsing: v["witness_vkey_cosig_v1"] as! String)) == UInt64(v["cosig_timestamp"] as! Int))
            }
        }
    }

    @Test("the derived vectors: Wit1's cosignature of checkpoint 15, the tlog-proof of index 5 and the add-checkpoint body from 7")
    func derived() throws {
        // Three parts, each after a line of its own: "cosigned checkpoint.15:", "---- tlog-proof …", "---- add-checkpoint body ----".
        var sections: [String] = []
        var current: [Substring]?
        for line in try text("derived-cosig-proof-addcheckpoint.txt").split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("---- ") || line == "cosigned checkpoint.15:" {
                if let current { sections.append(current.joined(separator: "\n") + "\n") }
                current = []
            } else if current != nil {
                current!.append(line)
            }
        }
        if let current { sections.append(current.dropLast().joined(separator: "\n") + "\n") }
        #expect(sections.count == 3)
        let cosigKey = try VerifierKey(parsing: "Wit1+9b3fb2d5+BFhZSmQj9+SoL+p/nN0Hh76xXmF7QcHfytUrI1XfSClk")
        let cosigned = try SignedNote(parsing: sections[0])
        #expect(cosigned.isSigned(by: tesseraKey))
        #expect(cosigned.cosignatureTime(by: cosigKey) == 1_700_000_000)

        let proofText = sections[1]
        let proof = try TlogProof(parsing: proofText)
        #expect(proof.index == 5)
        #expect(proof.rendered == proofText)
        let checkpoint = try Checkpoint(text: proof.checkpoint.text)
        try Merkle.verifyInclusion(leafHash: Merkle.leafHash(tesseraEntries[5]), index: 5, size: 15, proof: proof.hashes, root: checkpoint.root)
        #expect(throws: Merkle.ProofFailure.self) {
            try Merkle.verifyInclusion(leafHash: Merkle.leafHash(tesseraEntries[4]), index: 5, size: 15, proof: proof.hashes, root: checkpoint.root)
        }
        let leaves = tesseraEntries.map { Merkle.leafHash($0) }
        #expect(try Merkle.inclusionProof(5, size: 15, aligned: naive(leaves)) == proof.hashes)

        let body = sections[2]
        let request = try AddCheckpoint(parsing: body)
        #expect(request.oldSize == 7)
        let seven = try Checkpoint(text: try SignedNote(parsing: try text("tessera-checkpoint.7")).text)
        let fifteen = try Checkpoint(text: request.checkpoint.text)
        try Merkle.verifyConsistency(first: 7, second: 15, root1: seven.root, root2: fifteen.root, proof: request.proof)
        #expect(try Merkle.consistencyProof(from: 7, to: 15, aligned: naive(leaves)) == request.proof)
        #expect(request.rendered == body)
    }
}
