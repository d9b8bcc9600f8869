import Foundation
import LMDB
import Testing

@Suite("LMDB: scoped transactions over one environment")
struct TransactionTests {
    @Test("a value put in a write is read back, byte for byte, in a later read")
    func putThenGet() throws {
        // Given a fresh environment with a database
        let folder = TemporaryFolder()
        let env = try Environment(path: folder.path, create: true)
        let db = try env.database("data", create: true)
        let value: [UInt8] = [0, 1, 2, 0xFF] + bytes("城管执法大队")

        // When a value is put and committed
        try env.write { txn in try txn.put(db, key: bytes("k"), value: value) }

        // Then a read sees exactly it, and an absent key reads as nil
        #expect(try env.read { txn in try txn.get(db, key: bytes("k")) } == value)
        #expect(try env.read { txn in try txn.get(db, key: bytes("other")) } == nil)
    }

    @Test("a put overwrites by default; with .noOverwrite an existing key is refused with .keyExists")
    func noOverwriteRefusesExistingKey() throws {
        // Given a stored key
        let folder = TemporaryFolder()
        let env = try Environment(path: folder.path, create: true)
        let db = try env.database("data", create: true)
        try env.write { txn in try txn.put(db, key: bytes("k"), value: bytes("first")) }

        // When it is put again with .noOverwrite
        let error = #expect(throws: LMDBError.self) {
            try env.write { txn in try txn.put(db, key: bytes("k"), value: bytes("second"), options: .noOverwrite) }
        }

        // Then the put is refused with .keyExists and the first value stays
        #expect(error?.code == .keyExists)
        #expect(try env.read { try $0.get(db, key: bytes("k")) } == bytes("first"))

