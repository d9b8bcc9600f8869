import CivicProtos
import EventLog
import Foundation
import LMDB
import SwiftProtobuf
import Testing

@Suite("The event log: append and read back")
struct AppendAndReadTests {
    @Test("appended entries get seqs from 1 and read back by seq with every field as appended")
    func appendThenReadBySeq() throws {
        // Given a new log
        let folder = TemporaryFolder()
        let log = try EventLog(path: folder.path, access: .create)

        // When five events are appended, one write each
        var returned: [UInt64] = []
        var heads: [LogHead] = []
        for sample in samples {
            returned.append(try log.commit { w in try w.append(sample) })
            heads.append(try log.head())
        }

        // Then each reads back by its seq as appended, append returned that seq, and each is the head
        // its write left, chained to the one before
        #expect(returned == [1, 2, 3, 4, 5])
        for (n, sample) in samples.enumerated() {
            let entry = try #require(try log.read { try $0.entry(UInt64(n + 1)) })
            #expect(entry.seq == UInt64(n + 1))
            #expect(entry.id == sample.id)
            #expect(entry.subject == sample.subject)
            #expect(entry.version == sample.version)
            #expect(entry.recordedAtMicros == sample.micros)
            #expect(entry.body == sample.body)
            #expect(entry.hash == heads[n].hash)
            #expect(entry.prevHash == (n == 0 ? EventLog.genesisHash : heads[n - 1].hash))
        }
        // And there is nothing at 0 or past the end
        #expect(try log.read { try $0.entry(0) } == nil)
        #expect(try log.read { try $0.entry(6) } == nil)
        #expect(try log.read { try $0.count() } == 5)
        // And each id leads to its seq
        #expect(try log.read { r in try samples.map { try r.seq(ofID: $0.id) } } == [1, 2, 3, 4, 5])
        #expect(try log.read { try $0.seq(ofID: "absent") } == nil)
    }

    @Test("forEach visits every entry in seq order, from after a seq, and stops when its body returns false")
    func forEachInOrder() throws {
        let folder = TemporaryFolder()
        let log = try EventLog(path: folder.path, access: .create)
        try log.commit { w in for sample in samples { try w.append(sample) } }

        func visit(after: UInt64, limit: Int = .max) throws -> [LogEntry] {
            try log.read { reader in
                var seen: [LogEntry] = []
                try reader.forEach(after: after) { seen.append(try reader.entry($0.seq)!); return seen.count < limit }
                return seen
            }
        }
        let all = try visit(after: 0)
        #expect(all.map(\.seq) == [1, 2, 3, 4, 5])
        #expect(all.map(\.id) == samples.map(\.id))
        #expect(all == (1...5).compactMap { seq in try? log.read { try $0.entry(seq) } })
        #expect(try visit(after: 2).map(\.seq) == [3, 4, 5])
        #expect(try visit(after: 2).first?.prevHash == all[1].hash)
        #expect(try visit(after: 1, limit: 2).map(\.seq) == [2, 3])
        #expect(try visit(after: 5).isEmpty)
    }

    @Test("the head is seq 0 with the genesis hash when empty, then the last seq, its hash and its clock")
    func headFollowsAppends() throws {
        // Given an empty log
        let folder = TemporaryFolder()
        let log = try EventLog(path: folder.path, access: .create)
        #expect(try log.head() == .empty)
        #expect(LogHead.empty.seq == 0)
        #expect(LogHead.empty.hash == [UInt8](repeating: 0, count: 32))

        // When three events are appended in one write and two in another
        try log.commit { w in for sample in samples.prefix(3) { try w.append(sample) } }
        #expect(try log.head().seq == 3)
        let lastSeq = try log.commit { w in
            try w.append(samples[3])
            return try w.append(samples[4])
        }
        let last = try #require(try log.read { try $0.entry(lastSeq) })

        // Then the head names the last entry
        let head = try log.head()
        #expect(head == LogHead(seq: 5, hash: last.hash, recordedAtMicros: samples[4].micros))
        #expect(head.description == "5:" + last.hash.map { String(format: "%02x", $0) }.joined())
        #expect(try log.read { try $0.head() } == head)
    }

