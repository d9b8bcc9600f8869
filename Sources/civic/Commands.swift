import ArgumentParser
import Campaign
import Demo
import EventLog
import Foundation
import JSON
import Ledger
import Projections
import Queries
import Reports

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create an empty store (folder readable by its owner only).")
    @OptionGroup var store: StoreOptions

    func run() throws {
        let path = store.path
        if FileManager.default.fileExists(atPath: path + "/data.mdb") {
            let ledger = try store.open()
            print("存储 \(path) 已存在，共 \(try ledger.log.head().seq) 个事件；未作改动")
            return
        }
        _ = try Ledger(path: path, create: true)
        print("已创建存储 \(path)")
    }
}

struct Append: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Append events from an NDJSON file (CloudEvents, one per line), all or nothing.",
        discussion: "Each event is checked against every rule; if any is refused, none is stored and each refusal is listed with its line.")
    @OptionGroup var store: StoreOptions
    @Argument(help: "The NDJSON file, or - for standard input.")
    var file: String
    @Flag(help: "Check every rule, store nothing.")
    var dryRun = false

    func run() throws {
        let bytes = try readInput(file)
        let ledger = try store.open()
        let (events, refusals) = CloudEvents.readLines(bytes)
        if !refusals.isEmpty {
            // Name every refusal at once: the rules are tried on the lines that could be read (some may
            // be refused only because a line they depend on could not be).
            var all = refusals
            do { _ = try ledger.append(events, dryRun: true) } catch let refused as AppendRefused { all += refused.refusals }
            throw AppendRefused(refusals: all.sorted { $0.line < $1.line })
        }
        let report = try ledger.append(events, dryRun: dryRun)
        printReport(report, dryRun: dryRun)
        if !dryRun { takeCheckpoints(ledger) }
    }
}

/// Takes the checkpoints the log lacks after an append. They are derived: a failure is reported, not fatal.
func takeCheckpoints(_ ledger: Ledger) {
    do {
        try ledger.checkpoint()
    } catch {
        FileHandle.standardError.write("提示：未能保存视图检查点（不影响已写入的事件）：\(error)\n")
    }
}

/// Prints what an append did.
func printReport(_ report: AppendReport, dryRun: Bool) {
    for duplicate in report.duplicates.prefix(10) {
        let place = duplicate.seq > 0 ? "已存于 seq \(duplicate.seq)" : "与本批前面的事件相同"
        print("重复：第 \(duplicate.line) 行 id \(duplicate.id) \(place)，未重复写入")
    }
    if report.duplicates.count > 10 { print("……另有 \(report.duplicates.count - 10) 个重复") }
    let range = report.appended.isEmpty ? "" : "（seq \(report.appended.first!.seq)–\(report.appended.last!.seq)）"
    if dryRun {
        print("试运行：\(report.appended.count) 个事件可以写入\(range)，\(report.duplicates.count) 个重复；未写入任何内容")
    } else {
        print("已写入 \(report.appended.count) 个事件\(range)，\(report.duplicates.count) 个重复；日志头 \(report.head)")
    }
}

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import a problem list as offices keep it in Excel (CSV, Chinese headers).",
        discussion: "Headers: \(ProblemList.headers.joined(separator: " ")). Each row becomes problem.reported and, with a 责任单位, problem.assigned.")
    @OptionGroup var store: StoreOptions
    @Argument(help: "The CSV file (UTF-8, with or without BOM).")
    var file: String
    @Option(help: "Who imports the list.")
    var actor = "office/import"
    @Option(help: "The importer's role: office or inspector.")
    var role = "office"
    @Option(name: .customLong("actor-unit"), help: "The importer's unit id (required for office and inspector).")
    var actorUnit: String?
    @Flag(help: "Check every row and rule, store nothing.")
    var dryRun = false

    func validate() throws {
        guard let parsed = Role(rawValue: role) else { throw ValidationError("--role “\(role)”：可用 \(Role.listing)") }
        if actorUnit == nil && parsed != .discipline && parsed != .auditor {
            throw ValidationError("请用 --actor-unit 写明导入人所在单位（例如 --actor-unit U-office）")
        }
    }

    func run() throws {
        let bytes = try readInput(file)
        let ledger = try store.open()
        let list = try ProblemList(csv: bytes)
        let events = try list.events(by: .init(actor: actor, role: Role(rawValue: role)!, unit: actorUnit),
                                     given: try ledger.currentState())
        let report = try ledger.append(events, dryRun: dryRun)
        print("\(file)：\(list.rows.count) 行问题")
        printReport(report, dryRun: dryRun)
        if !dryRun { takeCheckpoints(ledger) }
    }
}

