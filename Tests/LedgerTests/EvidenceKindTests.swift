import Foundation
import Testing
@testable import Ledger

/// Files as phones and scanners make them, in their smallest form: the structure each kind is told by.
enum Files {
    static func be32(_ n: Int) -> [UInt8] { [UInt8(n >> 24 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] }

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    /// A PNG of one pixel as Python's zlib made it (the chunks' CRCs are its own, not this code's).
    static let png: [UInt8] = pngSignature + [
        0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00,
        0x00, 0x90, 0x77, 0x53, 0xDE, 0x00, 0x00, 0x00, 0x0C, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x50, 0x68, 0x70, 0x00,
        0x00, 0x01, 0xA4, 0x00, 0xE1, 0xAD, 0xD3, 0xA7, 0x81, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60,
        0x82,
    ]

    static func segment(_ marker: UInt8, _ data: [UInt8]) -> [UInt8] {
        [0xFF, marker, UInt8((data.count + 2) >> 8), UInt8((data.count + 2) & 0xFF)] + data
    }

    static let jpeg: [UInt8] = [0xFF, 0xD8]
        + segment(0xE0, Array("JFIF".utf8) + [0, 1, 1, 0, 0, 1, 0, 1, 0, 0])
        + segment(0xDB, [0] + [UInt8](repeating: 1, count: 64))
        + segment(0xC0, [8, 0, 1, 0, 1, 1, 1, 0x11, 0])
        + segment(0xC4, [0, 1] + [UInt8](repeating: 0, count: 15) + [0])
        + segment(0xDA, [1, 1, 0, 0, 0x3F, 0])
        + [0x00, 0x3F, 0xFF, 0xD9]

    static let pdf = Array("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".utf8)

    static func box(_ type: String, _ data: [UInt8]) -> [UInt8] { be32(data.count + 8) + Array(type.utf8) + data }

    static let heic = box("ftyp", Array("heic".utf8) + [0, 0, 0, 0] + Array("mif1heic".utf8))
        + box("meta", [0, 0, 0, 0] + box("hdlr", [0, 0, 0, 0, 0, 0, 0, 0] + Array("pict".utf8) + [UInt8](repeating: 0, count: 13)))
        + box("mdat", [1, 2, 3, 4])
}

@Suite("Evidence uploads are told by their structure, not their first bytes alone")
struct EvidenceKindTests {
    @Test("whole files of each kind are taken as that kind")
    func wholeFiles() {
        #expect(EvidenceStore.Kind(checking: Files.png) == .png)
        #expect(EvidenceStore.Kind(checking: Files.jpeg) == .jpeg)
        #expect(EvidenceStore.Kind(checking: Files.pdf) == .pdf)
        #expect(EvidenceStore.Kind(checking: Files.heic) == .heic)
        // A motion photo: the picture, then a video after its end.
        #expect(EvidenceStore.Kind(checking: Files.jpeg + [UInt8](repeating: 0x42, count: 5_000)) == .jpeg)
        // Trailing whitespace after a PDF's end-of-file marker.
        #expect(EvidenceStore.Kind(checking: Files.pdf + Array("\r\n\n".utf8)) == .pdf)
    }

    @Test("files that only begin like a photo or document, or were cut short, are refused", arguments: [
        ("a PNG signature, then a script", Files.pngSignature + Array("<script>alert(1)</script>".utf8)),
        ("a PNG cut before its end", Array(Files.png.dropLast(6))),
        ("a PNG with bytes after IEND", Files.png + [0]),
        ("a PNG whose IHDR was changed", { var b = Files.png; b[17] ^= 1; return b }()),
        ("a JPEG start, then text", [0xFF, 0xD8, 0xFF] + Array("not a photo at all".utf8)),
        ("a JPEG cut inside its headers", Array(Files.jpeg.prefix(30))),
        ("a JPEG with a scan but no frame", [0xFF, 0xD8] + Files.segment(0xDA, [1, 1, 0, 0, 0x3F, 0]) + [0, 0xFF, 0xD9]),
        ("a PDF without its end", Array(Files.pdf.dropLast(7))),
        ("a PDF header, then text", Array("%PDF-x text".utf8)),
        ("a HEIC type box, then garbage", Array(Files.heic.prefix(24)) + Array("garbage!".utf8)),
        ("a HEIC without its meta box", Files.box("ftyp", Array("heic".utf8) + [0, 0, 0, 0]) + Files.box("mdat", [1])),
    ] as [(String, [UInt8])])
    func refused(_ what: String, _ bytes: [UInt8]) {
        #expect(EvidenceStore.Kind(checking: bytes) == nil, "\(what)")
        #expect(EvidenceStore.Kind(sniffing: bytes) != nil || what.hasPrefix("a JPEG with a scan"), "\(what): begins like its kind")
    }

    @Test("the store refuses such a file and writes nothing; a whole one is stored under its hash")
    func storeRefuses() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("civic-evidence-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = EvidenceStore(store: folder)
        #expect(throws: EvidenceStore.Refused.self) { try store.store(Files.pngSignature + Array("<html>".utf8)) }
        let written = (try? FileManager.default.subpathsOfDirectory(atPath: store.folder)) ?? []
        #expect(written.isEmpty, "\(written)")
        let stored = try store.store(Files.png)
        #expect(stored.kind == .png && store.has(stored.sha256))
    }
}
