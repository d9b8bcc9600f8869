import Campaign
import Crypto
import Foundation
import Wire

/// The evidence files (photos and documents) of a store, kept in its folder by their content
/// (`evidence/ab/abcdef…`, named by their SHA-256) (docs/accounts.md, "Evidence"). A file is written to a
/// temporary name, synced, renamed into place and its folder synced, so that once `store` returns the
/// file survives a crash; it is never changed or removed after. The log names files by their hash only.
public struct EvidenceStore: Sendable {
    /// The kinds of file taken, told by their content (never by a name or a declared type): an upload by
    /// its structure (`init(checking:)`), a stored file by its first bytes.
    public enum Kind: String, Sendable, CaseIterable {
        case jpeg = "image/jpeg"
        case png = "image/png"
        case heic = "image/heic"
        case pdf = "application/pdf"

        /// The kind of `bytes`, or nil for anything else.
        public init?(sniffing bytes: some Collection<UInt8>) {
            let head = Array(bytes.prefix(16))
            func starts(_ magic: [UInt8]) -> Bool { head.count >= magic.count && Array(head.prefix(magic.count)) == magic }
            if starts([0xFF, 0xD8, 0xFF]) { self = .jpeg; return }
            if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { self = .png; return }
            if starts(Array("%PDF-".utf8)) { self = .pdf; return }
            // ISO base media: a box `ftyp` at 4, with a HEIF brand.
            if head.count >= 12, Array(head[4..<8]) == Array("ftyp".utf8) {
                let brand = String(decoding: head[8..<12], as: UTF8.self)
                if ["heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1"].contains(brand) { self = .heic; return }
            }
            return nil
        }

        /// In a clerk's words.
        public var label: String {
            switch self {
            case .jpeg: "JPEG 照片"
            case .png: "PNG 图片"
            case .heic: "HEIC 照片"
            case .pdf: "PDF 文件"
            }
        }
    }

    /// The largest file taken: 20 MB.
    public static let maximumBytes = 20 << 20

    /// What was stored.
    public struct Stored: Sendable, Equatable {
        public var sha256: String
        public var size: Int
        public var kind: Kind
    }

    /// Why a file is not taken.
    public struct Refused: Error, Sendable, CustomStringConvertible {
        public enum Reason: Sendable { case tooLarge, notAcceptedKind, empty }
        public var reason: Reason
        public var description: String {
            switch reason {
            case .tooLarge: "文件超过 \(EvidenceStore.maximumBytes >> 20) MB，未保存"
            case .notAcceptedKind: "只接受完整的 JPEG、PNG、HEIC 照片或 PDF 文件（按文件内容判断）：该文件不属于其中任何一种，或不完整（上传中断？），未保存"
            case .empty: "文件为空，未保存"
            }
        }
    }

    /// The folder of the files.
    public let folder: String

    public init(store path: String) { folder = path + "/evidence" }

    /// Where the file of `sha256` lies (whether or not it is there).
    public func path(of sha256: String) -> String {
        "\(folder)/\(sha256.prefix(2))/\(sha256)"
    }

    /// Whether the file of `sha256` (64 lowercase hex digits) is stored.
    public func has(_ sha256: String) -> Bool {
        Self.isHash(sha256) && FileManager.default.fileExists(atPath: path(of: sha256))
    }

    /// What reading a file finds.
    public enum Read: Sendable {
        case found(Data, Kind)
        /// There, but its bytes no longer give its name's hash (or are of no kind taken).
        case changed
    }

    /// The file of `sha256`, checked against its name; nil when there is none.
    public func read(_ sha256: String) -> Read? {
        guard Self.isHash(sha256), let data = FileManager.default.contents(atPath: path(of: sha256)) else { return nil }
        guard Array(SHA256.hash(data: data)).hex == sha256, let kind = Kind(sniffing: data) else { return .changed }
        return .found(data, kind)
    }

