import Campaign
import Crypto
import Foundation
import Testing
@testable import Ledger

@Suite("Accounts in the store, tokens outside the log, group commit, identifiers people can trust")
struct AccountLedgerTests {
    static let office = OfficeActor(actor: "office/li", unit: "U-office")

    /// A store with the shared campaign's units and one unit account enrolled.
    static func enrolled() throws -> (TemporaryStore, Ledger, String) {
        let store = TemporaryStore()
        let ledger = try store.open()
        _ = try ledger.append(try hengkouSetup())
        let token = try ledger.enroll("unit/hw-wang", name: "王海文", role: .unit, unit: "U-cgzf", by: office, recordedBy: "local:test")
        return (store, ledger, token)
    }

    @Test("a token signs in as its account; only its hash is kept, in no byte of the log, its exports or the derived data")
    func tokens() throws {
        let (store, ledger, token) = try Self.enrolled()
        let credentials = try ledger.credentials()
        #expect(try credentials.account(signingInWith: token) == "unit/hw-wang")
        #expect(try credentials.account(signingInWith: token + "x") == nil)
        let data = Array(try Data(contentsOf: URL(fileURLWithPath: store.path + "/data.mdb")))
        let hash = Array(SHA256.hash(data: Array(token.utf8)))
        #expect(!data.contains(subsequence: Array(token.utf8)))
        #expect(!data.contains(subsequence: hash))
        #expect(!data.contains(subsequence: Array(hash.hex.utf8)))
        // A new token replaces the old one at once; revoking takes it away.
        let second = try ledger.issueToken(for: "unit/hw-wang")
        #expect(try credentials.account(signingInWith: token) == nil)
        #expect(try credentials.account(signingInWith: second) == "unit/hw-wang")
        try ledger.revokeAccount("unit/hw-wang", reason: "调离", by: Self.office, recordedBy: "local:test")
        #expect(try credentials.account(signingInWith: second) == nil)
        #expect(throws: AccountProblem.self) { try ledger.issueToken(for: "unit/hw-wang") }
    }

    @Test("accounts are read back by a new process as their latest event left them, names included")
    func accountsReadBack() throws {
        let (store, ledger, _) = try Self.enrolled()
        try ledger.changeAccount("unit/hw-wang", role: nil, unit: "U-hw", by: Self.office, recordedBy: "local:test")
        let again = try store.open()
        let accounts = try again.accounts()
        #expect(accounts.map(\.id) == ["unit/hw-wang"])
        #expect(accounts.first?.account == Account(name: "王海文", role: .unit, unit: "U-hw"))
        try again.rebuildDerived()
        #expect(try store.open().accounts().first?.account.name == "王海文")
    }

    @Test("a group commit keeps each request all or nothing: a refused one leaves no trace, a later one sees an earlier one")
    func group() throws {
        let store = TemporaryStore()
        let ledger = try store.open()
        _ = try ledger.append(try hengkouSetup())
        let before = try ledger.head().seq
        let report = line("r-1", "problem.reported", "P-G1", "2022-08-19T16:00:00+08:00",
                          #"{"source":"inspection","category":"sanitation","description":"垃圾","location":{"area":"恒口"}}"#)
        let assign = line("a-1", "problem.assigned", "P-G1", "2022-08-19T17:00:00+08:00",
                          #"{"unit":"U-cgzf","deadline":"2022-08-26T18:00:00+08:00"}"#)
        let bad = line("a-2", "problem.assigned", "P-none", "2022-08-19T17:00:00+08:00",
                       #"{"unit":"U-cgzf","deadline":"2022-08-26T18:00:00+08:00"}"#)
        let results = try ledger.append(group: [
            (try events(report), "office/li"),
            (try events(report.replacingOccurrences(of: "r-1", with: "r-2").replacingOccurrences(of: "P-G1", with: "P-G2") + "\n" + bad), "office/li"),
            (try events(assign), "office/li"),
        ])
        #expect((try? results[0].get())?.appended.map(\.seq) == [before + 1])
        #expect((try? results[1].get()) == nil)
        #expect((try? results[2].get())?.appended.map(\.seq) == [before + 2])
        #expect(try ledger.head().seq == before + 2)
        #expect(try ledger.record(of: "P-G2") == nil)
        #expect(try ledger.record(of: "P-G1")?.problem?.status == .assigned)
        // The refused request's ids were not kept: it can be sent again, corrected.
        _ = try ledger.append(try events(report.replacingOccurrences(of: "r-1", with: "r-2").replacingOccurrences(of: "P-G1", with: "P-G2")))
        _ = try ledger.verify()
    }

    @Test("ids, actors and unit names must be NFC and hold nothing unseen: each look-alike refused, nothing stored",
          arguments: [
            ("P-cafe\u{301}", "subject"),           // NFD: e + combining acute
            ("P-T-1\u{200B}", "subject"),           // a zero-width space
            ("P-T-1\u{FEFF}", "subject"),           // a byte-order mark
            ("office/a\u{202E}live", "actor"),      // a right-to-left override
            ("P-T\u{7}", "subject"),                // a control character
          ])
    func lookAlikes(_ text: String, _ field: String) throws {
        let store = TemporaryStore()
        let ledger = try store.open()
        _ = try ledger.append(try hengkouSetup())
        let before = try ledger.head()
        let subject = field == "subject" ? text : "P-T-2"
        let actor = field == "actor" ? text : "office/li"
        let event = Event(id: "look-1", source: "/test", subject: subject, time: Timestamp(rfc3339: "2022-08-19T16:00:00+08:00")!,
                          actor: actor, role: .office, actorUnit: "U-office",
                          data: .problemReported(ProblemReport(source: .inspection, category: .sanitation, description: "x",
                                                               location: Location(area: "恒口"))))
        let refused = #expect(throws: AppendRefused.self) { try ledger.append([Incoming(line: 1, event: event)], recordedBy: "local:test") }
        #expect(refused?.refusals.first?.refusal.rule == .malformed)
        #expect(refused?.refusals.first?.refusal.message.contains(field) == true, "\(refused?.description ?? "")")
        // The whole line of the refusal shows no unseen character as such: the subject is written with its codes.
        let told = refused?.refusals.first?.description ?? ""
        #expect(!told.unicodeScalars.contains { [0x200B, 0xFEFF, 0x202E, 0x07].contains($0.value) }, "\(told.debugDescription)")
        #expect(try ledger.head() == before)
        // The same text in NFC, with nothing unseen, is taken.
        let fine = Event(id: "look-2", source: "/test", subject: "P-café", time: event.time, actor: "office/li", role: .office,
                         actorUnit: "U-office", data: event.data)
        _ = try ledger.append([Incoming(line: 1, event: fine)], recordedBy: "local:test")
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return false }
        let first = needle[0]
        var i = 0
        while i + needle.count <= count {
            if self[i] == first && self[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }
}
