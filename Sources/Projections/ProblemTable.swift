import Campaign
import Foundation
import Wire

/// One problem as the views see it: its state, how many of its events were folded, and the seq of its
/// report (the report's text stays in the log; rows that are shown read it from there).
public struct ProblemView: Sendable, Equatable {
    public var problem: Problem
    public var version: UInt64
    public var reportSeq: UInt64
    public init(problem: Problem, version: UInt64, reportSeq: UInt64) {
        self.problem = problem; self.version = version; self.reportSeq = reportSeq
    }
}

/// Every problem of a projection, in a form that costs little to copy, scan, snapshot or restore: one
/// record of `ProblemRecord.size` bytes per problem, numbered by slot in the order reported, with units,
/// lists and people as numbers into a table of names. The records are kept as the snapshots store them,
/// so restoring the table is copying bytes, and its index of ids is built only when a fold asks for one.
public struct ProblemTable: Sendable {
    /// The problems' ids, by slot.
    private(set) var ids = StringIndex()
    /// Units, lists and people, numbered in the order first named.
    var names = StringIndex()
    /// The records, slot after slot.
    private(set) var recordBytes: [UInt8] = []
    /// Every slot in the order of its problem's id, sorted when first asked for and shared by the
    /// table's copies until it gains a problem: a server pages through the board of one projection.
    private var idOrder = IDOrder()

    public init() {}

    public var count: Int { recordBytes.count / ProblemRecord.size }

    /// The record of `slot`.
    subscript(slot: Int) -> ProblemRecord {
        get { recordBytes.withUnsafeBytes { ProblemRecord(UnsafeRawBufferPointer(rebasing: $0[(slot * ProblemRecord.size)...])) } }
        set {
            recordBytes.withUnsafeMutableBytes { newValue.write(into: UnsafeMutableRawBufferPointer(rebasing: $0[(slot * ProblemRecord.size)...])) }
        }
    }

    /// The slot of problem `id`, if it was reported.
    public mutating func slot(of id: String) -> Int? { ids.number(of: id).map(Int.init) }

    /// The id of the problem in `slot`.
    public func id(at slot: Int) -> String { ids[Int32(slot)] }

    /// The problem in `slot`, with its names.
    public func view(at slot: Int) -> ProblemView {
        let r = self[slot]
        var p = Problem(reportedAt: r.reportedAt, batch: name(r.batch))
        p.status = r.status
        p.unit = name(r.unit)
        p.leader = name(r.leader)
        p.deadline = r.deadline
        p.closedAt = r.closedAt
        p.rejections = Int(r.rejections)
        p.escalations = Int(r.escalations)
        p.reopens = Int(r.reopens)
        return ProblemView(problem: p, version: UInt64(r.version), reportSeq: r.reportSeq)
    }

    /// Adds a newly reported problem. - Returns: its slot.
    mutating func add(_ id: String, _ record: ProblemRecord) -> Int {
        let slot = Int(ids.intern(id))
        precondition(slot == count, "problem \(id) reported twice")
        idOrder = IDOrder()
        appendRecord(record)
        return slot
    }

    /// The number of `name`, nil when no event folded here ever named it.
    public func number(of name: String) -> Int32? { names.lookup(name) }
    /// The number of `name`, given one if it has none.
    mutating func intern(_ name: String) -> Int32 { names.intern(name) }
    /// The number of `name`, which had number `old` before: the same when the name is unchanged.
    mutating func number(_ name: String?, was old: Int32) -> Int32 {
        guard let name else { return -1 }
        if old >= 0, names.withBytes(of: Int(old), { $0.sameBytes(as: name) }) { return old }
        return names.intern(name)
    }
    /// How many names there are: numbers run from 0 to this.
    var nameCount: Int { names.count }
    /// The name numbered `number`; nil for -1.
    func name(_ number: Int32) -> String? { number < 0 ? nil : names[number] }
    func record(at slot: Int) -> ProblemRecord { self[slot] }

    /// Adds the record of the next slot.
    mutating func appendRecord(_ record: ProblemRecord) {
        let start = recordBytes.count
        recordBytes.append(contentsOf: repeatElement(0, count: ProblemRecord.size))
        self[start / ProblemRecord.size] = record
    }

    /// Adds the records of the next slots, as stored (`ProblemRecord.size` bytes each), checked, with
    /// room for `room` bytes of records more.
    /// - Returns: false when one of them is not a record of this table (a status or a name it does not have).
    mutating func appendRecords(_ bytes: UnsafeRawBufferPointer, room: Int = 0) -> Bool {
        guard bytes.count % ProblemRecord.size == 0 else { return false }
        let names = Int32(nameCount)
        for k in stride(from: 0, to: bytes.count, by: ProblemRecord.size) {
            guard ProblemRecord.isSound(UnsafeRawBufferPointer(rebasing: bytes[k...]), names: names) else { return false }
        }
        // A table restored whole then takes the deltas after it, and the fold after them: room for both
        // from the start spares copying it all when the first one comes.
        recordBytes.reserveInLargePages(recordBytes.count + bytes.count + room + (recordBytes.isEmpty ? bytes.count / 4 : 0))
        recordBytes.append(contentsOf: bytes)
        return true
    }

