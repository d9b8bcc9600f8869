import Campaign
import Demo
import Foundation
import JSON
import Ledger
import LMDB
import Testing

/// The package's root folder, found from this file.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let setupFile = packageRoot.appendingPathComponent("Sources/Demo/Resources/hengkou-setup.ndjson").path
let problemsFile = packageRoot.appendingPathComponent("Sources/Demo/Resources/hengkou-problems.csv").path

/// The civic binary built beside the test bundle.
let civicBinary: String = {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("civic").path
    if FileManager.default.isExecutableFile(atPath: beside) { return beside }
    return packageRoot.appendingPathComponent(".build/debug/civic").path
}()

struct Run {
    var status: Int32
    var out: String
    var err: String
    /// Ended by a signal (a crash), not by exiting.
    var signaled = false
}

/// Runs `civic` with `arguments` on `store`, feeding `input` on standard input.
func civic(_ arguments: [String], store: String, input: String? = nil) throws -> Run {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: civicBinary)
    process.arguments = arguments + ["--store", store]
    let out = Pipe(), err = Pipe(), inp = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = inp
    try process.run()
    if let input { inp.fileHandleForWriting.write(Data(input.utf8)) }
    try inp.fileHandleForWriting.close()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Run(status: process.terminationStatus, out: String(decoding: outData, as: UTF8.self),
               err: String(decoding: errData, as: UTF8.self), signaled: process.terminationReason == .uncaughtSignal)
}

/// A temporary store folder, removed at the end.
final class Folder: Sendable {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("civic-cli-\(UUID().uuidString)").path
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A store holding the shared campaign: its units, its batch and its problem list.
func filledStore() throws -> Folder {
    let folder = Folder()
    #expect(try civic(["init"], store: folder.path).status == 0)
    #expect(try civic(["append", setupFile], store: folder.path).status == 0)
    let imported = try civic(["import", problemsFile, "--actor", "office/li-xianfeng", "--actor-unit", "U-office"], store: folder.path)
    #expect(imported.status == 0, "\(imported.err)")
    return folder
}

func json(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

extension JSONValue {
    var array: [JSONValue] { if case .array(let a) = self { a } else { [] } }
    var keys: [String] { if case .object(let m) = self { m.map(\.key) } else { [] } }
    var text: String? { if case .string(let s) = self { s } else { nil } }
    var int: Int? { if case .number(let n) = self { Int(n) } else { nil } }
}

@Suite("The command line, end to end on a temporary store", .serialized)
struct CLITests {
    @Test("account add prints the token once; account list shows who has an account, never a token")
    func accountList() throws {
        let folder = try filledStore()
        let added = try civic(["account", "add", "--id", "office/li", "--name", "李先锋", "--role", "office", "--unit", "U-office"], store: folder.path)
        #expect(added.status == 0, "\(added.err)")
        let token = try #require(added.out.split(separator: "\n").last.map(String.init))
        #expect(token.hasPrefix("civic_"))
        let list = try civic(["account", "list"], store: folder.path)
        #expect(list.status == 0)
        #expect(list.out.contains("office/li") && list.out.contains("李先锋") && list.out.contains("有效") && list.out.contains("从未使用"), "\(list.out)")
        #expect(!list.out.contains(token))
        let exported = try civic(["export"], store: folder.path)
        #expect(exported.out.contains("account.enrolled") && !exported.out.contains(token))
    }

    @Test("init makes a store only its owner can read; a second init changes nothing")
    func initStore() throws {
        let folder = Folder()
        let first = try civic(["init"], store: folder.path)
        #expect(first.status == 0)
        let mode = try FileManager.default.attributesOfItem(atPath: folder.path)[.posixPermissions] as? Int
        #expect(mode == 0o700)
        let dataMode = try FileManager.default.attributesOfItem(atPath: folder.path + "/data.mdb")[.posixPermissions] as? Int
        #expect(dataMode == 0o600)
        let second = try civic(["init"], store: folder.path)
        #expect(second.status == 0)
        #expect(second.out.contains("已存在"))
    }

    @Test("the board as JSON has its documented keys in order, counts, and what it was built from")
    func boardJSON() throws {
        let store = try filledStore()
        let run = try civic(["board", "--format", "json", "--at", "2022-08-25T12:00:00+08:00"], store: store.path)
        #expect(run.status == 0, "\(run.err)")
        let view = try json(run.out)
        let rows = view["problems"]?.array ?? []
        #expect(rows.count == 22)
        #expect(rows.first?.keys == ["id", "status", "batch", "source", "category", "area", "street", "point", "description",
                                     "unit", "leader", "deadline", "overdue", "reportedAt", "closedAt", "rejections",
                                     "escalations", "reopens", "version"])
        #expect(rows.first?["id"]?.text == "P-20220819-001")
        #expect(view["counts"]?["assigned"]?.int == 22)
        #expect(view["counts"]?["overdue"]?.int == 7)  // deadlines on the 22nd, 23rd and 24th
        #expect(view["head"]?["seq"]?.int == 55)
        #expect(view["at"]?.text == "2022-08-25T12:00:00+08:00")
        let p4 = rows.first { $0["id"]?.text == "P-20220819-004" }
        #expect(p4?["deadline"]?.text == "2022-08-23T18:00:00+08:00")
        #expect(p4?["overdue"] == .bool(true))
        #expect(p4?["closedAt"] == .null)
    }