/// `--at`, `--as-of` and `--format`, shared by every view.
struct MomentOptions: ParsableArguments {
    @Option(help: "Business time: the state of the world at this moment (RFC 3339, or \"2022-08-26 18:00\" in UTC+8). Default: now.")
    var at: String?
    @Option(name: .customLong("as-of"), help: "Transaction time: only events recorded up to this moment, or seq:N. Default: all.")
    var asOf: String?
    @Option(help: "table (Chinese, default), json or csv.")
    var format: String = "table"

    func validate() throws {
        guard OutputFormat(rawValue: format) != nil else { throw ValidationError("--format “\(format)”：可用 table、json、csv") }
        _ = try moment()
    }

    var outputFormat: OutputFormat { OutputFormat(rawValue: format) ?? .table }
    func moment() throws -> Moment {
        try asked { () throws(QueryError) in
            Moment(at: try Moment.at(at, "--at", clock: Ledger.systemClock()), asOf: try Moment.asOf(asOf, "--as-of"))
        }
    }
}

/// What `parse` reads, with an option that cannot be read as a usage error (exit 2).
func asked<T>(_ parse: () throws(QueryError) -> T) throws -> T {
    do { return try parse() } catch { throw ValidationError(error.message) }
}

/// Prints the view `query` asks of the store.
func show(_ query: ViewQuery, store: StoreOptions, format: OutputFormat) throws {
    let views = Views(ledger: try store.open(readOnly: true))
    print(try views.answer(query).rendered(format), terminator: "")
}

struct Board: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The issue board (问题台账) as of any moment.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var moment: MomentOptions
    @Option(help: "Only this batch.") var batch: String?
    @Option(help: "Only problems assigned to this unit.") var unit: String?
    @Option(help: "Only these statuses, comma-separated: reported,assigned,submitted,closed,withdrawn.") var status: String?
    @Flag(help: "Only overdue problems.") var overdue = false

    func validate() throws { _ = try statuses() }
    func statuses() throws -> [ProblemStatus] { try asked { () throws(QueryError) in try ViewQuery.statuses(status, "--status") } }

    func run() throws {
        try show(.board(batch: batch, unit: unit, statuses: try statuses(), overdue: overdue, try moment.moment()),
                 store: store, format: moment.outputFormat)
    }
}

struct Progress: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The zero-out (清零) progress of every list, per unit, day by day.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var moment: MomentOptions
    @Option(help: "Only this batch.") var batch: String?

    func run() throws {
        try show(.progress(batch: batch, try moment.moment()), store: store, format: moment.outputFormat)
    }
}

