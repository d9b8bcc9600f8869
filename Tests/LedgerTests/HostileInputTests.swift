import Campaign
import Demo
import Foundation
@testable import Ledger
import Testing

/// Deterministic random bytes for mutations.
struct Mutator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state >> 11
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }

    /// Bytes that readers must take apart carefully.
    static let nasty: [[UInt8]] = [[0], [0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xEF, 0xBB, 0xBF], [UInt8(ascii: "\"")],
                                   [UInt8(ascii: "{")], [UInt8(ascii: "}")], [UInt8(ascii: "[")], [UInt8(ascii: ",")],
                                   [UInt8(ascii: "\\")], [UInt8(ascii: "\r")], [UInt8(ascii: "\n")], [0x07], Array("\\u0000".utf8),
                                   Array("\\ud800".utf8), Array("1e999".utf8), Array("null".utf8), Array(String(repeating: "[", count: 200).utf8),
                                   Array("问".utf8), Array("\"time\":\"2022-02-30T00:00:00Z\"".utf8)]

    /// `input` with a few random changes: bytes flipped, nasty pieces inserted, a range removed or repeated, cut short.
    mutating func mutate(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        for _ in 0...below(4) {
            guard !bytes.isEmpty else { return Self.nasty[below(Self.nasty.count)] }
            let at = below(bytes.count)
            switch below(5) {
            case 0: bytes[at] ^= UInt8(truncatingIfNeeded: 1 << below(8))
            case 1: bytes.insert(contentsOf: Self.nasty[below(Self.nasty.count)], at: at)
            case 2: bytes.removeSubrange(at..<min(bytes.count, at + 1 + below(40)))
            case 3: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + 1 + below(200))], at: below(bytes.count))
            default: bytes.removeSubrange(at...)
            }
        }
        return bytes
    }
}

/// How many mutations to try: CIVIC_FUZZ_SCALE=100 swift test --filter HostileInput runs for minutes.
let fuzzScale = Int(ProcessInfo.processInfo.environment["CIVIC_FUZZ_SCALE"] ?? "") ?? 1

@Suite("Hostile input: mutated NDJSON and CSV never crash, refuse by line, and store nothing when refused")
struct HostileInputTests {
    @Test("5,000 mutations of the shared NDJSON: every line is an event or a refusal naming a line of the file")
    func ndjson() throws {
        let original = try DemoCampaign.setupNDJSON()
        var m = Mutator(state: 0x5EED &+ UInt64(fuzzScale))
        for _ in 0..<(5_000 * fuzzScale) {
            let input = m.mutate(original)
            let lines = input.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).count
            let (events, refusals) = CloudEvents.readLines(input)
            for refusal in refusals {
                #expect((1...lines).contains(refusal.line))
                #expect(!refusal.description.isEmpty)
            }
            for event in events { #expect((1...lines).contains(event.line)) }
        }
    }

    @Test("2,000 mutations of the shared CSV list: a list or a refusal, never a crash")
    func csv() throws {
        let original = try DemoCampaign.problemsCSV()
        var m = Mutator(state: 0xC5F &+ UInt64(fuzzScale))
        var refused = 0
        for _ in 0..<(2_000 * fuzzScale) {
            do {
                let list = try ProblemList(try Sheet.read(m.mutate(original), fileName: "fuzz.csv"))
                _ = try list.plan(by: .init(actor: "office/x", role: .office, unit: "U-office"), given: Registry(units: [:], batches: [:]),
                                  batch: nil, now: Timestamp(micros: 1_700_000_000_000_000)) { _ in nil }
            } catch {
                refused += 1
                #expect(!"\(error)".isEmpty)
            }
        }
        #expect(refused > 0)
    }

    @Test("a mutated file appended: either all of it is stored or nothing, and the log verifies")
    func appendAllOrNothing() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("civic-hostile-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let ledger = try Ledger(path: folder, access: .create)
        let original = try DemoCampaign.setupNDJSON()
        var m = Mutator(state: 0xA11)
        var stored = 0, refused = 0
        for round in 0..<150 {
            let before = try ledger.log.head()
            let (events, refusals) = CloudEvents.readLines(m.mutate(original))
            guard refusals.isEmpty else { continue }
            do {
                let report = try ledger.append(events)
                // All of it: every event of the file is stored now or was already.
                #expect(report.appended.count + report.duplicates.count == events.count, "round \(round)")
                #expect(try ledger.log.head().seq == before.seq + UInt64(report.appended.count), "round \(round)")
                if !report.appended.isEmpty { stored += 1 }
            } catch is AppendRefused {
                #expect(try ledger.log.head() == before, "round \(round)")
                refused += 1
            }
        }
        // Both outcomes were met: the test appended files, and saw files refused whole.
        #expect(stored > 0)
        #expect(refused > 0)
        #expect(try ledger.verify().head.seq == (try ledger.log.head().seq))
    }
}
