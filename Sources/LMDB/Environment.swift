import CLMDB
import Foundation

/// One LMDB environment: a folder holding `data.mdb` and `lock.mdb`, opened once per process.
///
/// Readers never block the writer (LMDB's MVCC); one write transaction runs at a time across every
/// process that opens the folder (LMDB's writer lock). The environment is opened with `MDB_NOTLS`,
/// so read transactions are not tied to a thread and several may run at once from any threads.
///
/// The map grows by itself: a write that fills it is undone, the map doubled, and the write run again;
/// a map grown by another process is adopted when a transaction starts.
public final class Environment: @unchecked Sendable {
    let handle: OpaquePointer
    /// Whether the environment was opened with `MDB_RDONLY`: no write transaction can begin.
    public let isReadOnly: Bool
    /// The folder holding the environment.
    public let path: String
    private let writeLock = NSLock()
    private let mapLock = MapLock()
    private let maximumMapSize: Int

    /// Opens (and with `create`, creates) the environment in folder `path`.
    ///
    /// - Parameters:
    ///   - readOnly: open with `MDB_RDONLY`; every write is refused by liblmdb itself.
    ///   - mapSize: the initial map size in bytes; it grows on demand up to `maximumMapSize`.
    ///   - maxDatabases: how many named databases the environment may hold.
    ///   - create: create the folder (owner-only, 0700) and its files (0600) when absent.
    /// - Throws: `LMDBError` naming the failed call; `.noSuchFile` when the folder is missing.
    ///   - writeMap: write pages straight into the map (`MDB_WRITEMAP`) instead of copying them from
    ///     memory at commit: for one large write (an append of a whole file). The map is then kept backed
    ///     by blocks the disk has given (`posix_fallocate`), so that a full disk is an error before the
    ///     write, never a fault in the middle of it.
    public init(
        path: String, readOnly: Bool = false, mapSize: Int = 64 << 20,
        maximumMapSize: Int = 1 << 40, maxDatabases: UInt32 = 8, create: Bool = false, writeMap: Bool = false
    ) throws(LMDBError) {
        if create && !readOnly {
            do {
                try FileManager.default.createDirectory(
                    atPath: path, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700])
            } catch {
                throw LMDBError(code: .permissionDenied, operation: "mkdir \(path)")
            }
        }
        var env: OpaquePointer?
        try LMDBError.check(mdb_env_create(&env), "mdb_env_create")
        guard let env else { throw LMDBError(code: .invalid, operation: "mdb_env_create") }
        do {
            try LMDBError.check(mdb_env_set_maxdbs(env, maxDatabases), "mdb_env_set_maxdbs")
            try LMDBError.check(mdb_env_set_maxreaders(env, 512), "mdb_env_set_maxreaders")
            if !readOnly {
                try LMDBError.check(mdb_env_set_mapsize(env, mapSize), "mdb_env_set_mapsize")
            }
            let writesMap = writeMap && !readOnly
            let flags = UInt32(MDB_NOTLS) | (readOnly ? UInt32(MDB_RDONLY) : 0) | (writesMap ? UInt32(MDB_WRITEMAP) : 0)
            try LMDBError.check(mdb_env_open(env, path, flags, 0o600), "mdb_env_open \(path)")
            try Self.checkNotTruncated(env, path: path)
            if writesMap {
                // liblmdb has extended the file to the map (a hole): give it the disk's blocks before any write.
                var info = MDB_envinfo()
                mdb_env_info(env, &info)
                try Self.allocate(path + "/data.mdb", upTo: info.me_mapsize)
            }
        } catch {
            mdb_env_close(env)  // owed even after a failed mdb_env_open
            throw error
        }
        self.handle = env
        self.isReadOnly = readOnly
        self.path = path
        self.maximumMapSize = maximumMapSize
        self.writesMap = writeMap && !readOnly
    }

    /// Whether pages are written straight into the map (`MDB_WRITEMAP`).
    public let writesMap: Bool

    /// Gives the file the disk's blocks up to `bytes` (its size grows to at least that).
    /// - Throws: `.noSpace` when the disk has not that much room; nothing is written then.
    private static func allocate(_ file: String, upTo bytes: Int) throws(LMDBError) {
        let fd = open(file, O_RDWR | O_CREAT, 0o600)
        guard fd >= 0 else { return }  // a new store: liblmdb makes the file, and the map is small
        defer { close(fd) }
        let rc = posix_fallocate(fd, 0, off_t(bytes))
        if rc == ENOSPC { throw LMDBError(code: .noSpace, operation: "posix_fallocate \(file) to \(bytes) bytes") }
    }

    /// Gives back to the disk the blocks after the pages in use (kept by a write that wrote into the map,
    /// or left by one that failed); the file keeps its size while the map may still reach there.
    public func releaseUnused() {
        let used = usedBytes
        let fd = open(path + "/data.mdb", O_RDWR)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var file = stat()
        guard fstat(fd, &file) == 0, Int(file.st_size) > used else { return }
        // FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE (linux/falloc.h)
        _ = punchHole(fd, 0x02 | 0x01, Int64(used), Int64(Int(file.st_size) - used))
    }

    deinit { mdb_env_close(handle) }

    /// Refuses a data file shorter than the pages its last transaction uses: liblmdb maps the file and
    /// would read past its end (SIGBUS) instead of reporting the damage.
    private static func checkNotTruncated(_ env: OpaquePointer, path: String) throws(LMDBError) {
        var info = MDB_envinfo()
        var pages = MDB_stat()
        mdb_env_info(env, &info)
        mdb_env_stat(env, &pages)
        let needed = (info.me_last_pgno + 1) * Int(pages.ms_psize)
        var file = stat()
        guard lstat(path + "/data.mdb", &file) == 0 else { return }
        guard Int(file.st_size) >= needed else {
            throw LMDBError(code: .corrupted, operation: "data.mdb is \(file.st_size) bytes, shorter than the \(needed) its pages need (truncated)")
        }
    }

    /// The current map size in bytes.
    public var mapSize: Int {
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        return info.me_mapsize
    }

    /// Facts about the environment: map size, pages used, last transaction, readers.
    public var info: (mapSize: Int, lastPage: Int, lastTransaction: Int, readers: Int) {
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        return (info.me_mapsize, info.me_last_pgno, info.me_last_txnid, Int(info.me_numreaders))
    }

    /// The size of a page, in bytes.
    public var pageSize: Int {
        var stat = MDB_stat()
        mdb_env_stat(handle, &stat)
        return Int(stat.ms_psize)
    }

    /// Runs `body` in a read transaction: a consistent snapshot as of its start, which no writer waits for.
    ///
    /// The transaction ends when `body` returns; bytes read from it must be copied out before then.
    @available(*, noasync, message: "never hold a transaction across an await")
    public func read<R>(_ body: (borrowing Transaction) throws -> R) throws -> R {
        let txn = try beginRead()
        return try body(txn)  // the transaction's deinit aborts it, releasing the snapshot
    }

    /// Runs `body` in the one write transaction and commits it when `body` returns.
    ///
    /// If `body` throws, nothing it wrote is kept. If the map is full, the transaction is undone, the map
    /// doubled and `body` run again from the start, so `body` must not depend on effects of a former try.
    /// - Throws: what `body` throws, or `LMDBError` (`.mapFull` once the map reached its maximum,
    ///   `.noSpace` for a full disk, `.permissionDenied` on a read-only environment).
    @available(*, noasync, message: "never hold a transaction across an await")
    public func write<R>(_ body: (borrowing Transaction) throws -> R) throws -> R {
        try writing {
            var txn = try beginWrite()
            let result = try body(txn)
            try txn.commit()
            return result
        }
    }

    /// Runs `attempt`, which begins, fills and commits one write transaction, under this process's
    /// write lock; when it fails with a full map, grows the map and runs it again.
    package func writing<R>(_ attempt: () throws -> R) throws -> R {
        if isReadOnly { throw LMDBError(code: .permissionDenied, operation: "mdb_txn_begin (read-only store)") }
        writeLock.lock()
        defer { writeLock.unlock() }
        while true {
            do {
                return try attempt()
            } catch let error as LMDBError where error.code == .mapFull {
                try grow()
            }
        }
    }

    /// Begins a read transaction; the caller owns it and it aborts when dropped.
    package func beginRead() throws(LMDBError) -> Transaction { try begin(flags: UInt32(MDB_RDONLY)) }

    /// Begins the write transaction; call only inside `writing`, and never while this thread holds a read
    /// transaction (a resize waiting for that read would wait for itself).
    package func beginWrite() throws(LMDBError) -> Transaction {
        if isReadOnly { throw LMDBError(code: .permissionDenied, operation: "mdb_txn_begin (read-only store)") }
        TransactionDiscipline.assertNoneOpen("never begin a write inside a read")
        return try begin(flags: 0)
    }

    /// Grows the map to at least `bytes` (rounded up to whole pages), so that a large write need not
    /// fill it and run again. Call with no transaction of this thread open; a no-op on a read-only store
    /// or when the map is that large already.
    public func reserveMap(atLeast bytes: Int) throws(LMDBError) {
        guard !isReadOnly, bytes > mapSize else { return }
        TransactionDiscipline.assertNoneOpen("the map is resized with no transaction of this thread open")
        let page = pageSize
        let size = min(maximumMapSize, (bytes + page - 1) / page * page)
        if writesMap { try Self.allocate(path + "/data.mdb", upTo: size) }
        try resize(to: size, "mdb_env_set_mapsize (reserve)")
    }

    /// Cuts the data file back to the pages the last committed transaction uses: a write that failed
    /// (a full disk) may have left pages after them, which nothing refers to. Done holding liblmdb's
    /// writer lock, so that no other process writes meanwhile; readers read only committed pages.
    public func trimFile() throws {
        try write { _ in  // holding the writer lock; the empty transaction commits nothing
            var info = MDB_envinfo()
            mdb_env_info(handle, &info)
            let needed = (info.me_last_pgno + 1) * pageSize
            var file = stat()
            if writesMap {
                releaseUnused()  // the map reaches past the pages in use: the file keeps its size
            } else if lstat(path + "/data.mdb", &file) == 0, Int(file.st_size) > needed {
                _ = truncate(path + "/data.mdb", off_t(needed))
            }
        }
    }

    /// The bytes the file's pages take: the pages the last transaction uses, times the page size.
    public var usedBytes: Int {
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        return (info.me_last_pgno + 1) * pageSize
    }

    /// Flushes the data to disk (only needed after unsynced writes; commits are durable by themselves).
    public func sync() throws(LMDBError) {
        try LMDBError.check(mdb_env_sync(handle, 1), "mdb_env_sync")
    }

    private func begin(flags: UInt32) throws(LMDBError) -> Transaction {
        var txn: OpaquePointer?
        mapLock.share()
        var rc = mdb_txn_begin(handle, nil, flags, &txn)
        if rc == MDB_MAP_RESIZED {
            // Another process grew the map: adopt its size, with no transaction of ours active, and begin again.
            mapLock.release()
            try resize(to: 0, "mdb_env_set_mapsize (adopt)")
            mapLock.share()
            rc = mdb_txn_begin(handle, nil, flags, &txn)
        }
        guard rc == MDB_SUCCESS, let txn else {
            mapLock.release()
            throw LMDBError(code: .init(rc), operation: "mdb_txn_begin")
        }
        TransactionDiscipline.opened()
        return Transaction(handle: txn, isReadOnly: flags & UInt32(MDB_RDONLY) != 0, mapLock: mapLock)
    }

    private func grow() throws(LMDBError) {
        let current = mapSize
        guard current < maximumMapSize else {
            throw LMDBError(code: .mapFull, operation: "mdb_put (map at its maximum of \(maximumMapSize) bytes)")
        }
        let size = min(current * 2, maximumMapSize)
        if writesMap { try Self.allocate(path + "/data.mdb", upTo: size) }
        try resize(to: size, "mdb_env_set_mapsize")
    }

    /// Sets the map size (0: adopt the size in the file) once no transaction of this process is active.
    private func resize(to size: Int, _ operation: String) throws(LMDBError) {
        TransactionDiscipline.assertNoneOpen("the map is resized with no transaction of this thread open")
        mapLock.own()
        defer { mapLock.release() }
        try LMDBError.check(mdb_env_set_mapsize(handle, size), operation)
    }

    /// Opens (with `create`, creates) the named database `name`.
    ///
    /// The transaction that opens it is committed, read-only or not: liblmdb closes a database handle
    /// opened in a transaction that is aborted.
    /// - Throws: `LMDBError` (`.notFound` when it does not exist and `create` is false).
    /// How many pages `db` takes (branch, leaf and overflow pages), as of now.
    public func pages(of db: Database) throws -> Int {
        try read { txn in
            var stat = MDB_stat()
            try LMDBError.check(mdb_stat(txn.handle, db.dbi, &stat), "mdb_stat \(db.name)")
            return stat.ms_branch_pages + stat.ms_leaf_pages + stat.ms_overflow_pages
        }
    }

    public func database(_ name: String, create: Bool = false) throws -> Database {
        let open = { (txn: borrowing Transaction) throws(LMDBError) -> Database in
            var dbi = MDB_dbi()
            try LMDBError.check(
                mdb_dbi_open(txn.handle, name, create ? UInt32(MDB_CREATE) : 0, &dbi), "mdb_dbi_open \(name)")
            return Database(dbi: dbi, name: name)
        }
        if create && !isReadOnly { return try write(open) }
        var txn = try beginRead()
        let db = try open(txn)
        try txn.commit()
        return db
    }
}

/// Linux's `fallocate` (a GNU extension Swift's Glibc module does not bring in).
@_silgen_name("fallocate")
private func punchHole(_ fd: Int32, _ mode: Int32, _ offset: Int64, _ length: Int64) -> Int32
