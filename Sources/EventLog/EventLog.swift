import Foundation
import LMDB
import Wire

/// A table the layer above keeps beside the log, in the same store, for what it derives from the log
/// (indexes, snapshots). The log knows its name only: what it holds is the caller's.
public struct DerivedTable: Sendable, Hashable {
    let database: Database
    public var name: String { database.name }
}

/// How a store is opened.
public enum StoreAccess: Sendable {
    /// `MDB_RDONLY`: liblmdb itself refuses every write.
    case readOnly
    /// Reads and appends.
    case readWrite
    /// Reads and appends; the store (folder 0700, files 0600) is made when there is none.
    case create
}

/// There is no store in the folder.
public struct NoStore: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var description: String { "没有找到存储 \(path)：请先运行 civic init（或用 --store 指定存储目录）" }
}

/// A store this version cannot read as it is: made by another version of civic, or not a civic store.
public struct StoreFormatMismatch: Error, Sendable, CustomStringConvertible {
    /// The format found (0: none, the folder holds some other LMDB environment).
    public var found: Int
    public var path: String
    public var description: String {
        switch found {
        case 0: "\(path) 不是 civic 存储（缺少 log 数据库）"
        case 1:
            "存储 \(path) 由旧版 civic 建立（存储格式 1）：本版本（格式 \(EventLog.format)）的日志条目记有同一对象的上一条目和登记人，"
                + "不能直接读取旧格式。请用 civic migrate --from \(path) --store 新目录 迁移（旧链头记入新存储），或继续用旧版本读取。"
        default: "存储 \(path) 的格式为 \(found)，本版本只能读取格式 \(EventLog.format)：请用相应版本的 civic 打开"
        }
    }
}

/// The append-only, hash-chained log of opaque events in an LMDB environment.
///
/// Tables (Schemas/README.md gives the bytes):
/// - `log`: seq (8 bytes big-endian) → hash (32 bytes) ‖ civic.v1.Entry.
/// - `ids`: event id (UTF-8) → seq (8 bytes big-endian): the idempotency index.
/// - `meta`: the store's format, and facts the layer above keeps about its derived data.
/// - derived tables named by the layer above (`DerivedTable`), rebuildable from the log.
///
/// Entries are never changed or deleted. Every append runs in one LMDB write transaction, so a crash
/// at any instant leaves the log as it was before or after the whole append, never between.
public final class EventLog: @unchecked Sendable {
    /// The format of the stored entries this version reads and writes (docs/storage.md).
    public static let format = 2
    /// The previous hash of seq 1.
    public static let genesisHash = [UInt8](repeating: 0, count: 32)

    let environment: Environment
    let log: Database
    let ids: Database
    let meta: Database
    /// The Merkle tree's nodes above the leaves (docs/transparency.md); nil in a store opened read-only
    /// that was made before it had one.
    let tree: Database?
    /// The store's signed checkpoints, by tree size (docs/transparency.md); nil as `tree`.
    let checkpoints: Database?
    /// The tree's right edge after this process's last write, with the head it goes with (used only
    /// inside `write`, which holds the writer's lock).
    private var edge: (head: LogHead, edge: TreeEdge)?
    private let derived: [String: DerivedTable]

