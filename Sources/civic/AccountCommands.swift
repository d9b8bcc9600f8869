import ArgumentParser
import Campaign
import Foundation
import JSON
import Ledger
import Reports

/// `civic account add|token|change|list|revoke` (docs/accounts.md).
struct AccountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account",
        abstract: "Accounts: who may write over HTTP, as whom. Enrolments are events in the log; tokens are kept apart, hashed.",
        subcommands: [Add.self, Token.self, Change.self, List.self, Revoke.self])

    /// Who acts for the office (default: the first office account; the first office account enrolls itself).
    struct Office: ParsableArguments {
        @Option(help: "The office actor who enrolls, changes or revokes (default: the first office account).")
        var actor: String?
        @Option(name: .customLong("actor-unit"), help: "That actor's unit id.")
        var actorUnit: String?

        func validate() throws {
            if (actor == nil) != (actorUnit == nil) { throw ValidationError("--actor 与 --actor-unit 须同时写明") }
        }

        var given: OfficeActor? { actor.flatMap { a in actorUnit.map { OfficeActor(actor: a, unit: $0) } } }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Enroll an account and print its token, once.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The actor id the account acts as, e.g. unit/hw-wang.") var id: String
        @Option(help: "The person's name.") var name: String
        @Option(help: "inspector, office, unit, discipline or auditor.") var role: Role
        @Option(help: "The person's unit id (required but for discipline and auditor).") var unit: String?
        @OptionGroup var office: Office

        func run() throws {
            let ledger = try store.open()
            let by = try ledger.officeActor(office.given, enrolling: id, as: role, unit: unit)
            let token = try ledger.enroll(id, name: name, role: role, unit: unit, by: by, recordedBy: Ledger.localRecorder)
            print("已开通账号 \(id)（\(name)，\(role.label)\(unit.map { "，\($0)" } ?? "")），经办人 \(by.actor)")
            printToken(token)
        }
    }

    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "token", abstract: "Give an account a new token (the old one stops working) and print it, once.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The account's actor id.") var id: String

        func run() throws {
            let token = try store.open().issueToken(for: id)
            print("已为账号 \(id) 换发令牌，原令牌即时作废")
            printToken(token)
        }
    }

    struct Change: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "change", abstract: "Change an account's role or unit.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The account's actor id.") var id: String
        @Option(help: "Its new role.") var role: Role?
        @Option(help: "Its new unit id.") var unit: String?
        @OptionGroup var office: Office

        func validate() throws {
            if role == nil && unit == nil { throw ValidationError("请写明 --role 或 --unit") }
        }

        func run() throws {
            let ledger = try store.open()
            try ledger.changeAccount(id, role: role, unit: unit, by: try ledger.officeActor(office.given), recordedBy: Ledger.localRecorder)
            print("已变更账号 \(id)")
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke an account: it writes nothing more, and its token stops working.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The account's actor id.") var id: String
        @Option(help: "Why (recorded in the log).") var reason: String
        @OptionGroup var office: Office

        func run() throws {
            let ledger = try store.open()
            try ledger.revokeAccount(id, reason: reason, by: try ledger.officeActor(office.given), recordedBy: Ledger.localRecorder)
            print("已停用账号 \(id)，其令牌即时作废")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List accounts: role, unit, whether revoked, when each last signed in.")
        @OptionGroup var store: StoreOptions
        @Option(help: "table (Chinese, default) or json.") var format: OutputFormat = .table

        func validate() throws {
            guard format != .csv else { throw ValidationError("account list 只有 table 和 json 两种格式") }
        }

        func run() throws {
            let ledger = try store.open(.readOnly)
            let accounts = try ledger.accounts()
            let tokens = (try? Credentials(store: store.path, create: false).issued()) ?? [:]
            func time(_ micros: Int64?) -> String? {
                micros.flatMap { $0 > 0 ? Timestamp(micros: $0 / 1_000_000 * 1_000_000).inOffset(Timestamp.chinaOffset).rfc3339 : nil }
            }
            if format == .json {
                print(JSONText.render(.array(accounts.map { id, a in
                    var members: [(key: String, value: JSONValue)] = [("id", .string(id)), ("name", .string(a.name)), ("role", .string(a.role.rawValue))]
                    if let unit = a.unit { members.append(("unit", .string(unit))) }
                    members.append(("revoked", .bool(a.revoked)))
                    members.append(("token", .bool(tokens[id]?.hasToken == true)))
                    if let used = time(tokens[id]?.lastUsed) { members.append(("lastUsed", .string(used))) }
                    return .object(members)
                })))
                return
            }
            guard !accounts.isEmpty else { print("尚无账号：用 civic account add 开通"); return }
            print("共 \(accounts.count) 个账号")
            var rows: [[String]] = [["账号", "姓名", "角色", "单位", "状态", "最近使用"]]
            for (id, a) in accounts {
                let status = a.revoked ? "已停用" : tokens[id]?.hasToken == true ? "有效" : "无令牌"
                let used = (tokens[id]?.lastUsed).flatMap { $0 > 0 ? Timestamp(micros: $0).chineseMinute : nil } ?? "从未使用"
                rows.append([id, a.name, a.role.label, a.unit ?? "—", status, used])
            }
            let widths = rows[0].indices.map { k in rows.map { Render.width($0[k]) }.max()! }
            for row in rows {
                print(row.indices.map { k in row[k] + String(repeating: " ", count: widths[k] - Render.width(row[k])) }
                    .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
            }
        }
    }
}

private func printToken(_ token: String) {
    print("令牌（只显示这一次，本系统只保存其哈希；请当面或加密转交本人）：")
    print(token)
}