    @Test("the board as of a past seq or moment shows only what was then")
    func boardPast() throws {
        let store = try filledStore()
        let before = try json(try civic(["board", "--format", "json", "--as-of", "seq:13"], store: store.path).out)
        #expect(before["problems"]?.array.count == 1)
        #expect(before["problems"]?.array.first?["status"]?.text == "assigned")
        let reportedOnly = try json(try civic(["board", "--format", "json", "--as-of", "seq:12"], store: store.path).out)
        #expect(reportedOnly["problems"]?.array.first?["status"]?.text == "reported")
        #expect(reportedOnly["problems"]?.array.first?["deadline"] == .null)
        let early = try json(try civic(["board", "--format", "json", "--at", "2022-08-19 16:07"], store: store.path).out)
        #expect(early["problems"]?.array.map { $0["id"]?.text ?? "" } == ["P-20220819-001", "P-20220819-002"])
    }

    @Test("board filters: unit, status, overdue; and CSV output")
    func boardFilters() throws {
        let store = try filledStore()
        let byUnit = try json(try civic(["board", "--format", "json", "--unit", "U-cgzf"], store: store.path).out)
        #expect(byUnit["problems"]?.array.count == 4)
        let overdue = try json(try civic(["board", "--format", "json", "--overdue", "--at", "2022-08-25T12:00:00+08:00"], store: store.path).out)
        #expect(overdue["problems"]?.array.count == 7)
        let closed = try json(try civic(["board", "--format", "json", "--status", "closed"], store: store.path).out)
        #expect(closed["problems"]?.array.isEmpty == true)
        let csv = try civic(["board", "--format", "csv"], store: store.path)
        #expect(csv.out.hasPrefix("\u{FEFF}id,status,batch,source,category,area,street,point,description,unit,leader,deadline,overdue,"))
        #expect(csv.out.split(separator: "\r\n").count == 23)
        let table = try civic(["board"], store: store.path)
        #expect(table.out.contains("编号"))
        #expect(table.out.contains("城管执法大队"))
    }

