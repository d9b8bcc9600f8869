import Campaign
import Projections
import Testing

/// A problem in some state, named with `n`.
private func view(_ n: Int, status: ProblemStatus = .assigned) -> ProblemView {
    var p = Problem(reportedAt: Timestamp(micros: Int64(n) * 1_000_000, offsetMinutes: 480), batch: "B-\(n % 3)")
    p.status = status
    p.unit = n % 2 == 0 ? "U-\(n % 5)" : nil
    p.leader = n % 4 == 0 ? "李\(n)" : nil
    p.deadline = n % 2 == 0 ? Timestamp(micros: Int64(n) * 7_000_000, offsetMinutes: -330) : nil
    p.submittedBy = status == .submitted ? "unit/\(n)" : nil
    p.closedAt = status == .closed ? Timestamp(micros: Int64(n) * 9_000_000) : nil
    p.rejections = n % 3
    p.escalations = n % 2
    p.reopens = n % 5
    return ProblemView(problem: p, version: UInt64(n + 1), reportSeq: UInt64(n * 10 + 1))
}

private func stored(_ table: ProblemTable) throws -> ProblemTable {
    try table.encoded().withUnsafeBytes { try ProblemTable(decoding: $0) }
}

@Suite("The problem table: fixed-size records, restored from a checkpoint without a dictionary")
struct ProblemTableTests {
    @Test("stored and restored, every problem reads back the same, found by its id")
    func roundTrip() throws {
        var table = ProblemTable()
        let ids = (0..<50).map { "P-\(($0 * 37) % 50)" } + ["问题-甲", "P-é", ""]
        for (k, id) in ids.enumerated() { table.store(id, view(k, status: ProblemStatus.allCases[k % 5])) }
        let restored = try stored(table)
        #expect(restored == table)
        #expect(restored.count == ids.count)
        for (k, id) in ids.enumerated() {
            let slot = try #require(restored.slot(of: id), "\(id)")
            #expect(restored.id(at: slot) == id)
            #expect(restored.view(at: slot) == view(k, status: ProblemStatus.allCases[k % 5]))
        }
        #expect(restored.slot(of: "P-50") == nil)
        #expect(restored.slot(of: "P-") == nil)
    }

    @Test("problems added after a restore are found, replaced, stored again, and sort among the restored ones")
    func addedAfterRestore() throws {
        var table = ProblemTable()
        for k in [1, 3, 5, 7] { table.store("P-\(k)", view(k)) }
        var restored = try stored(table)
        restored.store("P-4", view(4))
        restored.store("P-0", view(0))
        restored.store("P-3", view(33, status: .closed))  // a restored one, replaced
        #expect(restored.count == 6)
        #expect(restored.view(at: try #require(restored.slot(of: "P-3"))) == view(33, status: .closed))
        #expect(restored.view(at: try #require(restored.slot(of: "P-4"))) == view(4))
        let again = try stored(restored)
        #expect(again == restored)
        #expect(again != table)
        var projection = Projection(at: Projection.endOfTime)
        projection = Projection(at: projection.at, seq: 0, latestTime: nil, problems: again, batches: [:], outstandingChanges: [:],
                                zeroRecords: [:], unitNames: [:], unitsAssigned: [], weeks: [:])
        #expect(projection.board().map(\.id) == ["P-0", "P-1", "P-3", "P-4", "P-5", "P-7"])
        let mixed = Projection(at: projection.at, seq: 0, latestTime: nil, problems: restored, batches: [:],
                               outstandingChanges: [:], zeroRecords: [:], unitNames: [:], unitsAssigned: [], weeks: [:])
        #expect(mixed.board().map(\.id) == ["P-0", "P-1", "P-3", "P-4", "P-5", "P-7"])
    }

    @Test("stored bytes cut short, lengthened or damaged are refused, never read wrong")
    func damaged() throws {
        var table = ProblemTable()
        for k in 0..<6 { table.store("P-\(k)", view(k)) }
        let bytes = table.encoded()
        for n in 0..<bytes.count {
            #expect(throws: ProblemTable.Damaged.self) { try Array(bytes.prefix(n)).withUnsafeBytes { try ProblemTable(decoding: $0) } }
        }
        #expect(throws: ProblemTable.Damaged.self) { try (bytes + [0]).withUnsafeBytes { try ProblemTable(decoding: $0) } }
        // The first record's status, then its unit's number, out of range.
        let firstRecord = bytes.count - 6 * 82
        for (offset, value) in [(0, UInt8(9)), (6, UInt8(0x7F))] {
            var bad = bytes
            bad[firstRecord + offset] = value
            #expect(throws: ProblemTable.Damaged.self) { try bad.withUnsafeBytes { try ProblemTable(decoding: $0) } }
        }
    }
}
