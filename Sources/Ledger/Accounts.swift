import Campaign
import EventLog

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
}
