import Campaign
import Foundation
import Projections

/// A checkpoint of the projection, stored so that a view as of a late seq need not fold the whole log.
///
/// Snapshots are derived data, in the LMDB database `snapshots` (key: seq, 8 bytes big-endian). Each
/// holds the projection of every event up to its seq, whatever their `time`, with the latest `time`
/// among them: it can start a view as of any seq at or after its own, at any moment not before that
/// time. A snapshot that does not decode, or whose checksum does not match, is ignored (and rebuilt by
/// the next checkpoint): losing or damaging snapshots never changes an answer, only its speed.
///
/// Encoding (little-endian varints, strings interned; the problems as `ProblemTable` stores them): `CIVSNAP` + format byte, a 64-bit checksum of
/// the payload (8 bytes), then the payload. It is private to civic and may change with its format byte.
/// The checksum catches accidental damage cheaply; deliberate alteration is caught by `civic verify`,
/// which compares every checkpoint with the log.
enum Snapshot {
    static let magic = Array("CIVSNAP".utf8) + [5]

    /// The stored bytes of `projection` (taken with `at` = `Projection.endOfTime`).
    static func encode(_ p: Projection) -> [UInt8] {
        var w = SnapshotWriter()
        w.varint(p.seq)
        w.optionalTime(p.latestTime)
        let table = p.problems.encoded()
        w.varint(UInt64(table.count))
        w.bytes.append(contentsOf: table)
        w.varint(UInt64(p.batches.count))
        for (id, b) in p.batches.sorted(by: { $0.key < $1.key }) {
            w.string(id)
            w.string(b.opening.name)
            w.vocabulary(b.opening.source)
            w.time(b.opening.dueAt)
            w.time(b.openedAt)
        }
        w.varint(UInt64(p.outstandingChanges.count))
        for (batch, days) in p.outstandingChanges.sorted(by: { $0.key < $1.key }) {
            w.string(batch)
            w.varint(UInt64(days.count))
            for (day, change) in days.sorted(by: { $0.key < $1.key }) {
                w.signed(day)
                w.signed(Int64(change))
            }
        }
        w.varint(UInt64(p.zeroRecords.count))
        for (key, record) in p.zeroRecords.sorted(by: { $0.key < $1.key }) {
            w.string(key.batch)
            w.optional(key.unit)
            w.varint(UInt64(record.counted))
            w.varint(UInt64(record.closed))
            w.optionalTime(record.zeroedAt)
        }
        w.varint(UInt64(p.unitNames.count))
        for (id, name) in p.unitNames.sorted(by: { $0.key < $1.key }) {
            w.string(id)
            w.string(name)
        }
        w.varint(UInt64(p.unitsAssigned.count))
        for unit in p.unitsAssigned.sorted() { w.string(unit) }
        w.varint(UInt64(p.weeks.count))
        for (week, units) in p.weeks.sorted(by: { $0.key < $1.key }) {
            w.signed(week.monday)
            w.varint(UInt64(units.count))
            for (unit, c) in units.sorted(by: { $0.key < $1.key }) {
                w.string(unit)
                for n in [c.closed, c.rejected, c.reopened, c.escalated] { w.varint(UInt64(n)) }
            }
        }
        return frame(magic, w.bytes)
    }

    struct Damaged: Error {}

    /// `magic` ‖ checksum of `payload` (8 bytes, little-endian) ‖ `payload`.
    static func frame(_ magic: [UInt8], _ payload: [UInt8]) -> [UInt8] {
        var sum = payload.withUnsafeBytes(checksum).littleEndian
        return magic + withUnsafeBytes(of: &sum) { Array($0) } + payload
    }

