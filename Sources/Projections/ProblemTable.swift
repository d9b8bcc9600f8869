import Campaign

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

/// Every problem of a projection, in a form that costs nothing to copy, scan or restore: one
/// fixed-size record per problem, with units, lists and people as numbers into a table of names.
///
/// The ids come in two parts: those restored from a checkpoint, kept sorted in one byte buffer and
/// found by binary search (restoring them builds no dictionary), and those added since, in a
/// `StringIndex`. A checkpoint of a million events holds ~200,000 problems; restoring this table is a few
/// copies of arrays, where a dictionary of Swift values took a third of a second.
public struct ProblemTable: Sendable {
    /// The ids of slots `0..<sortedEnds.count`, in byte order, one after another.
    private var sortedBytes: [UInt8] = []
    /// Where each of those ids ends in `sortedBytes`.
    private var sortedEnds: [UInt32] = []
    /// The ids added since: number n is slot `sortedEnds.count + n`.
    private var added = StringIndex()
    private var names = Names()
    private var records: [ProblemRecord] = []

    public init() {}

    public var count: Int { records.count }

    /// The slot of problem `id`, if it was reported.
    public func slot(of id: String) -> Int? {
        if let k = sortedSlot(of: id) { return k }
        return added.number(of: id).map { sortedEnds.count + Int($0) }
    }

    /// The id of the problem in `slot`.
    public func id(at slot: Int) -> String {
        if slot >= sortedEnds.count { return added[Int32(slot - sortedEnds.count)] }
        let start = slot == 0 ? 0 : Int(sortedEnds[slot - 1])
        return String(decoding: sortedBytes[start..<Int(sortedEnds[slot])], as: UTF8.self)
    }

    /// The problem in `slot`, with its names.
    public func view(at slot: Int) -> ProblemView {
        let r = records[slot]
        var p = Problem(reportedAt: r.reportedAt, batch: names[r.batch])
        p.status = r.status
        p.unit = names[r.unit]
        p.leader = names[r.leader]
        p.deadline = r.deadline
        p.submittedBy = names[r.submittedBy]
        p.closedAt = r.closedAt
        p.rejections = Int(r.rejections)
        p.escalations = Int(r.escalations)
        p.reopens = Int(r.reopens)
        return ProblemView(problem: p, version: r.version, reportSeq: r.reportSeq)
    }

    /// Adds problem `id`, or replaces the one in its slot.
    public mutating func store(_ id: String, _ view: ProblemView) {
        let record = ProblemRecord(view, names: &names)
        if let k = sortedSlot(of: id) {
            records[k] = record
            return
        }
        let k = sortedEnds.count + Int(added.intern(id))
        if k < records.count { records[k] = record } else { records.append(record) }
    }

    /// Replaces the problem in `slot`.
    public mutating func replace(at slot: Int, with view: ProblemView) {
        records[slot] = ProblemRecord(view, names: &names, previous: records[slot])
    }

    /// The number of `name` in this table, nil when no problem ever named it.
    func number(of name: String) -> Int32? { names.numbers.number(of: name) }
    /// How many names there are: numbers run from 0 to this.
    var nameCount: Int { names.strings.count }
    func name(_ number: Int32) -> String? { names[number] }
    func record(at slot: Int) -> ProblemRecord { records[slot] }

    /// `slots` (ascending) in the order of their ids' bytes: those restored from a checkpoint already
    /// are; those added since are sorted and merged in.
    func inIDOrder(_ slots: [Int]) -> [Int] {
        let restored = slots.prefix { $0 < sortedEnds.count }
        guard restored.count < slots.count else { return slots }
        let later = slots[restored.count...].sorted { id(at: $0).utf8.lexicographicallyPrecedes(id(at: $1).utf8) }
        var merged: [Int] = []
        merged.reserveCapacity(slots.count)
        var a = restored.startIndex, b = 0
        while a < restored.endIndex || b < later.count {
            if b == later.count || (a < restored.endIndex && id(at: restored[a]).utf8.lexicographicallyPrecedes(id(at: later[b]).utf8)) {
                merged.append(restored[a]); a += 1
            } else {
                merged.append(later[b]); b += 1
            }
        }
        return merged
    }

