import Demo
import Foundation
import JSON
import LMDB
import Testing

/// `count` problem.reported events as NDJSON, ids starting with `prefix`.
func reports(_ prefix: String, count: Int) -> String {
    (0..<count).map { k in
        #"{"specversion":"1.0","id":"\#(prefix)-\#(k)","source":"/t","type":"problem.reported","subject":"P-\#(prefix)-\#(k)","time":"2022-08-21T09:00:00+08:00","actor":"office/li","actorrole":"office","actorunit":"U-office","data":{"source":"inspection","category":"sanitation","description":"和平路与建设路交叉口东北角垃圾堆积，影响通行，群众多次反映","location":{"area":"城北片区","street":"和平路","point":"建设路口"}}}"#
    }.joined(separator: "\n") + "\n"
}

/// The head seq `civic head` prints (`SEQ:HASH`).
func headSeq(_ store: String) throws -> Int {
    Int(try civic(["head"], store: store).out.split(separator: ":").first ?? "") ?? -1
}

@Suite("Reliability: kills, tampering, truncation", .serialized)
struct ReliabilityTests {
    @Test("civic append killed (SIGKILL) at random instants: every time the store verifies and holds all or none of the append; a reader keeps answering")
    func killedAppends() throws {
        let folder = try filledStore()
        let perAppend = 3_000
        // Seeded, so that a failing round can be run again with the same instants.
        var rng = SeededRandom(seed: 0x5EED_C1C1)
        let readerStop = Flag(), readerRuns = Statuses()
        let reader = Thread {
            while !readerStop.isSet {
                let run = (try? civic(["progress", "--format", "json", "--at", "2022-08-30 00:00"], store: folder.path))
                readerRuns.add(run.map { $0.signaled ? -1 : $0.status } ?? -2)
            }
        }
        reader.start()
        defer { readerStop.set() }
        var outcomes: [Bool] = []
        for round in 0..<8 {
            let file = folder.path + "-append-\(round).ndjson"
            try reports("k\(round)", count: perAppend).write(toFile: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: file) }
            let before = try headSeq(folder.path)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: civicBinary)
            process.arguments = ["append", file, "--store", folder.path]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Early kills (before the commit can have come) on even rounds, anywhere on odd ones.
            usleep(UInt32.random(in: round % 2 == 0 ? 5_000...20_000 : 20_000...900_000, using: &rng))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let verified = try civic(["verify"], store: folder.path)
            #expect(verified.status == 0, "round \(round): \(verified.err)")
            let after = try headSeq(folder.path)
            #expect(after == before || after == before + perAppend, "round \(round): \(before) → \(after)")
            outcomes.append(after != before)
            // What was lost can be appended again; what was kept is a duplicate, never a conflict.
            let again = try civic(["append", file], store: folder.path)
            #expect(again.status == 0, "\(again.err)")
            #expect(try headSeq(folder.path) == before + perAppend)
        }
        readerStop.set()
        while reader.isExecuting { usleep(10_000) }
        // A kill before the commit was met (nothing of the append kept): the rounds tried what they say.
        #expect(outcomes.contains(false), "\(outcomes)")
        #expect(!readerRuns.all.isEmpty)
        #expect(readerRuns.all.allSatisfy { $0 == 0 }, "\(readerRuns.all)")
        #expect(try civic(["verify"], store: folder.path).status == 0)
    }

    @Test("the last events removed with the chain still sound: verify passes alone, fails against the head recorded before")
    func tailRemoved() throws {
        let folder = try filledStore()
        let recorded = try civic(["head"], store: folder.path).out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try civic(["verify", "--expect-head", recorded], store: folder.path).status == 0)
        // Remove the last 5 events and their ids, as someone with the file and liblmdb could.
        do {
            let env = try Environment(path: folder.path, maxDatabases: 8)
            let log = try env.database("log"), ids = try env.database("ids")
            try env.write { txn in
                var doomed: [[UInt8]] = []
                try txn.forEach(ids) { key, value in
                    let seq = value.reduce(0) { $0 << 8 | UInt64($1) }
                    if seq > 50 { doomed.append(Array(key)) }
                    return true
                }
                #expect(doomed.count == 5)
                for id in doomed { try txn.delete(ids, key: id) }
                for seq in UInt64(51)...55 { try txn.delete(log, key: (0..<8).map { UInt8(truncatingIfNeeded: seq >> (56 - 8 * $0)) }) }
            }
        }
        #expect(try headSeq(folder.path) == 50)
        #expect(try civic(["verify", "--log-only"], store: folder.path).status == 0)  // a shorter chain is still a chain
        let against = try civic(["verify", "--expect-head", recorded], store: folder.path)
        #expect(against.status == 3)
        #expect(against.err.contains("55"), "\(against.err)")
    }

    @Test("a truncated data file is named as damage (exit 3) by every command, never a crash", arguments: [0.5, 0.9, 0.02])
    func truncated(_ fraction: Double) throws {
        let folder = try filledStore()
        _ = try civic(["append", "-"], store: folder.path, input: reports("t", count: 2_000))
        let file = folder.path + "/data.mdb"
        let size = try FileManager.default.attributesOfItem(atPath: file)[.size] as! Int
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        try handle.truncate(atOffset: UInt64(Double(size) * fraction))
        try handle.close()
        for command in [["verify"], ["board", "--format", "json"], ["progress"], ["export"], ["head"]] {
            let run = try civic(command, store: folder.path)
            #expect(!run.signaled, "\(command) crashed")
            #expect(run.status == 3, "\(command): \(run.status) \(run.err)")
            #expect(run.err.contains("损坏") || run.err.contains("校验失败"), "\(run.err)")
        }
        let append = try civic(["append", "-"], store: folder.path, input: reports("u", count: 1))
        #expect(!append.signaled)
        #expect(append.status == 3)
    }
}

