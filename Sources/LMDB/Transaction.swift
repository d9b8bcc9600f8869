import CLMDB
import Foundation

/// A named database inside an environment (an LMDB `MDB_dbi`), valid for the environment's lifetime.
public struct Database: Sendable, Hashable {
    let dbi: MDB_dbi
    /// The database's name in the environment.
    public let name: String
}

/// Options of a put.
public struct PutOptions: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Refuse with `.keyExists` when the key is present (`MDB_NOOVERWRITE`).
    public static let noOverwrite = PutOptions(rawValue: UInt32(MDB_NOOVERWRITE))
    /// The key sorts after every key present: store it without a search (`MDB_APPEND`).
    public static let append = PutOptions(rawValue: UInt32(MDB_APPEND))
}

/// A transaction, only ever seen inside `Environment.read` or `Environment.write`, which end it.
///
/// It cannot be copied or kept: it is aborted when it goes out of scope unless `write` committed it.
/// Byte buffers handed out by its reads are valid only until it ends.
public struct Transaction: ~Copyable {
    let handle: OpaquePointer
    /// Whether this is a read transaction.
    public let isReadOnly: Bool
    /// Held shared while the transaction lives, so that the map is not resized under it.
    let mapLock: MapLock
    /// Set by `commit`: liblmdb has freed the handle, whether the commit succeeded or not.
    private var isOver = false
    /// Whether this is a transaction nested in a write transaction (`child`), which holds the map's lock for it.
    private let isNested: Bool

    init(handle: OpaquePointer, isReadOnly: Bool, mapLock: MapLock, isNested: Bool = false) {
        self.handle = handle
        self.isReadOnly = isReadOnly
        self.mapLock = mapLock
        self.isNested = isNested
    }

    /// Begins a transaction nested in this write transaction: what it writes is seen by this one once it
    /// commits, and undone alone when it aborts. This transaction may not be used until it ends.
    /// (liblmdb refuses them under `MDB_WRITEMAP`: the store opened for large writes has none.)
    package func child() throws(LMDBError) -> Transaction {
        precondition(!isReadOnly, "only a write transaction has nested ones")
        var txn: OpaquePointer?
        let rc = mdb_txn_begin(mdb_txn_env(handle), handle, 0, &txn)
        guard rc == MDB_SUCCESS, let txn else { throw LMDBError(code: .init(rc), operation: "mdb_txn_begin (nested)") }
        return Transaction(handle: txn, isReadOnly: false, mapLock: mapLock, isNested: true)
    }

    /// Which committed state of the store it sees: two read transactions with the same id see the same one.
    public var snapshotID: Int { mdb_txn_id(handle) }

    /// Commits what the transaction wrote; it is over either way, and nothing else may be done with it.
    package mutating func commit() throws(LMDBError) {
        precondition(!isOver, "transaction committed twice")
        let rc = mdb_txn_commit(handle)
        isOver = true
        if !isNested { TransactionDiscipline.closed() }
        try LMDBError.check(rc, "mdb_txn_commit")
    }

    deinit {
        if !isOver {
            mdb_txn_abort(handle)
            if !isNested { TransactionDiscipline.closed() }
        }
        if !isNested { mapLock.release() }
    }

