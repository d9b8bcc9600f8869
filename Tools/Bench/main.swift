// civic-bench: measures civic on a store, one figure a line as `name value unit` (PRODUCT.md §7).
// Tools/bench/run drives it beside the raw-LMDB program in one run and prints the table.
//
//   civic-bench append FILE STORE     bulk append of an NDJSON file, 10,000 events a transaction
//   civic-bench single STORE [N]      N single-event durable appends (default 300): p50, p99
//   civic-bench rebuild STORE         board + progress + ranking folded from the first event
//   civic-bench asof STORE [N]        views as of N random seqs and times (default 200): median, p99
//   civic-bench verify STORE [--log-only]  civic verify, then with every checkpoint compared
//   civic-bench memory STORE          peak resident memory of a full rebuild (run in its own process)
import Campaign
import Demo
import EventLog
import Foundation
import JSON
import Ledger
import Projections

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

func report(_ name: String, _ value: Double, _ unit: String) {
    print("\(name) \(String(format: value >= 100 ? "%.0f" : "%.3f", value)) \(unit)")
    fflush(nil)
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(1)
}


/// A line of /proc/self/status in MiB: `VmHWM` (peak resident), `RssAnon` (the heap: the projection),
/// `RssFile` (pages of the mapped store that were read; the kernel can drop them).
func statusMiB(_ field: String = "VmHWM") -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
          let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
    return kb / 1024
}

func peakMemoryMiB() -> Double { statusMiB("VmHWM") }

let args = Array(CommandLine.arguments.dropFirst())
guard let command = args.first, args.count >= 2 else { fail("usage: civic-bench append|single|rebuild|asof|verify|memory …") }