        // And without the option the value is replaced
        try env.write { txn in try txn.put(db, key: bytes("k"), value: bytes("second")) }
        #expect(try env.read { try $0.get(db, key: bytes("k")) } == bytes("second"))
    }

    @Test("a write whose body throws stores nothing, and its error reaches the caller unchanged")
    func throwingWriteStoresNothing() throws {
        // Given an environment holding one key
        let folder = TemporaryFolder()
        let env = try Environment(path: folder.path, create: true)
        let db = try env.database("data", create: true)
        try env.write { txn in try txn.put(db, key: bytes("kept"), value: bytes("1")) }

        // When a write puts two keys, overwrites the first, then throws
        #expect(throws: Abandon()) {
            try env.write { txn in
                try txn.put(db, key: bytes("a"), value: bytes("2"))
                try txn.put(db, key: bytes("kept"), value: bytes("changed"))
                try txn.put(db, key: bytes("b"), value: bytes("3"))
                throw Abandon()
            }
        }

        // Then none of its puts is stored
        try env.read { txn throws in
            #expect(try txn.get(db, key: bytes("a")) == nil)
            #expect(try txn.get(db, key: bytes("b")) == nil)
            #expect(try txn.get(db, key: bytes("kept")) == bytes("1"))
            #expect(try txn.count(db) == 1)
        }
    }

    @Test("a read begun before a write commits keeps its snapshot; a read begun after sees the write")
    func readIsASnapshot() throws {
        // Given a stored key, and a read held open on a thread of its own (a thread never begins a write
        // inside its own read: a write that grows the map would wait for that read to end)
        let folder = TemporaryFolder()
        let env = try Environment(path: folder.path, create: true)
        let db = try env.database("data", create: true)
        try env.write { txn in try txn.put(db, key: bytes("k"), value: bytes("old")) }
        let opened = DispatchSemaphore(value: 0), written = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        let seen = Seen()
        Thread.detachNewThread {
            seen.set(Result {
                try env.read { snapshot in
                    let before = try snapshot.get(db, key: bytes("k"))
                    opened.signal()
                    written.wait()
                    return [before, try snapshot.get(db, key: bytes("k")), try snapshot.get(db, key: bytes("added")),
                            bytes(String(try snapshot.count(db)))]
                }
            })
            done.signal()
        }
        opened.wait()

        // When a write commits while the read is open
        try env.write { txn in
            try txn.put(db, key: bytes("k"), value: bytes("new"))
            try txn.put(db, key: bytes("added"), value: bytes("x"))
        }
        written.signal()
        done.wait()

        // Then the open read still saw the store as it was when it began, and a read begun now sees the write
        #expect(try seen.get() == [bytes("old"), bytes("old"), nil, bytes("1")])
        try env.read { fresh throws in
            #expect(try fresh.get(db, key: bytes("k")) == bytes("new"))
            #expect(try fresh.count(db) == 2)
        }
    }

    @Test("debug builds count each thread's transactions: a write begun inside a read is caught before it can wait on itself")
    func transactionsCounted() throws {
        let folder = TemporaryFolder()
        let env = try Environment(path: folder.path, create: true)
        #expect(TransactionDiscipline.openOnThisThread == 0)
        try env.read { _ in
            #if DEBUG
            #expect(TransactionDiscipline.openOnThisThread == 1)
            #endif
        }
        #expect(TransactionDiscipline.openOnThisThread == 0)
    }

    @Test("forEach visits in key order from the first key at or after the start, and stops on false")
    func forEachFromStartKey() throws {
        // Given keys stored out of order
        let folder = TemporaryFolder()
        let env = try Environment(path: folder.path, create: true)
        let db = try env.database("data", create: true)
        try env.write { txn in
            for key in ["d", "b", "e", "a", "c"] { try txn.put(db, key: bytes(key), value: bytes(key.uppercased())) }
        }

        func visit(from start: [UInt8]?, stopAfter limit: Int = .max) throws -> [String] {
            try env.read { txn in
                var seen: [String] = []
                try txn.forEach(db, from: start) { key, value in
                    seen.append(String(decoding: key, as: UTF8.self) + "=" + String(decoding: value, as: UTF8.self))
                    return seen.count < limit
                }
                return seen
            }
        }

        // Then all are visited in byte order from the first
        #expect(try visit(from: nil) == ["a=A", "b=B", "c=C", "d=D", "e=E"])
        // And a start key present begins there; an absent one begins at the next key
        #expect(try visit(from: bytes("c")) == ["c=C", "d=D", "e=E"])
        #expect(try visit(from: bytes("bb")) == ["c=C", "d=D", "e=E"])
        // And a start after the last key visits nothing
        #expect(try visit(from: bytes("f")) == [])
        // And returning false ends the visit at once
        #expect(try visit(from: bytes("b"), stopAfter: 2) == ["b=B", "c=C"])
    }

    @Test("forEach passes on what its body throws, after visiting no further")
    func forEachRethrows() throws {
        let folder = TemporaryFolder()
        let env = try Environment(path: folder.path, create: true)
        let db = try env.database("data", create: true)
        try env.write { txn in for key in ["a", "b", "c"] { try txn.put(db, key: bytes(key), value: bytes(key)) } }

        var visited = 0
        #expect(throws: Abandon()) {
            try env.read { txn in
                try txn.forEach(db) { _, _ in
                    visited += 1
                    if visited == 2 { throw Abandon() }
                    return true
                }
            }
        }
        #expect(visited == 2)
    }

    @Test("numeric keys stored big-endian are visited in numeric order")
    func bigEndianKeysSortNumerically() throws {
        let folder = TemporaryFolder()
        let env = try Environment(path: folder.path, create: true)
        let db = try env.database("data", create: true)
        let numbers: [UInt64] = [256, 1, 65_536, 2, 255]
        try env.write { txn in
            for n in numbers { try txn.put(db, key: withUnsafeBytes(of: n.bigEndian) { Array($0) }, value: [UInt8]()) }
        }
        let visited = try env.read { txn in
            var keys: [UInt64] = []
            try txn.forEach(db) { key, _ in
                keys.append(key.reduce(0) { $0 << 8 | UInt64($1) })
                return true
            }
            return keys
        }
        #expect(visited == numbers.sorted())
    }

    @Test("count is the number of entries; withLast gives the greatest key and its value, or nil when empty")
    func countAndLast() throws {
        // Given an empty database
        let folder = TemporaryFolder()
        let env = try Environment(path: folder.path, create: true)
        let db = try env.database("data", create: true)
        try env.read { txn throws in
            #expect(try txn.count(db) == 0)
            #expect(try txn.withLast(db) { $0 == nil })
        }

        // When three keys are stored, the greatest not last
        try env.write { txn in
            try txn.put(db, key: bytes("m"), value: bytes("middle"))
            try txn.put(db, key: bytes("z"), value: bytes("last"))
            try txn.put(db, key: bytes("a"), value: bytes("first"))
        }

        // Then count is 3 and withLast gives z
        try env.read { txn in
            #expect(try txn.count(db) == 3)
            let last = try txn.withLast(db) { entry in
                entry.map { (String(decoding: $0.key, as: UTF8.self), String(decoding: $0.value, as: UTF8.self)) }
            }
            #expect(last?.0 == "z")
            #expect(last?.1 == "last")
        }

        // And clear empties the database but keeps it
        try env.write { txn in try txn.clear(db) }
        #expect(try env.read { try $0.count(db) } == 0)
        #expect(try env.database("data").name == "data")
    }

    @Test("a write sees its own puts before it commits")
    func writeReadsItsOwnPuts() throws {
        let folder = TemporaryFolder()
        let env = try Environment(path: folder.path, create: true)
        let db = try env.database("data", create: true)
        let seen = try env.write { txn in
            try txn.put(db, key: bytes("k"), value: bytes("v"))
            return (try txn.get(db, key: bytes("k")), try txn.count(db), txn.isReadOnly)
        }
        #expect(seen.0 == bytes("v"))
        #expect(seen.1 == 1)
        #expect(seen.2 == false)
        #expect(try env.read { $0.isReadOnly })
    }

    @Test("named databases are separate: the same key holds different values in each")
    func databasesAreSeparate() throws {
        let folder = TemporaryFolder()
        let env = try Environment(path: folder.path, create: true)
        let one = try env.database("one", create: true)
        let two = try env.database("two", create: true)
        try env.write { txn in
            try txn.put(one, key: bytes("k"), value: bytes("1"))
            try txn.put(two, key: bytes("k"), value: bytes("2"))
        }
        #expect(try env.read { try $0.get(one, key: bytes("k")) } == bytes("1"))
        #expect(try env.read { try $0.get(two, key: bytes("k")) } == bytes("2"))
        #expect(try env.read { try $0.count(one) } == 1)
    }
}