    /// Opens the log in folder `path`, with the derived tables `tables` (made when the store is writable).
    /// - Throws: `NoStore` when there is none there (and it is not to be made); `StoreFormatMismatch` when
    ///   the folder holds a store of another format or no civic store; `LMDBError`.
    /// With `largeWrites`, pages are written straight into the map, backed by blocks given ahead
    /// (`Environment(writeMap:)`): for one large append; `releaseUnused` gives the rest back after it.
    public init(path: String, access: StoreAccess = .readWrite, tables: [String] = [], mapSize: Int = 64 << 20,
                maximumMapSize: Int = 1 << 40, largeWrites: Bool = false) throws {
        let readOnly = access == .readOnly
        if access != .create, !FileManager.default.fileExists(atPath: path + "/data.mdb") { throw NoStore(path: path) }
        let environment = try Environment(path: path, readOnly: readOnly, mapSize: mapSize, maximumMapSize: maximumMapSize,
                                          maxDatabases: UInt32(8 + tables.count), create: access == .create,
                                          writeMap: largeWrites)
        self.environment = environment
        let writable = !readOnly
        func open(_ name: String, create: Bool) throws -> Database? {
            do { return try environment.database(name, create: create) } catch let error as LMDBError where error.code == .notFound {
                return nil
            }
        }
        let existing = try open("log", create: false)
        let existingMeta = try open("meta", create: false)
        if existing != nil || existingMeta != nil || access != .create {
            guard existing != nil else { throw StoreFormatMismatch(found: 0, path: path) }
            let found = try existingMeta.flatMap { db in
                try environment.read { txn in try txn.get(db, key: Array("format".utf8)) }
            }.flatMap { Int(String(decoding: $0, as: UTF8.self)) } ?? 1
            guard found == Self.format else { throw StoreFormatMismatch(found: found, path: path) }
        }
        log = try open("log", create: writable)!
        ids = try open("ids", create: writable)!
        guard let meta = try open("meta", create: writable) else { throw StoreFormatMismatch(found: 1, path: path) }
        self.meta = meta
        tree = try open("tree", create: writable)
        checkpoints = try open("signed-checkpoints", create: writable)
        if existing == nil {
            try environment.write { txn in try txn.put(meta, key: Array("format".utf8), value: Array(String(Self.format).utf8)) }
        }
        var derived: [String: DerivedTable] = [:]
        for name in tables {
            if let db = try open(name, create: writable) { derived[name] = DerivedTable(database: db) }
        }
        self.derived = derived
    }

    /// The derived table `name`, nil when the store (opened read-only) has none yet.
    public func table(_ name: String) -> DerivedTable? { derived[name] }

    /// The folder of the store.
    public var path: String { environment.path }

    /// Whether the store was opened read-only.
    public var isReadOnly: Bool { environment.isReadOnly }

    /// Runs `body` on a consistent snapshot of the log; appends made meanwhile are not seen.
    @available(*, noasync)
    public func read<R>(_ body: (borrowing LogReader) throws -> R) throws -> R {
        let reader = LogReader(txn: try environment.beginRead(), log: log, ids: ids, meta: meta, tree: tree, checkpoints: checkpoints)
        return try body(reader)
    }

    /// Runs `body` on `threads` threads at once (the first is this one), each with a read transaction of
    /// its own, all of one snapshot of the store: when a commit comes between their beginnings, they
    /// begin again. What the threads share they arrange between themselves; the first error is thrown.
    @available(*, noasync)
    public func read(threads: Int, _ body: @escaping @Sendable (_ thread: Int, borrowing LogReader) throws -> Void) throws {
        let threads = max(1, threads)
        let meeting = SnapshotMeeting(threads)
        let group = DispatchGroup()
        let failures = Handover<any Error>()
        for k in 1..<threads {
            group.enter()
            Thread.detachNewThread { [self] in
                defer { group.leave() }
                do { try self.meet(meeting, k, body) } catch { meeting.abandon(); failures.put(k, error) }
            }
        }
        var first: (any Error)?
        do { try meet(meeting, 0, body) } catch { meeting.abandon(); first = error }
        group.wait()
        if let first { throw first }
        for k in 1..<threads { if let error = failures.takeIfAny(k) { throw error } }
    }

    private func meet(_ meeting: SnapshotMeeting, _ k: Int, _ body: (Int, borrowing LogReader) throws -> Void) throws {
        while true {
            let reader = LogReader(txn: try environment.beginRead(), log: log, ids: ids, meta: meta, tree: tree, checkpoints: checkpoints)
            switch meeting.arrive(k, reader.snapshotID) {
            case .same: return try body(k, reader)
            case .again: continue
            case .abandoned: return
            }
        }
    }

    /// What a write's body decides: keep what it wrote, or keep nothing (a refusal, a rehearsal).
    public enum WriteDecision<R> {
        case commit(R)
        case rollback(R)
    }

