import Campaign
import EventLog
import JSON
import Ledger
import Projections
import Reports

/// A view's option that cannot be read: which one, as the caller spelled it, and what is wrong, for a clerk.
public struct QueryError: Error, Sendable, Equatable, CustomStringConvertible {
    public var parameter: String
    public var message: String
    public init(_ parameter: String, _ message: String) { self.parameter = parameter; self.message = message }
    public var description: String { message }
}

/// The two clocks of a view (docs/rules.md, "The two clocks"): business time `at`, and the prefix of the log `asOf`.
public struct Moment: Sendable, Equatable {
    public var at: Timestamp
    public var asOf: AsOf
    public init(at: Timestamp, asOf: AsOf = .all) { self.at = at; self.asOf = asOf }

    /// How far ahead `at` may lie: deadlines can be judged up to a year on, nothing beyond.
    public static let furthestAhead: Int64 = 366 * 86_400

    /// `now` as views show it when no `at` is given: the end of the current second, in UTC+8. The end, not
    /// the start: what was written a moment ago in the same second (an import dates its changes now, to
    /// the microsecond) is in the view, as a clerk who just imported expects.
    public static func now(_ clock: Timestamp) -> Timestamp {
        let start = clock.micros - ((clock.micros % 1_000_000) + 1_000_000) % 1_000_000
        return Timestamp(micros: start + 999_999, offsetMinutes: Timestamp.chinaOffset)
    }

    /// A moment as people write it: RFC 3339, or `2022-08-26 18:00` in UTC+8.
    public static func time(_ text: String, _ name: String) throws(QueryError) -> Timestamp {
        guard let t = Timestamp(local: text) else {
            throw QueryError(name, "\(name) “\(text)” 不是时间：写作 2022-08-26T18:00:00+08:00 或 \"2022-08-26 18:00\"（按北京时间）")
        }
        return t
    }

    /// `at` as given (nil: now), at most a year after `clock`.
    public static func at(_ text: String?, _ name: String, clock: Timestamp) throws(QueryError) -> Timestamp {
        guard let text else { return now(clock) }
        let t = try time(text, name)
        guard t <= clock.adding(seconds: furthestAhead) else {
            throw QueryError(name, "\(name) “\(text)” 在一年以后：台账只能看到现在和过去，以及未来一年内的时限")
        }
        return t
    }

    /// `asOf` as given: `seq:N`, a moment, or nil for the whole log.
    public static func asOf(_ text: String?, _ name: String) throws(QueryError) -> AsOf {
        guard let text else { return .all }
        if text.hasPrefix("seq:") {
            guard let n = UInt64(text.dropFirst(4)) else { throw QueryError(name, "\(name) “\(text)”：seq: 后须为非负整数") }
            return .seq(n)
        }
        return .time(try time(text, name))
    }
}

/// The thresholds of an audit trail's flags (docs/views.md, "Flags"): hours after which an event is
/// `backdated` (72), minutes under which a verification after its fix is `hasty-verification` (nil: off).
public struct AuditRules: Sendable, Equatable {
    public var backdateHours: Double
    public var hastyMinutes: Double?
    public init(backdateHours: Double = 72, hastyMinutes: Double? = nil) { self.backdateHours = backdateHours; self.hastyMinutes = hastyMinutes }
}

/// A view (docs/views.md) and its options, as the command line and the server both ask for it.
public enum ViewQuery: Sendable, Equatable {
    /// `statuses` in the order given (the view's `filters` show them so).
    case board(batch: String?, unit: String?, statuses: [ProblemStatus], overdue: Bool, Moment)
    case progress(batch: String?, Moment)
    /// Judged at the week's last instant.
    case ranking(Week, asOf: AsOf)
    case audit(AuditSelector, rules: AuditRules, Moment)