    /// The payload of framed `bytes`.
    /// - Throws: `Damaged` when the magic or the checksum does not match.
    static func payload(_ magic: [UInt8], _ bytes: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer {
        let head = magic.count + 8
        guard bytes.count > head, bytes.prefix(magic.count).elementsEqual(magic) else { throw Damaged() }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[head...])
        guard checksum(payload) == UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: magic.count, as: UInt64.self))
        else { throw Damaged() }
        return payload
    }

    /// The projection stored in `bytes`, judged at the end of time.
    /// - Throws: `Damaged` when the bytes are not a snapshot of this format or their checksum fails.
    static func decode(_ bytes: UnsafeRawBufferPointer) throws -> Projection {
        var r = SnapshotReader(try payload(magic, bytes))
        let seq = try r.varint()
        let latest = try r.optionalTime()
        let problems: ProblemTable
        do { problems = try ProblemTable(decoding: try r.block(try r.count())) } catch { throw Damaged() }
        var batches: [String: BatchView] = [:]
        for _ in 0..<(try r.count()) {
            let id = try r.string()
            batches[id] = BatchView(opening: BatchOpening(name: try r.string(), source: try r.vocabulary(), dueAt: try r.time()),
                                    openedAt: try r.time())
        }
        var changes: [String: [Int64: Int]] = [:]
        for _ in 0..<(try r.count()) {
            let batch = try r.string()
            var days: [Int64: Int] = [:]
            for _ in 0..<(try r.count()) { days[try r.signed()] = Int(try r.signed()) }
            changes[batch] = days
        }
        var zero: [ZeroKey: ZeroRecord] = [:]
        for _ in 0..<(try r.count()) {
            zero[ZeroKey(batch: try r.string(), unit: try r.optional())] =
                ZeroRecord(counted: try r.count(), closed: try r.count(), zeroedAt: try r.optionalTime())
        }
        var names: [String: String] = [:]
        for _ in 0..<(try r.count()) { names[try r.string()] = try r.string() }
        var assigned: Set<String> = []
        for _ in 0..<(try r.count()) { assigned.insert(try r.string()) }
        var weeks: [Week: [String: WeekCounts]] = [:]
        for _ in 0..<(try r.count()) {
            let week = Week(monday: try r.signed())
            var units: [String: WeekCounts] = [:]
            for _ in 0..<(try r.count()) {
                units[try r.string()] = WeekCounts(closed: try r.count(), rejected: try r.count(),
                                                   reopened: try r.count(), escalated: try r.count())
            }
            weeks[week] = units
        }
        guard r.isAtEnd else { throw Damaged() }
        return Projection(at: Projection.endOfTime, seq: seq, latestTime: latest, problems: problems, batches: batches,
                          outstandingChanges: changes, zeroRecords: zero, unitNames: names, unitsAssigned: assigned,
                          weeks: weeks)
    }
}

/// A 64-bit checksum of `bytes`: four lanes of eight bytes each round (in the manner of xxHash64),
/// so that checking a checkpoint of tens of megabytes takes a millisecond or two.
func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    let p1: UInt64 = 0x9E37_79B1_85EB_CA87, p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    @inline(__always) func round(_ lane: UInt64, _ w: UInt64) -> UInt64 {
        let x = lane &+ w &* p2
        return (x << 31 | x >> 33) &* p1
    }
    var lanes: (UInt64, UInt64, UInt64, UInt64) = (p1 &+ p2, p2, 0, 0 &- p1)
    var i = 0
    while i + 32 <= bytes.count {
        func word(_ k: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i + k, as: UInt64.self)) }
        lanes = (round(lanes.0, word(0)), round(lanes.1, word(8)), round(lanes.2, word(16)), round(lanes.3, word(24)))
        i += 32
    }
    var h = UInt64(bytes.count) &* p1
    for lane in [lanes.0, lanes.1, lanes.2, lanes.3] {
        h = (h ^ round(0, lane)) &* p1 &+ 0x85EB_CA77_C2B2_AE63
    }
    while i < bytes.count {
        h = (h ^ UInt64(bytes[i]) &* p1) << 11 | (h ^ UInt64(bytes[i]) &* p1) >> 53
        i += 1
    }
    h ^= h >> 33
    h = h &* p2
    return h ^ (h >> 29)
}

