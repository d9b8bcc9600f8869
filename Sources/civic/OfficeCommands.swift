import ArgumentParser
import Campaign
import Foundation
import Ledger
import Queries
import Reports

// The commands of the offices' files and the inspector's workbench: the weekly bulletin, the office's
// week, the ledger of cases and the clues (docs/views.md).

struct Bulletin: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bulletin",
        abstract: "The weekly bulletin (周通报) as Word (.docx), HTML (for print, A4), JSON or text.",
        discussion: """
        基本情况, the 红黑榜 (ties share a place; units with nothing assigned left out), overdue problems with days \
        overdue, 反弹, 点球 and accountability of the week, each list's progress (charts), and at the foot the log's \
        signed checkpoint and the digest of the bulletin's JSON (civic bulletin --format json).
        """)
    @OptionGroup var store: StoreOptions
    @OptionGroup var reading: ReadOptions
    @Option(help: "The week: 2022年第34周 or 2022-W34 (default: the last week ended).") var week: Week?
    @Option(name: .customLong("as-of"), help: "Transaction time: only events recorded up to this moment, or seq:N.")
    var asOf: String?
    @Option(help: "text (default on a terminal), json, html or docx; --output FILE.docx or FILE.html chooses by the name.")
    var format: String?
    @Option(name: .shortAndLong, help: "Write to this file.") var output: String?

    func validate() throws {
        _ = try chosen()
        _ = try asked { () throws(QueryError) in try Moment.asOf(asOf, "--as-of") }
    }

    func chosen() throws -> String {
        let byName = output.flatMap { name in ["docx", "html", "json"].first { name.lowercased().hasSuffix("." + $0) } }
        let format = format ?? byName ?? "text"
        guard ["text", "json", "html", "docx"].contains(format) else { throw ValidationError("--format 可用 text、json、html 或 docx") }
        if format == "docx" && output == nil && isatty(1) != 0 { throw ValidationError("docx 是二进制文件：请用 --output 文件名.docx") }
        return format
    }

    func run() throws {
        let clock = Ledger.systemClock()
        let current = Week(containing: clock)
        let week = week ?? (clock >= current.lastInstant ? current : current.previous)
        let prefix = try asked { () throws(QueryError) in try Moment.asOf(asOf, "--as-of") }
        let content = try Views(ledger: try reading.open(store)).bulletin(week, asOf: prefix)
        let format = try chosen()
        try OutputOptions.writing(to: output) { out in
            switch format {
            case "json": try BulletinReport.writeJSON(content, to: out)
            case "html": out.text(try BulletinReport.html(content)); try out.flush()
            case "docx": out.bytes(try BulletinReport.docx(content)); try out.flush()
            default: out.text(try BulletinReport.text(content)); try out.flush()
            }
        }
        if let output { FileHandle.standardError.write(Data("已写入 \(output)（\(content.week.labelWithYear)）\n".utf8)) }
    }
}

struct Settings: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings",
        abstract: "The store's settings: the weekday the office's week ends on (the ranking's and the bulletin's weeks).")
    @OptionGroup var store: StoreOptions
    @Option(name: .customLong("week-ends"), help: "周一 … 周日 (or monday … sunday); default 周日, the ISO week.") var weekEnds: String?

    func validate() throws {
        if let weekEnds, Week.weekday(weekEnds) == nil { throw ValidationError("--week-ends “\(weekEnds)”：写作 周五 或 friday") }
    }

    func run() throws {
        let ledger = try store.open()
        if let weekEnds, let day = Week.weekday(weekEnds) { try ledger.setWeekEnds(day) }
        let day = try ledger.weekEnds()
        let example = try ledger.officeWeek(Week(containing: Ledger.systemClock()))
        print("本办每周截止于\(Week.weekdayNames[day])（例如本周：\(example.labelWithYear)）")
    }
}

struct Cases: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cases",
        abstract: "The accountability ledger (问责台账) as of any moment: case, target by name, measure, reason, problems, organ and document, recorded and revoked by whom.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var reading: ReadOptions
    @OptionGroup var moment: MomentOptions

    func run() throws {
        let views = Views(ledger: try reading.open(store))
        let (rows, basis) = try views.cases(try moment.moment())
        try moment.output.writing { out in
            _ = try InspectionReport.write(rows, InspectionReport.caseColumns, view: "cases", member: "cases", title: "问责台账",
                                           basis: basis, format: moment.output.chosen, to: out)
        }
    }
}

struct Clues: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clues",
        abstract: "The clues an inspector starts from (线索): units and people ranked by days overdue, rejections, reopenings, escalations and flagged events, each with the trail that proves it.",
        discussion: "Score: a day overdue 1, a rejection 3, a reopening, an escalation or a flagged event 5 (docs/views.md, \"Clues\").")
    @OptionGroup var store: StoreOptions
    @OptionGroup var reading: ReadOptions
    @OptionGroup var moment: MomentOptions
    @Option(help: "Only events from this moment on (RFC 3339, or \"2022-08-26 18:00\" in UTC+8).") var since: String?
    @Option(help: "Only this unit (id, name or alias) and its people.") var unit: String?
    @Option(name: .customLong("hasty-minutes"), help: "Flag a verification recorded sooner than this many minutes after its fix.")
    var hastyMinutes: String?

    func run() throws {
        let views = Views(ledger: try reading.open(store))
        let start = try since.map { text in try asked { () throws(QueryError) in try Moment.time(text, "--since") } }
        let rules = AuditRules(hastyMinutes: try asked { () throws(QueryError) in try ViewQuery.hastyMinutes(hastyMinutes, "--hasty-minutes") })
        let (rows, basis) = try usage { try views.clues(since: start, unit: unit, rules: rules, try moment.moment()) }
        try moment.output.writing { out in
            _ = try InspectionReport.write(rows, InspectionReport.clueColumns, view: "clues", member: "clues", title: "问题线索",
                                           basis: basis, format: moment.output.chosen, to: out)
        }
    }
}