    /// Sets the bytes of `slot`'s record at the offsets `mask` names (bit k: byte k) to `changed`, in
    /// order, when the record they make is sound: a delta snapshot's change, laid over the stored bytes.
    /// - Returns: false when it is not a record of this table (nothing is changed then).
    mutating func patch(_ slot: Int, mask: UInt64, _ changed: UnsafeRawBufferPointer, names: Int32) -> Bool {
        let size = ProblemRecord.size
        return recordBytes.withUnsafeMutableBytes { all in
            withUnsafeTemporaryAllocation(byteCount: size, alignment: 8) { record in
                record.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[(slot * size)..<(slot * size + size)]))
                var k = 0, left = mask
                while left != 0 {
                    record[left.trailingZeroBitCount] = changed[k]
                    k += 1
                    left &= left - 1
                }
                guard ProblemRecord.isSound(UnsafeRawBufferPointer(record), names: names) else { return false }
                UnsafeMutableRawBufferPointer(rebasing: all[(slot * size)...]).copyMemory(from: UnsafeRawBufferPointer(record))
                return true
            }
        }
    }

    /// Every slot, in the order of their ids' bytes.
    func slotsInIDOrder() -> [Int32] {
        idOrder.slots(count) {
            (0..<Int32(count)).sorted { a, b in
                ids.withBytes(of: Int(a)) { x in ids.withBytes(of: Int(b)) { y in Self.precedes(x, y) } }
            }
        }
    }

    private static func precedes(_ x: UnsafeRawBufferPointer, _ y: UnsafeRawBufferPointer) -> Bool {
        let n = min(x.count, y.count)
        let c = n == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, n)
        return c < 0 || (c == 0 && x.count < y.count)
    }

    /// Adds the ids of problems restored from a snapshot (`ProjectionSnapshot`), their records to follow.
    mutating func appendIDs(bytes: some Collection<UInt8>, ends: [UInt32], room: Int = 0) {
        // A problem a delta adds takes its record's 64 bytes and its id's in it: its id is some fraction of `room`.
        ids.append(bytes: bytes, ends: ends, room: (bytes: room / 4, ends: room / ProblemRecord.size))
        idOrder = IDOrder()
    }
}

extension ProblemTable: Equatable {
    /// Two tables are equal when they hold the same problems in the same slots and states, whatever the
    /// numbering of their names.
    public static func == (a: ProblemTable, b: ProblemTable) -> Bool {
        guard a.count == b.count else { return false }
        for slot in 0..<a.count where a.id(at: slot) != b.id(at: slot) || a.view(at: slot) != b.view(at: slot) {
            return false
        }
        return true
    }
}

/// A problem's state with its names as numbers (-1: none): a value of fixed size, kept in
/// `ProblemRecord.size` bytes (little-endian): status (1), which times are set (1), rejections, escalations,
/// reopens (2 each), batch, unit, leader (4 each, signed), version (4), reported, deadline and closed at
/// (8 each, microseconds), the seq of the report (8), then the three times' UTC offsets (2 each, minutes).
struct ProblemRecord: Sendable, Equatable {
    static let size = 64

    var status: ProblemStatus
    var batch: Int32
    var unit: Int32
    var leader: Int32
    var version: UInt32
    var rejections: UInt16
    var escalations: UInt16
    var reopens: UInt16
    var deadline: Timestamp?
    var reportedAt: Timestamp
    var closedAt: Timestamp?
    var reportSeq: UInt64

    /// The problem as its report makes it.
    init(reportedAt: Timestamp, batch: Int32, reportSeq: UInt64) {
        status = .reported
        self.batch = batch
        unit = -1
        leader = -1
        version = 1
        rejections = 0
        escalations = 0
        reopens = 0
        self.reportedAt = reportedAt
        self.reportSeq = reportSeq
    }

    init(status: ProblemStatus, batch: Int32, unit: Int32, leader: Int32, version: UInt32, rejections: UInt16,
         escalations: UInt16, reopens: UInt16, deadline: Timestamp?, reportedAt: Timestamp, closedAt: Timestamp?,
         reportSeq: UInt64) {
        self.status = status; self.batch = batch; self.unit = unit; self.leader = leader; self.version = version
        self.rejections = rejections; self.escalations = escalations; self.reopens = reopens
        self.deadline = deadline; self.reportedAt = reportedAt; self.closedAt = closedAt; self.reportSeq = reportSeq
    }

