import ArgumentParser
import Campaign
import Demo
import EventLog
import Foundation
import JSON
import Ledger
import Queries
import Reports
import Transparency

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create an empty store (folder readable by its owner only).")
    @OptionGroup var store: StoreOptions

    func run() throws {
        if let head = try Ledger.initialize(path: store.path) {
            print("存储 \(store.path) 已存在，共 \(head.seq) 个事件；未作改动")
        } else {
            print("已创建存储 \(store.path)")
        }
    }
}

struct Append: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append events from an NDJSON file (CloudEvents, one per line), all or nothing.",
        discussion: "Each event is checked against every rule; if any is refused, none is stored and each refusal is listed with its line. A large file is read as it is appended, in bounded memory.")
    @OptionGroup var store: StoreOptions
    @Argument(help: "The NDJSON file, or - for standard input.")
    var file: String
    @Flag(help: "Check every rule, store nothing.")
    var dryRun = false

    func run() throws {
        let source: EventSource = file == "-" ? NDJSONBytes(try readInput("-")) : try NDJSONInput(path: file)
        // A file of tens of MB is written straight into the map (docs/storage.md, "Large appends").
        let ledger = try store.open(largeWrites: !dryRun && (source.byteCount ?? 0) >= 32 << 20)
        let report = try ledger.append(source, AppendOptions(dryRun: dryRun, recordedBy: Ledger.localRecorder,
                                                             progress: Terminal.progress("写入")))
        Terminal.done()
        printReport(report)
    }
}

/// Prints what an append did.
func printReport(_ report: AppendReport) {
    for duplicate in report.duplicates.prefix(10) {
        let place = duplicate.seq > report.before.seq ? "与本批前面的事件相同" : "已存于 seq \(duplicate.seq)"
        print("重复：第 \(duplicate.line) 行 id \(duplicate.id) \(place)，未重复写入")
    }
    if report.duplicates.count > 10 { print("……另有 \(report.duplicates.count - 10) 个重复") }
    let range = report.appended.isEmpty ? "" : "（seq \(report.appended.first!.seq)–\(report.appended.last!.seq)）"
    if !report.stored {
        print("试运行：\(report.appended.count) 个事件可以写入\(range)，\(report.duplicates.count) 个重复；未写入任何内容")
    } else {
        print("已写入 \(report.appended.count) 个事件\(range)，\(report.duplicates.count) 个重复；日志头 \(report.head)")
    }
    if let problem = report.derivedProblem {
        FileHandle.standardError.write("提示：未能更新视图快照（不影响已写入的事件，civic rebuild 可重建）：\(problem)\n")
    }
}

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a problem list as offices keep it: an Excel workbook (.xlsx) or CSV (UTF-8, GBK, UTF-16).",
        discussion: """
        Columns: \(ProblemList.headers.joined(separator: " ")), or the other words offices use for them (序号, 存在问题, \
        责任部门, 完成时限, 包抓领导…; docs/formats.md lists them). Each row becomes problem.reported and, with a 责任单位, \
        problem.assigned. A row of a problem already stored becomes the change it says: another unit a reassignment, \
        a later deadline an extension. A date without a time means the end of that day (23:59:59, Beijing time).
        """)
    @OptionGroup var store: StoreOptions
    @Argument(help: "The workbook (.xlsx) or CSV file.")
    var file: String
    @Option(help: "The workbook's sheet, by name (default: the first).")
    var sheet: String?
    @Option(help: "The list (id or name) the sheet belongs to, for rows that name none; needed when 编号 is a number (1, 2, 3).")
    var batch: String?
    @Option(help: "Who imports the list.")
    var actor = "office/import"
    @Option(help: "The importer's role: office or inspector.")
    var role: Role = .office
    @Option(name: .customLong("actor-unit"), help: "The importer's unit id (required for office and inspector).")
    var actorUnit: String?
    @Flag(help: "Check every row and rule, store nothing.")
    var dryRun = false

    func validate() throws {
        if actorUnit == nil && role != .discipline && role != .auditor {
            throw ValidationError("请用 --actor-unit 写明导入人所在单位（例如 --actor-unit U-office）")
        }
    }

    func run() throws {
        let result = try store.open().importList(
            try readInput(file), fileName: (file as NSString).lastPathComponent, sheet: sheet, batch: batch,
            by: .init(actor: actor, role: role, unit: actorUnit), dryRun: dryRun, recordedBy: Ledger.localRecorder)
        let list = result.list, plan = result.plan
        print("\(file)：\(list.sheet.kind)，表头在第 \(list.headerRow) 行，\(list.rows.count) 行问题")
        if dryRun {
            print("列的对应：")
            for line in list.mappingLines { print("  " + line) }
            for (row, why) in list.skipped where why != "空行" { print("  跳过第 \(row) 行：\(why)") }
        }
        for (text, unit) in plan.unitsRecognised { print("  责任单位“\(text)”按 \(plan.named(unit)) 导入") }
        let refusedChanges = plan.notApplied.isEmpty ? "" : "，另有 \(plan.notApplied.count) 处改动不能写入（见下）"
        print("新问题 \(plan.newProblems.count) 个，已有且未变 \(plan.unchanged) 个，有变化 \(plan.changes.count) 个\(refusedChanges)")
        for change in plan.changes { print("  " + change) }
        for note in plan.notApplied { print("  未写入：" + note) }
        if dryRun {
            var byType: [String: Int] = [:]
            for incoming in plan.events { byType[incoming.event.type.label, default: 0] += 1 }
            print("将写入：" + (byType.isEmpty ? "无" : byType.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value) 个" }.joined(separator: "，")))
            for incoming in plan.events.prefix(50) {
                let e = incoming.event
                var what = ""
                switch e.data {
                case .problemReported(let r): what = "\(r.category.label)：\(r.description)（\(r.location.area)）"
                case .problemAssigned(let a): what = "交办 \(plan.named(a.unit))，时限 \(a.deadline.chineseMinute)"
                case .deadlineExtended(let d): what = "延至 \(d.deadline.chineseMinute)"
                default: break
                }
                print("  第 \(incoming.line) 行  \(e.type.label)  \(e.subject)  \(e.time.chineseMinute)  \(what)")
            }
            if plan.events.count > 50 { print("  ……另有 \(plan.events.count - 50) 个事件") }
        }
        printReport(result.report)
    }
}