    /// Statuses written `reported,assigned`.
    public static func statuses(_ text: String?, _ name: String) throws(QueryError) -> [ProblemStatus] {
        guard let text else { return [] }
        var list: [ProblemStatus] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let status = ProblemStatus(codeOrLabel: String(part)) else {
                throw QueryError(name, "\(name) “\(part)” 不是状态：可用 \(ProblemStatus.listing)")
            }
            list.append(status)
        }
        return list
    }

    /// An ISO week written `2022-W34`; nil: the week of `clock`.
    public static func week(_ text: String?, _ name: String, clock: Timestamp) throws(QueryError) -> Week {
        guard let text else { return Week(containing: clock) }
        guard let week = Week(text) else { throw QueryError(name, "\(name) “\(text)” 不是周：写作 2022年第34周 或 2022-W34") }
        return week
    }

    /// The minutes under which a verification after its fix counts as hasty; nil (not given): never.
    public static func hastyMinutes(_ text: String?, _ name: String) throws(QueryError) -> Double? {
        guard let text else { return nil }
        guard let minutes = Double(text), minutes.isFinite, minutes > 0, minutes <= 100_000 else {
            throw QueryError(name, "\(name) “\(text)” 须为 0 至 100000 之间的分钟数")
        }
        return minutes
    }

    /// Hours after which an event counts as backdated.
    public static func backdateHours(_ text: String?, _ name: String) throws(QueryError) -> Double {
        guard let text else { return 72 }
        guard let hours = Double(text), hours.isFinite, hours >= 0, hours <= 1_000_000 else {
            throw QueryError(name, "\(name) “\(text)” 须为 0 至 1000000 之间的小时数")
        }
        return hours
    }

    /// Exactly one of a subject, a unit or an actor.
    public static func selector(subject: String?, unit: String?, actor: String?, names: (String, String, String))
        throws(QueryError) -> AuditSelector {
        switch (subject, unit, actor) {
        case (let s?, nil, nil): return .subject(s)
        case (nil, let u?, nil): return .unit(u)
        case (nil, nil, let a?): return .actor(a)
        default: throw QueryError(names.0, "请指定且只指定一个：\(names.0)、\(names.1) 或 \(names.2)")
        }
    }

    /// The view named `view` with the query parameters of a request (`at`, `asOf`, `batch`, …).
    /// - Throws: `QueryError` naming the first parameter that is unknown to the view, repeated, empty or unreadable.
    public static func parse(view: String, parameters: [(String, String)], clock: Timestamp) throws(QueryError) -> ViewQuery {
        let allowed: [String]
        switch view {
        case "board": allowed = ["at", "asOf", "batch", "unit", "status", "overdue"]
        case "progress": allowed = ["at", "asOf", "batch"]
        case "ranking": allowed = ["week", "asOf"]
        case "audit": allowed = ["at", "asOf", "subject", "unit", "actor", "backdateHours", "hastyMinutes"]
        default: throw QueryError("view", "没有视图 “\(view)”：可用 board、progress、ranking、audit")
        }
        var given: [String: String] = [:]
        for (key, value) in parameters {
            guard allowed.contains(key) else {
                throw QueryError(key, "未知参数 “\(key)”：\(view) 可用 \(allowed.joined(separator: "、"))")
            }
            guard given[key] == nil else { throw QueryError(key, "参数 \(key) 重复") }
            guard !value.isEmpty else { throw QueryError(key, "参数 \(key) 为空") }
            given[key] = value
        }
        switch view {
        case "board":
            let overdue: Bool
            switch given["overdue"] {
            case nil, "false", "0": overdue = false
            case "true", "1": overdue = true
            case let other?: throw QueryError("overdue", "overdue “\(other)”：可用 true 或 false")
            }
            return .board(batch: given["batch"], unit: given["unit"], statuses: try statuses(given["status"], "status"),
                          overdue: overdue, try moment(given, clock: clock))
        case "progress":
            return .progress(batch: given["batch"], try moment(given, clock: clock))
        case "ranking":
            return .ranking(try week(given["week"], "week", clock: clock), asOf: try Moment.asOf(given["asOf"], "asOf"))
        default:
            return .audit(try selector(subject: given["subject"], unit: given["unit"], actor: given["actor"],
                                       names: ("subject", "unit", "actor")),
                          rules: AuditRules(backdateHours: try backdateHours(given["backdateHours"], "backdateHours"),
                                            hastyMinutes: try hastyMinutes(given["hastyMinutes"], "hastyMinutes")),
                          try moment(given, clock: clock))
        }
    }

    private static func moment(_ given: [String: String], clock: Timestamp) throws(QueryError) -> Moment {
        Moment(at: try Moment.at(given["at"], "at", clock: clock), asOf: try Moment.asOf(given["asOf"], "asOf"))
    }
}

/// A view answered: its rows and what it was built from, ready to render. A board's rows carry their
/// reports only as far as the caller asked (`Views.answer(_:reportsFor:)`).
public enum ViewAnswer: Sendable {
    case board([BoardRow], BoardCounts, ViewBasis, unitNames: [String: String])
    case progress([BatchProgress], ViewBasis, unitNames: [String: String])
    case ranking([RankingRow], Week, ViewBasis, unitNames: [String: String])
    case audit([AuditRow], ViewBasis)