    private func sortedSlot(of id: String) -> Int? {
        guard !sortedEnds.isEmpty else { return nil }
        var id = id
        return id.withUTF8 { key in
            sortedBytes.withUnsafeBufferPointer { bytes in
                var low = 0, high = sortedEnds.count
                while low < high {
                    let mid = (low + high) / 2
                    let start = mid == 0 ? 0 : Int(sortedEnds[mid - 1])
                    let candidate = UnsafeBufferPointer(rebasing: bytes[start..<Int(sortedEnds[mid])])
                    switch compareBytes(candidate, key) {
                    case 0: return mid
                    case ..<0: low = mid + 1
                    default: high = mid
                    }
                }
                return nil
            }
        }
    }
}

extension ProblemTable: Equatable {
    /// Two tables are equal when they hold the same problems in the same states, however numbered.
    public static func == (a: ProblemTable, b: ProblemTable) -> Bool {
        guard a.count == b.count else { return false }
        for slot in 0..<a.count {
            guard let other = b.slot(of: a.id(at: slot)), b.view(at: other) == a.view(at: slot) else { return false }
        }
        return true
    }
}

/// -1, 0 or 1 as `a` sorts before, with or after `b`, byte by byte.
private func compareBytes(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
    let n = min(a.count, b.count)
    var k = 0
    while k < n {
        if a[k] != b[k] { return a[k] < b[k] ? -1 : 1 }
        k += 1
    }
    return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
}

/// Units, lists and people, numbered in the order first named.
struct Names: Sendable {
    var numbers = StringIndex()
    var strings: [String] { numbers.strings }

    /// The number of `name`, given one if it has none.
    mutating func number(_ name: String?) -> Int32 {
        guard let name else { return -1 }
        return numbers.intern(name)
    }

    /// The number of `name`, which had number `old` before: the same when the name is unchanged.
    mutating func number(_ name: String?, was old: Int32?) -> Int32 {
        if let old, name == self[old] { return old }
        return number(name)
    }

    subscript(number: Int32) -> String? { number < 0 ? nil : numbers[number] }
}

/// A problem's state with its names as numbers (-1: none): a value of fixed size.
struct ProblemRecord: Sendable, Equatable {
    var status: ProblemStatus
    var batch: Int32
    var unit: Int32
    var leader: Int32
    var submittedBy: Int32
    var deadline: Timestamp?
    var reportedAt: Timestamp
    var closedAt: Timestamp?
    var rejections: Int32
    var escalations: Int32
    var reopens: Int32
    var version: UInt64
    var reportSeq: UInt64

    /// The record of `view`; names unchanged from `previous` keep their numbers without a look-up.
    init(_ view: ProblemView, names: inout Names, previous: ProblemRecord? = nil) {
        let p = view.problem
        status = p.status
        batch = names.number(p.batch, was: previous?.batch)
        unit = names.number(p.unit, was: previous?.unit)
        leader = names.number(p.leader, was: previous?.leader)
        submittedBy = names.number(p.submittedBy, was: previous?.submittedBy)
        deadline = p.deadline
        reportedAt = p.reportedAt
        closedAt = p.closedAt
        rejections = Int32(clamping: p.rejections)
        escalations = Int32(clamping: p.escalations)
        reopens = Int32(clamping: p.reopens)
        version = view.version
        reportSeq = view.reportSeq
    }

    init(status: ProblemStatus, batch: Int32, unit: Int32, leader: Int32, submittedBy: Int32, deadline: Timestamp?,
         reportedAt: Timestamp, closedAt: Timestamp?, rejections: Int32, escalations: Int32, reopens: Int32,
         version: UInt64, reportSeq: UInt64) {
        self.status = status; self.batch = batch; self.unit = unit; self.leader = leader; self.submittedBy = submittedBy
        self.deadline = deadline; self.reportedAt = reportedAt; self.closedAt = closedAt
        self.rejections = rejections; self.escalations = escalations; self.reopens = reopens
        self.version = version; self.reportSeq = reportSeq
    }

    func isOverdue(at moment: Timestamp) -> Bool { Problem.isOverdue(status: status, deadline: deadline, at: moment) }
}

// MARK: - Stored form

