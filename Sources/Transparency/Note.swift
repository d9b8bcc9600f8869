import Crypto
import Foundation

/// Why a note, key or checkpoint is not taken, in words an inspector reads.
public struct NoteProblem: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A C2SP signed-note key: its name, its 4-byte hash, its type (0x01 Ed25519 note signatures, 0x04
/// Ed25519 cosignatures) and public key. Written `name+hash+base64(type ‖ key)` (the verifier key).
public struct VerifierKey: Equatable, Sendable, CustomStringConvertible {
    public static let ed25519: UInt8 = 0x01
    public static let cosignatureV1: UInt8 = 0x04

    public let name: String
    public let type: UInt8
    public let publicKey: [UInt8]
    public var keyHash: UInt32 { Self.keyHash(name: name, type: type, publicKey: publicKey) }

    public init(name: String, type: UInt8, publicKey: [UInt8]) throws(NoteProblem) {
        guard Self.isName(name) else { throw NoteProblem("密钥名称“\(name)”不合规：不能为空，不能含空格、加号或换行") }
        guard publicKey.count == 32 else { throw NoteProblem("Ed25519 公钥须为 32 字节") }
        self.name = name; self.type = type; self.publicKey = publicKey
    }

    /// Reads `name+hash+base64(type ‖ key)`, checking the hash.
    public init(parsing text: String) throws(NoteProblem) {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1].count == 8, let hash = UInt32(parts[1], radix: 16),
              let raw = Data(base64Encoded: String(parts[2])), raw.count == 33 else {
            throw NoteProblem("验证密钥“\(text)”的格式不对：应为 名称+8位十六进制+base64")
        }
        try self.init(name: String(parts[0]), type: raw.first!, publicKey: Array(raw.dropFirst()))
        guard type == Self.ed25519 || type == Self.cosignatureV1 else { throw NoteProblem("验证密钥的算法 0x\(String(type, radix: 16)) 不受支持（只支持 Ed25519）") }
        guard hash == keyHash else { throw NoteProblem("验证密钥“\(name)”的哈希与公钥不符") }
    }

    public var description: String {
        "\(name)+\(String(format: "%08x", keyHash))+\(Data([type] + publicKey).base64EncodedString())"
    }

    static func keyHash(name: String, type: UInt8, publicKey: [UInt8]) -> UInt32 {
        let digest = Array(SHA256.hash(data: Array(name.utf8) + [0x0A, type] + publicKey))
        return UInt32(digest[0]) << 24 | UInt32(digest[1]) << 16 | UInt32(digest[2]) << 8 | UInt32(digest[3])
    }

    static func isName(_ name: String) -> Bool {
        !name.isEmpty && !name.unicodeScalars.contains { $0 == "+" || $0.properties.isWhitespace || $0.value < 0x20 }
    }

    /// Whether `signature` over `message` is this key's.
    func isValid(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
        return key.isValidSignature(signature, for: message)
    }
}

/// A signing key: an Ed25519 seed and the name it signs under. Written as Go's note package writes a
/// private key, `PRIVATE+KEY+name+hash+base64(0x01 ‖ seed)`.
public struct SignerKey: Sendable {
    public let name: String
    /// The Ed25519 seed (the key is made from it when it signs).
    let seed: [UInt8]
    private var key: Curve25519.Signing.PrivateKey { try! Curve25519.Signing.PrivateKey(rawRepresentation: seed) }

    public init(name: String, seed: [UInt8]) throws(NoteProblem) {
        guard VerifierKey.isName(name) else { throw NoteProblem("密钥名称“\(name)”不合规：不能为空，不能含空格、加号或换行") }
        guard seed.count == 32, (try? Curve25519.Signing.PrivateKey(rawRepresentation: seed)) != nil else {
            throw NoteProblem("私钥须为 32 字节的 Ed25519 种子")
        }
        self.name = name; self.seed = seed
    }