/// `--at`, `--as-of` and `--format`, shared by every view.
struct MomentOptions: ParsableArguments {
    @Option(help: "Business time: the state of the world at this moment (RFC 3339, or \"2022-08-26 18:00\" in UTC+8). Default: now.")
    var at: String?
    @Option(name: .customLong("as-of"), help: "Transaction time: only events recorded up to this moment, or seq:N. Default: all.")
    var asOf: String?
    @OptionGroup var output: OutputOptions

    func validate() throws { _ = try moment() }

    func moment() throws -> Moment {
        try asked { () throws(QueryError) in
            Moment(at: try Moment.at(at, "--at", clock: Ledger.systemClock()), asOf: try Moment.asOf(asOf, "--as-of"))
        }
    }
}

/// `--format`, `--labels` and `--output`, shared by every view.
struct OutputOptions: ParsableArguments {
    @Option(help: "table (Chinese, default), json, csv or xlsx (an Excel workbook: needs --output).")
    var format: OutputFormat = .table
    @Option(help: "CSV's headers and values: codes (JSON keys and codes, default) or zh (Chinese headers, labels and names, as Excel users read them).")
    var labels: String = "codes"
    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.")
    var output: String?

    func validate() throws {
        guard labels == "codes" || labels == "zh" else { throw ValidationError("--labels 可用 codes 或 zh") }
        if labels == "zh" && format != .csv { throw ValidationError("--labels zh 只用于 --format csv（表格和 xlsx 本来就是中文）") }
        if format == .xlsx && output == nil && isatty(1) != 0 {
            throw ValidationError("xlsx 是二进制文件：请用 --output 文件名.xlsx 写入文件")
        }
    }

    /// The format asked, CSV with labels as its own.
    var chosen: OutputFormat { format == .csv && labels == "zh" ? .csvLabelled : format }

    /// Calls `body` with the output asked for: standard output, or the file, written whole or not at all
    /// (a temporary file beside it, renamed over it once complete).
    func writing(_ body: (Output) throws -> Void) throws { try Self.writing(to: output, body) }