    /// The answer written in `format`. - Returns: the digest of its JSON (nil for CSV).
    @discardableResult
    public func write(_ format: OutputFormat, to out: Output) throws -> String? {
        switch self {
        case .board(let rows, let counts, let basis, let names):
            try BoardReport.write(.init(rows: RowSource(rows), counts: counts, basis: basis, unitNames: names), format: format, to: out)
        case .progress(let batches, let basis, let names):
            try ProgressReport.write(batches, basis: basis, format: format, unitNames: names, to: out)
        case .ranking(let rows, let week, let basis, let names):
            try RankingReport.write(rows, week: week, basis: basis, format: format, unitNames: names, to: out)
        case .audit(let rows, let basis):
            try AuditReport.write(rows, basis: basis, format: format, to: out)
        }
    }

    /// The answer as text (tests, small views).
    public func rendered(_ format: OutputFormat) -> String {
        let sink = MemorySink()
        _ = try? write(format, to: Output(sink))
        return sink.text
    }
}

/// Answers view queries from a ledger. `project` gives the projection of a prefix at a moment, with the
/// weekly counts when asked (`Projection.keepsWeeks`: the ranking's); by default the ledger's own (a
/// server may put a cache in front of it, which keeps them always).
public struct Views: Sendable {
    public typealias Project = @Sendable (_ asOf: AsOf, _ at: Timestamp, _ weeks: Bool) throws -> (Projection, LogHead)
    public let ledger: Ledger
    private let project: Project

    public init(ledger: Ledger, project: Project? = nil) {
        self.ledger = ledger
        self.project = project ?? { asOf, at, weeks in try ledger.projection(asOf: asOf, at: at, weeks: weeks) }
    }

    /// `query` with the names it was given for ids (docs/views.md, "Filters"): a unit by its id, registered
    /// name or alias, a list by its id or name.
    /// - Throws: `QueryError` for a name nothing answers to, naming the closest registered ones: an
    ///   empty answer would be taken for a clean slate.
    @available(*, noasync)
    public func resolved(_ query: ViewQuery) throws -> ViewQuery {
        var registry: Registry?
        func known() throws -> Registry {
            if let registry { return registry }
            let made = try ledger.registry()
            registry = made
            return made
        }
        func unit(_ text: String?, _ name: String) throws -> String? {
            guard let text else { return nil }
            return try unitId(text, name, registry: known)
        }
        func batch(_ text: String?, _ name: String) throws -> String? {
            guard let text else { return nil }
            if try ledger.record(of: text)?.batch != nil { return text }
            let registry = try known()
            if let found = registry.batch(text) { return found.id }
            throw QueryError(name, "没有清单“\(text)”：现有 " + registry.batchList.prefix(10).map { Named.withID($0.name, $0.id) }.joined(separator: "、"))
        }
        /// An actor by its id (`office/li-xianfeng`, with or without an account), or an account by its
        /// person's name (李先锋).
        func actor(_ text: String) throws -> String {
            if text.contains("/") || text.hasPrefix("local:") { return text }
            let accounts = try ledger.accounts()
            let named = accounts.filter { $0.account.name == text }
            if named.count == 1 { return named[0].id }
            if named.count > 1 { throw QueryError("actor", "有多个账号名为“\(text)”（\(named.map(\.id).joined(separator: "、"))）：请用账号编号") }
            if accounts.contains(where: { $0.id == text }) { return text }
            let close = accounts.filter { !Set($0.account.name).isDisjoint(with: Set(text)) }.prefix(3).map { Named.withID($0.account.name, $0.id) }
            throw QueryError("actor", "没有名为“\(text)”的账号" + (close.isEmpty ? "：操作人写作 office/li-xianfeng 这样的编号" : "：是不是 \(close.joined(separator: "、"))？"))
        }
        switch query {
        case let .board(b, u, statuses, overdue, moment):
            return .board(batch: try batch(b, "batch"), unit: try unit(u, "unit"), statuses: statuses, overdue: overdue, moment)
        case let .progress(b, moment):
            return .progress(batch: try batch(b, "batch"), moment)
        case let .audit(.unit(u), hours, moment):
            return .audit(.unit(try unit(u, "unit")!), rules: hours, moment)
        case let .audit(.actor(a), hours, moment):
            return .audit(.actor(try actor(a)), rules: hours, moment)
        case let .ranking(week, asOf):
            return .ranking(try ledger.officeWeek(week), asOf: asOf)
        case .audit:
            return query
        }
    }

