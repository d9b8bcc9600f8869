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
public final class Output {
    private let sink: ByteSink
    private var buffer: [UInt8] = []
    private var hasher: SHA256?
    private let limit: Int

    public init(_ sink: ByteSink, bufferBytes: Int = 1 << 18) {
        self.sink = sink
        limit = bufferBytes
        buffer.reserveCapacity(bufferBytes + 4096)
    }

    /// Starts hashing what is written from now on.
    public func startHashing() {
        try? flush()
        hasher = SHA256()
    }

    /// The SHA-256 (hex) of what was written since hashing started, followed by `tail`; hashing goes on.
    public func digest(endingWith tail: String) -> String {
        guard var copy = hasher else { return "" }
        buffer.withUnsafeBytes { copy.update(bufferPointer: $0) }
        copy.update(data: Array(tail.utf8))
        return copy.finalize().hex
    }

    /// Stops hashing.
    public func stopHashing() {
        try? flush()
        hasher = nil
    }

    @inline(__always)
    public func byte(_ b: UInt8) { buffer.append(b) }

    public func text(_ s: String) {
        var s = s
        s.withUTF8 { buffer.append(contentsOf: $0) }
    }

    public func bytes(_ b: some Sequence<UInt8>) { buffer.append(contentsOf: b) }

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
            buffer.append(contentsOf: d[(20 - n)...])
        }
    }

    public func number(_ value: Int) {
        if value < 0 { byte(45); number(UInt64(-Int64(value))) } else { number(UInt64(value)) }
    }

    /// A JSON string literal: quotes, and the escapes RFC 8259 requires; other text as UTF-8.
    public func jsonString(_ s: String) {
        var s = s
        s.withUTF8 { bytes in
            buffer.append(34)
            var run = 0
            for k in 0..<bytes.count {
                let c = bytes[k]
                guard c < 0x20 || c == 34 || c == 92 else { continue }
                buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<k]))
                switch c {
                case 34: buffer.append(contentsOf: [92, 34])
                case 92: buffer.append(contentsOf: [92, 92])
                case 10: buffer.append(contentsOf: [92, 110])
                case 13: buffer.append(contentsOf: [92, 114])
                case 9: buffer.append(contentsOf: [92, 116])
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    buffer.append(contentsOf: [92, 117, 48, 48, hex[Int(c >> 4)], hex[Int(c & 15)]])
                }
                run = k + 1
            }
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run...]))
            buffer.append(34)
        }
    }

    /// A JSON string, or `null`.
    public func jsonString(_ s: String?) {
        if let s { jsonString(s) } else { text("null") }
    }

    /// Sends what is buffered to the sink when the buffer is full.
    @inline(__always)
    public func flushIfFull() throws {
        if buffer.count >= limit { try flush() }
    }

    /// Sends what is buffered to the sink.
    public func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { bytes in
            hasher?.update(bufferPointer: bytes)
            try sink.write(bytes)
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