    @Test("inside a write, the writer's head and reads include what it appended so far")
    func writerSeesItsOwnAppends() throws {
        let folder = TemporaryFolder()
        let log = try EventLog(path: folder.path, access: .create)
        _ = try log.commit { w in try w.append(samples[0]) }
        try log.commit { w in
            #expect(w.head.seq == 1)
            #expect(try w.append(samples[1]) == 2)
            let second = try #require(try w.read.entry(2))
            #expect(w.head == LogHead(seq: 2, hash: second.hash, recordedAtMicros: samples[1].micros))
            #expect(try w.read.seq(ofID: "e2") == 2)
            #expect(second.id == "e2")
            #expect(try w.read.head() == w.head)
        }
    }

    @Test("the writer's clock never goes before the last entry's, whatever the machine says")
    func clockNeverBackwards() throws {
        let folder = TemporaryFolder()
        let log = try EventLog(path: folder.path, access: .create)
        try log.commit { w in
            #expect(w.clock(now: 5) == 5)
            try w.append(samples[0])
            #expect(w.clock(now: samples[0].micros - 1_000_000) == samples[0].micros)
            #expect(w.clock(now: samples[0].micros + 1) == samples[0].micros + 1)
        }
    }

    @Test("a read begun before an append keeps its snapshot; a read begun after sees the append")
    func readIsASnapshot() throws {
        let folder = TemporaryFolder()
        let log = try EventLog(path: folder.path, access: .create)
        _ = try log.commit { w in try w.append(samples[0]) }
        // The read is held on a thread of its own while this one writes (a thread never begins a write
        // inside its own read).
        let opened = DispatchSemaphore(value: 0), written = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        let seen = Handover()
        Thread.detachNewThread {
            seen.value = Result {
                try log.read { snapshot in
                    opened.signal()
                    written.wait()
                    return [try snapshot.head().seq, try snapshot.entry(2) == nil ? 0 : 1, try snapshot.seq(ofID: "e2") ?? 0]
                }
            }
            done.signal()
        }
        opened.wait()
        _ = try log.commit { w in try w.append(samples[1]) }
        written.signal()
        done.wait()
        #expect(try seen.value?.get() == [1, 0, 0])
        #expect(try log.head().seq == 2)
    }

    @Test("a closed log reopens with its head; read-only it reads and refuses writes with .permissionDenied")
    func reopen() throws {
        let folder = TemporaryFolder()
        try makeLog(in: folder)
        let head = try EventLog(path: folder.path).head()
        #expect(head.seq == 5)

        let readOnly = try EventLog(path: folder.path, access: .readOnly)
        #expect(try readOnly.head() == head)
        #expect(try readOnly.verify() == head)
        let error = #expect(throws: LMDBError.self) { try readOnly.commit { w in try w.append(samples[0]) } }
        #expect(error?.code == .permissionDenied)
    }

    @Test("opening a missing folder is NoStore; an LMDB store that is not a log is a format mismatch (format 0)")
    func openingWhatIsNotALog() throws {
        let missing = TemporaryFolder()
        #expect(throws: NoStore.self) { _ = try EventLog(path: missing.path) }

        let other = TemporaryFolder()
        do {
            let env = try Environment(path: other.path, create: true)
            _ = try env.database("something-else", create: true)
        }
        let notALog = #expect(throws: StoreFormatMismatch.self) { _ = try EventLog(path: other.path) }
        #expect(notALog?.found == 0)
    }

    @Test("a store of the first format (a log without a meta table) opens with a message that says so, and is not changed")
    func firstFormatNamed() throws {
        let old = TemporaryFolder()
        do {
            let env = try Environment(path: old.path, create: true)
            let log = try env.database("log", create: true)
            _ = try env.database("ids", create: true)
            try env.write { txn in try txn.put(log, key: key(1), value: [UInt8](repeating: 0, count: 40)) }
        }
        for access in [StoreAccess.readOnly, .readWrite, .create] {
            let mismatch = #expect(throws: StoreFormatMismatch.self) { _ = try EventLog(path: old.path, access: access) }
            #expect(mismatch?.found == 1)
            #expect(mismatch?.description.contains("civic migrate") == true)
        }
        let env = try Environment(path: old.path, readOnly: true)
        #expect(throws: LMDBError.self) { _ = try env.database("meta") }  // nothing was added
    }

