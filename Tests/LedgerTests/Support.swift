import Campaign
import Foundation
@testable import Ledger

/// The package's root folder, found from this file.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Bytes of a file under the package root.
func fixture(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: packageRoot.appendingPathComponent(path)))
}

/// A fresh store in its own temporary folder, removed when the test is done.
final class TemporaryStore: @unchecked Sendable {
    let path: String
    private let now = NSLock()
    private var clockMicros: Int64

    init(clock start: String = "2026-11-22T09:00:00+08:00") {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("civic-test-\(UUID().uuidString)").path
        clockMicros = Timestamp(rfc3339: start)!.micros
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// The store's clock, which tests move by hand.
    func setClock(_ text: String) {
        now.lock(); defer { now.unlock() }
        clockMicros = Timestamp(rfc3339: text)!.micros
    }

    var clock: @Sendable () -> Timestamp {
        { [self] in now.lock(); defer { now.unlock() }; return Timestamp(micros: clockMicros) }
    }

    func open(mapSize: Int = 1 << 20) throws -> Ledger {
        try Ledger(path: path, access: .create, mapSize: mapSize, clock: clock)
    }
}

/// Events from NDJSON text; fails the test on a malformed line.
func events(_ ndjson: String) throws -> [Incoming] {
    let (events, refusals) = CloudEvents.readLines(Array(ndjson.utf8))
    if let first = refusals.first { throw first }
    return events
}

/// One event line, with the usual envelope around `data`.
func line(_ id: String, _ type: String, _ subject: String, _ time: String, _ data: String,
          actor: String = "office/li", role: String = "office", unit: String? = "U-office", extra: String = "") -> String {
    let unitField = unit.map { ",\"actorunit\":\"\($0)\"" } ?? ""
    return """
    {"specversion":"1.0","id":"\(id)","source":"/test","type":"\(type)","subject":"\(subject)","time":"\(time)","actor":"\(actor)","actorrole":"\(role)"\(unitField)\(extra),"data":\(data)}
    """
}

/// The shared campaign's units and batch (Sources/Demo/Resources/hengkou-setup.ndjson).
func hengkouSetup() throws -> [Incoming] {
    let (events, refusals) = CloudEvents.readLines(try fixture("Sources/Demo/Resources/hengkou-setup.ndjson"))
    if let first = refusals.first { throw first }
    return events
}

extension Ledger {
    /// `append` of events in memory, recorded by the test.
    func append(_ events: [Incoming], dryRun: Bool = false) throws -> AppendReport {
        try append(events, dryRun: dryRun, recordedBy: "local:test")
    }

    /// Every subject's record folded from the whole log (the reference the derived records are held to).
    func currentState() throws -> CampaignState {
        var state = CampaignState()
        try events { entry in state.apply(entry.recorded.event, seq: entry.recorded.seq); return true }
        return state
    }
}