    /// Runs `body` in the one write transaction, then commits or rolls back as it decides.
    ///
    /// If `body` throws, nothing is stored. `body` may be run again from the start when the map fills,
    /// so it must begin from what it reads, not from what a former run did.
    @available(*, noasync)
    public func write<R>(_ body: (inout LogWriter) throws -> WriteDecision<R>) throws -> R {
        try environment.writing {
            var writer = try LogWriter(reader: LogReader(txn: try environment.beginWrite(), log: log, ids: ids, meta: meta,
                                                         tree: tree, checkpoints: checkpoints))
            // The tree's right edge as the last write of this process left it, if no one appended since.
            if let known = edge, known.head == writer.head { writer.tree = known.edge }
            switch try body(&writer) {
            case .commit(let result):
                let (head, grown) = (writer.head, writer.tree)
                edge = nil
                try writer.commit()
                if let grown { edge = (head, grown) }
                return result
            case .rollback(let result):
                return result  // the transaction aborts as the writer goes
            }
        }
    }

    /// The head of the log as committed now.
    public func head() throws -> LogHead {
        try read { try $0.head() }
    }

    /// Grows the map ahead of a write of about `bytes` more, so that the write does not fill it: to what
    /// the file uses plus `bytes`, but never past what the disk has free.
    /// - Returns: the bytes free on the disk, for the caller to refuse what cannot fit.
    @available(*, noasync)
    @discardableResult
    public func reserve(bytes: Int) throws -> Int {
        let free = Self.freeBytes(at: environment.path)
        let used = environment.usedBytes
        try environment.reserveMap(atLeast: used + min(bytes, max(free, 0)))
        return free
    }

    /// Gives back to the disk what a large write reserved and did not use.
    public func releaseUnused() { environment.releaseUnused() }

    /// Reads ahead, on a thread of its own, the pages a large write of about `bytes` into the map will
    /// take (`PageWarmer`); nil when the store is not opened for large writes.
    public func warmPagesAhead(bytes: Int) -> PageWarmer? { environment.warmPagesAhead(bytes: bytes) }

    /// Cuts the data file back to what the last committed append uses, after a write that failed for want
    /// of room (its pages are not part of the store).
    @available(*, noasync)
    public func trimToCommitted() throws { try environment.trimFile() }

    /// The bytes free on the file system holding `path` (for an unprivileged user).
    public static func freeBytes(at path: String) -> Int {
        var fs = statvfs()
        guard statvfs(path, &fs) == 0 else { return Int.max }
        return Int(fs.f_bavail) * Int(fs.f_frsize)
    }

    /// Where the store's bytes go: the log, the id index and each derived table, in bytes of pages.
    public func sizes() throws -> [(table: String, bytes: Int)] {
        let page = environment.pageSize
        var out = [("log", try environment.pages(of: log) * page), ("ids", try environment.pages(of: ids) * page)]
        if let tree { out.append(("tree", try environment.pages(of: tree) * page)) }
        for name in derived.keys.sorted() { out.append((name, try environment.pages(of: derived[name]!.database) * page)) }
        return out
    }

    /// The size of the map and of the data file, in bytes.
    public var mapAndFile: (map: Int, file: Int) {
        var file = stat()
        // The blocks the file takes on disk (a file written through the map has holes where no page is).
        let size = lstat(environment.path + "/data.mdb", &file) == 0 ? Int(file.st_blocks) * 512 : 0
        return (environment.mapSize, size)
    }
}

/// Reads of the log inside one transaction.
public struct LogReader: ~Copyable {
    var txn: Transaction
    let log: Database
    let ids: Database
    let meta: Database
    let tree: Database?
    let checkpoints: Database?

    /// Which committed state of the store it reads (equal for two readers of the same one).
    public var snapshotID: Int { txn.snapshotID }

    /// The head: last seq, its hash and clock.
    public func head() throws -> LogHead {
        try txn.withLast(log) { last in
            guard let last else { return LogHead.empty }
            let entry = try Self.view(last.value, seq: UInt64(bigEndianBytes: last.key))
            return LogHead(seq: entry.seq, hash: Array(entry.hash), recordedAtMicros: entry.recordedAtMicros)
        }
    }

