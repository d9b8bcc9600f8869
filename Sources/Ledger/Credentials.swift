import Crypto
import Foundation
import LMDB
import Wire

/// The accounts' tokens, kept outside the log (docs/accounts.md): a small LMDB environment of its own in
/// the store's folder (`credentials/`), holding for each account only the SHA-256 of its token and when
/// it was last used. The log and its exports never hold anything of a token, so nothing in them lets
/// anyone test a guess of one; a stolen copy of this folder gives hashes of 256-bit random tokens, which
/// cannot be guessed back.
///
/// Who an account is (its role, its unit, whether it is revoked) is the log's business, not this one's:
/// a token found here names an actor id, and the rules then ask the log about that actor.
public final class Credentials: @unchecked Sendable {
    private let environment: Environment
    /// SHA-256 of a token → the actor id it signs in as.
    private let byHash: Database
    /// Actor id → the hash of its current token, and when it was issued and last used.
    private let byAccount: Database

    /// The folder inside a store's folder that holds the credentials.
    public static func folder(ofStore path: String) -> String { path + "/credentials" }

    /// Opens (creating when `create`) the credentials of the store in folder `store`.
    /// - Throws: `LMDBError` (`.noSuchFile` when there are none and `create` is false).
    public init(store: String, create: Bool = true) throws {
        environment = try Environment(path: Self.folder(ofStore: store), mapSize: 1 << 20, maximumMapSize: 1 << 30,
                                      maxDatabases: 2, create: create)
        byHash = try environment.database("token-hashes", create: true)
        byAccount = try environment.database("accounts", create: true)
    }

    /// A new token: 32 random bytes from the system's generator, as base64url after `civic_`.
    public static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let base64 = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return "civic_" + base64
    }

    static func hash(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Array(token.utf8))) }

    /// Gives `account` a new token, replacing the one it had (which stops working at once).
    /// - Returns: the token, to be shown once: only its hash is kept.
    @available(*, noasync)
    public func issue(for account: String, now: Int64) throws -> String {
        let token = Self.newToken()
        let hash = Self.hash(token)
        try environment.write { txn in
            var lastUsed: Int64 = 0
            if let old = try txn.get(byAccount, key: Array(account.utf8)), let stored = Stored(old) {
                if stored.hash != Stored.noToken { try txn.delete(byHash, key: stored.hash) }
                lastUsed = stored.lastUsed  // the account's, kept across tokens
            }
            try txn.put(byHash, key: hash, value: Array(account.utf8))
            try txn.put(byAccount, key: Array(account.utf8), value: Stored(hash: hash, issued: now, lastUsed: lastUsed).bytes)
        }
        return token
    }

    /// Takes away the token of `account`, if it has one.
    @available(*, noasync)
    public func withdraw(from account: String) throws {
        try environment.write { txn in
            if let old = try txn.get(byAccount, key: Array(account.utf8)), var stored = Stored(old) {
                try txn.delete(byHash, key: stored.hash)
                stored.hash = Stored.noToken  // when it was last used is kept
                try txn.put(byAccount, key: Array(account.utf8), value: stored.bytes)
            }
        }
    }

    /// The account `token` signs in as, or nil. The token is looked up by its hash, and the hash found is
    /// compared with it in constant time: how long this takes says nothing of how close a guess was.
    @available(*, noasync)
    public func account(signingInWith token: String) throws -> String? {
        guard token.utf8.count <= 128 else { return nil }
        let hash = Self.hash(token)
        return try environment.read { txn -> String? in
            guard let id = try txn.get(byHash, key: hash),
                  let stored = try txn.get(byAccount, key: id).flatMap(Stored.init),
                  Self.sameInConstantTime(stored.hash, hash) else { return nil }
            return String(decoding: id, as: UTF8.self)
        }
    }

    /// Notes when these accounts signed in last (µs; one write for many sign-ins).
    @available(*, noasync)
    public func noteUse(_ uses: [String: Int64]) throws {
        try environment.write { txn in
            for (account, at) in uses {
                guard var stored = try txn.get(byAccount, key: Array(account.utf8)).flatMap(Stored.init) else { continue }
                stored.lastUsed = max(stored.lastUsed, at)
                try txn.put(byAccount, key: Array(account.utf8), value: stored.bytes)
            }
        }
    }

    /// What is kept of each account: whether it has a token, when that was issued and when the account
    /// last signed in (0: never), by actor id.
    @available(*, noasync)
    public func issued() throws -> [String: (hasToken: Bool, issued: Int64, lastUsed: Int64)] {
        try environment.read { txn in
            var found: [String: (hasToken: Bool, issued: Int64, lastUsed: Int64)] = [:]
            try txn.forEach(byAccount) { key, value in
                if let stored = Stored(Array(value)) {
                    found[String(decoding: key, as: UTF8.self)] = (stored.hash != Stored.noToken, stored.issued, stored.lastUsed)
                }
                return true
            }
            return found
        }
    }

    /// Whether `a` and `b` are the same bytes, in a time that depends on their length only.
    public static func sameInConstantTime(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    /// One account's entry: the token's hash (32 bytes), then when it was issued and last used (µs, big-endian).
    private struct Stored {
        /// The hash kept when an account has no token (no token hashes to it).
        static let noToken = [UInt8](repeating: 0, count: 32)
        var hash: [UInt8]
        var issued: Int64
        var lastUsed: Int64

        init(hash: [UInt8], issued: Int64, lastUsed: Int64) { self.hash = hash; self.issued = issued; self.lastUsed = lastUsed }

        init?(_ bytes: [UInt8]) {
            guard bytes.count == 48 else { return nil }
            hash = Array(bytes[0..<32])
            issued = Int64(bitPattern: bytes[32..<40].withUnsafeBytes { UInt64(bigEndianBytes: $0) })
            lastUsed = Int64(bitPattern: bytes[40..<48].withUnsafeBytes { UInt64(bigEndianBytes: $0) })
        }

        var bytes: [UInt8] { hash + UInt64(bitPattern: issued).bigEndianBytes + UInt64(bitPattern: lastUsed).bigEndianBytes }
    }
}
