import Campaign
import EventLog
import Foundation

/// Who acts for the office when an account is enrolled, changed or revoked from the command line.
public struct OfficeActor: Sendable {
    public var actor: String
    public var unit: String
    public init(actor: String, unit: String) { self.actor = actor; self.unit = unit }
}

/// Why an account command cannot be done, in a clerk's words.
public struct AccountProblem: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension Ledger {
    /// Every account enrolled, as of the head: its actor id and what its latest event made it.
    /// (The records are read from the derived table `subjects` and what was appended since; an account's
    /// record begins with the number of its kind, so the others are passed over without decoding.)
    @available(*, noasync)
    public func accounts() throws -> [(id: String, account: Account)] {
        try withIndex { index, reader in
            var found: [String: Account] = [:]
            try reader.forEach(index.subjects) { key, value in
                if value.first == StreamKind.account.number, let account = try SubjectRecord(stored: value).account {
                    found[String(decoding: key, as: UTF8.self)] = account
                }
                return true
            }
            for (subject, record) in index.tail { if let account = record.account { found[subject] = account } }
            return found.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map { ($0.key, $0.value) }
        }
    }

    /// The account of `actor` as of the head, or nil when it has none.
    @available(*, noasync)
    public func account(_ actor: String) throws -> Account? { try record(of: actor)?.account }

    /// The tokens of this store's accounts (`credentials/` in its folder): one environment for the
    /// process, opened at the first call (LMDB forbids opening the same one twice in a process).
    public func credentials() throws -> Credentials {
        try credentialsOnce.value { try Credentials(store: path) }
    }

    /// Who acts for the office: `given`, else the first enrolled office account, else (the first account
    /// of a store) the office account being enrolled, which then enrolls itself.
    @available(*, noasync)
    public func officeActor(_ given: OfficeActor?, enrolling id: String? = nil, as role: Role? = nil, unit: String? = nil) throws -> OfficeActor {
        if let given { return given }
        if let office = try accounts().first(where: { $0.account.role == .office && !$0.account.revoked }), let unit = office.account.unit {
            return OfficeActor(actor: office.id, unit: unit)
        }
        if let id, role == .office, let unit { return OfficeActor(actor: id, unit: unit) }
        throw AccountProblem("尚无创文办账号：请先开通一个创文办(office)账号，或用 --actor 与 --actor-unit 写明经办人")
    }

    /// Enrolls an account (`account.enrolled`, recorded by `recordedBy`) and gives it a token.
    /// - Returns: the token, to be shown once; only its hash is kept, outside the log.
    /// - Throws: `AppendRefused` when the rules refuse it (enrolled already, a unit not registered...).
    @available(*, noasync)
    public func enroll(_ id: String, name: String, role: Role, unit: String?, by office: OfficeActor, recordedBy: String) throws -> String {
        try appendAccountEvent(id, .accountEnrolled(AccountEnrollment(name: name, role: role, unit: unit)), by: office, recordedBy: recordedBy)
        return try credentials().issue(for: id, now: clock().micros)
    }

    /// A new token for an enrolled, unrevoked account; the one it had stops working at once.
    @available(*, noasync)
    public func issueToken(for id: String) throws -> String {
        guard let account = try account(id) else { throw AccountProblem("账号 \(id) 未开通：请先用 civic account add 开通") }
        if account.revoked { throw AccountProblem("账号 \(id)（\(account.name)）已停用，不能再发令牌") }
        return try credentials().issue(for: id, now: clock().micros)
    }

    /// Changes an account's role or unit (`account.changed`).
    @available(*, noasync)
    public func changeAccount(_ id: String, role: Role?, unit: String?, by office: OfficeActor, recordedBy: String) throws {
        try appendAccountEvent(id, .accountChanged(AccountChange(role: role, unit: unit)), by: office, recordedBy: recordedBy)
    }

    /// Revokes an account (`account.revoked`) and takes its token away.
    @available(*, noasync)
    public func revokeAccount(_ id: String, reason: String, by office: OfficeActor, recordedBy: String) throws {
        try appendAccountEvent(id, .accountRevoked(reason: reason), by: office, recordedBy: recordedBy)
        try credentials().withdraw(from: id)
    }

    @available(*, noasync)
    private func appendAccountEvent(_ id: String, _ data: EventData, by office: OfficeActor, recordedBy: String) throws {
        let now = clock()
        let event = Event(id: "acct-\(now.micros)-\(UInt32.random(in: 0...UInt32.max))", source: "civic/account", subject: id,
                          time: now.inOffset(Timestamp.chinaOffset), actor: office.actor, role: .office, actorUnit: office.unit, data: data)
        _ = try append([Incoming(line: 1, event: event)], recordedBy: recordedBy)
    }
}

/// A value made once, at the first call that needs it, then shared.
final class Once<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var made: Value?
    func value(_ make: () throws -> Value) throws -> Value {
        try lock.withLock {
            if let made { return made }
            let value = try make()
            made = value
            return value
        }
    }
}

extension Ledger {
    static let weekEndFact = "office.week-ends"

    /// The weekday the office's week ends on (0 Monday … 6 Sunday, the default): a store setting
    /// (docs/views.md, "Ranking"), kept in the store's meta table, not in the log.
    @available(*, noasync)
    public func weekEnds() throws -> Int {
        guard let bytes = try log.read({ try $0.fact(Self.weekEndFact) }), bytes.count == 1, bytes[0] < 7 else { return Week.sunday }
        return Int(bytes[0])
    }

    /// Sets the weekday the office's week ends on. Views of weeks (the ranking, the bulletin) follow it at once;
    /// the weekly counts are kept per day, so nothing is rebuilt.
    @available(*, noasync)
    public func setWeekEnds(_ weekday: Int) throws {
        precondition((0..<7).contains(weekday))
        try log.write { writer in
            try writer.setFact(Self.weekEndFact, [UInt8(weekday)])
            return .commit(())
        }
    }

    /// The office's week named as `week` is named: the one ending on the office's day within that ISO week.
    @available(*, noasync)
    public func officeWeek(_ week: Week) throws -> Week {
        let ends = try weekEnds()
        return ends == Week.sunday ? week : Week(first: Week.isoMonday(week.last) + Int64(ends) - 6)
    }
}
