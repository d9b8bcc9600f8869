import Foundation
import Testing
@testable import CivicServer

@Suite("The access log")
struct AccessLogTests {
    @Test("a line per request (time, address, method, path, status, milliseconds), written when flushed, in order")
    func linesInOrder() throws {
        let pipe = Pipe()
        let log = AccessLog(descriptor: pipe.fileHandleForWriting.fileDescriptor)
        log.note(address: "127.0.0.1", method: "POST", path: "/api/events", status: 200, milliseconds: 0.734)
        log.note(address: "10.0.0.2", method: "GET", path: "/api/board", status: 503, milliseconds: 12.5)
        log.flush()
        try pipe.fileHandleForWriting.close()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(text)")
        #expect(lines.first?.hasSuffix(" 127.0.0.1 POST /api/events 200 0.73ms") == true, "\(text)")
        #expect(lines.last?.hasSuffix(" 10.0.0.2 GET /api/board 503 12.50ms") == true, "\(text)")
        let time = try #require(lines.first?.split(separator: " ").first)
        #expect(time.count == 20 && time.hasSuffix("Z") && time.dropFirst(10).hasPrefix("T"), "\(time)")
    }

    @Test("a full buffer is written without waiting for the timer")
    func fullBuffer() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("civic-access-\(UUID().uuidString)").path
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        #expect(descriptor >= 0)
        defer { close(descriptor); unlink(path) }
        // A timer that never comes during the test: on a loaded machine one of 0.2 s flushed half the
        // lines first, and what was left stayed under the size that writes a buffer by itself.
        let log = AccessLog(descriptor: descriptor, every: 3_600)
        let long = "/" + String(repeating: "p", count: 1_000)
        for _ in 0..<(AccessLog.flushBytes / 1_000 + 1) { log.note(address: "::1", method: "GET", path: long, status: 200, milliseconds: 1) }
        // Written already, without a flush: the file holds at least 64 KiB.
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        #expect(size >= AccessLog.flushBytes, "\(size)")
    }
}
