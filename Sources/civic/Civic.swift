import ArgumentParser
import Reports
import Demo
import EventLog
import Foundation
import LMDB
import Ledger
import Transparency

@main
struct Civic: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "civic",
        abstract: "创文问题台账：不可篡改的整改事件日志，随时重建任一时刻的台账、清零进度与审计轨迹。",
        discussion: """
        The rectification ledger of civilized-city campaigns: an append-only, hash-chained event log in LMDB.
        Exit status: 0 success, 1 a rule refused the input, 2 usage error (or no store), 3 verify found damage,
        4 the store itself failed (disk full, permissions).
        """,
        subcommands: [Init.self, Append.self, Import.self, Board.self, Progress.self, Ranking.self, Bulletin.self, Audit.self, Cases.self, Clues.self, Export.self,
                      Verify.self, Head.self, Settings.self, Stats.self, Rebuild.self, Migrate.self, AccountCommand.self, Keys.self, CheckpointCommand.self, Proof.self, WitnessCommand.self, Serve.self, DemoCommand.self]
    )

    static func main() async {
        signal(SIGPIPE, SIG_IGN)  // a closed pipe is an error of the write, reported as such
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand { try await command.run() } else { try command.run() }
        } catch {
            let (message, status) = Failure.describe(error)
            if status == 0 {
                print(message)
            } else if !message.isEmpty {
                FileHandle.standardError.write(Data((message + "\n").utf8))
            }
            Foundation.exit(status)
        }
    }
}

/// What each failure means to the person who ran the command, and the exit status it ends with.
enum Failure {
    static func describe(_ error: any Error) -> (String, Int32) {
        switch error {
        case let refused as AppendRefused: return (refused.description, 1)
        case let refused as ImportRefused: return (refused.description, 1)
        case let usage as UsageError: return (usage.message, 2)
        case let unreadable as SheetError: return ("无法读取：\(unreadable.message)", 1)
        case let damage as LogDamage: return ("校验失败：\(damage)", 3)
        case let mismatch as HeadMismatch: return ("校验失败：\(mismatch)", 3)
        case let damage as DerivedDamage: return (damage.description, 3)
        case let derived as DerivedFindings: return (derived.description, 3)
        case let evidence as EvidenceFindings: return (evidence.description, 3)
        case let mismatch as CheckpointMismatch: return (mismatch.description, 3)
        case let missing as NoStore: return (missing.description, 2)
        case let format as StoreFormatMismatch: return (format.description, 2)
        case let full as StoreFull: return (full.description, 4)
        case let failure as ServeFailure: return (failure.message, 4)
        case let notEmpty as DemoCampaign.NotEmpty: return (notEmpty.description, 2)
        case let refused as MigrationRefused: return (refused.description, 2)
        case let problem as AccountProblem: return (problem.description, 1)
        case let problem as CheckpointProblem: return (problem.description, 1)
        case let problem as NoteProblem: return ("无法读取：\(problem)", 2)
        case is FileSink.Closed: return ("", 0)  // the reader of the output went away
        case let error as LMDBError where error.code.meansDamage: return ("校验失败：存储文件已损坏（\(error)）", 3)
        case let error as LMDBError: return ("存储出错：\(error)", 4)
        case let error as CocoaError where error.code == .fileReadNoSuchFile:
            return ("无法读取文件 \((error.userInfo[NSFilePathErrorKey] as? String) ?? "")", 2)
        default:
            let code = Civic.exitCode(for: error)
            let status = code == .validationFailure ? 2 : code.rawValue
            let message = Civic.fullMessage(for: error)
            return (status == 0 ? message : inChinese(message), status)
        }
    }