    /// The id of the unit `text` names: an id, a registered name or an alias.
    /// - Throws: `QueryError` (for the parameter `name`) naming the closest units when none answers.
    @available(*, noasync)
    public func unitId(_ text: String, _ name: String, registry: (() throws -> Registry)? = nil) throws -> String {
        if try ledger.record(of: text)?.unit != nil { return text }
        switch try (registry ?? ledger.registry)().unit(text) {
        case .found(let id, _): return id
        case .ambiguous(let ids): throw QueryError(name, "\(name) “\(text)” 对应多个单位（\(ids.joined(separator: "、"))）：请用单位编号")
        case .unknown(let closest):
            throw QueryError(name, "没有名为“\(text)”的单位" + (closest.isEmpty ? "" : "：是不是 \(closest.joined(separator: "、"))？"))
        }
    }

    /// Writes the answer to `query` in `format`, a board's rows streamed with their reports read from the
    /// log as they are written. - Returns: the digest of its JSON (nil for CSV).
    @available(*, noasync)
    @discardableResult
    public func write(_ query: ViewQuery, format: OutputFormat, to out: Output) throws -> String? {
        let query = try resolved(query)
        guard case let .board(batch, unit, statuses, overdue, moment) = query else {
            return try answer(resolved: query).write(format, to: out)
        }
        let (projection, basis) = try projected(moment, filters: Self.boardFilters(batch, unit, statuses, overdue))
        let (slots, counts) = projection.boardSlots(BoardFilter(batch: batch, unit: unit, statuses: Set(statuses), overdueOnly: overdue))
        return try BoardReport.write(.init(rows: boardRows(projection, slots[...]), counts: counts, basis: basis, unitNames: projection.unitNames),
                                     format: format, to: out)
    }

    /// The rows of the board in `slots` of `projection`, each read with its report when it is written.
    func boardRows(_ projection: Projection, _ slots: ArraySlice<Int>) -> RowSource<BoardRow> {
        let ledger = ledger
        return RowSource<BoardRow>(count: slots.count) { body in
            try ledger.readingReports { report in
                try withoutActuallyEscaping(report) { report in
                    try body { range in
                        try slots[(slots.startIndex + range.lowerBound)..<(slots.startIndex + range.upperBound)].map { slot in
                            var row = projection.row(at: slot)
                            row.report = try report(row)
                            return row
                        }
                    }
                }
            }
        }
    }

    /// Writes the stored events of the prefix `asOf` after seq `after` as NDJSON (the export).
    @available(*, noasync)
    public func export(asOf: AsOf, after: UInt64, to out: Output) throws {
        try ledger.events(asOf: asOf, after: after) { entry in
            out.text(JSONText.render(CloudEvents.json(entry.recorded, recordedBy: entry.recordedBy, prevHash: entry.prevHash ?? [], hash: entry.hash)))
            out.byte(10)
            try out.flushIfFull()
            return true
        }
        try out.flush()
    }

    static func boardFilters(_ batch: String?, _ unit: String?, _ statuses: [ProblemStatus], _ overdue: Bool) -> [(key: String, value: JSONValue)] {
        [("batch", .string(batch)), ("unit", .string(unit)), ("status", .array(statuses.map { .string($0.rawValue) })), ("overdue", .bool(overdue))]
    }

    /// The answer to `query`. A board's rows carry their reports, read from the log; with `reportsFor`,
    /// only the first that many rows are given (a page that shows only those).
    @available(*, noasync)
    public func answer(_ query: ViewQuery, reportsFor shown: Int = .max) throws -> ViewAnswer {
        try answer(resolved: try resolved(query), reportsFor: shown)
    }