    /// The seq of the event with `id`, or nil.
    public func seq(ofID id: String) throws -> UInt64? {
        var key = id
        return try key.withUTF8 { bytes in
            try txn.withValue(ids, key: UnsafeRawBufferPointer(bytes)) { value in
                guard let value, value.count == 8 else { return nil }
                return UInt64(bigEndianBytes: value)
            }
        }
    }

    /// Calls `body` with the entry at `seq` read in place, or with nil when there is none.
    /// - Throws: `LogDamage` when the stored value does not decode.
    public func withEntry<R>(_ seq: UInt64, _ body: (EntryView?) throws -> R) throws -> R {
        guard seq >= 1 else { return try body(nil) }
        return try txn.withValue(log, key: seq.bigEndianBytes) { value in
            try body(try value.map { try Self.view($0, seq: seq) })
        }
    }

    /// The entry at `seq` copied out, with the hash of the one before, or nil.
    public func entry(_ seq: UInt64) throws -> LogEntry? {
        guard seq >= 1 else { return nil }
        let prev: [UInt8] = seq == 1 ? EventLog.genesisHash
            : try txn.withValue(log, key: (seq - 1).bigEndianBytes) { $0.map { Array($0.prefix(32)) } } ?? []
        return try withEntry(seq) { $0?.copied(prevHash: prev) }
    }

    /// Visits entries in place in seq order from `after + 1` until `body` returns false.
    /// - Throws: `LogDamage` naming the seq of an entry that does not decode; what `body` throws.
    public func forEach(after: UInt64 = 0, _ body: (EntryView) throws -> Bool) throws {
        guard after < UInt64.max else { return }
        try txn.forEach(log, from: (after + 1).bigEndianBytes) { key, value in
            try body(try Self.view(value, seq: UInt64(bigEndianBytes: key)))
        }
    }

    /// Visits the stored values (hash ‖ Entry bytes) with their seqs in seq order from `after + 1`, until
    /// `body` returns false: for the checks that read the stored bytes themselves.
    public func forEachStored(after: UInt64 = 0, _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Bool) throws {
        guard after < UInt64.max else { return }
        try txn.forEach(log, from: (after + 1).bigEndianBytes, body)
    }

    /// How many entries the log holds.
    public func count() throws -> Int { try txn.count(log) }

    /// How many ids the id index holds.
    public func idCount() throws -> Int { try txn.count(ids) }

    /// Visits the id index in id order: each id with the seq it names (0 when the value is not 8 bytes).
    public func forEachID(_ body: (_ id: UnsafeRawBufferPointer, _ seq: UInt64) throws -> Bool) throws {
        try txn.forEach(ids) { key, value in try body(key, value.count == 8 ? UInt64(bigEndianBytes: value) : 0) }
    }

    /// The last seq recorded at or before `micros` (0 when none): the store's clock never goes
    /// backwards, so a binary search over seqs finds it.
    public func lastSeq(recordedAtOrBefore micros: Int64) throws -> UInt64 {
        var low: UInt64 = 0, high = try head().seq  // invariant: low is at or before, everything after high is after
        while low < high {
            let mid = low + (high - low + 1) / 2
            let clock = try withEntry(mid) { $0?.recordedAtMicros }
            guard let clock else { throw LogDamage(seq: mid, problem: "missing") }
            if clock <= micros { low = mid } else { high = mid - 1 }
        }
        return low
    }

    // MARK: derived tables

    /// Calls `body` with the value under `key` in `table` (nil: none, or no such table).
    public func withValue<R>(_ table: DerivedTable?, _ key: some ContiguousBytes, _ body: (UnsafeRawBufferPointer?) throws -> R) throws -> R {
        guard let table else { return try body(nil) }
        return try txn.withValue(table.database, key: key, body)
    }

    /// The bytes under `key` in `table`, copied out, or nil.
    public func value(_ table: DerivedTable?, _ key: some ContiguousBytes) throws -> [UInt8]? {
        try withValue(table, key) { $0.map { Array($0) } }
    }