    @Test("a refused append exits 1, names line, id and rule, and stores nothing")
    func refusedAppend() throws {
        let store = try filledStore()
        let head = try civic(["head"], store: store.path).out
        let input = """
        {"specversion":"1.0","id":"v-1","source":"/t","type":"rectification.verified","subject":"P-20220819-001","time":"2022-08-22T10:00:00+08:00","actor":"office/li","actorrole":"office","actorunit":"U-office","data":{}}
        {"specversion":"1.0","id":"s-1","source":"/t","type":"rectification.submitted","subject":"P-20220819-002","time":"2022-08-22T10:00:00+08:00","actor":"unit/x","actorrole":"unit","actorunit":"U-scjg","data":{"summary":"已清理","evidence":[{"sha256":"\(String(repeating: "ab", count: 32))"}]}}
        """
        let run = try civic(["append", "-"], store: store.path, input: input)
        #expect(run.status == 1)
        #expect(run.err.contains("第 1 行"))
        #expect(run.err.contains("v-1"))
        #expect(run.err.contains("已交办(assigned)"))
        #expect(run.err.contains("[lifecycle]"))
        #expect(!run.err.contains("s-1"))  // the second event was fine; it is not stored either
        #expect(try civic(["head"], store: store.path).out == head)
        // A line that is not JSON does not hide the rule refusals of the others.
        let mixed = try civic(["append", "-"], store: store.path, input: "not json\n" + input.split(separator: "\n")[0])
        #expect(mixed.status == 1)
        #expect(mixed.err.contains("第 1 行"))
        #expect(mixed.err.contains("第 2 行（id v-1"))
    }

    @Test("usage errors exit 2: a bad option value, an unknown command, no store")
    func usageErrors() throws {
        let store = try filledStore()
        #expect(try civic(["audit", "--unit", "U-zt", "--backdate-hours", "inf"], store: store.path).status == 2)
        #expect(try civic(["board", "--at", "9999-12-31 23:59"], store: store.path).status == 2)
        #expect(try civic(["board", "--format", "xml"], store: store.path).status == 2)
        #expect(try civic(["board", "--at", "yesterday"], store: store.path).status == 2)
        #expect(try civic(["board", "--as-of", "seq:x"], store: store.path).status == 2)
        #expect(try civic(["frobnicate"], store: store.path).status == 2)
        // As a clerk reads them: the parser's own messages and frame in Chinese, the syntax as it is.
        for (arguments, expected) in [(["ranking", "--week", "W48"], "错误：“W48”不是 --week <week> 的有效取值"),
                                      (["board", "--nope"], "错误：没有选项 --nope"), (["board", "--unit"], "错误：选项 --unit <unit> 缺少取值"),
                                      (["append"], "错误：缺少参数 <file>"), (["board", "--status", "bogus"], "错误：--status “bogus” 不是状态")] {
            let run = try civic(arguments, store: store.path)
            #expect(run.status == 2 && run.err.hasPrefix(expected) && run.err.contains("用法：civic ") && !run.err.contains("Error:"), "\(run.err)")
        }
        let missing = try civic(["board"], store: store.path + "-nowhere")
        #expect(missing.status == 2)
        #expect(missing.err.contains("civic init"))
    }

    @Test("export writes every event with seq, version, recordedat and the chain; --after skips")
    func export() throws {
        let store = try filledStore()
        let lines = try civic(["export"], store: store.path).out.split(separator: "\n")
        #expect(lines.count == 55)
        let first = try json(String(lines[0]))
        #expect(first["seq"]?.int == 1)
        #expect(first["prevhash"]?.text == String(repeating: "0", count: 64))
        let second = try json(String(lines[1]))
        #expect(second["prevhash"]?.text == first["hash"]?.text)
        let end = try civic(["export", "--after", "18446744073709551615"], store: store.path)
        #expect(end.status == 0 && end.out.isEmpty)
        let after = try civic(["export", "--after", "50"], store: store.path).out.split(separator: "\n")
        #expect(after.count == 5)
        #expect(try json(String(after[0]))["seq"]?.int == 51)
        // An export appends to a fresh store as the same events.
        let copy = Folder()
        _ = try civic(["init"], store: copy.path)
        let replay = try civic(["append", "-"], store: copy.path, input: lines.joined(separator: "\n"))
        #expect(replay.status == 0, "\(replay.err)")
        #expect(replay.out.contains("55 个事件"))
    }

