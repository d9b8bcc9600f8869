@testable import CivicServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import Transparency

/// A log of `count` leaves, its checkpoints signed by `key`.
struct TestLog {
    let key: SignerKey
    let leaves: [[UInt8]]

    init(key: SignerKey, count: Int, tag: String = "") {
        self.key = key
        leaves = (0..<count).map { Merkle.leafHash(Array("entry \($0)\(tag)".utf8)) }
    }

    func aligned(_ range: Range<UInt64>) -> [UInt8] { Merkle.root(leaves[Int(range.lowerBound)..<Int(range.upperBound)][...]) }

    func checkpoint(_ size: Int, signedBy signer: SignerKey? = nil) -> SignedNote {
        SignedNote(text: Checkpoint(origin: key.name, size: UInt64(size), root: Merkle.root(leaves.prefix(size))).text).signed(by: signer ?? key)
    }

    func request(from old: Int, to size: Int, signedBy signer: SignerKey? = nil, proofFrom other: TestLog? = nil) throws -> String {
        let proof = try Merkle.consistencyProof(from: UInt64(old), to: UInt64(size)) { (other ?? self).aligned($0) }
        return AddCheckpoint(oldSize: UInt64(old), proof: old == 0 ? [] : proof, checkpoint: checkpoint(size, signedBy: signer)).rendered
    }
}

@Suite("The witness (C2SP tlog-witness): cosigns only what extends what it saw, every status of the spec")
struct WitnessTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("civic-witness-\(UUID().uuidString)").path
    let logKey = try! SignerKey.generate(name: "test.civic/ledger")
    let witnessKey = try! SignerKey.generate(name: "witness.test/one")

    func withWitness(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let router = WitnessServer.router(key: witnessKey, logs: [logKey.verifier], state: try WitnessState(folder: folder), clock: { 1_800_000_000 })
        try await Application(router: router).test(.router) { try await body($0) }
    }

    func post(_ client: any TestClientProtocol, _ body: String) async throws -> TestResponse {
        try await client.execute(uri: "/add-checkpoint", method: .post, body: ByteBuffer(string: body))
    }

    @Test("200 with a cosignature that verifies; 409 with the latest size; 422 for a history rewritten; 403, 404 and 400")
    func statuses() async throws {
        let log = TestLog(key: logKey, count: 20)
        let rewritten = TestLog(key: logKey, count: 20, tag: " rewritten")
        let stranger = try SignerKey.generate(name: "other.log/ledger")
        try await withWitness { client in
            let first = try await post(client, try log.request(from: 0, to: 5))
            #expect(first.status == .ok)
            let cosigned = try SignedNote(parsing: log.checkpoint(5).rendered + String(buffer: first.body))
            #expect(cosigned.cosignatureTime(by: witnessKey.cosignatureVerifier) == 1_800_000_000)

            let stale = try await post(client, try log.request(from: 0, to: 8))
            #expect(stale.status == .conflict)
            #expect(String(buffer: stale.body) == "5\n")
            #expect(stale.headers[.contentType] == "text/x.tlog.size")

            // The rewritten history cannot be proved consistent with what the witness saw.
            let forged = try await post(client, try rewritten.request(from: 5, to: 8))
            #expect(forged.status == .unprocessableContent)
            let wrongProof = try await post(client, try log.request(from: 5, to: 8, proofFrom: rewritten))
            #expect(wrongProof.status == .unprocessableContent)

            let badSignature = try await post(client, try log.request(from: 5, to: 8, signedBy: stranger))
            #expect(badSignature.status == .forbidden)
            let unknown = try await post(client, try TestLog(key: stranger, count: 8).request(from: 0, to: 8))
            #expect(unknown.status == .notFound)
            let garbage = try await post(client, "old five\n")
            #expect(garbage.status == .badRequest)

            let next = try await post(client, try log.request(from: 5, to: 12))
            #expect(next.status == .ok)
        }
        #expect(try WitnessState(folder: folder).latest(logKey.name)?.size == 12)
    }

    @Test("restarted, it remembers the latest size it cosigned; a half-written update left by a crash is not taken")
    func restarted() async throws {
        let log = TestLog(key: logKey, count: 30)
        try await withWitness { client in
            let first = try await post(client, try log.request(from: 0, to: 10))
            #expect(first.status == .ok)
        }
        // A crash after writing the next state's temporary file, before its rename.
        let file = try FileManager.default.contentsOfDirectory(atPath: folder).first { $0.hasSuffix(".checkpoint") }!
        try Data(Checkpoint(origin: logKey.name, size: 20, root: Merkle.root(log.leaves.prefix(20))).text.utf8)
            .write(to: URL(fileURLWithPath: "\(folder)/\(file).new"))
        #expect(try WitnessState(folder: folder).latest(logKey.name)?.size == 10)
        try await withWitness { client in
            let stale = try await post(client, try log.request(from: 0, to: 20))
            #expect(stale.status == .conflict && String(buffer: stale.body) == "10\n")
            let next = try await post(client, try log.request(from: 10, to: 20))
            #expect(next.status == .ok)
        }
        #expect(try WitnessState(folder: folder).latest(logKey.name)?.size == 20)
    }
}
