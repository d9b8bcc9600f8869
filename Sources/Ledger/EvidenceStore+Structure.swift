extension EvidenceStore.Kind {
    /// The kind of an upload, told by its first bytes and then by its structure as far as it can be
    /// walked without decoding the picture: a PNG's chunks in order from `IHDR` to `IEND` at its end; a
    /// JPEG's marker segments from its start to the scan (an Android motion photo carries a video after
    /// the picture, so nothing is asked of what follows it); a PDF's `%%EOF` in its last kilobyte; a
    /// HEIC's top-level boxes filling the file exactly, `meta` among them. Bytes that only begin like
    /// a photo (a PNG signature, then text) are refused, and so is a file cut short in the upload
    /// (docs/accounts.md, "Evidence").
    public init?(checking bytes: [UInt8]) {
        guard let kind = Self(sniffing: bytes) else { return nil }
        let sound = switch kind {
        case .png: Self.isPNG(bytes)
        case .jpeg: Self.isJPEG(bytes)
        case .pdf: Self.isPDF(bytes)
        case .heic: Self.isHEIF(bytes)
        }
        guard sound else { return nil }
        self = kind
    }

    private static func bigEndian32(_ b: [UInt8], _ at: Int) -> Int {
        Int(b[at]) << 24 | Int(b[at + 1]) << 16 | Int(b[at + 2]) << 8 | Int(b[at + 3])
    }

    /// Chunks (length, type, data, CRC) from the signature: `IHDR` of 13 bytes first, its CRC right,
    /// `IEND` last and at the end of the file.
    private static func isPNG(_ b: [UInt8]) -> Bool {
        var at = 8
        var first = true
        while at + 12 <= b.count {
            let length = bigEndian32(b, at)
            let type = Array(b[(at + 4)..<(at + 8)])
            guard length <= b.count - at - 12 else { return false }
            if first {
                guard type == Array("IHDR".utf8), length == 13,
                      crc32(b[(at + 4)..<(at + 8 + length)]) == UInt32(bigEndian32(b, at + 8 + length)) else { return false }
                first = false
            }
            at += 12 + length
            if type == Array("IEND".utf8) { return at == b.count }
        }
        return false
    }

    /// Marker segments from SOI: each `FF xx` with a length that stays within the file, a frame header
    /// (SOF) before the first scan (SOS).
    private static func isJPEG(_ b: [UInt8]) -> Bool {
        var at = 2
        var frame = false
        while at + 4 <= b.count {
            guard b[at] == 0xFF else { return false }
            let marker = b[at + 1]
            if marker == 0xFF { at += 1; continue }  // fill byte
            if (0xD0...0xD7).contains(marker) || marker == 0x01 { at += 2; continue }  // markers without a length
            guard marker != 0x00, marker != 0xD8, marker != 0xD9 else { return false }
            let length = Int(b[at + 2]) << 8 | Int(b[at + 3])
            guard length >= 2, at + 2 + length <= b.count else { return false }
            if (0xC0...0xCF).contains(marker), ![0xC4, 0xC8, 0xCC].contains(marker) { frame = true }
            if marker == 0xDA { return frame && at + 2 + length < b.count }
            at += 2 + length
        }
        return false
    }

    /// `%PDF-` and a version, and the end-of-file marker within the last 1,024 bytes, where readers look for it.
    private static func isPDF(_ b: [UInt8]) -> Bool {
        guard b.count > 8, (0x30...0x39).contains(b[5]), b[6] == 0x2E else { return false }
        let tail = Array(b.suffix(1_024))
        let marker = Array("%%EOF".utf8)
        guard tail.count >= marker.count else { return false }
        return (0...(tail.count - marker.count)).contains { tail[$0..<($0 + marker.count)].elementsEqual(marker) }
    }

    /// Top-level boxes (size, type; a size of 1 takes 64 bits after the type, 0 runs to the end) that
    /// fill the file exactly, `ftyp` first and `meta` among them.
    private static func isHEIF(_ b: [UInt8]) -> Bool {
        var at = 0
        var types: [[UInt8]] = []
        while at < b.count {
            guard at + 8 <= b.count else { return false }
            var size = bigEndian32(b, at)
            let type = Array(b[(at + 4)..<(at + 8)])
            if size == 1 {
                guard at + 16 <= b.count, b[(at + 8)..<(at + 12)].allSatisfy({ $0 == 0 }) else { return false }
                size = bigEndian32(b, at + 12)
                guard size >= 16 else { return false }
            } else if size == 0 {
                size = b.count - at
            }
            guard size >= 8, size <= b.count - at else { return false }
            types.append(type)
            at += size
        }
        return types.first == Array("ftyp".utf8) && types.contains(Array("meta".utf8))
    }

    /// The CRC-32 of PNG chunks (ISO 3309, reflected, polynomial 0xEDB88320).
    private static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