    /// Calls `body` with the value stored under `key`, or with nil when there is none.
    /// The buffer is valid only during the call.
    public func withValue<R>(
        _ db: Database, key: some ContiguousBytes, _ body: (UnsafeRawBufferPointer?) throws -> R
    ) throws -> R {
        try key.withUnsafeBytes { k in
            var keyVal = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
            var value = MDB_val()
            let rc = mdb_get(handle, db.dbi, &keyVal, &value)
            if rc == MDB_NOTFOUND { return try body(nil) }
            try LMDBError.check(rc, "mdb_get \(db.name)")
            return try body(UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size))
        }
    }

    /// The bytes stored under `key`, copied out, or nil.
    public func get(_ db: Database, key: some ContiguousBytes) throws -> [UInt8]? {
        try withValue(db, key: key) { $0.map { Array($0) } }
    }

    /// Stores `value` under `key`.
    /// - Throws: `.keyExists` with `.noOverwrite` when the key is present; `.mapFull` (handled by `write`).
    public func put(
        _ db: Database, key: some ContiguousBytes, value: some ContiguousBytes, options: PutOptions = []
    ) throws(LMDBError) {
        let rc = key.withUnsafeBytes { k in
            value.withUnsafeBytes { v in
                var keyVal = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
                var val = MDB_val(mv_size: v.count, mv_data: UnsafeMutableRawPointer(mutating: v.baseAddress))
                return mdb_put(handle, db.dbi, &keyVal, &val, options.rawValue)
            }
        }
        try LMDBError.check(rc, "mdb_put \(db.name)")
    }

    /// Removes the entry under `key`, if any. For derived data only: the log is never edited.
    public func delete(_ db: Database, key: some ContiguousBytes) throws(LMDBError) {
        let rc = key.withUnsafeBytes { k in
            var keyVal = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
            return mdb_del(handle, db.dbi, &keyVal, nil)
        }
        if rc != MDB_NOTFOUND { try LMDBError.check(rc, "mdb_del \(db.name)") }
    }

    /// Visits the entries of `db` in reverse key order, from the last key at or before `start`, until
    /// `body` returns false. The buffers are valid only during each call.
    public func forEachBackward(
        _ db: Database, from start: [UInt8],
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        let cursor = try Cursor(self, db)
        var key = MDB_val(), value = MDB_val()
        var rc = start.withUnsafeBytes { s in
            key = MDB_val(mv_size: s.count, mv_data: UnsafeMutableRawPointer(mutating: s.baseAddress))
            return mdb_cursor_get(cursor.handle, &key, &value, MDB_SET_RANGE)
        }
        if rc == MDB_NOTFOUND {
            rc = mdb_cursor_get(cursor.handle, &key, &value, MDB_LAST)
        } else if rc == MDB_SUCCESS,
                  !UnsafeRawBufferPointer(start: key.mv_data, count: key.mv_size).elementsEqual(start) {
            rc = mdb_cursor_get(cursor.handle, &key, &value, MDB_PREV)  // the first key after start: step back
        }
        while rc == MDB_SUCCESS {
            let more = try body(UnsafeRawBufferPointer(start: key.mv_data, count: key.mv_size),
                                UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size))
            if !more { return }
            rc = mdb_cursor_get(cursor.handle, &key, &value, MDB_PREV)
        }
        if rc != MDB_NOTFOUND { try LMDBError.check(rc, "mdb_cursor_get \(db.name) backward") }
    }

    /// Removes every entry of `db` (the database itself stays). For derived data only.
    public func clear(_ db: Database) throws(LMDBError) {
        try LMDBError.check(mdb_drop(handle, db.dbi, 0), "mdb_drop \(db.name)")
    }

    /// How many entries `db` holds.
    public func count(_ db: Database) throws(LMDBError) -> Int {
        var stat = MDB_stat()
        try LMDBError.check(mdb_stat(handle, db.dbi, &stat), "mdb_stat \(db.name)")
        return stat.ms_entries
    }

    /// The last entry of `db` in key order, passed to `body`, or nil when `db` is empty.
    public func withLast<R>(
        _ db: Database, _ body: ((key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)?) throws -> R
    ) throws -> R {
        let cursor = try Cursor(self, db)
        var key = MDB_val(), value = MDB_val()
        let rc = mdb_cursor_get(cursor.handle, &key, &value, MDB_LAST)
        if rc == MDB_NOTFOUND { return try body(nil) }
        try LMDBError.check(rc, "mdb_cursor_get \(db.name) last")
        return try body((UnsafeRawBufferPointer(start: key.mv_data, count: key.mv_size),
                         UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size)))
    }

    /// Visits the entries of `db` in key order, from the first key at or after `start` (or the first),
    /// until `body` returns false. The buffers are valid only during each call.
    /// - Throws: what `body` throws, or an `LMDBError` from the read: an I/O error never ends the scan quietly.
    public func forEach(
        _ db: Database, from start: [UInt8]? = nil,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        let cursor = try Cursor(self, db)
        var key = MDB_val(), value = MDB_val()
        var rc: Int32
        if let start {
            rc = start.withUnsafeBytes { s in
                key = MDB_val(mv_size: s.count, mv_data: UnsafeMutableRawPointer(mutating: s.baseAddress))
                return mdb_cursor_get(cursor.handle, &key, &value, MDB_SET_RANGE)
            }
        } else {
            rc = mdb_cursor_get(cursor.handle, &key, &value, MDB_FIRST)
        }
        while rc == MDB_SUCCESS {
            let more = try body(UnsafeRawBufferPointer(start: key.mv_data, count: key.mv_size),
                                UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size))
            if !more { return }
            rc = mdb_cursor_get(cursor.handle, &key, &value, MDB_NEXT)
        }
        if rc != MDB_NOTFOUND { try LMDBError.check(rc, "mdb_cursor_get \(db.name)") }
    }
}

/// A cursor, closed when it goes out of scope; it never outlives the transaction that made it.
struct Cursor: ~Copyable {
    let handle: OpaquePointer

    init(_ txn: borrowing Transaction, _ db: Database) throws(LMDBError) {
        var cursor: OpaquePointer?
        try LMDBError.check(mdb_cursor_open(txn.handle, db.dbi, &cursor), "mdb_cursor_open \(db.name)")
        handle = cursor!
    }

    deinit { mdb_cursor_close(handle) }
}
