import Foundation
import Testing

/// Runs a program with `arguments`, without a store.
func program(_ path: String, _ arguments: [String]) throws -> Run {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Run(status: process.terminationStatus, out: String(decoding: outData, as: UTF8.self),
               err: String(decoding: errData, as: UTF8.self), signaled: process.terminationReason == .uncaughtSignal)
}

@Suite("The verifiable log from the command line: a log and a witness as two processes, bundles checked offline", .serialized)
struct TransparencyCLITests {
    @Test("checkpoints cosigned by a witness process; a bundle checked by both offline verifiers; one rewritten byte refused")
    func logAndWitness() throws {
        let store = try filledStore()
        let keys = Folder()
        try FileManager.default.createDirectory(atPath: keys.path, withIntermediateDirectories: true)
        let logInit = try program(civicBinary, ["keys", "init", "--origin", "test.civic/ledger", "--key", keys.path + "/log.key"])
        #expect(logInit.status == 0, "\(logInit.err)")
        let witnessInit = try program(civicBinary, ["keys", "init", "--origin", "witness.test/one", "--key", keys.path + "/w.key"])
        let logKey = try #require(logInit.out.split(separator: "\n").dropFirst(2).first.map(String.init))
        let witnessCosignKey = try #require(witnessInit.out.split(separator: "\n").last.map(String.init))
        #expect(try program(civicBinary, ["keys", "init", "--origin", "x", "--key", keys.path + "/log.key"]).status != 0)  // never overwritten

        let witness = Process()
        witness.executableURL = URL(fileURLWithPath: civicBinary)
        witness.arguments = ["witness", "--key", keys.path + "/w.key", "--log", logKey, "--state", keys.path + "/state", "--port", "0"]
        let out = Pipe()
        witness.standardOutput = out
        witness.standardError = FileHandle.nullDevice
        try witness.run()
        defer { if witness.isRunning { witness.terminate() } }
        var banner = Data()
        while !banner.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            banner.append(chunk)
        }
        let text = String(decoding: banner, as: UTF8.self)
        let port = try #require(text.components(separatedBy: "127.0.0.1:").dropFirst().first.flatMap { Int($0.prefix { $0.isNumber }) }, "\(text)")

        let first = try civic(["checkpoint", "--key", keys.path + "/log.key", "--witness", "http://127.0.0.1:\(port)"], store: store.path)
        #expect(first.status == 0 && first.out.contains("— witness.test/one "), "\(first.out)\(first.err)")
        #expect(try civic(["append", setupFile], store: store.path).status == 0)  // duplicates only: the same size
        let more = #"{"specversion":"1.0","id":"t-more","source":"/t","type":"problem.reported","subject":"P-more","time":"2022-08-21T09:00:00+08:00","actor":"office/li","actorrole":"office","actorunit":"U-office","data":{"source":"inspection","category":"sanitation","description":"垃圾","location":{"area":"城北"}}}"#
        #expect(try civic(["append", "-"], store: store.path, input: more).status == 0)
        let second = try civic(["checkpoint", "--key", keys.path + "/log.key", "--witness", "http://127.0.0.1:\(port)"], store: store.path)
        #expect(second.status == 0 && second.out.contains("— witness.test/one "), "\(second.out)\(second.err)")
        let checkpoint = keys.path + "/cp.txt"
        try Data(second.out.utf8).write(to: URL(fileURLWithPath: checkpoint))
        #expect(try civic(["verify", "--checkpoint", checkpoint, "--vkey", logKey], store: store.path).status == 0)

        let bundle = keys.path + "/p.tlog-proof"
        #expect(try civic(["proof", "--subject", "P-20220819-004", "--output", bundle], store: store.path).status == 0)
        let swiftVerifier = URL(fileURLWithPath: civicBinary).deletingLastPathComponent().appendingPathComponent("civic-verify-proof").path
        let checked = try program(swiftVerifier, ["--vkey", logKey, "--witness", witnessCosignKey, "--need", "1", bundle])
        #expect(checked.status == 0 && checked.out.contains("校验通过") && checked.out.contains("P-20220819-004"), "\(checked.out)\(checked.err)")
        let python = try program("/usr/bin/env", ["python3", packageRoot.appendingPathComponent("Tools/verify-proof").path,
                                                  "--vkey", logKey, "--witness", witnessCosignKey, bundle])
        #expect(python.status == 0 && python.out.contains("P-20220819-004") && python.out.contains("1 个以上见证方联署"), "\(python.out)\(python.err)")

        // One byte of an entry's bytes changed: both verifiers refuse it, saying which check failed.
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: bundle)))
        let at = try #require(bytes.firstIndex(of: UInt8(ascii: "x")).map { $0 + 20 })  // inside the first `extra` line
        bytes[at] = bytes[at] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        try Data(bytes).write(to: URL(fileURLWithPath: bundle))
        let refused = try program(swiftVerifier, ["--vkey", logKey, bundle])
        #expect(refused.status == 1 && refused.err.contains("树根"), "\(refused.err)")
        let refusedPython = try program("/usr/bin/env", ["python3", packageRoot.appendingPathComponent("Tools/verify-proof").path, "--vkey", logKey, bundle])
        #expect(refusedPython.status == 1 && refusedPython.err.contains("树根"), "\(refusedPython.err)")

        // The witness's key given for the log's: refused, and the store's latest checkpoint is still the log's.
        let wrongKey = try civic(["checkpoint", "--key", keys.path + "/w.key"], store: store.path)
        #expect(wrongKey.status != 0 && wrongKey.err.contains("--new-key"), "\(wrongKey.err)")
        #expect(try civic(["verify", "--checkpoint", checkpoint], store: store.path).status == 0)
        // A witness that cannot be reached: the checkpoint is signed and kept, but the command does not say it all went well.
        let unreached = try civic(["checkpoint", "--key", keys.path + "/log.key", "--witness", "http://127.0.0.1:1"], store: store.path)
        #expect(unreached.status != 0 && unreached.out.contains("— test.civic/ledger ") && unreached.err.contains("未联署"), "\(unreached.err)")
        // A key is never made inside the store's folder.
        let inside = try program(civicBinary, ["keys", "init", "--origin", "x", "--key", store.path + "/log.key", "--store", store.path])
        #expect(inside.status != 0 && !FileManager.default.fileExists(atPath: store.path + "/log.key"), "\(inside.err)")
    }
}