switch command {
case "append":
    guard args.count >= 3, let data = FileManager.default.contents(atPath: args[1]) else { fail("append FILE STORE") }
    let bytes = Array(data)
    let ledger = try Ledger(path: args[2], create: true)
    var parseSeconds = 0.0, appendSeconds = 0.0, count = 0
    var start = 0
    while start < bytes.count {
        // The next 10,000 lines.
        var end = start, lines = 0
        while end < bytes.count, lines < 10_000 {
            end = (bytes[end...].firstIndex(of: 0x0A) ?? bytes.count - 1) + 1
            lines += 1
        }
        let t0 = now()
        let (events, refusals) = CloudEvents.readLines(Array(bytes[start..<end]))
        let t1 = now()
        if let first = refusals.first { fail("line refused: \(first)") }
        let appended = try ledger.append(events)
        let t2 = now()
        parseSeconds += t1 - t0
        appendSeconds += t2 - t1
        count += appended.appended.count
        start = end
    }
    report("civic.events", Double(count), "events")
    report("civic.append.rules_chain_store", Double(count) / appendSeconds, "events/s")
    report("civic.append.parse_ndjson", Double(count) / parseSeconds, "events/s")
    report("civic.append.end_to_end", Double(count) / (parseSeconds + appendSeconds), "events/s")
    let t0 = now()
    let written = try ledger.checkpoint()
    report("civic.checkpoint.all", now() - t0, "s")
    report("civic.checkpoint.count", Double(written.count), "checkpoints")

case "single":
    let n = args.count > 2 ? Int(args[2]) ?? 300 : 300
    let ledger = try Ledger(path: args[1])
    _ = try ledger.currentState()  // the rules' state, as a long-running writer holds it
    var times: [Double] = []
    for k in 0..<n {
        let line = #"{"specversion":"1.0","id":"bench-single-\#(UUID().uuidString)","source":"/bench","type":"problem.reported","subject":"P-bench-\#(k)-\#(UUID().uuidString.prefix(8))","time":"2022-08-19T16:00:00+08:00","actor":"office/bench","actorrole":"office","actorunit":"U-office","data":{"source":"inspection","category":"sanitation","description":"基准测试：背街小巷垃圾堆积、污水横流，群众反映强烈","location":{"area":"中心城区","street":"中心大街"}}}"#
        let events = CloudEvents.readLines(Array(line.utf8)).events
        let t0 = now()
        _ = try ledger.append(events)
        times.append((now() - t0) * 1000)
    }
    report("civic.single.p50", percentile(times, 0.5), "ms")
    report("civic.single.p99", percentile(times, 0.99), "ms")

case "rebuild":
    let ledger = try Ledger(path: args[1], readOnly: true)
    let at = Ledger.systemClock()
    let t0 = now()
    let (projection, head) = try ledger.projection(at: at, fromCheckpoints: false)
    let t1 = now()
    let board = projection.board()
    let progress = projection.progress()
    let week = Week(containing: projection.latestTime ?? at)
    let t2 = now()
    let (ranked, _) = try ledger.projection(at: week.lastInstant, fromCheckpoints: false)
    let ranking = ranked.ranking(week)
    let t3 = now()
    report("civic.rebuild.fold", Double(head.seq) / (t1 - t0), "events/s")
    report("civic.rebuild.board_progress", Double(head.seq) / (now() - t0 - (t3 - t2)), "events/s")
    report("civic.rebuild.ranking", Double(head.seq) / (t3 - t2), "events/s")
    report("civic.rebuild.rows", Double(board.count + progress.count + ranking.count), "rows")

case "asof":
    let n = args.count > 2 ? Int(args[2]) ?? 200 : 200
    let ledger = try Ledger(path: args[1], readOnly: true)
    let head = try ledger.log.head()
    guard head.seq > 0 else { fail("empty store") }
    let first = try ledger.log.read { try $0.entry(1)!.recordedAtMicros }
    var rng = SeededRandom(seed: 11)
    let at = Ledger.systemClock()
    var bySeq: [Double] = [], byTime: [Double] = [], boardTimes: [Double] = []
    for _ in 0..<n {
        let seq = UInt64.random(in: 1...head.seq, using: &rng)
        var t0 = now()
        let (p1, _) = try ledger.projection(asOf: .seq(seq), at: at)
        _ = p1.progress()
        bySeq.append((now() - t0) * 1000)
        t0 = now()
        let (p2, _) = try ledger.projection(asOf: .seq(seq), at: at)
        _ = try ledger.withReports(p2.board(BoardFilter(statuses: [.assigned], overdueOnly: true)))
        boardTimes.append((now() - t0) * 1000)
        let moment = Timestamp(micros: Int64.random(in: first...head.recordedAtMicros, using: &rng))
        t0 = now()
        let (p3, _) = try ledger.projection(asOf: .time(moment), at: at)
        _ = p3.progress()
        byTime.append((now() - t0) * 1000)
    }
    report("civic.asof.seq.progress.p50", percentile(bySeq, 0.5), "ms")
    report("civic.asof.seq.progress.p99", percentile(bySeq, 0.99), "ms")
    report("civic.asof.seq.board.p50", percentile(boardTimes, 0.5), "ms")
    report("civic.asof.seq.board.p99", percentile(boardTimes, 0.99), "ms")
    report("civic.asof.time.progress.p50", percentile(byTime, 0.5), "ms")
    report("civic.asof.time.progress.p99", percentile(byTime, 0.99), "ms")

case "verify":
    let ledger = try Ledger(path: args[1], readOnly: true)
    var t0 = now()
    let head = try ledger.verify(checkpoints: false)
    report("civic.verify", Double(head.seq) / (now() - t0), "events/s")
    if args.count > 2, args[2] == "--log-only" { break }
    t0 = now()
    _ = try ledger.verify()
    report("civic.verify.with_checkpoints", Double(head.seq) / (now() - t0), "events/s")

case "memory":
    let ledger = try Ledger(path: args[1], readOnly: true)
    let before = peakMemoryMiB()
    let (projection, head) = try ledger.projection(at: Ledger.systemClock(), fromCheckpoints: false)
    _ = projection.progress()
    report("civic.memory.events", Double(head.seq), "events")
    report("civic.memory.problems", Double(projection.problems.count), "problems")
    // Measured while the projection is alive: its last use above would otherwise let it go first.
    withExtendedLifetime(projection) {
        report("civic.memory.peak", peakMemoryMiB(), "MiB")
        report("civic.memory.heap_after", statusMiB("RssAnon"), "MiB")
        report("civic.memory.mapped_after", statusMiB("RssFile"), "MiB")
    }
    report("civic.memory.before", before, "MiB")

case "checkpoint":
    // How long the last checkpoint takes to read back, and how big it is.
    let ledger = try Ledger(path: args[1], readOnly: true)
    var times: [Double] = []
    var size = 0
    for _ in 0..<5 {
        let t0 = now()
        let (projection, _) = try ledger.projection(asOf: .seq(try ledger.log.head().seq / 10_000 * 10_000), at: Projection.endOfTime)
        times.append((now() - t0) * 1000)
        size = projection.problems.count
    }
    try ledger.log.read { reader in
        try reader.checkpoints(atOrBefore: UInt64.max) { _, bytes in
            report("civic.checkpoint.bytes", Double(bytes.count), "bytes")
            return false
        }
    }
    report("civic.checkpoint.problems", Double(size), "problems")
    report("civic.checkpoint.load.p50", percentile(times, 0.5), "ms")

default:
    fail("unknown command \(command)")
}