    /// Visits `table` in key order from the first key at or after `start`, until `body` returns false.
    public func forEach(_ table: DerivedTable?, from start: [UInt8]? = nil,
                        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Bool) throws {
        guard let table else { return }
        try txn.forEach(table.database, from: start, body)
    }

    /// Visits `table` in reverse key order from the last key at or before `start`, until `body` returns false.
    public func forEachBackward(_ table: DerivedTable?, from start: [UInt8],
                                _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Bool) throws {
        guard let table else { return }
        try txn.forEachBackward(table.database, from: start, body)
    }

    /// How many entries `table` holds (0 when there is no such table).
    public func count(_ table: DerivedTable?) throws -> Int {
        guard let table else { return 0 }
        return try txn.count(table.database)
    }

    /// A fact kept in the store's `meta` table under `key` (by the layer above: names it owns).
    public func fact(_ key: String) throws -> [UInt8]? {
        try txn.get(meta, key: Array(key.utf8))
    }

    static func view(_ value: UnsafeRawBufferPointer, seq: UInt64) throws -> EntryView {
        do { return try EntryView(value) } catch {
            throw LogDamage(seq: seq, problem: "entry does not decode (not a civic.v1.Entry)")
        }
    }
}

/// Appends inside the one write transaction; also reads, seeing what it wrote so far.
public struct LogWriter: ~Copyable {
    var reader: LogReader
    /// The head including what this transaction appended.
    public private(set) var head: LogHead
    /// The Merkle tree's right edge, read at the first append of the transaction (LogTree.swift).
    var tree: TreeEdge?

    init(reader: consuming LogReader) throws {
        head = try reader.head()
        self.reader = reader
    }

    mutating func commit() throws {
        try reader.txn.commit()
    }

    /// Runs `body` in a transaction nested in this one, with a writer of its own: what it appends and
    /// writes is kept when it decides to commit, and undone alone (this transaction going on as before)
    /// when it rolls back or throws. Group commit runs each request so, all or nothing within one
    /// durable transaction (docs/storage.md).
    public mutating func nested<R>(_ body: (inout LogWriter) throws -> EventLog.WriteDecision<R>) throws -> R {
        var child = try LogWriter(reader: LogReader(txn: try reader.txn.child(), log: reader.log, ids: reader.ids, meta: reader.meta,
                                                    tree: reader.tree, checkpoints: reader.checkpoints))
        child.tree = tree
        switch try body(&child) {
        case .commit(let result):
            let head = child.head
            let tree = child.tree
            try child.commit()
            self.head = head
            self.tree = tree
            return result
        case .rollback(let result):
            return result  // the nested transaction aborts as the writer goes
        }
    }

    /// Reads, as of this transaction (what it wrote included).
    public var read: LogReader { _read { yield reader } }

    /// The store's clock for an append made at `now`: never before the last entry's.
    public func clock(now: Int64) -> Int64 { max(now, head.recordedAtMicros) }

    /// Claims `id` for the entry about to be appended at `seq`, in the id index: one look-up that both
    /// finds a duplicate and keeps the id. (Claimed and then not appended, the id goes with the
    /// transaction, which must then not commit: an append refused is rolled back whole.)
    /// - Returns: nil when claimed; the seq that holds the id already, when it is taken.
    public func claim(id: String, for seq: UInt64) throws -> UInt64? {
        var key = id
        return try key.withUTF8 { idBytes -> UInt64? in
            try withUnsafeBytes(of: seq.bigEndian) { seqKey -> UInt64? in
                do {
                    try reader.txn.put(reader.ids, key: UnsafeRawBufferPointer(idBytes), value: seqKey, options: .noOverwrite)
                    return nil
                } catch let error as LMDBError where error.code == .keyExists {
                    return try reader.txn.withValue(reader.ids, key: UnsafeRawBufferPointer(idBytes)) { value -> UInt64? in
                        value.map { $0.count == 8 ? UInt64(bigEndianBytes: $0) : 0 } ?? 0
                    }
                }
            }
        }
    }

