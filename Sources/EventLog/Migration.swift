import Crypto
import Foundation
import LMDB
import Wire

/// What a migration did: the former store's head (its own chain, as verified), and the new store's.
public struct Migration: Sendable {
    public var formerHead: LogHead
    public var head: LogHead
    public var events: Int
}

extension EventLog {
    /// The `meta` fact naming the head of the store a migrated store was made from (`SEQ:HASH`).
    public static let migratedFromFact = "migrated.from"

    /// Copies the log of a store of format 1 (entries without back-pointers or recorders) into this new,
    /// empty log (docs/storage.md, "Migrating a store of format 1"): every entry keeps its seq, version,
    /// store clock, id, subject and event bytes, gains the seq of its stream's previous entry, and is
    /// chained anew. The former chain is verified on the way (a store that does not verify is not
    /// migrated), and its head kept in `meta` (`migratedFromFact`). The former entry's bytes are the new
    /// entry's fields 1 to 6, so the former chain can be recomputed from the new store.
    ///
    /// Reads the former store in stretches of `batch` entries, each in a read transaction of its own and
    /// each written in one write transaction: memory stays bounded, and a crash leaves a new store that is
    /// a prefix (run again into an empty folder).
    /// - Throws: `LogDamage` when the former log does not verify; `StoreFormatMismatch` when `path` is not
    ///   a store of format 1; `MigrationRefused` when this log is not empty.
    @available(*, noasync)
    public func migrate(fromFormat1 path: String, batch: Int = 10_000, progress: ((Int, Int) -> Void)? = nil) throws -> Migration {
        guard try head().seq == 0 else { throw MigrationRefused(reason: "新存储 \(self.path) 不是空的：迁移只写入新建的空存储") }
        let former = try Environment(path: path, readOnly: true, maxDatabases: 8)
        let log: Database, ids: Database
        do {
            log = try former.database("log")
            ids = try former.database("ids")
        } catch { throw StoreFormatMismatch(found: 0, path: path) }
        if let meta = try? former.database("meta"),
           let format = try former.read({ try $0.get(meta, key: Array("format".utf8)) }) {
            throw StoreFormatMismatch(found: Int(String(decoding: format, as: UTF8.self)) ?? -1, path: path)
        }
        let count = try former.read { try $0.count(log) }
        var formerHash = EventLog.genesisHash
        var formerHead = LogHead.empty
        var streams: [[UInt8]: (version: UInt64, seq: UInt64)] = [:]
        var lastClock = Int64.min
        var done: UInt64 = 0
        while done < UInt64(count) {
            // One stretch of the former log, checked and turned into entries of the new format.
            var entries: [(seq: UInt64, version: UInt64, previous: UInt64, recordedAt: Int64, id: String, subject: String, body: [UInt8])] = []
            let first = done + 1
            try former.read { txn in
                try txn.forEach(log, from: first.bigEndianBytes) { key, value in
                    let seq = done + 1
                    guard key.count == 8, UInt64(bigEndianBytes: key) == seq else {
                        throw LogDamage(seq: seq, problem: "missing in the former store")
                    }
                    let entry = try LogReader.view(value, seq: seq)
                    var hasher = SHA256()
                    hasher.update(data: formerHash)
                    hasher.update(bufferPointer: entry.entryBytes)
                    let computed = Array(hasher.finalize())
                    guard computed.withUnsafeBytes({ $0.sameBytes(as: entry.hash) }), entry.seq == seq else {
                        throw LogDamage(seq: seq, problem: "the former store's chain breaks here: it is not migrated")
                    }
                    guard entry.recordedAtMicros >= lastClock else { throw LogDamage(seq: seq, problem: "recordedat goes backwards") }
                    let indexed = try txn.withValue(ids, key: entry.id) { $0.map { UInt64(bigEndianBytes: $0) } }
                    guard indexed == seq else { throw LogDamage(seq: seq, problem: "the former id index does not point \(entry.idString) here") }
                    let subject = Array(entry.subject)
                    let before = streams[subject] ?? (0, 0)
                    guard entry.version == before.version + 1 else {
                        throw LogDamage.misplaced(seq, entry.subjectString, entry.version, 0, after: before)
                    }
                    streams[subject] = (entry.version, seq)
                    entries.append((seq, entry.version, before.seq, entry.recordedAtMicros, entry.idString, entry.subjectString, Array(entry.body)))
                    formerHash = computed
                    formerHead = LogHead(seq: seq, hash: computed, recordedAtMicros: entry.recordedAtMicros)
                    lastClock = entry.recordedAtMicros
                    done = seq
                    return entries.count < batch
                }
            }
            try write { writer in
                for e in entries {
                    _ = try writer.append(ChainedEntry(seq: e.seq, version: e.version, previous: e.previous, recordedAtMicros: e.recordedAt,
                                                       recordedBy: "", id: e.id, subject: e.subject, body: e.body, after: writer.head.hash))
                }
                if done == UInt64(count) {
                    try writer.setFact(Self.migratedFromFact, Array("\(formerHead.seq):\(formerHead.hash.hex)".utf8))
                }
                return .commit(())
            }
            progress?(Int(done), count)
        }
        if count == 0 {
            try write { writer in
                try writer.setFact(Self.migratedFromFact, Array("0:\(EventLog.genesisHash.hex)".utf8))
                return .commit(())
            }
        }
        return Migration(formerHead: formerHead, head: try head(), events: count)
    }
}

/// A migration that cannot be made (its target is not empty).
public struct MigrationRefused: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}