    /// `writing` to `output` (nil: standard output).
    static func writing(to output: String?, _ body: (Output) throws -> Void) throws {
        guard let output else { return try body(Output(FileSink())) }
        let temporary = output + ".civic-part"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw ValidationError("无法写入 \(output)：\(String(cString: strerror(errno)))") }
        do {
            try body(Output(FileSink(descriptor: fd)))
            guard fsync(fd) == 0, close(fd) == 0, rename(temporary, output) == 0 else {
                throw ValidationError("无法写入 \(output)：\(String(cString: strerror(errno)))")
            }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
    }
}

/// What `parse` reads, with an option that cannot be read as a usage error (exit 2).
func asked<T>(_ parse: () throws(QueryError) -> T) throws -> T {
    do { return try parse() } catch { throw ValidationError(error.message) }
}

/// Writes the view `query` asks of the store where `output` says. A name a filter does not know is a
/// usage error (exit 2) naming the closest.
func show(_ query: ViewQuery, store: StoreOptions, reading: ReadOptions, output: OutputOptions) throws {
    let views = Views(ledger: try reading.open(store))
    try output.writing { out in _ = try usage { try views.write(query, format: output.chosen, to: out) } }
}

/// `body`, its `QueryError` a usage error (exit 2, its message alone).
func usage<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as QueryError { throw UsageError(message: error.message) }
}

/// An option the store cannot answer (a name no unit has): exit 2 with the message, no usage text.
struct UsageError: Error { var message: String }

struct Board: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "board", abstract: "The issue board (问题台账) as of any moment.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var reading: ReadOptions
    @OptionGroup var moment: MomentOptions
    @Option(help: "Only this batch.") var batch: String?
    @Option(help: "Only problems assigned to this unit.") var unit: String?
    @Option(help: "Only these statuses, comma-separated: reported,assigned,submitted,closed,withdrawn.") var status: String?
    @Flag(help: "Only overdue problems.") var overdue = false

    func validate() throws { _ = try statuses() }
    func statuses() throws -> [ProblemStatus] { try asked { () throws(QueryError) in try ViewQuery.statuses(status, "--status") } }

    func run() throws {
        try show(.board(batch: batch, unit: unit, statuses: try statuses(), overdue: overdue, try moment.moment()),
                 store: store, reading: reading, output: moment.output)
    }
}

struct Progress: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "progress", abstract: "The zero-out (清零) progress of every list, per unit, day by day.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var reading: ReadOptions
    @OptionGroup var moment: MomentOptions
    @Option(help: "Only this batch.") var batch: String?

    func run() throws {
        try show(.progress(batch: batch, try moment.moment()), store: store, reading: reading, output: moment.output)
    }
}

