import Campaign
import Crypto
import Foundation
import Wire

/// Where a report's bytes go: standard output, a response being sent, memory.
public protocol ByteSink: AnyObject {
    /// Takes the next bytes. - Throws: when they cannot go further (a closed pipe, a client gone).
    func write(_ bytes: UnsafeRawBufferPointer) throws
}

/// Bytes kept in memory.
public final class MemorySink: ByteSink {
    public private(set) var bytes: [UInt8] = []
    public init() {}
    public func write(_ bytes: UnsafeRawBufferPointer) throws { self.bytes.append(contentsOf: bytes) }
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// A file descriptor (standard output by default), written whole or failing.
public final class FileSink: ByteSink {
    let descriptor: Int32
    public init(descriptor: Int32 = 1) { self.descriptor = descriptor }

    /// The output could not be written (a reader that went away: a closed pipe).
    public struct Closed: Error {}

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = Foundation.write(descriptor, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw Closed()
            }
            done += n
        }
    }
}

/// A buffered writer of text over a sink: what every report writes through. It can keep the SHA-256 of
/// what it wrote (a view's digest) as it goes, so that a document is hashed without being held whole.
///
/// The buffer is memory of its own, not an array: a board writes some twenty values a row for 200,000
/// rows, and each append is then a bounds check and a copy (docs/performance.md, "Writing reports").
public final class Output {
    private let sink: ByteSink
    private var start: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var count = 0
    private var hasher: SHA256?
    private let limit: Int

    public init(_ sink: ByteSink, bufferBytes: Int = 1 << 18) {
        self.sink = sink
        limit = bufferBytes
        capacity = bufferBytes + 4096
        start = .allocate(capacity: capacity)
    }

    deinit { start.deallocate() }

    /// Starts hashing what is written from now on.
    public func startHashing() {
        try? flush()
        hasher = SHA256()
    }

    /// The SHA-256 (hex) of what was written since hashing started, followed by `tail`; hashing goes on.
    public func digest(endingWith tail: String) -> String {
        guard var copy = hasher else { return "" }
        copy.update(bufferPointer: UnsafeRawBufferPointer(start: start, count: count))
        copy.update(data: Array(tail.utf8))
        return copy.finalize().hex
    }

    /// Stops hashing.
    public func stopHashing() {
        try? flush()
        hasher = nil
    }

    /// Room for `n` more bytes; the buffer grows (rarely: one value larger than what is left).
    @inline(__always)
    private func room(_ n: Int) -> UnsafeMutablePointer<UInt8> {
        if count + n > capacity { grow(count + n) }
        defer { count += n }
        return start + count
    }

    private func grow(_ needed: Int) {
        let larger = max(capacity * 2, needed)
        let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: larger)
        moved.update(from: start, count: count)
        start.deallocate()
        start = moved
        capacity = larger
    }

    @inline(__always)
    public func byte(_ b: UInt8) { room(1).pointee = b }

    public func bytes(_ b: UnsafeRawBufferPointer) {
        guard let base = b.baseAddress, b.count > 0 else { return }
        UnsafeMutableRawPointer(room(b.count)).copyMemory(from: base, byteCount: b.count)
    }

    public func bytes(_ b: UnsafeBufferPointer<UInt8>) { bytes(UnsafeRawBufferPointer(b)) }

    public func bytes(_ b: [UInt8]) { b.withUnsafeBytes { bytes($0) } }

    public func text(_ s: String) {
        var s = s
        s.withUTF8 { bytes($0) }
    }

    /// An unsigned number in decimal.
    public func number(_ value: UInt64) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var v = value
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[19 - n] = UInt8(v % 10) + 48
                v /= 10
                n += 1
            } while v > 0
            bytes(UnsafeRawBufferPointer(rebasing: d[(20 - n)...]))
        }
    }

    public func number(_ value: Int) {
        if value < 0 { byte(45); number(UInt64(-Int64(value))) } else { number(UInt64(value)) }
    }

    /// A JSON string literal: quotes, and the escapes RFC 8259 requires; other text as UTF-8.
    public func jsonString(_ s: String) {
        var s = s
        s.withUTF8 { jsonString(utf8: $0) }
    }

    /// A JSON string literal of UTF-8 `text`.
    public func jsonString(utf8 text: UnsafeBufferPointer<UInt8>) {
        byte(34)
        var run = 0
        for k in 0..<text.count {
            let c = text[k]
            guard c < 0x20 || c == 34 || c == 92 else { continue }
            bytes(UnsafeBufferPointer(rebasing: text[run..<k]))
            byte(92)
            switch c {
            case 34, 92: byte(c)
            case 10: byte(110)
            case 13: byte(114)
            case 9: byte(116)
            default:
                let hex: StaticString = "0123456789abcdef"
                let p = room(5)
                p[0] = 117; p[1] = 48; p[2] = 48
                p[3] = hex.utf8Start[Int(c >> 4)]; p[4] = hex.utf8Start[Int(c & 15)]
            }
            run = k + 1
        }
        bytes(UnsafeBufferPointer(rebasing: text[run...]))
        byte(34)
    }

    /// A JSON string, or `null`.
    public func jsonString(_ s: String?) {
        if let s { jsonString(s) } else { text("null") }
    }

    /// A moment as a JSON string (RFC 3339, with the offset it was written with), or `null`.
    public func jsonTime(_ t: Timestamp?) {
        guard let t else { text("null"); return }
        byte(34)
        t.withRFC3339 { bytes($0) }
        byte(34)
    }

    /// `text` as a CSV field (RFC 4180): quoted, quotes doubled, when it holds a comma, a quote or a line end.
    ///
    /// A text that a spreadsheet would take for a formula (beginning with `=`, `+`, `-`, `@`, a tab or a CR:
    /// `=HYPERLINK(…)`, `=cmd|' /C calc'!A0`) is written with a `'` before it, which makes it text
    /// (docs/formats.md, "Out to Excel").
    public func csvField(_ s: String) {
        var s = s
        s.withUTF8 { text in
            let formula = text.first.map { $0 == 61 || $0 == 43 || $0 == 45 || $0 == 64 || $0 == 9 || $0 == 13 } ?? false
            guard formula || text.contains(where: { $0 == 44 || $0 == 34 || $0 == 10 || $0 == 13 }) else { bytes(text); return }
            byte(34)
            if formula { byte(39) }
            for c in text {
                if c == 34 { byte(34) }
                byte(c)
            }
            byte(34)
        }
    }

    /// Sends what is buffered to the sink when the buffer is full.
    @inline(__always)
    public func flushIfFull() throws {
        if count >= limit { try flush() }
    }

    /// Sends what is buffered to the sink.
    public func flush() throws {
        guard count > 0 else { return }
        let buffered = UnsafeRawBufferPointer(start: start, count: count)
        hasher?.update(bufferPointer: buffered)
        count = 0
        try sink.write(buffered)
    }
}
