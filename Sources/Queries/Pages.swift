import Campaign
import EventLog
import Foundation
import Ledger
import Projections
import Reports

/// A page of a long view: its rows from `offset`, at most `limit` of them, of the view read as of the
/// log's seq `pinned` (nil for the first page, which reads the log as asked and pins what it read).
public struct PageRequest: Sendable, Equatable {
    public var offset: Int
    public var limit: Int
    public var pinned: UInt64?
    public init(offset: Int = 0, limit: Int, pinned: UInt64? = nil) { self.offset = offset; self.limit = limit; self.pinned = pinned }
}

/// What a page was: the view's head and moment (for the pages after it), how many rows the view has,
/// and where the next page begins (nil: this was the last).
public struct PageWritten: Sendable, Equatable {
    public var head: UInt64
    public var at: Timestamp
    public var count: Int
    public var next: Int?
}

/// A page that cannot be: it starts past the view's end.
public struct PageOutOfRange: Error, Sendable {
    public var offset: Int
    public var count: Int
}

/// The digests of whole views already rendered for their last pages, by view and pinned head: a
/// client paging through a board asks for its digest once, many clients often for the same one.
public final class DigestCache: @unchecked Sendable {
    private let lock = NSLock()
    private var digests: [String: String] = [:]
    private var order: [String] = []
    private let capacity: Int

    public init(capacity: Int = 256) { self.capacity = capacity }

    func digest(_ key: String, _ make: () throws -> String) rethrows -> String {
        if let found = lock.withLock({ digests[key] }) { return found }
        let made = try make()
        lock.withLock {
            if digests[key] == nil {
                digests[key] = made
                order.append(key)
                if order.count > capacity { digests[order.removeFirst()] = nil }
            }
        }
        return made
    }
}

extension Views {
    /// Writes one page of `query`'s JSON (a board or an audit trail; other views are one page): the
    /// pages of a view, in order, are the bytes of its whole document, digest included (docs/server.md,
    /// "Pages"). Handles `.progress` and `.ranking` as one page.
    /// - Throws: `PageOutOfRange` when the page starts past the end.
    @available(*, noasync)
    /// `starting` is told what the page is before its first byte is written.
    @discardableResult
    public func writePage(_ query: ViewQuery, _ page: PageRequest, digests: DigestCache,
                          starting: (PageWritten) -> Void = { _ in }, to out: Output) throws -> PageWritten {
        switch query {
        case let .board(batch, unit, statuses, overdue, moment):
            let (projection, basis) = try projected(moment, filters: Self.boardFilters(batch, unit, statuses, overdue), pinned: page.pinned)
            let (slots, counts) = projection.boardSlots(BoardFilter(batch: batch, unit: unit, statuses: Set(statuses), overdueOnly: overdue))
            let range = try Self.range(page, count: slots.count)
            let isLast = range.upperBound == slots.count
            let digest = isLast ? try digests.digest(Self.key(query, basis)) {
                try BoardReport.digest(.init(rows: boardRows(projection, slots[...]), counts: counts, basis: basis, unitNames: [:]))
            } : nil
            let written = PageWritten(head: basis.headSeq, at: moment.at, count: slots.count, next: isLast ? nil : range.upperBound)
            starting(written)
            try BoardReport.writePage(.init(rows: boardRows(projection, slots[range]), counts: counts, basis: basis, unitNames: [:]),
                                      from: range.lowerBound, digest: digest, to: out)
            return written
        case let .audit(selector, rules, moment):
            guard case let .audit(rows, basis) = try audit(selector, rules: rules, moment, pinned: page.pinned) else {
                preconditionFailure("an audit answers with a trail")
            }
            let range = try Self.range(page, count: rows.count)
            let isLast = range.upperBound == rows.count
            let digest = isLast ? try digests.digest(Self.key(query, basis)) { try AuditReport.digest(rows, basis: basis) } : nil
            let written = PageWritten(head: basis.headSeq, at: moment.at, count: rows.count, next: isLast ? nil : range.upperBound)
            starting(written)
            try AuditReport.writePage(rows[range], from: range.lowerBound, basis: basis, digest: digest, to: out)
            return written
        case .progress(_, let moment):
            let answer = try self.answer(query)
            guard case .progress(_, let basis, _) = answer else { preconditionFailure("progress answers with progress") }
            let written = PageWritten(head: basis.headSeq, at: moment.at, count: 1, next: nil)
            starting(written)
            try answer.write(.json, to: out)
            return written
        case .ranking(let week, _):
            let answer = try self.answer(query)
            guard case .ranking(_, _, let basis, _) = answer else { preconditionFailure("a ranking answers with a ranking") }
            let written = PageWritten(head: basis.headSeq, at: week.lastInstant, count: 1, next: nil)
            starting(written)
            try answer.write(.json, to: out)
            return written
        }
    }

    private static func range(_ page: PageRequest, count: Int) throws(PageOutOfRange) -> Range<Int> {
        guard page.offset >= 0, page.offset <= count, page.offset < count || page.offset == 0 else {
            throw PageOutOfRange(offset: page.offset, count: count)
        }
        return page.offset..<min(count, page.offset + max(page.limit, 1))
    }

    private static func key(_ query: ViewQuery, _ basis: ViewBasis) -> String {
        "\(query)|\(basis.headSeq)|\(basis.headHash)"
    }
}
