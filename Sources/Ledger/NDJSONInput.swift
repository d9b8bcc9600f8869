import Foundation

/// Events read from NDJSON (one CloudEvents JSON object a line) in a file, a chunk at a time: memory
/// holds one chunk of the file, whatever its size. Blank lines are skipped; a UTF-8 BOM at the start is
/// ignored; a line that is not an event is an item of its own, refused with its line number.
public final class NDJSONInput: EventSource, @unchecked Sendable {
    /// How much of the file one chunk reads.
    static let chunkBytes = 1 << 20
    private let handle: FileHandle
    private let path: String
    private var pending: [UInt8] = []
    private var line = 0
    private var atEnd = false
    private var first = true
    private var read = 0
    public let byteCount: Int?
    public var bytesRead: Int { read }

    /// The NDJSON of the file at `path`.
    /// - Throws: when it cannot be opened.
    public init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        self.handle = handle
        self.path = path
        var info = stat()
        byteCount = fstat(handle.fileDescriptor, &info) == 0 && info.st_mode & S_IFMT == S_IFREG ? Int(info.st_size) : nil
    }

    public func rewind() throws {
        try handle.seek(toOffset: 0)
        pending = []
        line = 0
        atEnd = false
        first = true
        read = 0
    }

    public func next() throws -> [SourceItem]? {
        while true {
            if atEnd && pending.isEmpty { return nil }
            if !atEnd {
                let data = try handle.read(upToCount: Self.chunkBytes) ?? Data()
                if data.isEmpty { atEnd = true } else {
                    read += data.count
                    pending.append(contentsOf: data)
                }
            }
            if first, pending.count >= 3 || atEnd {
                if pending.starts(with: [0xEF, 0xBB, 0xBF]) { pending.removeFirst(3) }
                first = false
            }
            // Whole lines only; what follows the last line end waits for the next chunk (or the end).
            let cut = atEnd ? pending.count : (pending.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0)
            guard cut > 0 else { continue }
            let items = pending.withUnsafeBufferPointer { bytes in readLines(UnsafeBufferPointer(rebasing: bytes[0..<cut])) }
            pending.removeFirst(cut)
            if !items.isEmpty { return items }
        }
    }

    private func readLines(_ bytes: UnsafeBufferPointer<UInt8>) -> [SourceItem] {
        var items: [SourceItem] = []
        var start = 0
        while start < bytes.count {
            line += 1
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            var stop = end
            if stop > start, bytes[stop - 1] == 0x0D { stop -= 1 }
            let slice = UnsafeBufferPointer(rebasing: bytes[start..<stop])
            start = end + 1
            if slice.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            do { items.append(.event(try CloudEvents.read(line: line, slice))) } catch { items.append(.unreadable(error)) }
        }
        return items
    }
}

/// Events from bytes already in memory (standard input, read whole: it cannot be read again otherwise).
public final class NDJSONBytes: EventSource, @unchecked Sendable {
    private let items: [SourceItem]
    private var given = false
    public let byteCount: Int?
    public var bytesRead: Int { given ? byteCount ?? 0 : 0 }

    public init(_ bytes: [UInt8]) {
        byteCount = bytes.count
        let (events, refusals) = CloudEvents.readLines(bytes)
        items = (events.map { SourceItem.event($0) } + refusals.map { SourceItem.unreadable($0) })
            .sorted { $0.line < $1.line }
    }

    public func next() throws -> [SourceItem]? {
        defer { given = true }
        return given || items.isEmpty ? nil : items
    }

    public func rewind() throws { given = false }
}

extension SourceItem {
    /// The line it came from.
    public var line: Int {
        switch self {
        case .event(let e): e.line
        case .unreadable(let r): r.line
        }
    }
}