@Suite("LMDB: the map grows on demand, up to its maximum")
struct MapGrowthTests {
    @Test("an environment opened with a 64 KiB map accepts several MB of writes, and its map grows")
    func mapGrows() throws {
        // Given an environment with a tiny map
        let folder = TemporaryFolder()
        let env = try Environment(path: folder.path, mapSize: 64 << 10, create: true)
        let db = try env.database("data", create: true)
        let initial = env.mapSize
        #expect(initial == 64 << 10)

        // When 4 MB are written, in many writes and in one big write
        for n in 0..<64 {
            try env.write { txn in try txn.put(db, key: bytes("small-\(1000 + n)"), value: filler(32 << 10, UInt8(n))) }
        }
        try env.write { txn in
            for n in 0..<32 { try txn.put(db, key: bytes("big-\(1000 + n)"), value: filler(64 << 10, UInt8(n))) }
        }

        // Then everything is stored, and the map has grown to hold it
        #expect(env.mapSize >= 4 << 20)
        #expect(env.mapSize > initial)
        try env.read { txn throws in
            #expect(try txn.count(db) == 96)
            #expect(try txn.get(db, key: bytes("small-1063")) == filler(32 << 10, 63))
            #expect(try txn.get(db, key: bytes("big-1031")) == filler(64 << 10, 31))
        }
    }

    @Test("a store grown past its first map reopens with the same tiny map size, reads, and grows again")
    func reopenAfterGrowth() throws {
        // Given a store that grew from 64 KiB to hold 1 MB, then closed
        let folder = TemporaryFolder()
        do {
            let env = try Environment(path: folder.path, mapSize: 64 << 10, create: true)
            let db = try env.database("data", create: true)
            try env.write { txn in try txn.put(db, key: bytes("k"), value: filler(1 << 20)) }
            #expect(env.mapSize > 64 << 10)
        }

        // When it is reopened asking for 64 KiB again
        let env = try Environment(path: folder.path, mapSize: 64 << 10)
        let db = try env.database("data")

        // Then the map covers at least the space in use, the data reads back, and another MB fits
        #expect(env.mapSize >= (env.info.lastPage + 1) * env.pageSize)
        #expect(try env.read { try $0.get(db, key: bytes("k")) } == filler(1 << 20))
        try env.write { txn in try txn.put(db, key: bytes("k2"), value: filler(1 << 20, 7)) }
        #expect(try env.read { try $0.get(db, key: bytes("k2")) } == filler(1 << 20, 7))
    }