struct Ranking: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The weekly ranking of units (周排名), judged at the end of an ISO week in UTC+8.")
    @OptionGroup var store: StoreOptions
    @Option(help: "The ISO week, e.g. 2022-W34 (default: the current week).") var week: String?
    @Option(name: .customLong("as-of"), help: "Transaction time: only events recorded up to this moment, or seq:N.")
    var asOf: String?
    @Option(help: "table (Chinese, default), json or csv.") var format: String = "table"

    func validate() throws {
        guard OutputFormat(rawValue: format) != nil else { throw ValidationError("--format “\(format)”：可用 table、json、csv") }
        _ = try query()
    }

    func query() throws -> ViewQuery {
        try asked { () throws(QueryError) in
            .ranking(try ViewQuery.week(week, "--week", clock: Ledger.systemClock()), asOf: try Moment.asOf(asOf, "--as-of"))
        }
    }

    func run() throws { try show(try query(), store: store, format: OutputFormat(rawValue: format) ?? .table) }
}

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The audit trail of a problem, a unit or a person: every stored event concerned, with flags.",
        discussion: "Flags: backdated (recorded long after its time), late (a fix reported after the deadline), recorded-after-deadline (dated before the deadline, recorded after it).")
    @OptionGroup var store: StoreOptions
    @OptionGroup var moment: MomentOptions
    @Option(help: "One stream: a problem, batch, unit or case id.") var subject: String?
    @Option(help: "A unit: its problems, accountability aimed at it, its own stream.") var unit: String?
    @Option(help: "An actor, e.g. office/li-xianfeng.") var actor: String?
    @Option(name: .customLong("backdate-hours"), help: "Flag events recorded more than this many hours after their time.")
    var backdateHours: String?

    func validate() throws { _ = try query() }

    func query() throws -> ViewQuery {
        let moment = try moment.moment()
        return try asked { () throws(QueryError) in
            .audit(try ViewQuery.selector(subject: subject, unit: unit, actor: actor, names: ("--subject", "--unit", "--actor")),
                   backdateHours: try ViewQuery.backdateHours(backdateHours, "--backdate-hours"), moment)
        }
    }

    func run() throws { try show(try query(), store: store, format: moment.outputFormat) }
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write the stored events as NDJSON (CloudEvents with seq, version, recordedat, prevhash, hash).")
    @OptionGroup var store: StoreOptions
    @Option(help: "Only events after this seq.") var after: UInt64 = 0
    @Option(name: .customLong("as-of"), help: "Only events recorded up to this moment, or seq:N.") var asOf: String?

    func run() throws {
        let ledger = try store.open(readOnly: true)
        var out = ""
        let stdout = FileHandle.standardOutput
        try ledger.replay(asOf: try parseAsOf(asOf), after: after) { recorded, entry in
            JSONText.write(CloudEvents.json(recorded, entry: entry), to: &out)
            out += "\n"
            if out.utf8.count > 1 << 16 { stdout.write(out); out = "" }
            return true
        }
        stdout.write(out)
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-read every stored byte, recompute the hash chain and the id index; exit 3 naming the first bad seq.")
    @OptionGroup var store: StoreOptions
    @Option(name: .customLong("expect-head"), help: "SEQ:HASH recorded earlier (civic head): fail unless the log still extends it.")
    var expectHead: String?
    @Flag(name: .customLong("log-only"), help: "Check the log and its id index only, not the checkpoints views start from.")
    var logOnly = false

    func run() throws {
        let ledger = try store.open(readOnly: true)
        var expected: (seq: UInt64, hash: String)?
        if let expectHead {
            let parts = expectHead.split(separator: ":")
            guard parts.count == 2, let seq = UInt64(parts[0]), parts[1].count == 64 else {
                throw ValidationError("--expect-head “\(expectHead)”：须写作 SEQ:HASH（civic head 的输出）")
            }
            expected = (seq, parts[1].lowercased())
        }
        let head = try ledger.verify(checkpoints: !logOnly)
        if let expected {
            let entry = try ledger.log.read { try $0.entry(expected.seq) }
            guard let entry, entry.hash.hex == expected.hash else {
                throw LogDamage(seq: expected.seq, problem: entry == nil
                    ? "the log no longer holds seq \(expected.seq) (head is \(head.seq)): events were removed"
                    : "hash \(entry!.hash.hex) differs from the recorded \(expected.hash): the log was rewritten")
            }
        }
        print("校验通过：\(head.seq) 个事件，哈希链完整\(logOnly ? "" : "，视图检查点与日志一致")，链头 \(head)")
    }
}

struct CheckpointsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoints",
        abstract: "List the checkpoints views start from; --rebuild discards them and takes them again from the log.")
    @OptionGroup var store: StoreOptions
    @Flag(help: "Discard every checkpoint and take them again from the log.") var rebuild = false

    func run() throws {
        let ledger = try store.open()
        if rebuild {
            let taken = try ledger.rebuildCheckpoints()
            print("已重建 \(taken.count) 个检查点")
        } else {
            try ledger.checkpoint()
        }
        let seqs = try ledger.log.read { try $0.checkpointSeqs() }
        print("检查点（每 \(Ledger.checkpointInterval) 个事件一个，由日志推导，可随时重建）：\(seqs.isEmpty ? "无" : seqs.map(String.init).joined(separator: ", "))")
    }
}

