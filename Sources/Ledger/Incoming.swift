import Campaign
import EventLog

/// An event as an append takes it, with where it came from.
public struct Incoming: Sendable {
    /// Its line in the file (from 1), or its position in the batch.
    public var line: Int
    public var event: Event
    /// The number of events the subject's stream must hold now, if the sender set it.
    public var expectedVersion: UInt64?

    public init(line: Int, event: Event, expectedVersion: UInt64? = nil) {
        self.line = line; self.event = event; self.expectedVersion = expectedVersion
    }
}

/// One refused event of an append: its line, id and subject, and why.
public struct LineRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var id: String?
    public var subject: String?
    public var refusal: Refusal

    public init(line: Int, id: String?, subject: String?, refusal: Refusal) {
        self.line = line; self.id = id; self.subject = subject; self.refusal = refusal
    }

    /// `第 3 行 (id e-0003, subject P-1)：… [lifecycle]`
    public var description: String {
        var place = "第 \(line) 行"
        // As written, unseen characters shown by their codes: the line's id may be what was refused for them.
        let named = [id.map { "id \(Identifiers.visible($0))" }, subject.map { "subject \(Identifiers.visible($0))" }].compactMap { $0 }
        if !named.isEmpty { place += "（\(named.joined(separator: "，"))）" }
        return "\(place)：\(refusal.message) [\(refusal.rule.rawValue)]"
    }
}

/// An append refused whole: every refused event, by line, id and subject (the first `kept` of them, when a
/// file refuses more). Nothing was stored.
public struct AppendRefused: Error, Sendable, CustomStringConvertible {
    /// The most refusals one append keeps to tell.
    public static let kept = 1_000
    public var refusals: [LineRefusal]
    /// How many more were refused than are listed.
    public var more: Int

    public init(refusals: [LineRefusal], more: Int = 0) { self.refusals = refusals; self.more = more }

    public var description: String {
        var text = "拒绝写入：\(refusals.count + more) 个事件不符合规则，本批全部未写入\n"
            + refusals.map { "  " + $0.description }.joined(separator: "\n")
        if more > 0 { text += "\n  ……另有 \(more) 个事件被拒绝（只列出前 \(refusals.count) 个）" }
        return text
    }
}

/// An event an append stored: its line (or position) in the input, and where the log holds it.
public struct Appended: Sendable, Equatable {
    public var line: Int
    public var id: String
    public var seq: UInt64
    /// Its number in its subject's stream.
    public var version: UInt64
}

/// An event an append skipped: stored already with the same content.
public struct Duplicate: Sendable, Equatable {
    public var line: Int
    public var id: String
    /// The seq that holds it (a later one than the head before the append: earlier in this append).
    public var seq: UInt64
}

/// What an append did (or, rehearsed, would do).
/// A list imported (or rehearsed): the list as read, what it said to append, and what the append did.
public struct ImportResult: Sendable {
    public var list: ProblemList
    public var plan: ImportPlan
    public var report: AppendReport
}

public struct AppendReport: Sendable {
    /// The events stored, in seq order.
    public var appended: [Appended]
    /// Events already stored with the same content: no-ops.
    public var duplicates: [Duplicate]
    /// The head after the append (the head it would have, when rehearsed).
    public var head: LogHead
    /// The head before it.
    public var before: LogHead
    /// The store's clock of the append.
    public var recordedAt: Timestamp
    /// Whether it was stored (false: a dry run).
    public var stored: Bool
    /// What went wrong keeping the derived data up to date afterwards, if anything did (the events are
    /// stored all the same; `civic rebuild` makes the derived data again).
    public var derivedProblem: String?
}

/// One item of the input: an event to append, or a line that could not be read as one.
public enum SourceItem: Sendable {
    case event(Incoming)
    case unreadable(LineRefusal)
}

/// Where an append's events come from: read a chunk at a time (on a thread of the append's own, while
/// the rules and the writes go on), and read again from the start when the append must begin again.
public protocol EventSource: AnyObject, Sendable {
    /// The next items, in order; nil at the end.
    func next() throws -> [SourceItem]?
    /// Starts again from the first item.
    func rewind() throws
    /// Roughly how many bytes the whole input holds, when known (to make room in the store, and to tell
    /// how far a long append has come).
    var byteCount: Int? { get }
    /// How many of those bytes have been read.
    var bytesRead: Int { get }
}

/// A source of events already in memory.
public final class EventList: EventSource, @unchecked Sendable {
    private let items: [SourceItem]
    private var given = false

    public init(_ events: [Incoming]) { items = events.map { .event($0) } }
    public init(items: [SourceItem]) { self.items = items }

    public func next() throws -> [SourceItem]? {
        defer { given = true }
        return given || items.isEmpty ? nil : items
    }

    public func rewind() throws { given = false }
    public var byteCount: Int? { nil }
    public var bytesRead: Int { 0 }
}

/// How far a long piece of work has come, for a line on a terminal.
public struct WorkProgress: Sendable {
    /// Events done so far.
    public var events: Int
    /// Of how many, when known.
    public var total: Int?
    /// The share done (0 to 1), when known.
    public var fraction: Double?
    /// Seconds since it began.
    public var seconds: Double
}