    /// Appends `entry`, made (on any thread) to follow the head; its id claimed with it, unless `claim`
    /// claimed it already.
    /// - Precondition: `entry` has the next seq and is chained to the head's hash.
    /// - Returns: its seq.
    /// - Throws: `LMDBError` (`.keyExists` if its id is stored already, `.mapFull` handled by `write`).
    @discardableResult
    public mutating func append(_ entry: ChainedEntry, idClaimed: Bool = false) throws -> UInt64 {
        precondition(entry.seq == head.seq + 1 && entry.prevHash == head.hash, "entry \(entry.seq) does not follow the head \(head)")
        // The id is claimed first: if it is taken, nothing of this event has been written.
        var key = entry.id
        try key.withUTF8 { idBytes in
            try withUnsafeBytes(of: entry.seq.bigEndian) { seqKey in
                if !idClaimed {
                    try reader.txn.put(reader.ids, key: UnsafeRawBufferPointer(idBytes), value: seqKey, options: .noOverwrite)
                }
                try reader.txn.put(reader.log, key: seqKey, value: entry.value, options: .append)
            }
        }
        try grow(leaf: entry.leafHash)
        head = LogHead(seq: entry.seq, hash: entry.hash, recordedAtMicros: entry.recordedAtMicros)
        return entry.seq
    }

    /// Stores `value` under `key` in a derived table.
    public func put(_ table: DerivedTable, _ key: some ContiguousBytes, _ value: some ContiguousBytes) throws {
        try reader.txn.put(table.database, key: key, value: value)
    }

    /// Stores `value` under `key` unless the key is present. - Returns: whether it was stored.
    @discardableResult
    public func putIfAbsent(_ table: DerivedTable, _ key: some ContiguousBytes, _ value: some ContiguousBytes) throws -> Bool {
        do {
            try reader.txn.put(table.database, key: key, value: value, options: .noOverwrite)
            return true
        } catch where error.code == .keyExists {
            return false
        }
    }

    /// Removes the entry under `key` from a derived table, if any.
    public func delete(_ table: DerivedTable, _ key: some ContiguousBytes) throws {
        try reader.txn.delete(table.database, key: key)
    }

    /// Empties a derived table.
    public func clear(_ table: DerivedTable) throws {
        try reader.txn.clear(table.database)
    }

    /// Keeps a fact in the store's `meta` table under `key` (names of the layer above's choosing, never `format`).
    public func setFact(_ key: String, _ value: [UInt8]) throws {
        precondition(key != "format", "the store's format is the log's own")
        try reader.txn.put(reader.meta, key: Array(key.utf8), value: value)
    }
}

/// Where the threads of `EventLog.read(threads:_:)` wait for one another after beginning their reads, to
/// learn whether all of them see the same snapshot (else all begin again).
final class SnapshotMeeting: @unchecked Sendable {
    enum Outcome { case same, again, abandoned }
    private let condition = NSCondition()
    private let count: Int
    private var round = 0
    private var arrived: [Int: Int] = [:]
    private var outcome: [Int: Outcome] = [:]
    private var abandoned = false

    init(_ count: Int) { self.count = count }

    /// Thread `k` arrives with the snapshot its read sees; returns once every thread has arrived.
    /// Waiting with a read open is safe here: every thread's read is begun already, and none of them
    /// resizes the map.
    func arrive(_ k: Int, _ snapshot: Int) -> Outcome {
        condition.lock()
        defer { condition.unlock() }
        let mine = round
        arrived[k] = snapshot
        if arrived.count == count {
            let same = Set(arrived.values).count == 1
            outcome[mine] = same ? .same : .again
            arrived = [:]
            round += 1
            condition.broadcast()
        }
        while outcome[mine] == nil && !abandoned { condition.wait() }
        return abandoned ? .abandoned : outcome[mine]!
    }

    /// A thread failed before arriving: the others stop waiting.
    func abandon() {
        condition.lock()
        abandoned = true
        condition.broadcast()
        condition.unlock()
    }
}