    @Test("verify passes on a sound store and exits 3 naming the seq of a changed byte")
    func verifyDetectsTamper() throws {
        let store = try filledStore()
        let ok = try civic(["verify"], store: store.path)
        #expect(ok.status == 0)
        #expect(ok.out.contains("55 个事件"))
        // 55 events are fewer than a batch of the subjects' records: the line says why it counts none.
        #expect(ok.out.contains("0 个对象记录") && ok.out.contains("未成批写入，每次由日志直接算出，也已核对"), "\(ok.out)")
        let head = try civic(["head"], store: store.path).out.trimmingSpaces
        #expect(try civic(["verify", "--expect-head", head], store: store.path).status == 0)
        let file = store.path + "/data.mdb"
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        let needle = Array("盲道被占用".utf8)
        let at = try #require((0...(bytes.count - needle.count)).first { bytes[$0..<($0 + needle.count)].elementsEqual(needle) })
        bytes[at] ^= 0x02
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let bad = try civic(["verify"], store: store.path)
        #expect(bad.status == 3)
        #expect(bad.err.contains("seq 24"))  // P-20220819-007's report: 11 setup events, then two per row
    }

    @Test("a dry-run import stores nothing; an import without --actor-unit is a usage error")
    func importOptions() throws {
        let folder = Folder()
        _ = try civic(["init"], store: folder.path)
        _ = try civic(["append", setupFile], store: folder.path)
        let dry = try civic(["import", problemsFile, "--actor-unit", "U-office", "--dry-run"], store: folder.path)
        #expect(dry.status == 0)
        #expect(dry.out.contains("试运行"))
        #expect(try civic(["head"], store: folder.path).out.hasPrefix("11:"))
        #expect(try civic(["import", problemsFile], store: folder.path).status == 2)
    }