    @Test("a write larger than maximumMapSize is refused with .mapFull, stores nothing, and later writes work")
    func maximumReached() throws {
        // Given a 64 KiB map that may grow to 256 KiB only
        let folder = TemporaryFolder()
        let env = try Environment(path: folder.path, mapSize: 64 << 10, maximumMapSize: 256 << 10, create: true)
        let db = try env.database("data", create: true)
        try env.write { txn in try txn.put(db, key: bytes("before"), value: bytes("1")) }

        // When one write tries to store 1 MB
        var attempts = 0
        let error = #expect(throws: LMDBError.self) {
            try env.write { txn in
                attempts += 1
                for n in 0..<16 { try txn.put(db, key: bytes("big-\(n)"), value: filler(64 << 10)) }
            }
        }

        // Then it is refused as .mapFull after growing to the maximum, and nothing of it is stored
        #expect(error?.code == .mapFull)
        #expect(env.mapSize == 256 << 10)
        #expect(attempts == 3)  // at 64, 128 and 256 KiB
        try env.read { txn throws in
            #expect(try txn.count(db) == 1)
            #expect(try txn.get(db, key: bytes("big-0")) == nil)
        }

        // And a small write still fits
        try env.write { txn in try txn.put(db, key: bytes("after"), value: bytes("2")) }
        #expect(try env.read { try $0.count(db) } == 2)
    }
}

@Suite("LMDB: opening, read-only environments and named databases")
struct OpeningTests {
    @Test("opening a missing folder without create throws .noSuchFile and creates nothing")
    func missingFolder() throws {
        let folder = TemporaryFolder()
        let error = #expect(throws: LMDBError.self) { _ = try Environment(path: folder.path) }
        #expect(error?.code == .noSuchFile)
        #expect(!FileManager.default.fileExists(atPath: folder.path))
    }

    @Test("create makes the folder owner-only, with data.mdb and lock.mdb in it")
    func createMakesFolder() throws {
        let folder = TemporaryFolder()
        let path = folder.path + "/nested/store"
        _ = try Environment(path: path, create: true)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o700)
        #expect(FileManager.default.fileExists(atPath: path + "/data.mdb"))
        #expect(FileManager.default.fileExists(atPath: path + "/lock.mdb"))
    }

    @Test("a read-only environment reads what was stored and refuses write with .permissionDenied")
    func readOnlyRefusesWrite() throws {
        // Given a store written and closed
        let folder = TemporaryFolder()
        do {
            let env = try Environment(path: folder.path, create: true)
            let db = try env.database("data", create: true)
            try env.write { txn in try txn.put(db, key: bytes("k"), value: bytes("v")) }
        }

        // When it is opened read-only
        let env = try Environment(path: folder.path, readOnly: true)
        #expect(env.isReadOnly)
        let db = try env.database("data")

        // Then reads work, and a write is refused before its body runs
        #expect(try env.read { try $0.get(db, key: bytes("k")) } == bytes("v"))
        var ran = false
        let error = #expect(throws: LMDBError.self) {
            try env.write { txn in
                ran = true
                try txn.put(db, key: bytes("k"), value: bytes("changed"))
            }
        }
        #expect(error?.code == .permissionDenied)
        #expect(!ran)
        #expect(try env.read { try $0.get(db, key: bytes("k")) } == bytes("v"))

        // And it cannot create a database either
        #expect(throws: LMDBError.self) { _ = try env.database("new", create: true) }
    }

    @Test("database(name) without create throws .notFound for an absent database; with create it exists after")
    func absentDatabase() throws {
        let folder = TemporaryFolder()
        let env = try Environment(path: folder.path, create: true)
        let error = #expect(throws: LMDBError.self) { _ = try env.database("absent") }
        #expect(error?.code == .notFound)

        let created = try env.database("absent", create: true)
        #expect(created.name == "absent")
        #expect(try env.database("absent") == created)
    }

    @Test("an error names the failed call and liblmdb's message")
    func errorDescription() {
        let error = LMDBError(code: .keyExists, operation: "mdb_put log")
        #expect(error.description.hasPrefix("mdb_put log: "))
        #expect(error.description.contains("MDB_KEYEXIST"))
        #expect(error.description.hasSuffix("(\(LMDBError.Code.keyExists.rawValue))"))
    }
}

/// What a thread read, handed to the test's thread.
final class Seen: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<[[UInt8]?], any Error>?
    func set(_ r: Result<[[UInt8]?], any Error>) { lock.withLock { result = r } }
    func get() throws -> [[UInt8]?] { try lock.withLock { result }!.get() }
}