@Suite("Hostile files through the command line: each a named refusal, never a crash, nothing stored", .serialized)
struct HostileFileTests {
    static let event = #"{"specversion":"1.0","id":"h-1","source":"/t","type":"problem.reported","subject":"P-h-1","time":"2022-08-21T09:00:00+08:00","actor":"office/li","actorrole":"office","actorunit":"U-office","data":{"source":"inspection","category":"sanitation","description":"DESC","location":{"area":"城北"}}}"#

    static let files: [(String, [UInt8])] = {
        let line = Array(event.utf8)
        var cases: [(String, [UInt8])] = []
        cases.append(("a 2 MB line", Array(event.replacingOccurrences(of: "DESC", with: String(repeating: "垃", count: 700_000)).utf8)))
        cases.append(("nesting 100,000 deep", [UInt8](repeating: UInt8(ascii: "["), count: 100_000) + [UInt8](repeating: UInt8(ascii: "]"), count: 100_000)))
        cases.append(("invalid UTF-8", line.map { $0 == UInt8(ascii: "D") ? 0xFF : $0 }))
        cases.append(("a JSON array", [UInt8(ascii: "[")] + line + [UInt8(ascii: "]")]))
        cases.append(("a NUL in a text", Array(event.replacingOccurrences(of: "DESC", with: "垃圾\\u0000").utf8)))
        cases.append(("a valid line, then a broken one", line + Array("\n{\"specversion\":".utf8)))
        cases.append(("a BOM in the middle", line + [0x0A, 0xEF, 0xBB, 0xBF] + Array(event.replacingOccurrences(of: "h-1", with: "h-2").utf8)))
        return cases
    }()

    @Test("civic append refuses each, exit 1, naming the line; the head is unchanged", arguments: 0..<7)
    func refused(_ k: Int) throws {
        let (name, bytes) = Self.files[k]
        let folder = try filledStore()
        let before = try civic(["head"], store: folder.path).out
        let file = folder.path + "-hostile"
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let run = try civic(["append", file], store: folder.path)
        #expect(!run.signaled, "\(name) crashed")
        #expect(run.status == 1, "\(name): \(run.status) \(run.err.prefix(300))")
        #expect(run.err.contains("第 "), "\(name): \(run.err.prefix(300))")
        #expect(try civic(["head"], store: folder.path).out == before)
    }

    @Test("civic import refuses a list missing a column, or with a row cut short, naming it; nothing stored")
    func csvRefused() throws {
        let folder = try filledStore()
        let before = try civic(["head"], store: folder.path).out
        let original = try String(contentsOfFile: problemsFile, encoding: .utf8)
        var lines = original.components(separatedBy: "\n")
        // Without its 类别 column (the fourth): a column no row can do without.
        let noColumn = lines.map { line in
            var cells = line.components(separatedBy: ",")
            if cells.count > 3 { cells.remove(at: 3) }
            return cells.joined(separator: ",")
        }.joined(separator: "\n")
        lines[3] = String(lines[3].prefix(12))
        for (name, text) in [("missing column", noColumn), ("short row", lines.joined(separator: "\n"))] {
            let file = folder.path + "-\(name.replacingOccurrences(of: " ", with: "-")).csv"
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: file) }
            let run = try civic(["import", file, "--actor", "office/li-xianfeng", "--actor-unit", "U-office"], store: folder.path)
            #expect(!run.signaled)
            #expect(run.status == 1 || run.status == 2, "\(name): \(run.status) \(run.err)")
            #expect(!run.err.isEmpty)
            #expect(try civic(["head"], store: folder.path).out == before)
        }
    }
}