    @Test("a log opened with a 64 KiB map takes a write of 2 MB and many small ones, and stays sound")
    func growsMidWrite() throws {
        // Given a log whose map is far too small
        let folder = TemporaryFolder()
        let log = try EventLog(path: folder.path, access: .create, mapSize: 64 << 10)
        let initial = log.mapAndFile.map

        // When one write appends 500 events of 4 KB (the map fills mid-write: the write runs again),
        // then 100 more writes of one each
        try log.commit { w in
            for n in 1...500 {
                try w.append(id: "big-\(n)", subject: "S", version: UInt64(n), recordedAtMicros: 1, body: .init(repeating: UInt8(n & 0xFF), count: 4096))
            }
        }
        for n in 1...100 {
            _ = try log.commit { w in try w.append(id: "small-\(n)", subject: "T", version: UInt64(n), recordedAtMicros: 2, body: [UInt8(n)]) }
        }

        // Then the map grew, there is no gap or duplicate, and the whole log verifies
        #expect(log.mapAndFile.map > initial)
        #expect(try log.verify().seq == 600)
        #expect(try log.read { try $0.entry(500)?.body } == .init(repeating: UInt8(500 & 0xFF), count: 4096))
        #expect(try log.read { try $0.seq(ofID: "small-1") } == 501)
    }
}

