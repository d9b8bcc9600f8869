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

/// Every problem of a projection, in a form that costs little to copy, scan, snapshot or restore: one
/// fixed-size record per problem, numbered by slot in the order reported, with units, lists and people as
/// numbers into a table of names. A snapshot adds the slots and names made since the one before it, so
/// restoring the table is copying arrays, and its index of ids is built only when a fold asks for one.
public struct ProblemTable: Sendable {
    /// The problems' ids, by slot.
    private(set) var ids = StringIndex()
    /// Units, lists and people, numbered in the order first named.
    var names = StringIndex()
    var records: [ProblemRecord] = []

    public init() {}

    public var count: Int { records.count }

    /// The slot of problem `id`, if it was reported.
    public mutating func slot(of id: String) -> Int? { ids.number(of: id).map(Int.init) }

    /// The id of the problem in `slot`.
    public func id(at slot: Int) -> String { ids[Int32(slot)] }

    /// The problem in `slot`, with its names.
    public func view(at slot: Int) -> ProblemView {
        let r = records[slot]
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
        precondition(slot == records.count, "problem \(id) reported twice")
        records.append(record)
        return slot
    }

    /// The number of `name`, nil when no event folded here ever named it.
    public func number(of name: String) -> Int32? { names.lookup(name) }
    /// The number of `name`, given one if it has none.
    mutating func intern(_ name: String) -> Int32 { names.intern(name) }
    /// The number of `name`, which had number `old` before: the same when the name is unchanged.
    mutating func number(_ name: String?, was old: Int32) -> Int32 {
        guard let name else { return -1 }
        if old >= 0, names.withBytes(of: Int(old), { $0.elementsEqual(name.utf8) }) { return old }
        return names.intern(name)
    }
    /// How many names there are: numbers run from 0 to this.
    var nameCount: Int { names.count }
    /// The name numbered `number`; nil for -1.
    func name(_ number: Int32) -> String? { number < 0 ? nil : names[number] }
    func record(at slot: Int) -> ProblemRecord { records[slot] }

    /// `slots` in the order of their ids' bytes.
    func inIDOrder(_ slots: [Int]) -> [Int] {
        slots.sorted { a, b in
            ids.withBytes(of: a) { x in ids.withBytes(of: b) { y in x.lexicographicallyPrecedes(y) } }
        }
    }

    /// Adds the ids of problems restored from a snapshot (`ProjectionSnapshot`), their records to follow.
    mutating func appendIDs(bytes: some Collection<UInt8>, ends: [UInt32]) {
        ids.append(bytes: bytes, ends: ends)
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

/// A problem's state with its names as numbers (-1: none): a value of fixed size.
struct ProblemRecord: Sendable, Equatable {
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

    /// Whether it still counts as outstanding (reported, assigned or submitted).
    var isOutstanding: Bool { status == .reported || status == .assigned || status == .submitted }
}
