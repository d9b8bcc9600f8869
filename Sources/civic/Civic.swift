import ArgumentParser
import Campaign
import EventLog
import Foundation
import LMDB
import Ledger

@main
struct Civic: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "civic",
        abstract: "创文问题台账：不可篡改的整改事件日志，随时重建任一时刻的台账、清零进度与审计轨迹。",
        discussion: """
        The rectification ledger of civilized-city campaigns: an append-only, hash-chained event log in LMDB.
        Exit status: 0 success, 1 a rule refused the input, 2 usage error (or no store), 3 verify found damage,
        4 the store itself failed (disk full, permissions).
        """,
        subcommands: [Init.self, Append.self, Import.self, Board.self, Progress.self, Ranking.self, Audit.self, Export.self, Verify.self, CheckpointsCommand.self, Head.self, Stats.self, Serve.self, DemoCommand.self]
    )

    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let refused as AppendRefused {
            FileHandle.standardError.write(refused.description + "\n")
            Foundation.exit(1)
        } catch let damage as LogDamage {
            FileHandle.standardError.write("校验失败：\(damage)\n")
            Foundation.exit(3)
        } catch let failure as StoreFailure {
            FileHandle.standardError.write(failure.message + "\n")
            Foundation.exit(failure.status)
        } catch let error as LMDBError where error.code.meansDamage {
            FileHandle.standardError.write("校验失败：存储文件已损坏（\(error)）\n")
            Foundation.exit(3)
        } catch let error as LMDBError {
            FileHandle.standardError.write("存储出错：\(error)\n")
            Foundation.exit(4)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            FileHandle.standardError.write(fullMessage(for: error) + "\n")
            Foundation.exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}

/// A failure to report with its own exit status.
struct StoreFailure: Error {
    var message: String
    var status: Int32
}

/// `--store DIR`, else `$CIVIC_STORE`, else `./civic-data`.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The store folder (default: $CIVIC_STORE, else ./civic-data).")
    var store: String?

    var path: String {
        store ?? ProcessInfo.processInfo.environment["CIVIC_STORE"].flatMap { $0.isEmpty ? nil : $0 } ?? "./civic-data"
    }

    /// Opens the existing store.
    func open(readOnly: Bool = false) throws -> Ledger {
        guard FileManager.default.fileExists(atPath: path + "/data.mdb") else {
            throw StoreFailure(message: "没有找到存储 \(path)：请先运行 civic init（或用 --store 指定存储目录）", status: 2)
        }
        do {
            return try Ledger(path: path, readOnly: readOnly)
        } catch let error as LMDBError where error.code == .notFound {
            throw StoreFailure(message: "\(path) 不是 civic 存储（缺少 log 数据库）", status: 2)
        }
    }
}

extension FileHandle {
    func write(_ text: String) { write(Data(text.utf8)) }
}

/// Reads a file, or standard input for `-`.
func readInput(_ path: String) throws -> [UInt8] {
    if path == "-" { return Array(FileHandle.standardInput.readDataToEndOfFile()) }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ValidationError("无法读取文件 \(path)")
    }
    return Array(data)
}

/// Parses a moment given on the command line: RFC 3339, or `2022-08-26 18:00` taken in UTC+8.
func parseMoment(_ text: String, option: String) throws -> Timestamp {
    guard let t = Timestamp(local: text) else {
        throw ValidationError("\(option) “\(text)” 不是时间：写作 2022-08-26T18:00:00+08:00 或 \"2022-08-26 18:00\"（按北京时间）")
    }
    return t
}

/// Parses `--as-of`: `seq:N`, or a moment.
func parseAsOf(_ text: String?) throws -> AsOf {
    guard let text else { return .all }
    if text.hasPrefix("seq:") {
        guard let n = UInt64(text.dropFirst(4)) else { throw ValidationError("--as-of “\(text)”：seq: 后须为非负整数") }
        return .seq(n)
    }
    return .time(try parseMoment(text, option: "--as-of"))
}