    func isOverdue(at moment: Timestamp) -> Bool { Problem.isOverdue(status: status, deadline: deadline, at: moment) }

    /// The record stored in the first `size` bytes of `b` (checked by `isSound` when it came from a store).
    init(_ b: UnsafeRawBufferPointer) {
        func u16(_ at: Int) -> UInt16 { UInt16(littleEndian: b.loadUnaligned(fromByteOffset: at, as: UInt16.self)) }
        func i32(_ at: Int) -> Int32 { Int32(littleEndian: b.loadUnaligned(fromByteOffset: at, as: Int32.self)) }
        func i64(_ at: Int) -> Int64 { Int64(littleEndian: b.loadUnaligned(fromByteOffset: at, as: Int64.self)) }
        func i16(_ at: Int) -> Int32 { Int32(Int16(littleEndian: b.loadUnaligned(fromByteOffset: at, as: Int16.self))) }
        let flags = b[1]
        status = ProblemStatus(number: Int(b[0])) ?? .reported
        rejections = u16(2)
        escalations = u16(4)
        reopens = u16(6)
        batch = i32(8)
        unit = i32(12)
        leader = i32(16)
        version = UInt32(bitPattern: i32(20))
        reportedAt = Timestamp(micros: i64(24), offsetMinutes: i16(56))
        deadline = flags & 1 == 0 ? nil : Timestamp(micros: i64(32), offsetMinutes: i16(58))
        closedAt = flags & 2 == 0 ? nil : Timestamp(micros: i64(40), offsetMinutes: i16(60))
        reportSeq = UInt64(bitPattern: i64(48))
    }

    /// Writes the record into the first `size` bytes of `b`.
    func write(into b: UnsafeMutableRawBufferPointer) {
        func u16(_ at: Int, _ v: UInt16) { b.storeBytes(of: v.littleEndian, toByteOffset: at, as: UInt16.self) }
        func i32(_ at: Int, _ v: Int32) { b.storeBytes(of: v.littleEndian, toByteOffset: at, as: Int32.self) }
        func i64(_ at: Int, _ v: Int64) { b.storeBytes(of: v.littleEndian, toByteOffset: at, as: Int64.self) }
        func i16(_ at: Int, _ v: Int32) { b.storeBytes(of: Int16(truncatingIfNeeded: v).littleEndian, toByteOffset: at, as: Int16.self) }
        b[0] = UInt8(status.number)
        b[1] = (deadline == nil ? 0 : 1) | (closedAt == nil ? 0 : 2)
        u16(2, rejections)
        u16(4, escalations)
        u16(6, reopens)
        i32(8, batch)
        i32(12, unit)
        i32(16, leader)
        i32(20, Int32(bitPattern: version))
        i64(24, reportedAt.micros)
        i64(32, deadline?.micros ?? 0)
        i64(40, closedAt?.micros ?? 0)
        i64(48, Int64(bitPattern: reportSeq))
        i16(56, reportedAt.offsetMinutes)
        i16(58, deadline?.offsetMinutes ?? 0)
        i16(60, closedAt?.offsetMinutes ?? 0)
        u16(62, 0)
    }

    /// Whether the first `size` bytes of `b` are a record whose status is one and whose names are among `names`.
    static func isSound(_ b: UnsafeRawBufferPointer, names: Int32) -> Bool {
        guard b.count >= size, ProblemStatus(number: Int(b[0])) != nil, b[1] < 4, b[62] == 0, b[63] == 0 else { return false }
        func name(_ at: Int) -> Bool {
            let n = Int32(littleEndian: b.loadUnaligned(fromByteOffset: at, as: Int32.self))
            return n >= -1 && n < names
        }
        func offset(_ at: Int) -> Bool { abs(Int(Int16(littleEndian: b.loadUnaligned(fromByteOffset: at, as: Int16.self)))) < 24 * 60 }
        return name(8) && name(12) && name(16) && offset(56) && offset(58) && offset(60)
    }

    /// Whether it still counts as outstanding (reported, assigned or submitted).
    var isOutstanding: Bool { status == .reported || status == .assigned || status == .submitted }
}

/// The slots of a table in the order of their ids, once sorted.
final class IDOrder: @unchecked Sendable {
    private let lock = NSLock()
    private var sorted: [Int32]?

    func slots(_ count: Int, _ sort: () -> [Int32]) -> [Int32] {
        lock.lock()
        defer { lock.unlock() }
        if let sorted, sorted.count == count { return sorted }
        let made = sort()
        sorted = made
        return made
    }
}