@Suite("The event log: the hash chain, as Schemas/README.md publishes it")
struct HashChainTests {
    @Test("each stored value is hash ‖ Entry bytes, and hash = SHA-256(previous hash ‖ Entry bytes) from 32 zero bytes")
    func chainRecomputedIndependently() throws {
        // Given a log of five events, closed
        let folder = TemporaryFolder()
        try makeLog(in: folder)

        // When its stored bytes are read with a raw LMDB environment
        let stored = try storedValues(folder.path)

        // Then keys are 8-byte big-endian seqs from 1, and each hash recomputes with SHA-256 alone
        #expect(stored.map(\.key) == (1...5).map { key($0) })
        var previous = [UInt8](repeating: 0, count: 32)
        for (key, value) in stored {
            let hash = Array(value.prefix(32)), entryBytes = Array(value.dropFirst(32))
            #expect(hash == sha256(previous, entryBytes), "seq \(key.last!)")
            previous = hash
        }

        // And the log's own view agrees: prevHash of seq 1 is the genesis, each prevHash is the hash before
        let log = try EventLog(path: folder.path, access: .readOnly)
        let entries = try log.read { r in try (1...5).map { try #require(try r.entry($0)) } }
        #expect(entries[0].prevHash == [UInt8](repeating: 0, count: 32))
        #expect(EventLog.genesisHash == [UInt8](repeating: 0, count: 32))
        for n in 0..<5 {
            #expect(entries[n].hash == Array(stored[n].value.prefix(32)))
            if n > 0 { #expect(entries[n].prevHash == entries[n - 1].hash) }
        }
        #expect(try log.head().hash == Array(stored[4].value.prefix(32)))
    }

    @Test("the Entry bytes decode by log.proto's field numbers, with no protobuf library, to what was appended")
    func entryBytesFollowTheProto() throws {
        let folder = TemporaryFolder()
        try makeLog(in: folder)
        let stored = try storedValues(folder.path)
        for (n, sample) in samples.enumerated() {
            let decoded = try DecodedEntry(wire: Array(stored[n].value.dropFirst(32)))
            #expect(decoded.seq == UInt64(n + 1))
            #expect(decoded.version == sample.version)
            #expect(decoded.recordedAtUs == sample.micros)
            #expect(decoded.id == sample.id)
            #expect(decoded.subject == sample.subject)
            #expect(decoded.event == sample.body)
        }
    }

    @Test("the ids database maps each id, as UTF-8, to its seq as 8 bytes big-endian")
    func idIndexLayout() throws {
        let folder = TemporaryFolder()
        try makeLog(in: folder)
        let env = try Environment(path: folder.path, readOnly: true)
        let ids = try env.database("ids")
        try env.read { txn throws in
            #expect(try txn.count(ids) == 5)
            for (n, sample) in samples.enumerated() {
                #expect(try txn.get(ids, key: Array(sample.id.utf8)) == key(UInt64(n + 1)))
            }
        }
    }
}

@Suite("The event log: verify finds damage and names the first bad seq")
struct VerifyTests {
    @Test("verify passes on a sound log and returns its head; an empty log verifies to the empty head")
    func soundLogVerifies() throws {
        let folder = TemporaryFolder()
        let log = try EventLog(path: folder.path, access: .create)
        #expect(try log.verify() == .empty)
        try log.commit { w in for sample in samples { try w.append(sample) } }
        #expect(try log.verify() == log.head())
        var checked: [UInt64] = []
        _ = try log.verify { entry in checked.append(entry.seq); return nil }
        #expect(checked == [1, 2, 3, 4, 5])
    }

    @Test("a problem found by the layer above's check is reported at that entry's seq")
    func checkCallbackNamesSeq() throws {
        let folder = TemporaryFolder()
        try makeLog(in: folder)
        let log = try EventLog(path: folder.path)
        let damage = #expect(throws: LogDamage.self) {
            _ = try log.verify { entry in entry.idString == "e4" ? "body does not decode" : nil }
        }
        #expect(damage == LogDamage(seq: 4, problem: "body does not decode"))
    }

    @Test("one byte flipped inside the Entry bytes of seq 3 is a hash mismatch at seq 3")
    func flippedByteInEntry() throws {
        // Given a sound log of five, closed
        let folder = TemporaryFolder()
        try makeLog(in: folder)

        // When the last byte of seq 3's value (inside its event bytes) is flipped behind the log's back
        try tamper(folder.path) { txn, log, _ in
            var value = try #require(try txn.get(log, key: key(3)))
            value[value.count - 1] ^= 0x01
            try txn.put(log, key: key(3), value: value)
        }

        // Then verify names seq 3, as a hash mismatch
        let log = try EventLog(path: folder.path)
        let damage = #expect(throws: LogDamage.self) { _ = try log.verify() }
        #expect(damage?.seq == 3)
        #expect(damage?.problem.contains("hash mismatch") == true)
    }

    @Test("a changed stored hash at seq 3 is a mismatch at seq 3, not later")
    func flippedByteInHash() throws {
        let folder = TemporaryFolder()
        try makeLog(in: folder)
        try tamper(folder.path) { txn, log, _ in
            var value = try #require(try txn.get(log, key: key(3)))
            value[0] ^= 0x80
            try txn.put(log, key: key(3), value: value)
        }
        let damage = #expect(throws: LogDamage.self) { _ = try EventLog(path: folder.path).verify() }
        #expect(damage?.seq == 3)
        #expect(damage?.problem.contains("hash mismatch") == true)
    }

    @Test("an entry rewritten with a consistent new hash still breaks the chain at the next seq")
    func rehashedEntryBreaksTheNext() throws {
        // Given a log of five whose seq 3 an intruder rewrites, hashing it correctly from seq 2
        let folder = TemporaryFolder()
        try makeLog(in: folder)
        try tamper(folder.path) { txn, log, _ in
            let two = try #require(try txn.get(log, key: key(2)))
            var three = try #require(try txn.get(log, key: key(3)))
            three[three.count - 1] ^= 0x01
            let entryBytes = Array(three.dropFirst(32))
            try txn.put(log, key: key(3), value: sha256(Array(two.prefix(32)), entryBytes) + entryBytes)
        }

        // Then seq 3 holds by itself, and verify names seq 4, whose chain no longer holds
        let damage = #expect(throws: LogDamage.self) { _ = try EventLog(path: folder.path).verify() }
        #expect(damage?.seq == 4)
        #expect(damage?.problem.contains("hash mismatch") == true)
    }

    @Test("the values of seq 2 and 3 swapped are found at seq 2")
    func swappedEntries() throws {
        let folder = TemporaryFolder()
        try makeLog(in: folder)
        try tamper(folder.path) { txn, log, _ in
            let two = try #require(try txn.get(log, key: key(2)))
            let three = try #require(try txn.get(log, key: key(3)))
            try txn.put(log, key: key(2), value: three)
            try txn.put(log, key: key(3), value: two)
        }
        let damage = #expect(throws: LogDamage.self) { _ = try EventLog(path: folder.path).verify() }
        #expect(damage?.seq == 2)
    }

    @Test("a value that is not an Entry is found at its seq")
    func undecodableEntry() throws {
        let folder = TemporaryFolder()
        try makeLog(in: folder)
        try tamper(folder.path) { txn, log, _ in
            try txn.put(log, key: key(2), value: [UInt8](repeating: 0, count: 32) + [0xFF, 0xFF, 0xFF])
        }
        let damage = #expect(throws: LogDamage.self) { _ = try EventLog(path: folder.path).verify() }
        #expect(damage?.seq == 2)
        #expect(damage?.problem.contains("does not decode") == true)
    }

    @Test("an ids entry pointed at another seq is found at the seq whose id it was")
    func idIndexRedirected() throws {
        // Given a sound log; when the id of seq 4 is pointed at seq 2
        let folder = TemporaryFolder()
        try makeLog(in: folder)
        try tamper(folder.path) { txn, _, ids in try txn.put(ids, key: Array("e4".utf8), value: key(2)) }

        // Then verify names seq 4 and the id
        let damage = #expect(throws: LogDamage.self) { _ = try EventLog(path: folder.path).verify() }
        #expect(damage?.seq == 4)
        #expect(damage?.problem.contains("e4") == true)
    }

    @Test("an ids entry pointed at a seq past the head is found at the seq whose id it was")
    func idIndexPointsNowhere() throws {
        let folder = TemporaryFolder()
        try makeLog(in: folder)
        try tamper(folder.path) { txn, _, ids in try txn.put(ids, key: Array("e1".utf8), value: key(99)) }
        let damage = #expect(throws: LogDamage.self) { _ = try EventLog(path: folder.path).verify() }
        #expect(damage?.seq == 1)
    }

    @Test("an extra id in the index, pointing at no entry of its own, is found after the head")
    func extraId() throws {
        let folder = TemporaryFolder()
        try makeLog(in: folder)
        try tamper(folder.path) { txn, _, ids in try txn.put(ids, key: Array("ghost".utf8), value: key(5)) }
        let damage = #expect(throws: LogDamage.self) { _ = try EventLog(path: folder.path).verify() }
        #expect(damage?.seq == 6)
    }

    @Test("an entry added after the head under a skipped seq is reported as a gap")
    func gapAfterHead() throws {
        let folder = TemporaryFolder()
        try makeLog(in: folder)
        try tamper(folder.path) { txn, log, _ in
            let five = try #require(try txn.get(log, key: key(5)))
            try txn.put(log, key: key(7), value: five)
        }
        let damage = #expect(throws: LogDamage.self) { _ = try EventLog(path: folder.path).verify() }
        #expect(damage?.seq == 6)
        #expect(damage?.problem.contains("missing") == true)
    }

    @Test("appends the log accepted but that break its rules are found by verify: clock backwards, wrong version")
    func verifyChecksClockAndVersions() throws {
        // Given a log whose third event's clock is before the second's
        let backwards = TemporaryFolder()
        var clockSamples = Array(samples.prefix(3))
        clockSamples[2].micros = clockSamples[1].micros - 1
        try makeLog(in: backwards, clockSamples)
        let clockDamage = #expect(throws: LogDamage.self) { _ = try EventLog(path: backwards.path).verify() }
        #expect(clockDamage?.seq == 3)

        // And a log whose fourth event skips a version of its subject
        let skipped = TemporaryFolder()
        var versionSamples = samples
        versionSamples[3].version = 4
        try makeLog(in: skipped, versionSamples)
        let versionDamage = #expect(throws: LogDamage.self) { _ = try EventLog(path: skipped.path).verify() }
        #expect(versionDamage?.seq == 4)
    }
}

@Suite("Verify in stretches at once")
struct StretchedVerifyTests {
    /// Each damage a sound log of five can take, as a change of its stored bytes or of what was appended.
    static var damages: [(name: String, entries: [Sample], tamper: ((borrowing Transaction, Database, Database) throws -> Void)?)] {
        var backwards = samples
        backwards[3].micros = backwards[2].micros - 1
        var skipped = samples
        skipped[4].version = 3
        var restarted = samples
        restarted[3].version = 1
        return [
            ("sound", samples, nil),
            ("clock backwards", backwards, nil),
            ("version skipped", skipped, nil),
            ("version restarted", restarted, nil),
            ("flipped byte", samples, { txn, log, _ in
                var value = try txn.get(log, key: key(4))!
                value[value.count - 1] ^= 1
                try txn.put(log, key: key(4), value: value)
            }),
            ("swapped", samples, { txn, log, _ in
                let three = try txn.get(log, key: key(3))!
                try txn.put(log, key: key(3), value: try txn.get(log, key: key(4))!)
                try txn.put(log, key: key(4), value: three)
            }),
            ("id redirected", samples, { txn, _, ids in try txn.put(ids, key: Array("e4".utf8), value: key(2)) }),
            ("ghost id", samples, { txn, _, ids in try txn.put(ids, key: Array("ghost".utf8), value: key(5)) }),
            ("id removed", samples, { txn, _, ids in try txn.delete(ids, key: Array("e3".utf8)) }),
            ("gap", samples, { txn, log, _ in try txn.delete(log, key: key(3)) }),
        ]
    }

    @Test("two or three stretches at once find the damage one pass finds, or the same head", arguments: 0..<damages.count)
    func sameFinding(index: Int) throws {
        let damage = Self.damages[index]
        let folder = TemporaryFolder()
        try makeLog(in: folder, damage.entries)
        if let change = damage.tamper { try tamper(folder.path, change) }
        let log = try EventLog(path: folder.path)
        let whole = Result { try log.verify() }
        for parts in [2, 3] {
            let stretched = Result { try log.verifyLog(parts: parts, smallestPart: 1) }
            switch (whole, stretched) {
            case (.success(let a), .success(let b)): #expect(a == b, "\(damage.name), \(parts) parts")
            case (.failure(let a as LogDamage), .failure(let b as LogDamage)): #expect(a == b, "\(damage.name), \(parts) parts")
            default: Issue.record("\(damage.name), \(parts) parts: \(whole) against \(stretched)")
            }
        }
        if damage.name == "sound" { #expect(try whole.get().seq == 5) } else { #expect(throws: LogDamage.self) { try whole.get() } }
    }
}

@Suite("The stored Entry, written by hand")
struct EntryEncodingTests {
    @Test("each entry's bytes are what swift-protobuf writes for the same civic.v1.Entry, zeros and empties included",
          arguments: [Int64(0), -1, 1_656_032_400_000_000, .min, .max])
    func sameAsSwiftProtobuf(clock: Int64) throws {
        let folder = TemporaryFolder()
        let log = try EventLog(path: folder.path, access: .create)
        let bodies: [[UInt8]] = [[], [0], Array("整改".utf8), [UInt8](repeating: 0xAB, count: 300)]
        try log.commit { w in
            for (k, body) in bodies.enumerated() {
                try w.append(id: "e\(k)", subject: k == 1 ? "" : "P-\(k)", version: UInt64(k), recordedAtMicros: clock, body: body)
            }
        }
        let stored = try storedValues(folder.path)
        #expect(stored.count == bodies.count)
        for (k, (_, value)) in stored.enumerated() {
            var expected = Civic_V1_Entry()
            expected.seq = UInt64(k + 1)
            expected.version = UInt64(k)
            expected.recordedAtUs = clock
            expected.id = "e\(k)"
            expected.subject = k == 1 ? "" : "P-\(k)"
            expected.event = Data(bodies[k])
            expected.recordedBy = "local:test"
            expected.previous = 0
            let bytes: [UInt8] = try expected.serializedBytes()
            #expect(Array(value.dropFirst(32)) == bytes, "entry \(k + 1)")
        }
    }
}

@Suite("Verify names the first damage in seq order, whichever check finds it")
struct FirstDamageTests {
    @Test("an id missing from the index at seq 2 comes before a changed byte at seq 4, in one pass or in stretches")
    func idBeforeHash() throws {
        let folder = TemporaryFolder()
        try makeLog(in: folder)
        try tamper(folder.path) { txn, log, ids in
            try txn.delete(ids, key: Array("e2".utf8))
            var value = try txn.get(log, key: key(4))!
            value[value.count - 1] ^= 1
            try txn.put(log, key: key(4), value: value)
        }
        let log = try EventLog(path: folder.path)
        #expect(#expect(throws: LogDamage.self) { try log.verify() }?.seq == 2)
        #expect(#expect(throws: LogDamage.self) { try log.verifyLog(parts: 2, smallestPart: 1) }?.seq == 2)
    }

    @Test("an id removed at seq 2 comes before another id pointed elsewhere at seq 4, whatever the index's key order")
    func idsInSeqOrder() throws {
        let folder = TemporaryFolder()
        try makeLog(in: folder)
        try tamper(folder.path) { txn, _, ids in
            try txn.delete(ids, key: Array("e2".utf8))
            try txn.put(ids, key: Array("e4".utf8), value: key(3))
        }
        let log = try EventLog(path: folder.path)
        let damage = #expect(throws: LogDamage.self) { try log.verify() }
        #expect(damage?.seq == 2)
        #expect(damage?.problem.contains("e2") == true)
        #expect(#expect(throws: LogDamage.self) { try log.verifyLog(parts: 3, smallestPart: 1) }?.seq == 2)
    }
}

@Suite("The event log: refusals and atomicity")
struct AtomicityTests {
    @Test("an id appended again in a later write is refused with .keyExists, and the log is unchanged")
    func duplicateIdAcrossWrites() throws {
        let folder = TemporaryFolder()
        let log = try EventLog(path: folder.path, access: .create)
        try log.commit { w in for sample in samples.prefix(2) { try w.append(sample) } }
        let head = try log.head()

        var again = samples[0]
        again.subject = "other"
        let error = #expect(throws: LMDBError.self) { try log.commit { w in try w.append(again) } }

        #expect(error?.code == .keyExists)
        #expect(try log.head() == head)
        #expect(try log.read { try $0.count() } == 2)
        #expect(try log.verify() == head)
    }

    @Test("an id appended twice in one write is refused with .keyExists, and nothing of that write is stored")
    func duplicateIdWithinAWrite() throws {
        let folder = TemporaryFolder()
        let log = try EventLog(path: folder.path, access: .create)
        _ = try log.commit { w in try w.append(samples[0]) }
        let head = try log.head()

        let error = #expect(throws: LMDBError.self) {
            try log.commit { w in
                try w.append(samples[1])
                try w.append(samples[2])
                var repeated = samples[3]
                repeated.id = samples[1].id
                try w.append(repeated)
            }
        }

        #expect(error?.code == .keyExists)
        #expect(try log.head() == head)
        #expect(try log.read { try $0.seq(ofID: samples[1].id) } == nil)
        #expect(try log.verify() == head)
    }

    @Test("a write that throws after appending leaves the head, the entries and the ids as they were")
    func throwAfterAppend() throws {
        let folder = TemporaryFolder()
        let log = try EventLog(path: folder.path, access: .create)
        _ = try log.commit { w in try w.append(samples[0]) }
        let head = try log.head()

        #expect(throws: Abandon()) {
            try log.commit { w in
                try w.append(samples[1])
                try w.append(samples[2])
                #expect(w.head.seq == 3)
                throw Abandon()
            }
        }

        #expect(try log.head() == head)
        #expect(try log.read { try $0.entry(2) } == nil)
        #expect(try log.read { try $0.seq(ofID: "e2") } == nil)
        #expect(try log.verify() == head)
        // And the next append takes seq 2, chained to seq 1
        #expect(try log.commit { w in try w.append(samples[1]) } == 2)
        #expect(try log.read { try $0.entry(2) }?.prevHash == head.hash)
    }

    @Test("a refused append caught inside the write leaves nothing behind when the write commits")
    func caughtRefusalLeavesNoPartialEntry() throws {
        // Given a log holding e1
        let folder = TemporaryFolder()
        let log = try EventLog(path: folder.path, access: .create)
        _ = try log.commit { w in try w.append(samples[0]) }
        let head = try log.head()

        // When a write appends e1 again, catches the refusal, and commits
        try log.commit { w in
            var again = samples[1]
            again.id = samples[0].id
            #expect(throws: LMDBError.self) { try w.append(again) }
            #expect(w.head == head)
        }

        // Then the log is as it was: the id is claimed before the entry is written.
        #expect(try log.head() == head)
        #expect(try log.read { try $0.count() } == 1)
        #expect(throws: Never.self) { _ = try log.verify() }
    }
}

/// A value handed from one thread to another in a test.
final class Handover: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Result<[UInt64], any Error>?
    var value: Result<[UInt64], any Error>? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