struct Ranking: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ranking",
        abstract: "The weekly ranking of units (周排名), judged at the end of the office's week in UTC+8 (ISO, Monday to Sunday, unless civic settings --week-ends says otherwise); units equal on every measure share a place (并列).")
    @OptionGroup var store: StoreOptions
    @OptionGroup var reading: ReadOptions
    @Option(help: "The week, 2022-W34 or 2022年第34周 (default: the current week).") var week: Week?
    @Option(name: .customLong("as-of"), help: "Transaction time: only events recorded up to this moment, or seq:N.")
    var asOf: String?
    @OptionGroup var output: OutputOptions

    func validate() throws { _ = try query() }

    func query() throws -> ViewQuery {
        try asked { () throws(QueryError) in
            .ranking(week ?? Week(containing: Ledger.systemClock()), asOf: try Moment.asOf(asOf, "--as-of"))
        }
    }

    func run() throws { try show(try query(), store: store, reading: reading, output: output) }
}

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The audit trail of a problem, a unit or a person: every stored event concerned, with flags.",
        discussion: """
        Flags (docs/views.md, "Flags"): backdated (recorded long after its time), late (a fix reported after the deadline), \
        recorded-after-deadline (a fix dated before the deadline, recorded after it), recorded-after-due (a verification, \
        rejection or withdrawal dated by the deadline or the list's 清零 time, recorded after it), proxy (recorded by an \
        account other than its actor), reused-evidence (a fix's file named before), hasty-verification (with --hasty-minutes).
        """)
    @OptionGroup var store: StoreOptions
    @OptionGroup var reading: ReadOptions
    @OptionGroup var moment: MomentOptions
    @Option(help: "One stream: a problem, batch, unit or case id.") var subject: String?
    @Option(help: "A unit: its problems, accountability aimed at it, its own stream.") var unit: String?
    @Option(help: "An actor, e.g. office/li-xianfeng.") var actor: String?
    @Option(name: .customLong("backdate-hours"), help: "Flag events recorded more than this many hours after their time.")
    var backdateHours: String?
    @Option(name: .customLong("hasty-minutes"), help: "Flag a verification recorded sooner than this many minutes after its fix (default: never).")
    var hastyMinutes: String?

    func validate() throws { _ = try query() }

    func query() throws -> ViewQuery {
        let moment = try moment.moment()
        return try asked { () throws(QueryError) in
            .audit(try ViewQuery.selector(subject: subject, unit: unit, actor: actor, names: ("--subject", "--unit", "--actor")),
                   rules: AuditRules(backdateHours: try ViewQuery.backdateHours(backdateHours, "--backdate-hours"),
                                     hastyMinutes: try ViewQuery.hastyMinutes(hastyMinutes, "--hasty-minutes")), moment)
        }
    }

    func run() throws { try show(try query(), store: store, reading: reading, output: moment.output) }
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Write the stored events as NDJSON (CloudEvents with seq, version, recordedat, recordedby, prevhash, hash).")
    @OptionGroup var store: StoreOptions
    @Option(help: "Only events after this seq.") var after: UInt64 = 0
    @Option(name: .customLong("as-of"), help: "Only events recorded up to this moment, or seq:N.") var asOf: String?

    func run() throws {
        let prefix = try asked { () throws(QueryError) in try Moment.asOf(asOf, "--as-of") }
        try Views(ledger: try store.open(.readOnly)).export(asOf: prefix, after: after, to: Output(FileSink()))
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-read every stored byte, recompute the hash chain and every index, and check all derived data against the log; exit 3 naming the first bad seq or the damaged derived data.")
    @OptionGroup var store: StoreOptions
    @Option(name: .customLong("expect-head"), help: "SEQ:HASH recorded earlier (civic head): fail unless the log still extends it.")
    var expectHead: String?
    @Flag(name: .customLong("log-only"), help: "Check the log and its id index only, not the data derived from it.")
    var logOnly = false
    @Option(help: "A signed checkpoint (C2SP note) recorded earlier: fail unless the log extends it.")
    var checkpoint: String?
    @Option(help: "The log's verifier key to check the checkpoint's signature with (default: the one the store keeps).")
    var vkey: String?

    func validate() throws {
        if let expectHead, LogHead.parse(expectHead) == nil {
            throw ValidationError("--expect-head “\(expectHead)”：须写作 SEQ:HASH（civic head 的输出）")
        }
    }

    func run() throws {
        if let checkpoint { return try verifyCheckpoint(checkpoint) }
        let result = try store.open(.readOnly).verify(logOnly: logOnly, expecting: expectHead.flatMap(LogHead.parse),
                                                      progress: Terminal.progress("校验"))
        Terminal.done()
        guard result.derived.isEmpty else { throw DerivedFindings(verification: result) }
        // The subjects' records and links are written in batches: those of the latest events are folded
        // from the log by each process, and were checked so too.
        let through = result.recordsThrough == 0 ? "；事件尚少，对象记录与单位关联未成批写入，每次由日志直接算出，也已核对"
            : result.recordsThrough < result.head.seq ? "；对象记录与单位关联写至 seq \(result.recordsThrough)，其后的每次由日志直接算出，也已核对" : ""
        let derived = logOnly ? ""
            : "，派生数据（\(result.snapshots) 个视图快照、\(result.records) 个对象记录、\(result.links) 个单位关联\(through)）与日志一致"
        print("校验通过：\(result.head.seq) 个事件，哈希链完整\(derived)，链头 \(result.head)")
        if logOnly { return }
        let evidence = try store.open(.readOnly).checkEvidence(requiredBy: result)
        guard evidence.isSound else { throw EvidenceFindings(check: evidence) }
        print("证据文件：\(evidence.files) 个，均与其哈希一致；网上登记的事件所附材料均在")
    }
}

