import Wire
import Crypto
import EventLog
import Foundation
import LMDB

/// A fresh temporary folder for one test, removed with everything in it when the test lets it go.
final class TemporaryFolder: @unchecked Sendable {
    /// A path inside the system's temporary folder that does not exist yet.
    let path: String

    init() {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("civic-eventlog-test-\(UUID().uuidString)").path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A test's own error, thrown from inside a write.
struct Abandon: Error, Equatable {}

/// One event to append: what the layer above would pass.
struct Sample {
    var id: String
    var subject: String
    var version: UInt64
    var micros: Int64
    var body: [UInt8]
}

/// Five events over two subjects (versions 1, 1, 2, 3, 2), clocks rising, bodies of varied bytes.
let samples: [Sample] = [
    Sample(id: "e1", subject: "U-office", version: 1, micros: 1_656_032_400_000_000, body: Array("办公室".utf8)),
    Sample(id: "e2", subject: "P-0819-001", version: 1, micros: 1_656_032_400_001_000, body: [0, 1, 2, 3, 0xFF]),
    Sample(id: "e3", subject: "P-0819-001", version: 2, micros: 1_656_032_400_001_000, body: Array("assigned".utf8)),
    Sample(id: "e4", subject: "P-0819-001", version: 3, micros: 1_656_032_500_000_000, body: [UInt8](repeating: 7, count: 300)),
    Sample(id: "e5", subject: "U-office", version: 2, micros: 1_656_032_600_000_000, body: Array("整改".utf8)),
]

extension LogWriter {
    /// Appends `sample`; returns its seq.
    @discardableResult
    mutating func append(_ sample: Sample) throws -> UInt64 {
        try append(id: sample.id, subject: sample.subject, version: sample.version,
                   recordedAtMicros: sample.micros, body: sample.body)
    }

    /// Appends an entry at the next seq, chained to the head, pointing back to the last entry of its
    /// subject (found by reading the log: the layer above keeps it; a test has few entries).
    @discardableResult
    mutating func append(id: String, subject: String, version: UInt64, recordedAtMicros: Int64, body: [UInt8],
                         recordedBy: String = "local:test") throws -> UInt64 {
        var previous: UInt64 = 0
        try read.forEach(after: 0) { entry in
            if entry.subject.elementsEqual(subject.utf8) { previous = entry.seq }
            return true
        }
        return try append(ChainedEntry(seq: head.seq + 1, version: version, previous: previous, recordedAtMicros: recordedAtMicros,
                                       recordedBy: recordedBy, id: id, subject: subject, body: body, after: head.hash))
    }
}

extension EventLog {
    /// `write`, committing what `body` wrote unless it throws.
    @discardableResult
    func commit<R>(_ body: (inout LogWriter) throws -> R) throws -> R {
        try write { writer in .commit(try body(&writer)) }
    }

    /// `verifyLog` in one stretch, handing each entry to `visit`.
    func verify(_ visit: (EntryView) throws -> String? = { _ in nil }) throws -> LogHead { try verifyLog(visit: visit) }
}

/// A log in `folder` holding `entries`, appended one write each, then closed.
func makeLog(in folder: TemporaryFolder, _ entries: [Sample] = samples) throws {
    let log = try EventLog(path: folder.path, access: .create)
    for sample in entries { _ = try log.commit { w in try w.append(sample) } }
}

/// The 8-byte big-endian key of `seq` (Schemas/README.md, section 1), written out here, not borrowed from EventLog.
func key(_ seq: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: seq >> (56 - 8 * $0)) } }

/// SHA-256 of the concatenation of `parts`.
func sha256(_ parts: [UInt8]...) -> [UInt8] {
    var hasher = SHA256()
    for part in parts { hasher.update(data: part) }
    return Array(hasher.finalize())
}

/// Runs `body` in a write on the store in `path`, opened with a raw LMDB environment: the way an
/// intruder (or a bug) would change stored bytes behind the log's back. The log must be closed.
func tamper(_ path: String, _ body: (borrowing Transaction, _ log: Database, _ ids: Database) throws -> Void) throws {
    let env = try Environment(path: path)
    let log = try env.database("log")
    let ids = try env.database("ids")
    try env.write { txn in try body(txn, log, ids) }
}

/// Every stored value of the `log` database, in key order, read with a raw LMDB environment.
func storedValues(_ path: String) throws -> [(key: [UInt8], value: [UInt8])] {
    let env = try Environment(path: path, readOnly: true)
    let log = try env.database("log")
    return try env.read { txn in
        var all: [(key: [UInt8], value: [UInt8])] = []
        try txn.forEach(log) { k, v in all.append((Array(k), Array(v))); return true }
        return all
    }
}

/// civic.v1.Entry (Schemas/civic/v1/log.proto) read field by field from protobuf wire bytes, with no
/// protobuf library: what an auditor's own decoder would find.
struct DecodedEntry: Equatable {
    var seq: UInt64 = 0
    var version: UInt64 = 0
    var recordedAtUs: Int64 = 0
    var id = ""
    var subject = ""
    var event: [UInt8] = []
    var previous: UInt64 = 0
    var recordedBy = ""

    struct Malformed: Error {}

    init(wire bytes: [UInt8]) throws {
        var i = 0
        func varint() throws -> UInt64 {
            var value: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard i < bytes.count, shift < 64 else { throw Malformed() }
                let b = bytes[i]; i += 1
                value |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { return value }
                shift += 7
            }
        }
        while i < bytes.count {
            let tag = try varint()
            switch (tag >> 3, tag & 7) {
            case (1, 0): seq = try varint()
            case (2, 0): version = try varint()
            case (3, 0):  // sint64: zigzag
                let z = try varint()
                recordedAtUs = Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1)))
            case (7, 0): previous = try varint()
            case (4...6, 2), (8, 2):
                let length = Int(try varint())
                guard length <= bytes.count - i else { throw Malformed() }
                let field = Array(bytes[i..<(i + length)]); i += length
                switch tag >> 3 {
                case 4: id = String(decoding: field, as: UTF8.self)
                case 5: subject = String(decoding: field, as: UTF8.self)
                case 8: recordedBy = String(decoding: field, as: UTF8.self)
                default: event = field
                }
            default: throw Malformed()
            }
        }
    }
}