    /// Stores `bytes` durably under their hash (a file stored already is left as it is).
    /// - Throws: `Refused` for a file of another kind, empty or too large; an error of the file system.
    public func store(_ bytes: [UInt8]) throws -> Stored {
        guard !bytes.isEmpty else { throw Refused(reason: .empty) }
        guard bytes.count <= Self.maximumBytes else { throw Refused(reason: .tooLarge) }
        guard let kind = Kind(checking: bytes) else { throw Refused(reason: .notAcceptedKind) }
        let sha256 = Array(SHA256.hash(data: bytes)).hex
        let stored = Stored(sha256: sha256, size: bytes.count, kind: kind)
        let final = path(of: sha256)
        // Stored already: kept as it is, unless its bytes were changed on disk; then these, which give
        // its name, put it right.
        if case .found? = read(sha256) { return stored }
        let directory = "\(folder)/\(sha256.prefix(2))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let temporary = "\(directory)/.\(sha256).\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw Self.failure("open", temporary) }
        var written = 0
        let ok = bytes.withUnsafeBytes { raw -> Bool in
            while written < raw.count {
                let n = write(fd, raw.baseAddress! + written, raw.count - written)
                if n <= 0 { if errno == EINTR { continue }; return false }
                written += n
            }
            return fsync(fd) == 0
        }
        close(fd)
        guard ok else { unlink(temporary); throw Self.failure("write", temporary) }
        guard rename(temporary, final) == 0 else { unlink(temporary); throw Self.failure("rename", final) }
        try Self.sync(directory)
        try Self.sync(folder)
        return stored
    }

    /// What `check` found.
    public struct Check: Sendable {
        /// Files stored, and read back.
        public var files = 0
        /// Files whose bytes no longer give their name's hash.
        public var changed: [String] = []
        /// Files named by events that must have been uploaded (recorded over HTTP), and not there.
        public var missing: [String] = []
        public var isSound: Bool { changed.isEmpty && missing.isEmpty }
    }

    /// Reads every stored file back and hashes it; and names each of `required` that is not stored.
    public func check(required: Set<String>) -> Check {
        var check = Check()
        let manager = FileManager.default
        if let prefixes = try? manager.contentsOfDirectory(atPath: folder) {
            for prefix in prefixes.sorted() where prefix.count == 2 {
                for name in ((try? manager.contentsOfDirectory(atPath: "\(folder)/\(prefix)")) ?? []).sorted() where !name.hasPrefix(".") {
                    check.files += 1
                    let data = manager.contents(atPath: "\(folder)/\(prefix)/\(name)")
                    if data.map({ Array(SHA256.hash(data: $0)).hex }) != name || !name.hasPrefix(prefix) { check.changed.append(name) }
                }
            }
        }
        check.missing = required.filter { !manager.fileExists(atPath: path(of: $0)) }.sorted()
        return check
    }

    static func isHash(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    private static func sync(_ directory: String) throws {
        let fd = open(directory, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw failure("open", directory) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("fsync", directory) }
    }

    private static func failure(_ call: String, _ path: String) -> any Error {
        let code = errno
        return CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path,
                                                        NSLocalizedDescriptionKey: "\(call) \(path): \(String(cString: strerror(code)))"])
    }
}

extension Ledger {
    /// The evidence files of this store.
    public var evidence: EvidenceStore { EvidenceStore(store: path) }

    /// Checks every stored evidence file against its hash, and that every file named by an event recorded
    /// over HTTP (which may name only uploaded files) is there. Events of the command line may name files
    /// kept elsewhere: they are not required. A finding of its own, apart from the log's soundness.
    @available(*, noasync)
    public func checkEvidence() throws -> EvidenceStore.Check {
        var required: Set<String> = []
        try log.read { reader in
            try reader.forEach(after: 0) { entry in
                required.formUnion(try Self.evidenceRequired(by: entry))
                return true
            }
        }
        return evidence.check(required: required)
    }

    /// `checkEvidence` with the files named online gathered by `verify` as it read the log.
    public func checkEvidence(requiredBy verification: Verification) -> EvidenceStore.Check {
        evidence.check(required: verification.evidenceRequired)
    }

    /// The evidence files `entry` names (their hashes, lowercased) when it was recorded over HTTP; none
    /// for an event of the command line.
    static func evidenceRequired(by entry: EntryView) throws -> [String] {
        let by = entry.recordedBy
        guard by.count > 0, !by.starts(with: "local:".utf8) else { return [] }
        switch try EventCodec.recorded(entry).event.data {
        case .problemReported(let report): return report.evidence.map { $0.sha256.lowercased() }
        case .rectificationSubmitted(let fix): return fix.evidence.map { $0.sha256.lowercased() }
        default: return []
        }
    }
}