extension Verify {
    /// `--checkpoint`: the log must extend the signed checkpoint, recomputed from the entries' bytes.
    func verifyCheckpoint(_ path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("无法读取文件 \(path)") }
        let note = try SignedNote(parsing: String(decoding: data, as: UTF8.self))
        let ledger = try store.open(.readOnly)
        let key = try vkey.map { try VerifierKey(parsing: $0) } ?? ledger.storedVerifierKey()
        let check = try ledger.verify(checkpoint: note, key: key)
        let c = check.checkpoint
        if check.signed == false { throw CheckpointMismatch(message: "检查点的签名不是 \(key!.name) 的：不是本日志签发的，或已被改动") }
        guard check.holds else {
            var message = check.logSize < c.size
                ? "日志只有 \(check.logSize) 个条目，比检查点的 \(c.size) 个少：日志末尾的事件已被截去，或这不是签发该检查点的日志"
                : "日志前 \(c.size) 个条目重算出的树根与检查点不符：日志在检查点之后被改写过"
            if let good = check.lastMatching { message += "；存储中大小为 \(good) 的检查点仍与日志一致，改动在 seq \(good) 之后" }
            throw CheckpointMismatch(message: message)
        }
        let signature = check.signed == nil ? "（未核对签名：没有验证密钥）" : "，签名有效（\(key!.name)）"
        print("校验通过：日志（\(check.logSize) 个条目）延续了检查点 \(c.origin) 的 \(c.size) 个条目\(signature)；树根由条目字节重算，一致")
    }
}

/// The log does not extend a signed checkpoint.
struct CheckpointMismatch: Error, CustomStringConvertible {
    var message: String
    var description: String { "校验失败：\(message)" }
}

struct Head: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "head", abstract: "Print the log's head SEQ:HASH, to record outside the store (verify --expect-head).")
    @OptionGroup var store: StoreOptions
    func run() throws { print(try store.open(.readOnly).head()) }
}

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "What the store holds: events by type, subjects, problems by status, size.")
    @OptionGroup var store: StoreOptions
    @Option(help: "table (Chinese, default) or json.") var format: OutputFormat = .table

    func validate() throws {
        guard format != .csv else { throw ValidationError("stats 只有 table 和 json 两种格式") }
    }

    func run() throws {
        let s = try store.open(.readOnly).statistics()
        if format == .json {
            print(JSONText.render(.object([
                ("head", .object([("seq", .int(s.head.seq)), ("hash", .string(s.head.hash.hex))])),
                ("fileBytes", .int(UInt64(s.fileBytes))), ("mapBytes", .int(UInt64(s.mapBytes))),
                ("tables", .object(s.tables.map { ($0.table, .int(UInt64($0.bytes))) })),
                ("subjectsStamp", .int(s.subjectsStamp)), ("snapshots", .int(UInt64(s.snapshots))),
                ("subjects", .object(StreamKind.allCases.map { ($0.rawValue, .int(UInt64(s.subjectsByKind[$0] ?? 0))) })),
                ("problems", .object(ProblemStatus.allCases.map { ($0.rawValue, .int(UInt64(s.problemsByStatus[$0] ?? 0))) })),
                ("events", .object(EventType.allCases.map { ($0.rawValue, .int(UInt64(s.eventsByType[$0] ?? 0))) })),
            ])))
            return
        }
        func mib(_ n: Int) -> String { String(format: "%.1f MiB", Double(n) / 1_048_576) }
        print("存储 \(store.path)：\(s.head.seq) 个事件，链头 \(s.head)")
        if let first = s.firstRecorded, let last = s.lastRecorded { print("登记时间 \(first.chineseMinute) — \(last.chineseMinute)（北京时间）") }
        print("文件 \(mib(s.fileBytes))，映射 \(mib(s.mapBytes))：" + s.tables.map { "\($0.table) \(mib($0.bytes))" }.joined(separator: " · "))
        print("派生数据：对象记录\(s.subjectsStamp == 0 ? "尚未成批写入（事件尚少，每次由日志直接算出）" : "写至 seq \(s.subjectsStamp)")，视图快照 \(s.snapshots) 个（每 \(Ledger.snapshotInterval) 个事件一个）")
        print("责任单位 \(s.subjectsByKind[.unit] ?? 0) · 问题清单 \(s.subjectsByKind[.batch] ?? 0) · 问题 \(s.subjectsByKind[.problem] ?? 0) · 问责案件 \(s.subjectsByKind[.accountability] ?? 0)")
        print("问题状态：" + ProblemStatus.allCases.map { "\($0.label) \(s.problemsByStatus[$0] ?? 0)" }.joined(separator: " · "))
        print("事件类型：")
        for type in EventType.allCases where s.eventsByType[type] != nil {
            print("  \(type.rawValue.padding(toLength: 26, withPad: " ", startingAt: 0)) \(s.eventsByType[type]!)  \(type.label)")
        }
    }
}

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Make a store of this version from one an earlier civic made (store format 1).",
        discussion: "The former store is verified and copied entry by entry (same seqs, ids, times and events), each entry gaining the seq of its stream's previous entry; the former chain's head is kept in the new store. The former store is left as it was.")
    @Option(help: "The former store's folder.") var from: String
    @OptionGroup var store: StoreOptions

    func run() throws {
        let migration = try Ledger.migrate(fromFormat1: from, to: store.path, progress: Terminal.progress("迁移"))
        Terminal.done()
        print("已迁移 \(migration.events) 个事件：旧存储链头 \(migration.formerHead)（已校验，记入新存储），新存储链头 \(migration.head)")
    }
}