/// Writes varints and interned strings.
struct SnapshotWriter {
    var bytes: [UInt8] = []
    private var interned: [String: UInt64] = [:]

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }
    mutating func signed(_ v: Int64) { varint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }
    /// A string: 0 and its bytes the first time, then its place in the table plus one.
    mutating func string(_ s: String) {
        if let k = interned[s] { varint(k + 1); return }
        interned[s] = UInt64(interned.count)
        varint(0)
        varint(UInt64(s.utf8.count))
        bytes.append(contentsOf: s.utf8)
    }
    mutating func optional(_ s: String?) {
        bytes.append(s == nil ? 0 : 1)
        if let s { string(s) }
    }
    mutating func time(_ t: Timestamp) {
        signed(t.micros)
        signed(Int64(t.offsetMinutes))
    }
    mutating func optionalTime(_ t: Timestamp?) {
        bytes.append(t == nil ? 0 : 1)
        if let t { time(t) }
    }
    mutating func optionalDouble(_ d: Double?) {
        bytes.append(d == nil ? 0 : 1)
        if let d { varint(d.bitPattern) }
    }
    mutating func problem(_ s: Problem) {
        vocabulary(s.status)
        optional(s.batch)
        optional(s.unit)
        optional(s.leader)
        optionalTime(s.deadline)
        optional(s.submittedBy)
        time(s.reportedAt)
        optionalTime(s.closedAt)
        varint(UInt64(s.rejections))
        varint(UInt64(s.escalations))
        varint(UInt64(s.reopens))
    }

    mutating func vocabulary<V: Vocabulary>(_ v: V) {
        bytes.append(UInt8(V.allCases.distance(from: V.allCases.startIndex, to: V.allCases.firstIndex(of: v)!)))
    }
}

/// Reads what `SnapshotWriter` wrote; any inconsistency is `Snapshot.Damaged`.
struct SnapshotReader {
    private let bytes: UnsafeRawBufferPointer
    private var i = 0
    private var table: [String] = []

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var isAtEnd: Bool { i == bytes.count }

    mutating func byte() throws -> UInt8 {
        guard i < bytes.count else { throw Snapshot.Damaged() }
        defer { i += 1 }
        return bytes[i]
    }
    mutating func varint() throws -> UInt64 {
        var v: UInt64 = 0, shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw Snapshot.Damaged() }
            v |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return v }
            shift += 7
        }
    }
    mutating func count() throws -> Int {
        let v = try varint()
        guard v <= UInt64(bytes.count) * 8 else { throw Snapshot.Damaged() }
        return Int(v)
    }
    mutating func signed() throws -> Int64 {
        let v = try varint()
        return Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
    }
    mutating func string() throws -> String {
        let k = try varint()
        if k > 0 {
            guard k - 1 < UInt64(table.count) else { throw Snapshot.Damaged() }
            return table[Int(k - 1)]
        }
        let n = try count()
        guard i + n <= bytes.count, let s = String(validating: bytes[i..<(i + n)], as: UTF8.self) else { throw Snapshot.Damaged() }
        i += n
        table.append(s)
        return s
    }
    mutating func optional() throws -> String? { try byte() == 0 ? nil : try string() }
    /// The next `n` bytes, as they are.
    mutating func block(_ n: Int) throws -> UnsafeRawBufferPointer {
        guard n <= bytes.count - i else { throw Snapshot.Damaged() }
        defer { i += n }
        return UnsafeRawBufferPointer(rebasing: bytes[i..<(i + n)])
    }
    mutating func time() throws -> Timestamp {
        let micros = try signed()
        let offset = try signed()
        guard let minutes = Int32(exactly: offset) else { throw Snapshot.Damaged() }
        return Timestamp(micros: micros, offsetMinutes: minutes)
    }
    mutating func optionalTime() throws -> Timestamp? { try byte() == 0 ? nil : try time() }
    mutating func optionalDouble() throws -> Double? { try byte() == 0 ? nil : Double(bitPattern: try varint()) }
    mutating func problem() throws -> Problem {
        let status: ProblemStatus = try vocabulary()
        var s = Problem(reportedAt: Timestamp(micros: 0), batch: try optional())
        s.status = status
        s.unit = try optional()
        s.leader = try optional()
        s.deadline = try optionalTime()
        s.submittedBy = try optional()
        s.reportedAt = try time()
        s.closedAt = try optionalTime()
        s.rejections = try count()
        s.escalations = try count()
        s.reopens = try count()
        return s
    }

    mutating func vocabulary<V: Vocabulary>() throws -> V {
        let k = Int(try byte())
        let all = Array(V.allCases)
        guard k < all.count else { throw Snapshot.Damaged() }
        return all[k]
    }
}