struct Head: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the log's head SEQ:HASH, to record outside the store (verify --expect-head).")
    @OptionGroup var store: StoreOptions
    func run() throws {
        print(try store.open(readOnly: true).log.head())
    }
}

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "What the store holds: events by type, subjects, problems by status, size.")
    @OptionGroup var store: StoreOptions

    func run() throws {
        let ledger = try store.open(readOnly: true)
        var byType: [EventType: Int] = [:]
        var first: Timestamp?, last: Timestamp?
        let head = try ledger.replay { recorded, _ in
            byType[recorded.event.type, default: 0] += 1
            if first == nil { first = recorded.recordedAt }
            last = recorded.recordedAt
            return true
        }
        let state = try ledger.currentState()
        let size = (try? FileManager.default.attributesOfItem(atPath: store.path + "/data.mdb")[.size] as? Int) ?? 0
        print("存储 \(store.path)：\(head.seq) 个事件，链头 \(head)")
        if let first, let last { print("登记时间 \(first) — \(last)") }
        print("文件 \(size / 1024) KiB，映射 \(ledger.log.environment.mapSize / 1024 / 1024) MiB")
        let problems = state.subjects.values.compactMap(\.problem)
        print("责任单位 \(state.units.count) · 问题清单 \(state.batches.count) · 问题 \(problems.count) · 问责案件 \(state.cases.count)")
        let statuses = ProblemStatus.allCases.map { s in "\(s.label) \(problems.filter { $0.status == s }.count)" }
        print("问题状态：" + statuses.joined(separator: " · "))
        print("事件类型：")
        for type in EventType.allCases where byType[type] != nil {
            print("  \(type.rawValue.padding(toLength: 26, withPad: " ", startingAt: 0)) \(byType[type]!)  \(type.label)")
        }
    }
}

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Fill a fresh store with a realistic sample campaign, tell what to look at, and serve its dashboard.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var listen: ListenOptions
    @Flag(name: .customLong("no-serve"), help: "Only fill the store; do not serve it.") var noServe = false

    func run() throws {
        let path = store.path
        if FileManager.default.fileExists(atPath: path + "/data.mdb"), try store.open().log.head().seq > 0 {
            throw StoreFailure(message: "存储 \(path) 已有内容：civic demo 只填充新的存储（换一个 --store 目录）", status: 2)
        }
        let ledger = try Ledger(path: path, create: true)
        let count = try DemoCampaign.fill(ledger)
        takeCheckpoints(ledger)
        let head = try ledger.log.head()
        let s = "--store \(path)"
        print("""
        示范存储 \(path)：恒口示范区创文，8月19日曝光问题清单与之后五周的整改，共 \(count) 个事件，链头 \(head)

        可以看看（civic 即 \(CommandLine.arguments[0])）：
          civic board \(s) --at "2022-08-25 12:00"            8月25日中午的台账：谁在整改、谁已超期
          civic board \(s) --at "2022-08-25 12:00" --overdue  只看超期问题
          civic board \(s) --unit U-zt --format json          渣土运输公司的问题，JSON
          civic board \(s) --as-of seq:60                     只按前 60 个事件重建：当时登记的样子
          civic board \(s) --status assigned                  当前仍未整改的问题
          civic progress \(s) --at "2022-08-26 20:00"         清零进度：逐单位、逐日未销号数
          civic progress \(s) --at "2022-09-06 00:00"         9月2日清零，9月5日回头看反弹后又未清零
          civic ranking \(s) --week 2022-W34                  第34周各责任单位排名
          civic audit \(s) --unit U-zt                        渣土运输公司的全部记录与提示（逾期、期后补报）
          civic export \(s) --after 70                        第 70 个事件之后的日志（含哈希链）
          civic verify \(s)                                   重新计算整条哈希链与检查点
          civic stats \(s)                                    存储概况
          civic serve \(s)                                    只读服务与仪表盘（下面即已启动）
        """)
        guard !noServe else { return }
        print("\n在浏览器打开下面的地址：问题台账、各清单的燃尽图、周排名，点“轨迹”看一个问题的全部记录；页首可把所有视图设到过去任一时刻，例如业务时间 2022-08-25 12:00。\n")
        flushOutput()
        try listen.serve(try Ledger(path: path, readOnly: true))
    }
}
