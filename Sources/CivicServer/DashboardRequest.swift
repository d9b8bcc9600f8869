import Campaign
import Transparency
import Projections
import Queries
import Reports

/// The dashboard's options (`/?at=…&asOf=…&batch=…`) and the views it shows for them.
///
/// Empty values count as absent (a form sends every field); unknown or unreadable ones are refused as
/// the API refuses them.
struct DashboardRequest: Sendable {
    static let names = ["at", "asOf", "batch", "unit", "status", "overdue", "week", "subject"]
    let options: [String: String]
    let board: ViewQuery
    let progress: ViewQuery
    let ranking: ViewQuery
    let audit: ViewQuery?
    let at: Timestamp
    let week: Week

    init(_ parameters: [(String, String)], clock: Timestamp) throws(QueryError) {
        var options: [String: String] = [:]
        for (key, value) in parameters {
            guard Self.names.contains(key) else {
                throw QueryError(key, "未知参数 “\(key)”：页面可用 \(Self.names.joined(separator: "、"))")
            }
            guard options[key] == nil else { throw QueryError(key, "参数 \(key) 重复") }
            let value = value.trimmingSpaces
            if !value.isEmpty { options[key] = value }
        }
        self.options = options
        func pick(_ keys: [String]) -> [(String, String)] { keys.compactMap { key in options[key].map { (key, $0) } } }
        board = try ViewQuery.parse(view: "board", parameters: pick(["at", "asOf", "batch", "unit", "status", "overdue"]), clock: clock)
        progress = try ViewQuery.parse(view: "progress", parameters: pick(["at", "asOf"]), clock: clock)
        at = try Moment.at(options["at"], "at", clock: clock)
        // By default the latest week that has ended by `at`: a ranking is read once the week is over.
        if options["week"] == nil {
            let current = Week(containing: at)
            week = at >= current.lastInstant ? current : current.previous
        } else {
            week = try ViewQuery.week(options["week"], "week", clock: clock)
        }
        ranking = try ViewQuery.parse(view: "ranking", parameters: [("week", week.description)] + pick(["asOf"]), clock: clock)
        audit = options["subject"] == nil ? nil : try ViewQuery.parse(view: "audit", parameters: pick(["at", "asOf", "subject"]), clock: clock)
    }

    @available(*, noasync)
    func render(_ views: Views) throws -> String {
        guard case .board(let rows, let counts, let boardBasis, let names) = try views.answer(board, reportsFor: Dashboard.boardRows),
              case .progress(let batches, let progressBasis, _) = try views.answer(progress),
              case .ranking(let ranked, let week, let rankingBasis, _) = try views.answer(ranking)
        else { preconditionFailure("each query answers with its own view") }
        var trail: ([AuditRow], ViewBasis)?
        if let audit, case .audit(let rows, let basis) = try views.answer(audit) { trail = (rows, basis) }
        var content = DashboardContent(
            options: options, at: at, board: rows, boardCounts: counts, boardBasis: boardBasis, progress: batches, progressBasis: progressBasis,
            ranking: ranked, week: week, rankingBasis: rankingBasis, audit: trail?.0, auditBasis: trail?.1, unitNames: names,
            evidenceAtHand: Set((trail?.0 ?? []).flatMap(\.evidence).map { $0.lowercased() }.filter { views.ledger.evidence.has($0) }),
            checkpoint: try views.ledger.latestCheckpoint().map { note in
                let origin = (try? Checkpoint(text: note.text))?.origin
                return (note.rendered, note.signatures.map(\.name).filter { $0 != origin })
            })
        if case let .board(_, _, _, _, moment) = board {
            content.cases = try views.ledger.cases(concerning: rows.prefix(Dashboard.boardRows).map(\.id), asOf: moment.asOf, at: moment.at)
        }
        return Dashboard.render(content)
    }
}
