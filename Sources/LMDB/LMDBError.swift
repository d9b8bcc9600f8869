import CLMDB

/// A failure reported by liblmdb: which call failed, with which code, and what it means.
///
/// The codes a caller must react to are named (`mapFull`, `mapResized`, `notFound`, `keyExists`,
/// `readersFull`); the others carry liblmdb's own code and message.
public struct LMDBError: Error, Equatable, CustomStringConvertible, Sendable {
    /// liblmdb's error code (one of `MDB_*` or an `errno` value).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: Int32
        public init(_ rawValue: Int32) { self.rawValue = rawValue }

        public static let keyExists = Code(MDB_KEYEXIST)
        public static let notFound = Code(MDB_NOTFOUND)
        public static let corrupted = Code(MDB_CORRUPTED)
        public static let panic = Code(MDB_PANIC)
        public static let versionMismatch = Code(MDB_VERSION_MISMATCH)
        public static let invalid = Code(MDB_INVALID)
        public static let mapFull = Code(MDB_MAP_FULL)
        public static let dbsFull = Code(MDB_DBS_FULL)
        public static let readersFull = Code(MDB_READERS_FULL)
        public static let txnFull = Code(MDB_TXN_FULL)
        public static let mapResized = Code(MDB_MAP_RESIZED)
        public static let incompatible = Code(MDB_INCOMPATIBLE)
        public static let badValueSize = Code(MDB_BAD_VALSIZE)
        public static let pageNotFound = Code(MDB_PAGE_NOTFOUND)

        /// Whether the code says the store's file is damaged.
        public var meansDamage: Bool { self == .corrupted || self == .panic || self == .pageNotFound || self == .invalid }
        /// `EACCES`: the store is read-only for this process (opened with `MDB_RDONLY`, or file modes).
        public static let permissionDenied = Code(13)
        /// `ENOSPC`: the disk is full.
        public static let noSpace = Code(28)
        /// `EIO`: a write or sync failed (a full disk can end so).
        public static let ioError = Code(5)
        /// `ENOENT`: the store's folder or files do not exist.
        public static let noSuchFile = Code(2)

        public var description: String { String(cString: mdb_strerror(rawValue)) }
    }

    /// The code liblmdb returned.
    public let code: Code
    /// The C call that returned it, e.g. `mdb_txn_commit`.
    public let operation: String

    public init(code: Code, operation: String) {
        self.code = code
        self.operation = operation
    }

    public var description: String { "\(operation): \(code) (\(code.rawValue))" }

    /// Throws unless `rc` is `MDB_SUCCESS`.
    @inline(__always)
    static func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws(LMDBError) {
        guard rc == MDB_SUCCESS else { throw LMDBError(code: Code(rc), operation: operation()) }
    }
}