    /// A new key from the system's generator.
    public static func generate(name: String) throws(NoteProblem) -> SignerKey {
        var generator = SystemRandomNumberGenerator()
        return try SignerKey(name: name, seed: (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    public init(parsing text: String) throws(NoteProblem) {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "+", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "PRIVATE", parts[1] == "KEY", let raw = Data(base64Encoded: String(parts[4])),
              raw.count == 33, raw.first == VerifierKey.ed25519 else {
            throw NoteProblem("私钥文件的格式不对：应为 PRIVATE+KEY+名称+哈希+base64")
        }
        try self.init(name: String(parts[2]), seed: Array(raw.dropFirst()))
        guard UInt32(parts[3], radix: 16) == verifier.keyHash else { throw NoteProblem("私钥文件中的哈希与密钥不符") }
    }

    /// The private key's text (keep it secret: 0600, outside the store).
    public var text: String {
        "PRIVATE+KEY+\(name)+\(String(format: "%08x", verifier.keyHash))+\(Data([VerifierKey.ed25519] + seed).base64EncodedString())"
    }

    /// The verifier key of its note signatures.
    public var verifier: VerifierKey {
        // The name was checked and the key is 32 bytes.
        try! VerifierKey(name: name, type: VerifierKey.ed25519, publicKey: Array(key.publicKey.rawRepresentation))
    }

    /// The verifier key of its cosignatures (as a witness).
    public var cosignatureVerifier: VerifierKey {
        try! VerifierKey(name: name, type: VerifierKey.cosignatureV1, publicKey: Array(key.publicKey.rawRepresentation))
    }

    func sign(_ message: [UInt8]) -> [UInt8] {
        // Ed25519 is deterministic; a failure here would be a broken library.
        Array(try! key.signature(for: message))
    }
}

/// A C2SP signed note: a text of lines (ending in a newline), a blank line, and signature lines
/// `— name base64(keyhash ‖ signature)`.
public struct SignedNote: Equatable, Sendable {
    public struct Signature: Equatable, Sendable {
        public let name: String
        public let keyHash: UInt32
        /// What follows the key hash: the signature (for a cosignature, its timestamp first).
        public let payload: [UInt8]
        public var line: String {
            let hash = [UInt8(keyHash >> 24), UInt8(keyHash >> 16 & 0xFF), UInt8(keyHash >> 8 & 0xFF), UInt8(keyHash & 0xFF)]
            return "— \(name) \(Data(hash + payload).base64EncodedString())\n"
        }
    }

    public let text: String
    public var signatures: [Signature]

    public init(text: String, signatures: [Signature] = []) { self.text = text; self.signatures = signatures }

    /// Reads a note; its signatures are not checked here (`verify`).
    public init(parsing note: String) throws(NoteProblem) {
        guard note.utf8.count <= 1 << 20, !note.contains("\r"), note.hasSuffix("\n") else {
            throw NoteProblem("签名文本的格式不对：须以换行结尾，不能含回车，不超过 1 MB")
        }
        guard let split = note.range(of: "\n\n", options: .backwards) else { throw NoteProblem("签名文本缺少正文与签名之间的空行") }
        text = String(note[..<split.lowerBound]) + "\n"
        var signatures: [Signature] = []
        for line in note[split.upperBound...].split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            guard line.hasPrefix("— ") else { throw NoteProblem("签名行“\(line)”不以 “— ” 开头") }
            let fields = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 2, let raw = Data(base64Encoded: String(fields[1])), raw.count >= 5 else {
                throw NoteProblem("签名行“\(line)”的格式不对")
            }
            let bytes = Array(raw)
            signatures.append(Signature(name: String(fields[0]),
                                        keyHash: UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3]),
                                        payload: Array(bytes.dropFirst(4))))
        }
        guard !signatures.isEmpty else { throw NoteProblem("签名文本没有签名") }
        guard text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().allSatisfy({ !$0.isEmpty }) else {
            throw NoteProblem("签名文本的正文中有空行")
        }
        self.signatures = signatures
    }

    /// The note written out.
    public var rendered: String { text + "\n" + signatures.map(\.line).joined() }

    /// The note signed by `key` (its signature added after those it has).
    public func signed(by key: SignerKey) -> SignedNote {
        var note = self
        note.signatures.append(Signature(name: key.name, keyHash: key.verifier.keyHash, payload: key.sign(Array(text.utf8))))
        return note
    }

    /// Whether `key` signed it (a signature by its name and hash that verifies).
    public func isSigned(by key: VerifierKey) -> Bool {
        signatures.contains { $0.name == key.name && $0.keyHash == key.keyHash && $0.payload.count == 64
            && key.type == VerifierKey.ed25519 && key.isValid($0.payload, for: Array(text.utf8)) }
    }
}

/// A C2SP tlog-checkpoint: the origin of a log, a tree size and its root.
public struct Checkpoint: Equatable, Sendable {
    public let origin: String
    public let size: UInt64
    public let root: [UInt8]

    public init(origin: String, size: UInt64, root: [UInt8]) { self.origin = origin; self.size = size; self.root = root }

    /// The note text: `origin\nsize\nbase64(root)\n`.
    public var text: String { "\(origin)\n\(size)\n\(Data(root).base64EncodedString())\n" }

    public init(text: String) throws(NoteProblem) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 4, lines.last == "", !lines[0].isEmpty,
              let size = UInt64(lines[1]), String(size) == lines[1],
              let root = Data(base64Encoded: String(lines[2])), root.count == 32 else {
            throw NoteProblem("检查点的格式不对：应为 来源\\n大小\\nbase64 树根\\n")
        }
        self.init(origin: String(lines[0]), size: size, root: Array(root))
    }

    /// The cosignature/v1 message a witness signs for it at `time` (seconds since 1970).
    public func cosignedMessage(at time: UInt64) -> [UInt8] {
        Array("cosignature/v1\ntime \(time)\n".utf8) + Array(text.utf8)
    }
}

extension SignedNote {
    /// The note cosigned (C2SP tlog-cosignature, cosignature/v1) by a witness's `key` at `time`.
    public func cosigned(by key: SignerKey, at time: UInt64) throws(NoteProblem) -> (note: SignedNote, line: Signature) {
        let checkpoint = try Checkpoint(text: text)
        let stamp = (0..<8).map { UInt8(time >> (56 - 8 * UInt64($0)) & 0xFF) }
        let signature = Signature(name: key.name, keyHash: key.cosignatureVerifier.keyHash,
                                  payload: stamp + key.sign(checkpoint.cosignedMessage(at: time)))
        var note = self
        note.signatures.append(signature)
        return (note, signature)
    }

    /// The time of a cosignature by `key` that verifies, or nil.
    public func cosignatureTime(by key: VerifierKey) -> UInt64? {
        guard key.type == VerifierKey.cosignatureV1, let checkpoint = try? Checkpoint(text: text) else { return nil }
        for s in signatures where s.name == key.name && s.keyHash == key.keyHash && s.payload.count == 72 {
            let time = s.payload.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            if key.isValid(Array(s.payload.dropFirst(8)), for: checkpoint.cosignedMessage(at: time)) { return time }
        }
        return nil
    }
}