    /// A usage error of swift-argument-parser as a clerk reads it: its frame (`Error:`, `Usage:`, `See …`)
    /// and its own messages for a word not understood, a value missing or not taken, in Chinese; our own
    /// messages inside it are Chinese already. The usage line itself is the command's syntax and stays.
    static func inChinese(_ message: String) -> String {
        message.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if line.hasPrefix("Error: ") { return "错误：" + reason(String(line.dropFirst("Error: ".count))) }
            if line.hasPrefix("Usage: ") { return "用法：" + line.dropFirst("Usage: ".count) }
            if line.hasPrefix("Help:  ") { return "说明：" + line.dropFirst("Help:  ".count) }
            if let command = between(line, "  See '", " --help' for more information.") { return "  详见 \(command) --help" }
            return String(line)
        }.joined(separator: "\n")
    }

    private static func reason(_ text: String) -> String {
        if let option = between(text, "Missing value for '", "'") { return "选项 \(option) 缺少取值" }
        if let argument = between(text, "Missing expected argument '", "'") { return "缺少参数 \(argument)" }
        if let option = between(text, "Unknown option '", "'") { return "没有选项 \(option)" }
        if text.hasPrefix("Unknown option '"), let cut = text.range(of: "'. Did you mean '"), text.hasSuffix("'?") {
            let option = text[text.index(text.startIndex, offsetBy: "Unknown option '".count)..<cut.lowerBound]
            let meant = text[cut.upperBound..<text.index(text.endIndex, offsetBy: -2)]
            return "没有选项 \(option)，是否要用 \(meant)？"
        }
        if let word = between(text, "Unexpected argument '", "'") { return "无法识别的参数“\(word)”（命令与选项见 civic help）" }
        if text.hasPrefix("The value '"), let cut = text.range(of: "' is invalid for '") {
            let value = text[text.index(text.startIndex, offsetBy: "The value '".count)..<cut.lowerBound]
            let rest = text[cut.upperBound...]
            if let end = rest.firstIndex(of: "'") {
                let tail = rest[rest.index(after: end)...]
                let why = tail.hasPrefix(": ") ? "：" + tail.dropFirst(2) : ""
                return "“\(value)”不是 \(rest[..<end]) 的有效取值\(why)"
            }
        }
        return text
    }

    /// The text between `start` and `end` when `text` is exactly start + it + end, with no `'` in it.
    private static func between(_ text: some StringProtocol, _ start: String, _ end: String) -> String? {
        guard text.hasPrefix(start), text.hasSuffix(end), text.count > start.count + end.count else { return nil }
        let inner = text.dropFirst(start.count).dropLast(end.count)
        return inner.contains("'") ? nil : String(inner)
    }
}

/// Derived data that does not match the log (the log itself holds).
struct DerivedFindings: Error, CustomStringConvertible {
    var verification: Verification
    var description: String {
        var lines = ["校验失败：日志完整（\(verification.head.seq) 个事件，链头 \(verification.head)），但派生数据与日志不符："]
        for damage in verification.derived.prefix(20) { lines.append("  \(damage.table) \(damage.key)：\(damage.problem)") }
        if verification.derived.count > 20 { lines.append("  ……另有 \(verification.derived.count - 20) 处") }
        lines.append("派生数据由日志推导，不影响已写入的事件：civic rebuild 由日志重建全部派生数据。")
        return lines.joined(separator: "\n")
    }
}

/// Evidence files missing or changed (the log itself holds: its line says so before this one).
struct EvidenceFindings: Error, CustomStringConvertible {
    var check: EvidenceStore.Check
    var description: String {
        var lines = ["校验失败：证据文件有误（日志本身完整，见上一行）："]
        for sha in check.changed.prefix(20) { lines.append("  已被改动：\(sha)（文件内容与其哈希不符）") }
        for sha in check.missing.prefix(20) { lines.append("  缺失：\(sha)（网上登记的事件引用了它，存储中没有）") }
        let more = max(0, check.changed.count - 20) + max(0, check.missing.count - 20)
        if more > 0 { lines.append("  ……另有 \(more) 处") }
        return lines.joined(separator: "\n")
    }
}

/// `--store DIR`, else `$CIVIC_STORE`, else `./civic-data`.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The store folder (default: $CIVIC_STORE, else ./civic-data).")
    var store: String?

    var path: String {
        store ?? ProcessInfo.processInfo.environment["CIVIC_STORE"].flatMap { $0.isEmpty ? nil : $0 } ?? "./civic-data"
    }

    /// Opens the store there.
    func open(_ access: StoreAccess = .readWrite, largeWrites: Bool = false, flushEvery: UInt64 = 10_000, fromLog: Bool = false) throws -> Ledger {
        try Ledger(path: path, access: access, flushEvery: flushEvery, largeWrites: largeWrites, fromLog: fromLog)
    }
}

/// `--from-log`, shared by every view: read no derived data (docs/views.md, "The projection: one fold of the log").
struct ReadOptions: ParsableArguments {
    @Flag(name: .customLong("from-log"),
          help: "Build the view from the log alone, reading no derived data (snapshots, records, links): for an inspector who trusts only the log. Slower: the view's prefix is folded, and the records it names from the whole log.")
    var fromLog = false

    /// The store of `store`, opened read-only, reading derived data unless `--from-log`.
    func open(_ store: StoreOptions) throws -> Ledger {
        try store.open(.readOnly, fromLog: fromLog)
    }
}

extension FileHandle {
    func write(_ text: String) { write(Data(text.utf8)) }
}

/// Reads a file, or standard input for `-`.
func readInput(_ path: String) throws -> [UInt8] {
    if path == "-" { return Array(FileHandle.standardInput.readDataToEndOfFile()) }
    guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("无法读取文件 \(path)") }
    return Array(data)
}

/// Sends what was printed on its way (standard output is a pipe under a test or a supervisor).
func flushOutput() { fflush(nil) }