    @Test("a map grown by another process is adopted, and its events are seen by the rules")
    func anotherProcessAppends() throws {
        let folder = Folder()
        let ledger = try Ledger(path: folder.path, access: .create, mapSize: 256 << 10)
        let setup = CloudEvents.readLines(Array(try Data(contentsOf: URL(fileURLWithPath: setupFile)))).events
        _ = try ledger.append(setup, recordedBy: "local:test")
        // Another process imports the list, writing past this process's map size.
        var lines: [String] = []
        for k in 1...1500 {
            lines.append(#"{"specversion":"1.0","id":"r\#(k)","source":"/t","type":"problem.reported","subject":"P-\#(k)","time":"2022-08-21T09:00:00+08:00","actor":"office/li","actorrole":"office","actorunit":"U-office","data":{"batch":"B-20220819","source":"inspection","category":"sanitation","description":"背街小巷垃圾堆积、污水横流，群众反映强烈，请尽快清理","location":{"area":"中心城区"}}}"#)
        }
        let other = try civic(["append", "-"], store: folder.path, input: lines.joined(separator: "\n"))
        #expect(other.status == 0, "\(other.err)")
        // This process assigns a problem the other one reported.
        let assign = #"{"specversion":"1.0","id":"a1","source":"/t","type":"problem.assigned","subject":"P-1500","time":"2022-08-21T10:00:00+08:00","actor":"office/li","actorrole":"office","actorunit":"U-office","data":{"unit":"U-hw","deadline":"2022-08-23T18:00:00+08:00"}}"#
        let report = try ledger.append(CloudEvents.readLines(Array(assign.utf8)).events, recordedBy: "local:test")
        #expect(report.appended.first?.seq == 1512)
        #expect(report.appended.first?.version == 2)
        #expect(try ledger.verify().head.seq == 1512)
    }

    @Test("appends from several processes at once are serialized by LMDB's writer lock: all stored, the chain whole")
    func concurrentWriters() throws {
        let folder = Folder()
        _ = try civic(["init"], store: folder.path)
        _ = try civic(["append", setupFile], store: folder.path)
        let writers = 4, each = 200
        let group = DispatchGroup()
        let statuses = Statuses()
        for w in 0..<writers {
            let lines = (0..<each).map { k in
                #"{"specversion":"1.0","id":"w\#(w)-\#(k)","source":"/t","type":"problem.reported","subject":"P-\#(w)-\#(k)","time":"2022-08-21T09:00:00+08:00","actor":"office/li","actorrole":"office","actorunit":"U-office","data":{"source":"inspection","category":"sanitation","description":"垃圾","location":{"area":"城北"}}}"#
            }
            // Each writer sends its events in many small appends, so that the writers interleave.
            let chunks = stride(from: 0, to: each, by: 20).map { lines[$0..<min($0 + 20, each)].joined(separator: "\n") }
            group.enter()
            DispatchQueue.global().async {
                for chunk in chunks {
                    let status = (try? civic(["append", "-"], store: folder.path, input: chunk).status) ?? -1
                    statuses.add(status)
                }
                group.leave()
            }
        }
        group.wait()
        #expect(statuses.all.allSatisfy { $0 == 0 })
        let verified = try civic(["verify"], store: folder.path)
        #expect(verified.status == 0)
        #expect(verified.out.contains("\(11 + writers * each) 个事件"))
    }
}

@Suite("civic serve: a real server process, read-only, while another process appends", .serialized)
struct ServeCLITests {
    @Test("answers every request correctly while events are appended, sees each new head, and stops on SIGTERM")
    func servesWhileAppending() throws {
        let folder = try filledStore()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: civicBinary)
        server.arguments = ["serve", "--store", folder.path, "--port", "0"]
        let out = Pipe()
        server.standardOutput = out
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { server.terminate() } }
        // The first line names the address.
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        let port = try #require(text.split(separator: ":").dropFirst(2).first.flatMap { Int($0.prefix { $0.isNumber }) }, "\(text)")
        func get(_ path: String) throws -> (status: Int, body: String) {
            let (status, body) = try httpGet(port: port, path: path)
            return (status, body)
        }
        var seen: [Int] = []
        for round in 0..<10 {
            let lines = (0..<30).map { k in
                #"{"specversion":"1.0","id":"s\#(round)-\#(k)","source":"/t","type":"problem.reported","subject":"P-s\#(round)-\#(k)","time":"2022-08-21T09:00:00+08:00","actor":"office/li","actorrole":"office","actorunit":"U-office","data":{"source":"inspection","category":"sanitation","description":"垃圾","location":{"area":"城北"}}}"#
            }
            #expect(try civic(["append", "-"], store: folder.path, input: lines.joined(separator: "\n")).status == 0)
            let (status, body) = try get("/api/board?at=2022-08-30%2000:00")
            #expect(status == 200)
            let view = try json(body)
            let head = view["head"]?["seq"]?.int ?? -1
            seen.append(head)
            #expect(view["problems"]?.array.count == head - 33)  // 11 setup events, 22 reports and 22 assignments, then one problem per event
        }
        // Each answer reads the head the last append left: the server sees other processes' commits at once.
        #expect(seen == (1...10).map { 55 + 30 * $0 })
        #expect(try get("/api/verify").body.contains("\"verified\":true"))
        server.terminate()  // SIGTERM
        server.waitUntilExit()
        #expect(server.terminationReason == .exit)
        #expect(server.terminationStatus == 0)
    }
}

/// A GET on 127.0.0.1:`port`, over a plain socket: the status and the body.
func httpGet(port: Int, path: String) throws -> (Int, String) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        response += buffer[0..<n]
    }
    let text = String(decoding: response, as: UTF8.self)
    guard let split = text.range(of: "\r\n\r\n") else { throw POSIXError(.EPROTO) }
    let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
    var body = String(text[split.upperBound...])
    if text[..<split.lowerBound].lowercased().contains("transfer-encoding: chunked") { body = unchunked(body) }
    return (status, body)
}