struct Rebuild: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Throw away all derived data (subjects' records, unit links, the Merkle tree, view snapshots) and make it again from the log alone.")
    @OptionGroup var store: StoreOptions

    func run() throws {
        let ledger = try store.open()
        try ledger.rebuildDerived(progress: Terminal.progress("重建"))
        Terminal.done()
        print("已由日志重建派生数据：日志头 \(try ledger.head())")
    }
}

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Fill a fresh store with a realistic sample campaign, tell what to look at, and serve its dashboard.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var listen: ListenOptions
    @Flag(name: .customLong("no-serve"), help: "Only fill the store; do not serve it.") var noServe = false
    @Flag(name: .customLong("story-dates"), help: "Keep the story's own dates (August–September 2022) instead of moving it to end last week.")
    var storyDates = false

    func run() throws {
        let path = store.path
        let (count, head, shift) = try DemoCampaign.fillNew(path: path, storyDates: storyDates)
        let s = "--store \(path)"
        func at(_ time: String) -> String { DemoCampaign.storyTime(time, shift: shift) }
        let week = Week(first: Week("2022-W34")!.first + shift / 86_400)
        let listDay = Timestamp(local: at("2022-08-19 12:00"))!.chineseMonthDay
        print("""
        示范存储 \(path)：恒口示范区创文，\(listDay)曝光问题清单与之后五周的整改，共 \(count) 个事件，链头 \(head)
        \(shift == 0 ? "日期为故事原有的 2022 年 8–9 月" : "故事整体平移 \(shift / 604_800) 周，结束于上周：各事件按当时登记重放，“补录”只标出故事里真正迟登的几条")

        可以看看（civic 即 \(CommandLine.arguments[0])）：
          civic board \(s) --at "\(at("2022-08-25 12:00"))"            清零前一天中午的台账：谁在整改、谁已超期
          civic board \(s) --at "\(at("2022-08-25 12:00"))" --overdue  只看超期问题
          civic board \(s) --unit U-zt --format json          渣土运输公司的问题，JSON
          civic board \(s) --as-of seq:60                     只按前 60 个事件重建：当时登记的样子
          civic board \(s) --status assigned                  当前仍未整改的问题
          civic progress \(s) --at "\(at("2022-08-26 20:00"))"         清零进度：逐单位、逐日未销号数
          civic progress \(s) --at "\(at("2022-09-06 00:00"))"         清零后回头看反弹；次日补记的销号为“纸面清零”
          civic ranking \(s) --week \(week)                  清零那一周各责任单位排名（并列）
          civic bulletin \(s) --week \(week) -o 周通报.docx     这一周的周通报（Word）
          civic audit \(s) --unit 渣土运输公司                    渣土运输公司的全部记录与提示（逾期、期后补报）
          civic clues \(s)                                     问题线索：超期、退回、反弹、点球与各类提示
          civic export \(s) --after 70                        第 70 个事件之后的日志（含哈希链）
          civic verify \(s)                                   重新计算整条哈希链，并以日志核对全部派生数据
          civic stats \(s)                                    存储概况
          civic serve \(s)                                    只读服务与仪表盘\(noServe ? "" : "（下面即已启动）")
        """)
        guard !noServe else { return }
        print("\n在浏览器打开下面的地址：问题台账、各清单的清零进度图、周排名，点“轨迹”看一个问题的全部记录；页首可把所有视图设到过去任一时刻，例如业务时间 \(at("2022-08-25 12:00"))。\n")
        flushOutput()
        try listen.serve(try store.open(.readOnly))
    }
}