extension ProblemTable {
    /// The table as a checkpoint stores it: names, ids in byte order, then one fixed-size record per id.
    ///
    /// `names` (varint count, then varint length ‖ UTF-8 each), the id count n, the ids' bytes
    /// (varint length ‖ bytes), n ends (u32 LE), then n records of `recordSize` bytes, little-endian.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        func varint(_ value: Int) {
            var v = UInt64(value)
            while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
            out.append(UInt8(v))
        }
        func fixed<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
        }
        func time(_ t: Timestamp?) {
            fixed(t?.micros ?? 0)
            fixed(t?.offsetMinutes ?? 0)
        }
        varint(names.strings.count)
        for name in names.strings {
            varint(name.utf8.count)
            out.append(contentsOf: name.utf8)
        }
        let order = inIDOrder(Array(0..<count))
        varint(order.count)
        let ids = order.map { id(at: $0) }
        varint(ids.reduce(0) { $0 + $1.utf8.count })
        for id in ids { out.append(contentsOf: id.utf8) }
        var end: UInt32 = 0
        for id in ids {
            end += UInt32(id.utf8.count)
            fixed(end)
        }
        out.reserveCapacity(out.count + order.count * Self.recordSize)
        for slot in order {
            let r = records[slot]
            out.append(UInt8(ProblemStatus.allCases.firstIndex(of: r.status)!))
            out.append((r.deadline == nil ? 0 : 1) | (r.closedAt == nil ? 0 : 2))
            for n in [r.batch, r.unit, r.leader, r.submittedBy, r.rejections, r.escalations, r.reopens] { fixed(n) }
            time(r.deadline)
            time(r.reportedAt)
            time(r.closedAt)
            fixed(r.version)
            fixed(r.reportSeq)
        }
        return out
    }

    static let recordSize = 2 + 7 * 4 + 3 * 12 + 8 + 8

    /// What is wrong with stored bytes that do not make a table.
    public struct Damaged: Error {}

    /// The table stored in `bytes` (all of them).
    /// - Throws: `Damaged` when they are not one.
    public init(decoding bytes: UnsafeRawBufferPointer) throws(Damaged) {
        var i = 0
        func varint() throws(Damaged) -> Int {
            var v: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard i < bytes.count, shift < 63 else { throw Damaged() }
                let b = bytes[i]
                i += 1
                v |= UInt64(b & 0x7F) << shift
                if b < 0x80 { break }
                shift += 7
            }
            guard v <= UInt64(bytes.count) else { throw Damaged() }
            return Int(v)
        }
        func take(_ n: Int) throws(Damaged) -> UnsafeRawBufferPointer {
            guard n <= bytes.count - i else { throw Damaged() }
            defer { i += n }
            return UnsafeRawBufferPointer(rebasing: bytes[i..<(i + n)])
        }
        let nameCount = try varint()
        for _ in 0..<nameCount {
            let n = try varint()
            guard let name = String(validating: try take(n), as: UTF8.self) else { throw Damaged() }
            _ = names.number(name)
        }
        guard names.strings.count == nameCount else { throw Damaged() }
        let count = try varint()
        sortedBytes = Array(try take(try varint()))
        let ends = try take(count * 4)
        sortedEnds = (0..<count).map { UInt32(littleEndian: ends.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) }
        var previous: UInt32 = 0
        for end in sortedEnds {
            guard end >= previous else { throw Damaged() }
            previous = end
        }
        guard Int(previous) == sortedBytes.count else { throw Damaged() }
        let stored = try take(count * Self.recordSize)
        guard i == bytes.count else { throw Damaged() }
        let statuses = Array(ProblemStatus.allCases)
        let names = Int32(nameCount)
        records.reserveCapacity(count)
        for k in 0..<count {
            let base = k * Self.recordSize
            func int32(_ at: Int) -> Int32 { Int32(littleEndian: stored.loadUnaligned(fromByteOffset: base + at, as: Int32.self)) }
            func int64(_ at: Int) -> Int64 { Int64(littleEndian: stored.loadUnaligned(fromByteOffset: base + at, as: Int64.self)) }
            func time(_ at: Int) -> Timestamp { Timestamp(micros: int64(at), offsetMinutes: int32(at + 8)) }
            let status = Int(stored[base]), flags = stored[base + 1]
            guard status < statuses.count, flags < 4 else { throw Damaged() }
            let numbers = (int32(2), int32(6), int32(10), int32(14))
            func named(_ n: Int32) -> Bool { n >= -1 && n < names }
            guard named(numbers.0), named(numbers.1), named(numbers.2), named(numbers.3) else { throw Damaged() }
            records.append(ProblemRecord(
                status: statuses[status], batch: numbers.0, unit: numbers.1, leader: numbers.2, submittedBy: numbers.3,
                deadline: flags & 1 == 0 ? nil : time(30), reportedAt: time(42), closedAt: flags & 2 == 0 ? nil : time(54),
                rejections: int32(18), escalations: int32(22), reopens: int32(26),
                version: UInt64(bitPattern: int64(66)), reportSeq: UInt64(bitPattern: int64(74))))
        }
    }
}