/// The body of a chunked HTTP/1.1 response.
func unchunked(_ text: String) -> String {
    var bytes = Array(text.utf8)[...]
    var out: [UInt8] = []
    while let lineEnd = bytes.firstIndex(of: UInt8(ascii: "\r")) {
        let size = Int(String(decoding: bytes[bytes.startIndex..<lineEnd], as: UTF8.self), radix: 16) ?? 0
        if size == 0 { break }
        let start = lineEnd + 2
        out += bytes[start..<(start + size)]
        bytes = bytes[(start + size + 2)...]
    }
    return String(decoding: out, as: UTF8.self)
}

/// Exit statuses collected from several threads.
final class Statuses: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int32] = []
    func add(_ v: Int32) { lock.lock(); values.append(v); lock.unlock() }
    var all: [Int32] { lock.lock(); defer { lock.unlock() }; return values }
}

@Suite("Progress, ranking and audit from the command line", .serialized)
struct ViewCLITests {
    /// The demo campaign: the shared list and five weeks of what followed.
    static let demo: Folder = {
        let folder = Folder()
        _ = try? civic(["demo", "--no-serve", "--story-dates"], store: folder.path)
        return folder
    }()

    @Test("progress as JSON: its documented keys, per unit, the series, zeroedAt, and the basis with its digest")
    func progressJSON() throws {
        let run = try civic(["progress", "--format", "json", "--at", "2022-08-26T20:00:00+08:00"], store: Self.demo.path)
        #expect(run.status == 0, "\(run.err)")
        let view = try json(run.out)
        #expect(view.keys == ["view", "head", "asOf", "at", "filters", "batches", "digest"])
        let batch = try #require(view["batches"]?.array.first)
        #expect(batch.keys == ["id", "name", "dueAt", "total", "withdrawn", "closed", "submitted", "open", "overdue",
                               "clearRate", "zeroed", "zeroedAt", "zeroedRecordedAt", "onTime", "units", "series"])
        #expect(batch["total"]?.int == 22)
        #expect(batch["withdrawn"]?.int == 1)
        #expect(batch["closed"]?.int == 19)
        #expect(batch["zeroed"] == .bool(false))
        #expect(batch["series"]?.array.first?["date"]?.text == "2022-08-20")
        #expect(batch["series"]?.array.last?["date"]?.text == "2022-08-26")
        #expect(batch["series"]?.array.last?["outstanding"]?.int == 2)
        let units = batch["units"]?.array ?? []
        let hw = try #require(units.first { $0["unit"]?.text == "U-hw" })
        #expect(hw["zeroed"] == .bool(true))
        #expect(hw["zeroedAt"]?.text == "2022-08-26T15:00:00+08:00")
        // The same view rebuilt gives the same digest; another moment another.
        let again = try json(try civic(["progress", "--format", "json", "--at", "2022-08-26T20:00:00+08:00"], store: Self.demo.path).out)
        #expect(again["digest"] == view["digest"])
        let later = try json(try civic(["progress", "--format", "json", "--at", "2022-08-29T20:00:00+08:00"], store: Self.demo.path).out)
        #expect(later["digest"] != view["digest"])
        #expect(later["batches"]?.array.first?["zeroedAt"] == .null)  // P-20220819-013 was given until 2 September
        // Zero on 2 September, lost to the look-back's reopening on the 5th, zero again on the 8th.
        func zeroedAt(_ at: String) throws -> JSONValue? {
            try json(try civic(["progress", "--format", "json", "--batch", "B-20220819", "--at", at], store: Self.demo.path).out)["batches"]?
                .array.first?["zeroedAt"]
        }
        #expect(try zeroedAt("2022-09-03T00:00:00+08:00") == .string("2022-09-02T10:00:00+08:00"))
        #expect(try zeroedAt("2022-09-06T00:00:00+08:00") == .null)
        #expect(try zeroedAt("2022-09-09T00:00:00+08:00") == .string("2022-09-08T10:00:00+08:00"))
    }

    @Test("ranking of a week as JSON, ordered and ranked; a bad week is a usage error")
    func rankingJSON() throws {
        let run = try civic(["ranking", "--week", "2022-W34", "--format", "json"], store: Self.demo.path)
        #expect(run.status == 0, "\(run.err)")
        let view = try json(run.out)
        let rows = view["units"]?.array ?? []
        #expect(rows.first?.keys == ["unit", "assigned", "closed", "overdue", "clearRate", "closedInWeek", "rejectedInWeek",
                                     "reopenedInWeek", "escalatedInWeek", "rank"])
        // Places as offices give them: units equal on every measure share one, the next skips (1, 1, 3).
        let ranks = rows.map { $0["rank"]?.int ?? 0 }
        #expect(ranks.first == 1)
        for k in ranks.indices.dropFirst() { #expect(ranks[k] == ranks[k - 1] || ranks[k] == k + 1) }
        #expect(rows.count == 9)
        #expect(view["at"]?.text == "2022-08-28T23:59:59.999999+08:00")
        #expect(try civic(["ranking", "--week", "2022-W60"], store: Self.demo.path).status == 2)
    }

    @Test("stats counts every kind of subject, and the problems by status, as the views do, before the tables are first written")
    func statsAgreeWithViews() throws {
        let stats = try civic(["stats", "--format", "json"], store: Self.demo.path)
        #expect(stats.status == 0, "\(stats.err)")
        let view = try json(stats.out)
        // As a clerk reads it: the recording times in Beijing time, as every view writes them.
        let text = try civic(["stats"], store: Self.demo.path).out
        #expect(text.contains("登记时间 ") && text.contains("（北京时间）") && !text.contains("Z —"), "\(text)")
        let cases = try json(try civic(["cases", "--format", "json"], store: Self.demo.path).out)["cases"]?.array ?? []
        let board = try json(try civic(["board", "--format", "json"], store: Self.demo.path).out)["problems"]?.array ?? []
        #expect(!cases.isEmpty)
        #expect(view["subjects"]?["accountability"]?.int == cases.count)
        #expect(view["subjects"]?["problem"]?.int == board.count)
        for status in ["reported", "assigned", "submitted", "closed", "withdrawn"] {
            #expect(view["problems"]?[status]?.int == board.filter { $0["status"]?.text == status }.count, "\(status)")
        }
        // An account enrolled after: counted at once, the tables still unwritten.
        let store = try filledStore()
        let added = try civic(["account", "add", "--id", "office/li", "--name", "李先锋", "--role", "office", "--unit", "U-office"], store: store.path)
        #expect(added.status == 0, "\(added.err)")
        #expect(try json(try civic(["stats", "--format", "json"], store: store.path).out)["subjects"]?["account"]?.int == 1)
    }

    @Test("audit of a unit with flags; exactly one selector is required")
    func auditJSON() throws {
        let run = try civic(["audit", "--unit", "U-zt", "--format", "json", "--backdate-hours", "1000000"], store: Self.demo.path)
        #expect(run.status == 0, "\(run.err)")
        let events = try json(run.out)["events"]?.array ?? []
        #expect(events.first?.keys == ["seq", "version", "recordedAt", "occurredAt", "type", "subject", "actor",
                                       "actorrole", "id", "hash", "flags", "recordedBy", "content", "evidence"])
        #expect(events.allSatisfy { $0["recordedBy"]?.text?.hasPrefix("local:") == true })
        #expect(Set(events.compactMap { $0["subject"]?.text }) == ["U-zt", "P-20220819-008", "A-20220829-001"])
        let flagged = events.filter { $0["flags"]?.array.isEmpty == false }
        #expect(flagged.map { $0["flags"]?.array.first?.text ?? "" } == ["recorded-after-deadline", "late"])
        // The demo is replayed as it was recorded: 补录 marks only what the story entered late, not this trail.
        let strict = try json(try civic(["audit", "--subject", "P-20220819-008", "--format", "json"], store: Self.demo.path).out)
        #expect(strict["events"]?.array.contains { $0["flags"]?.array.contains(.string("backdated")) == true } == false)
        #expect(strict["events"]?.array.first?["content"]?.text?.contains("砂石路") == true)
        #expect(try civic(["audit"], store: Self.demo.path).status == 2)
        #expect(try civic(["audit", "--unit", "U-zt", "--actor", "x"], store: Self.demo.path).status == 2)
    }

    @Test("every view read from the log alone (--from-log) is byte for byte the view read from the derived data")
    func fromLog() throws {
        // The demo campaign with its derived data written often (snapshots every 20 seqs, records every 10).
        let folder = Folder()
        do {
            let ledger = try Ledger(path: folder.path, access: .create, snapshotInterval: 20, flushEvery: 10)
            _ = try DemoCampaign.fill(ledger)
        }
        let at = ["--at", "2022-08-26T20:00:00+08:00"]
        let views: [[String]] = [
            ["board", "--format", "json"] + at, ["board", "--format", "json", "--as-of", "seq:60", "--unit", "住建局"] + at,
            ["progress", "--format", "json"] + at, ["ranking", "--week", "2022-W34", "--format", "json"],
            ["audit", "--unit", "U-zj", "--format", "json"] + at, ["audit", "--actor", "office/li-xianfeng", "--format", "json"] + at,
            ["cases", "--format", "json"] + at, ["clues", "--format", "json"] + at, ["bulletin", "--week", "2022-W34", "--format", "json"],
        ]
        for view in views {
            let derived = try civic(view, store: folder.path), alone = try civic(view + ["--from-log"], store: folder.path)
            #expect(derived.status == 0 && alone.status == 0, "\(view): \(derived.err) \(alone.err)")
            #expect(!derived.out.isEmpty && alone.out == derived.out, "\(view)")
        }
        #expect(try civic(["append", "--from-log", setupFile], store: folder.path).status == 2)  // only views read this way

        // A unit link forged into the derived table, as an operator with write access could: a problem never
        // given to 住建局 linked to it (the value copied from one of its true links, so it reads well).
        let audit = ["audit", "--unit", "U-zj", "--format", "json"] + at
        let truth = try civic(audit, store: folder.path).out
        let environment = try Environment(path: folder.path)
        let links = try environment.database("unit-links")
        let stranger = try environment.write { txn -> String in
            let own = Array("U-zj".utf8) + [0]
            var value: [UInt8] = [], linked: Set<String> = [], others: [String] = []
            try txn.forEach(links) { key, v in
                let k = Array(key)
                guard let zero = k.firstIndex(of: 0) else { return true }
                let subject = String(decoding: k[(zero + 1)...], as: UTF8.self)
                if k.starts(with: own) { value = Array(v); linked.insert(subject) } else if subject.hasPrefix("P-") { others.append(subject) }
                return true
            }
            let stranger = try #require(others.first { !linked.contains($0) })
            try txn.put(links, key: own + Array(stranger.utf8), value: try #require(value.isEmpty ? nil : value))
            return stranger
        }
        let fooled = try civic(audit, store: folder.path).out
        #expect(fooled != truth && fooled.contains(stranger))  // views trust derived data
        #expect(try civic(audit + ["--from-log"], store: folder.path).out == truth)  // not read from the log alone
        let verified = try civic(["verify"], store: folder.path)
        #expect(verified.status == 3 && (verified.out + verified.err).contains("unit-links"), "\(verified.out) \(verified.err)")
    }

    @Test("views as of a past seq use the checkpoints yet equal the full fold: the demo store at seq 60")
    func asOfSeq() throws {
        let board = try json(try civic(["board", "--format", "json", "--as-of", "seq:60", "--at", "2022-09-30T00:00:00+08:00"],
                                       store: Self.demo.path).out)
        #expect(board["head"]?["seq"]?.int == 60)
        #expect(board["problems"]?.array.count == 22)
        #expect(board["counts"]?["submitted"]?.int == 1)  // seq 56–58 submitted three fixes; 59–60 verified two
        #expect(board["counts"]?["closed"]?.int == 2)
    }
}