    /// The answer to `query`, its names already resolved to ids.
    @available(*, noasync)
    private func answer(resolved query: ViewQuery, reportsFor shown: Int = .max) throws -> ViewAnswer {
        switch query {
        case let .board(batch, unit, statuses, overdue, moment):
            let (projection, basis) = try projected(moment, filters: Self.boardFilters(batch, unit, statuses, overdue))
            let (slots, counts) = projection.boardSlots(BoardFilter(batch: batch, unit: unit, statuses: Set(statuses), overdueOnly: overdue))
            let rows = try ledger.withReports(slots.prefix(shown).map(projection.row(at:)))
            return .board(rows, counts, basis, unitNames: projection.unitNames)
        case let .progress(batch, moment):
            let (projection, basis) = try projected(moment, filters: [("batch", .string(batch))])
            return .progress(projection.progress(batch: batch), basis, unitNames: projection.unitNames)
        case let .ranking(week, asOf):
            let ends = try ledger.weekEnds()
            let (projection, basis) = try projected(Moment(at: week.lastInstant, asOf: asOf), filters: [("week", .string(week.description))]
                                                    + (ends == Week.sunday ? [] : [("weekEnds", .string(Week.weekdayNames[ends]))]),
                                                    weeks: true)
            return .ranking(projection.ranking(week), week, basis, unitNames: projection.unitNames)
        case let .audit(selector, rules, moment):
            return try audit(selector, rules: rules, moment)
        }
    }

    /// The projection of `moment` and what it was built from; with `pinned`, the log is read up to that
    /// seq (the pages of one view after its first), its prefix still named as asked.
    func projected(_ moment: Moment, filters: [(key: String, value: JSONValue)], pinned: UInt64? = nil,
                   weeks: Bool = false) throws -> (Projection, ViewBasis) {
        let (projection, head) = try project(pinned.map(AsOf.seq) ?? moment.asOf, moment.at, weeks)
        return (projection, ViewBasis(headSeq: head.seq, headHash: head.hash.hex, asOf: moment.asOf.description,
                                      at: moment.at, filters: filters))
    }

    @available(*, noasync)
    func audit(_ selector: AuditSelector, rules: AuditRules, _ moment: Moment, pinned: UInt64? = nil) throws -> ViewAnswer {
        let asOf = pinned.map(AsOf.seq) ?? moment.asOf
        let (entries, head) = try ledger.trail(selector, asOf: asOf, at: moment.at)
        // Where the trail's fixes' files were named before: looked up by key.
        var hashes: Set<String> = []
        for entry in entries {
            if case .rectificationSubmitted(let r) = entry.recorded.event.data { hashes.formUnion(r.evidence.map { $0.sha256.lowercased() }) }
        }
        let uses = try ledger.evidenceUses(of: hashes, asOf: asOf)
        let ledger = ledger
        var dues: [String: Timestamp?] = [:]
        for entry in entries {
            if case .problemReported(let p) = entry.recorded.event.data, let list = p.batch, dues[list] == nil {
                dues[list] = try ledger.record(of: list)?.batch?.dueAt
            }
        }
        let known = dues
        // The units the trail names, by their registered names.
        var names: [String: String] = [:]
        for entry in entries {
            let event = entry.recorded.event
            var ids: [String] = []
            switch event.data {
            case .problemAssigned(let a): ids = [a.unit]
            case .problemReopened(let r): ids = r.unit.map { [$0] } ?? []
            case .accountabilityRecorded(let a) where a.target.kind == .unit: ids = [a.target.id]
            default: break
            }
            for id in ids where names[id] == nil { names[id] = try ledger.record(of: id)?.unit?.name }
        }
        let unitNames = names
        var trail = AuditTrail(selector, at: moment.at, backdateHours: rules.backdateHours, hastyMinutes: rules.hastyMinutes,
                               dueOfList: { known[$0] ?? nil }, uses: { uses[$0] ?? [] }, unitName: { unitNames[$0] })
        var rows: [AuditRow] = []
        for entry in entries {
            if let row = trail.row(entry.recorded, hash: entry.hash.hex, recordedBy: entry.recordedBy), entry.shown { rows.append(row) }
        }
        func named(_ s: AuditSelector, _ key: String) -> JSONValue {
            switch (s, key) {
            case (.subject(let v), "subject"), (.unit(let v), "unit"), (.actor(let v), "actor"): .string(v)
            default: .null
            }
        }
        let basis = ViewBasis(headSeq: head.seq, headHash: head.hash.hex, asOf: moment.asOf.description, at: moment.at, filters: [
            ("subject", named(selector, "subject")), ("unit", named(selector, "unit")), ("actor", named(selector, "actor")),
            ("backdateHours", .double(rules.backdateHours)), ("hastyMinutes", rules.hastyMinutes.map { .double($0) } ?? .null),
        ])
        return .audit(rows, basis)
    }
}