/// A flag set from one thread and read from another.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}


/// Whether this machine lets an unprivileged process mount a tmpfs of its own (`unshare -rm`).
let smallDisksPossible: Bool = {
    let probe = Process()
    probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    probe.arguments = ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /tmp && true"]
    probe.standardOutput = FileHandle.nullDevice
    probe.standardError = FileHandle.nullDevice
    guard (try? probe.run()) != nil else { return false }
    probe.waitUntilExit()
    return probe.terminationStatus == 0
}()

@Suite("A full disk", .serialized, .enabled(if: smallDisksPossible, "needs unshare -rm to mount a small tmpfs"))
struct FullDiskTests {
    /// Runs `script` in a mount namespace of its own with a tmpfs of `megabytes` at $DISK; `$CIVIC` is the
    /// binary. - Returns: its standard output and error.
    func onSmallDisk(_ megabytes: Int, _ script: String) throws -> String {
        let disk = FileManager.default.temporaryDirectory.appendingPathComponent("civic-disk-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: disk) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=\(megabytes)m tmpfs \"$DISK\" && " + script]
        process.environment = ["DISK": disk, "CIVIC": civicBinary, "PATH": "/usr/bin:/bin"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text
    }

    @Test("an append that cannot fit is refused before writing, naming the disk, exit 4; the store verifies, unchanged, and does not fill the disk")
    func refusedBeforeWriting() throws {
        let big = FileManager.default.temporaryDirectory.appendingPathComponent("civic-big-\(UUID().uuidString).ndjson").path
        try reports("big", count: 30_000).write(toFile: big, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: big) }
        let out = try onSmallDisk(8, """
            "$CIVIC" init --store "$DISK/s" >/dev/null && "$CIVIC" append --store "$DISK/s" \(setupFile) >/dev/null && \
            H1=$("$CIVIC" head --store "$DISK/s") && "$CIVIC" append --store "$DISK/s" \(big); echo "rc=$?"; \
            "$CIVIC" append --store "$DISK/s" - < \(big); echo "stdin rc=$?"; \
            "$CIVIC" verify --store "$DISK/s" >/dev/null; echo "verify rc=$?"; \
            [ "$H1" = "$("$CIVIC" head --store "$DISK/s")" ] && echo same-head; \
            df -k "$DISK" | tail -1 | awk '{print "used-kb=" $3}'
            """)
        #expect(out.contains("rc=4"), "\(out)")
        #expect(out.contains("stdin rc=4"), "\(out)")
        #expect(out.contains("磁盘空间不足"), "\(out)")
        #expect(out.contains("verify rc=0"), "\(out)")
        #expect(out.contains("same-head"), "\(out)")
        let used = out.split(separator: "\n").first { $0.hasPrefix("used-kb=") }.flatMap { Int($0.dropFirst(8)) } ?? .max
        #expect(used < 4 * 1024, "\(out)")
    }

    @Test("a disk that fills while an append writes: the append fails naming the disk, exit 4, the store verifies with its head before")
    func fillsDuringTheWrite() throws {
        let big = FileManager.default.temporaryDirectory.appendingPathComponent("civic-big-\(UUID().uuidString).ndjson").path
        try reports("fill", count: 12_000).write(toFile: big, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: big) }
        // The append starts with room enough; another file then takes the rest of the disk.
        let out = try onSmallDisk(24, """
            "$CIVIC" init --store "$DISK/s" >/dev/null && "$CIVIC" append --store "$DISK/s" \(setupFile) >/dev/null && \
            H1=$("$CIVIC" head --store "$DISK/s"); \
            ( "$CIVIC" append --store "$DISK/s" \(big); echo "rc=$?" > "$DISK/rc" ) & \
            sleep 0.2; head -c 23000000 /dev/zero > "$DISK/filler" 2>/dev/null; wait; cat "$DISK/rc"; rm -f "$DISK/filler"; \
            "$CIVIC" verify --store "$DISK/s" >/dev/null; echo "verify rc=$?"; \
            H2=$("$CIVIC" head --store "$DISK/s"); [ "$H1" = "$H2" ] && echo same-head; \
            [ "${H2%%:*}" -gt "${H1%%:*}" ] && echo appended-whole
            """)
        #expect(out.contains("verify rc=0"), "\(out)")
        // Either the disk filled in time (refused, named, nothing stored) or the append was quicker (all stored).
        if out.contains("rc=4") {
            #expect(out.contains("磁盘"), "\(out)")
            #expect(out.contains("same-head"), "\(out)")
        } else {
            #expect(out.contains("rc=0") && out.contains("appended-whole"), "\(out)")
        }
    }
}
