import Campaign
import Foundation
import Glibc
import Testing
@testable import Ledger

/// The header of the shared list, as offices write it.
let listHeader = "编号,来源,批次,类别,片区,路段,点位,问题描述,责任单位,责任领导,整改时限,发现时间"

/// `text` encoded in `encoding` by the C library (the tests make the files offices save).
func encoded(_ text: String, _ encoding: String) -> [UInt8] {
    let cd = iconv_open(encoding, "UTF-8")!
    defer { iconv_close(cd) }
    var input = Array(text.utf8)
    var output = [UInt8](repeating: 0, count: input.count * 4 + 16)
    let written = input.withUnsafeMutableBufferPointer { ib in
        output.withUnsafeMutableBufferPointer { ob -> Int in
            var ip = ib.baseAddress.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: CChar.self) }
            var il = ib.count
            var op = ob.baseAddress.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: CChar.self) }
            var ol = ob.count
            _ = iconv(cd, &ip, &il, &op, &ol)
            return ob.count - ol
        }
    }
    return Array(output.prefix(written))
}

@Suite("Importing a problem list as offices keep it")
struct ProblemListTests {
    let actor = ProblemList.Actor(actor: "office/li-xianfeng", role: .office, unit: "U-office")

    func list(_ text: String, name: String = "list.csv") throws -> ProblemList {
        try ProblemList(try Sheet.read(Array(text.utf8), fileName: name))
    }

    func plan(_ list: ProblemList, _ registry: Registry = Registry(units: [:], batches: [:]), batch: String? = nil,
              now: String = "2022-08-20T09:00:00+08:00", existing: (String) -> Problem? = { _ in nil }) throws(ImportRefused) -> ImportPlan {
        try list.plan(by: actor, given: registry, batch: batch, now: Timestamp(rfc3339: now)!, existing: existing)
    }

    @Test("the shared list imports as 22 reports and 22 assignments, units matched by name")
    func importsSharedList() throws {
        let store = TemporaryStore()
        let ledger = try store.open()
        _ = try ledger.append(try hengkouSetup())
        let result = try ledger.importList(try fixture("Sources/Demo/Resources/hengkou-problems.csv"), fileName: "hengkou-problems.csv",
                                           by: actor, dryRun: false, recordedBy: "local:test")
        #expect(result.list.rows.count == 22)
        #expect(result.plan.events.count == 44)
        #expect(result.report.appended.count == 44)
        let state = try ledger.currentState()
        let p4 = try #require(state.records["P-20220819-004"]?.problem)
        #expect(p4.status == .assigned)
        #expect(p4.unit == "U-hw")
        #expect(p4.deadline == Timestamp(rfc3339: "2022-08-23T18:00:00+08:00"))
        #expect(p4.batch == "B-20220819")
        let events = result.plan.events
        guard case .problemReported(let r) = events[0].event.data else { Issue.record("first is not a report"); return }
        #expect(r.source == .covertExposure)
        #expect(r.category == .illegalConstruction)
        #expect(r.location.point == "中心大街东段")
        guard case .problemReported(let r21) = events[40].event.data else { Issue.record("not a report"); return }
        #expect(r21.location.street == nil)
        // Importing again stores nothing new: every row is a problem already there, unchanged.
        let again = try ledger.importList(try fixture("Sources/Demo/Resources/hengkou-problems.csv"), fileName: "hengkou-problems.csv",
                                          by: actor, dryRun: false, recordedBy: "local:test")
        #expect(again.report.appended.isEmpty)
        #expect(again.plan.unchanged == 22)
        #expect(again.plan.newProblems.isEmpty)
    }

    @Test("GBK (as Excel saves CSV on Chinese Windows) and UTF-16 tab-separated text (“Unicode 文本”) read as UTF-8 does")
    func encodings() throws {
        let text = String(decoding: try fixture("Sources/Demo/Resources/hengkou-problems.csv"), as: UTF8.self)
        let utf8 = try ProblemList(try Sheet.read(Array(text.utf8), fileName: "a.csv"))
        let gbk = try ProblemList(try Sheet.read(encoded(text, "GBK"), fileName: "a.csv"))
        let tabbed = text.replacingOccurrences(of: ",", with: "\t").replacingOccurrences(of: "\n", with: "\r\n")
        let utf16 = try ProblemList(try Sheet.read([0xFF, 0xFE] + encoded(tabbed, "UTF-16LE"), fileName: "a.txt"))
        #expect(gbk.sheet.kind == "CSV（GBK）")
        #expect(utf16.sheet.kind == "制表符分隔文本（UTF-16）")
        for other in [gbk, utf16] {
            #expect(other.rows.count == 22)
            #expect(other.rows.map { $0.cells } == utf8.rows.map { $0.cells })
        }
    }

    @Test("bytes that are neither UTF-8 nor GBK are refused naming the byte, and an old .xls is told to be saved as .xlsx")
    func unreadable() {
        let error = #expect(throws: SheetError.self) { try Sheet.read(Array("编号".utf8) + [0xFF, 0x30, 0x0A], fileName: "x.csv") }
        #expect(error?.message.contains("第 7 个字节") == true)
        let xls = #expect(throws: SheetError.self) { try Sheet.read([0xD0, 0xCF, 0x11, 0xE0, 0, 0], fileName: "x.xls") }
        #expect(xls?.message.contains(".xlsx") == true)
    }

    @Test("a title row above the header, the offices' synonyms, a 合计 row and blank rows")
    func titlesSynonymsTotals() throws {
        let text = "恒口示范区创文问题整改清单,,,,,\n\n序号,问题类型,所属片区,存在问题,责任部门,完成时限,备注\n"
            + "1,环境卫生,城北,垃圾堆积,城管,8月26日前,\n2,绿化,城南,杂草,,,\n,,,,,,\n合计,2个问题,,,,,\n"
        let l = try list(text)
        #expect(l.headerRow == 3)
        #expect(l.rows.map(\.number) == [4, 5])
        #expect(l.columns.map(\.field) == ["编号", "类别", "片区", "问题描述", "责任单位", "整改时限", nil])
        #expect(l.skipped.map(\.row).sorted() == [1, 2, 6, 7])
        #expect(l.mappingLines.contains("A “序号” → 编号"))
        #expect(l.mappingLines.contains("G “备注”（不导入）"))
    }

    @Test("numbering per list: 编号 1, 2, 3 in two lists are six problems, each list's ids its own")
    func numberingPerList() throws {
        let registry = Registry(units: [], batches: [
            .init(id: "B-0819", name: "8月19日暗访", source: .covertExposure, dueAt: Timestamp(rfc3339: "2022-08-26T18:00:00+08:00"),
                  openedAt: Timestamp(rfc3339: "2022-08-19T16:00:00+08:00")),
            .init(id: "B-0826", name: "8月26日督查", source: .inspection, dueAt: Timestamp(rfc3339: "2022-09-02T18:00:00+08:00"),
                  openedAt: Timestamp(rfc3339: "2022-08-26T10:00:00+08:00")),
        ])
        let text = "序号,类别,片区,问题描述\n1,环境卫生,城北,垃圾\n2,绿化,城南,杂草\n3,绿化,城西,枯树\n"
        let first = try plan(try list(text), registry, batch: "B-0819", now: "2022-08-30T09:00:00+08:00")
        let second = try plan(try list(text), registry, batch: "8月26日督查", now: "2022-08-30T09:00:00+08:00")
        #expect(first.newProblems == ["B-0819-001", "B-0819-002", "B-0819-003"])
        #expect(second.newProblems == ["B-0826-001", "B-0826-002", "B-0826-003"])
        // The list stands in for the columns a sheet of numbers leaves out: its source and its opening.
        guard case .problemReported(let r) = second.events[0].event.data else { Issue.record("not a report"); return }
        #expect(r.source == .inspection)
        #expect(r.batch == "B-0826")
        #expect(second.events[0].event.time == Timestamp(rfc3339: "2022-08-26T10:00:00+08:00"))
        // Without a list, a number is not an id.
        let error = #expect(throws: ImportRefused.self) { try plan(try list(text), registry) }
        #expect(error?.problems.first?.message.contains("--batch") == true)
    }

    @Test("dates as offices write them, a date alone meaning the end of that day, Beijing time")
    func officeDates() {
        func at(_ text: String) -> String? { OfficeDate.read(text, year: 2022)?.moment.rfc3339 }
        let endOf26 = "2022-08-26T23:59:59+08:00"
        for text in ["2022-08-26", "2022/8/26", "2022.8.26", "2022年8月26日", "8月26日", "8月26日前", "2022年8月26日之前", " 2022-8-26 "] {
            #expect(at(text) == endOf26, "\(text)")
        }
        #expect(at("2022-08-26 18:00") == "2022-08-26T18:00:00+08:00")
        #expect(at("2022年8月26日18时") == "2022-08-26T18:00:00+08:00")
        #expect(at("2022年8月26日 18时30分") == "2022-08-26T18:30:00+08:00")
        #expect(at("2022/8/26 24:00") == endOf26)
        #expect(at("44799") == endOf26)  // Excel's serial of 2022-08-26
        #expect(OfficeDate.read(.number(44799.75), year: nil)?.moment.rfc3339 == "2022-08-26T18:00:00+08:00")
        #expect(OfficeDate.read("8月26日", year: nil) == nil)  // no year and no list to take it from
        for bad in ["8月32日", "2022-02-30", "昨天", "2022-08-26 25:00", "26/8/2022", ""] { #expect(at(bad) == nil, "\(bad)") }
    }

    @Test("a deadline given as a date is overdue only after that day ends")
    func endOfDay() throws {
        let l = try list("\(listHeader)\nP-1,暗访曝光,,环境卫生,城北,,,垃圾,U-cg,,2022/8/26,2022-08-19 16:00\n")
        let p = try plan(l, Registry(units: [.init(id: "U-cg", name: "城管执法大队")], batches: []))
        guard case .problemAssigned(let a) = p.events[1].event.data else { Issue.record("not an assignment"); return }
        #expect(!Problem.isOverdue(status: .assigned, deadline: a.deadline, at: Timestamp(rfc3339: "2022-08-26T20:00:00+08:00")!))
        #expect(Problem.isOverdue(status: .assigned, deadline: a.deadline, at: Timestamp(rfc3339: "2022-08-27T00:00:00+08:00")!))
    }

    @Test("units by name, alias, or a name with a district's prefix; an unknown one refused with the closest named")
    func unitsByAlias() throws {
        let registry = Registry(units: [
            .init(id: "U-cgzf", name: "城管执法大队", aliases: ["城管"]),
            .init(id: "U-ga", name: "恒口公安分局", aliases: ["恒口公安"]),
            .init(id: "U-hw", name: "环卫保洁公司"),
        ], batches: [])
        let rows = ["示范区城管执法大队", "城管", "恒口公安", "U-hw"].enumerated().map { k, unit in
            "P-\(k),暗访曝光,,环境卫生,城北,,,垃圾,\(unit),,2022-08-26,2022-08-19 16:00"
        }
        let p = try plan(try list("\(listHeader)\n" + rows.joined(separator: "\n")), registry)
        let units = p.events.compactMap { incoming -> String? in
            if case .problemAssigned(let a) = incoming.event.data { a.unit } else { nil }
        }
        #expect(units == ["U-cgzf", "U-cgzf", "U-ga", "U-hw"])
        #expect(p.unitsRecognised.map(\.text) == ["城管", "恒口公安", "示范区城管执法大队"])
        let error = #expect(throws: ImportRefused.self) {
            try plan(try list("\(listHeader)\nP-9,暗访曝光,,环境卫生,城北,,,垃圾,城管执法队,,2022-08-26,2022-08-19 16:00\n"), registry)
        }
        #expect(error?.problems.first?.column == "I（责任单位）")
        #expect(error?.problems.first?.message.contains("城管执法大队（U-cgzf）") == true)
        #expect(error?.description.contains("工作表“list.csv”第 2 行“I（责任单位）”列") == true)
    }

    @Test("implausible years are refused with the row named: a deadline in 9999 could never be overdue")
    func implausibleDates() throws {
        let registry = Registry(units: [.init(id: "U-cg", name: "城管")], batches: [])
        let text = "\(listHeader)\nP-1,暗访曝光,,环境卫生,城北,,,垃圾,U-cg,,9999-12-31,2022-08-19 16:00\n"
            + "P-2,暗访曝光,,环境卫生,城北,,,垃圾,U-cg,,2022-08-26,0001-01-01\n"
            + "P-3,暗访曝光,,环境卫生,城北,,,垃圾,U-cg,,2022-08-10,2022-08-19 16:00\n"
        let error = try #require(throws: ImportRefused.self) { try plan(try list(text), registry) }
        #expect(error.problems.map(\.row) == [2, 3, 4])
        #expect(error.problems[0].message.contains("9999"))
        #expect(error.problems[1].column == "L（发现时间）")
        #expect(error.problems[2].message.contains("早于发现时间"))
    }

    @Test("a corrected sheet imported again appends only its changes: another unit a reassignment, a later deadline an extension")
    func corrections() throws {
        let store = TemporaryStore(clock: "2022-08-21T09:00:00+08:00")
        let ledger = try store.open()
        _ = try ledger.append(try hengkouSetup())
        let original = String(decoding: try fixture("Sources/Demo/Resources/hengkou-problems.csv"), as: UTF8.self)
        _ = try ledger.importList(Array(original.utf8), fileName: "a.csv", by: actor, dryRun: false, recordedBy: "local:test")
        var lines = original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines[1] = lines[1].replacingOccurrences(of: "2022-08-26 18:00", with: "2022年8月30日")  // P-001: later
        lines[2] = lines[2].replacingOccurrences(of: "市场监管所", with: "环卫保洁公司")               // P-002: another unit
        lines[3] = lines[3].replacingOccurrences(of: "2022-08-26 18:00", with: "2022-08-25 18:00")  // P-003: earlier
        let corrected = Array(lines.joined(separator: "\n").utf8)
        let rehearsed = try ledger.importList(corrected, fileName: "a.csv", by: actor, dryRun: true, recordedBy: "local:test")
        #expect(rehearsed.plan.changes.count == 2)
        // Said as a clerk reads it: units by name, their ids beside.
        #expect(rehearsed.plan.changes.contains { $0.contains("改派 市场监管所（U-scjg） → 环卫保洁公司（U-hw）") }, "\(rehearsed.plan.changes)")
        #expect(rehearsed.plan.notApplied.count == 1)
        #expect(rehearsed.plan.notApplied[0].contains("提前"))
        #expect(rehearsed.plan.unchanged == 19)
        #expect(!rehearsed.report.stored)
        let done = try ledger.importList(corrected, fileName: "a.csv", by: actor, dryRun: false, recordedBy: "local:test")
        #expect(done.plan.events.map(\.event.type) == [.deadlineExtended, .problemAssigned])
        #expect(done.report.appended.count == 2)
        let state = try ledger.currentState()
        #expect(state.records["P-20220819-001"]?.problem?.deadline == Timestamp(rfc3339: "2022-08-30T23:59:59+08:00"))
        #expect(state.records["P-20220819-002"]?.problem?.unit == "U-hw")
        // Once more: nothing left to change.
        let again = try ledger.importList(corrected, fileName: "a.csv", by: actor, dryRun: false, recordedBy: "local:test")
        #expect(again.report.appended.isEmpty)
    }

    @Test("a list without a required column is refused naming the column and its other names")
    func missingColumn() throws {
        let error = try #require(throws: ImportRefused.self) { try list("编号,来源,类别,片区,路段\nP-1,暗访曝光,环境卫生,城北,\n") }
        #expect(error.problems[0].message.contains("“问题描述”"))
        #expect(error.problems[0].message.contains("存在问题"))
        #expect(error.problems[0].row == 1)
    }

    @Test("BOM, CRLF and quoted fields with commas and line ends are read")
    func csvQuoting() throws {
        let csv = "\u{FEFF}\(listHeader)\r\n"
            + "P-1,暗访曝光,,环境卫生,城北,,,\"垃圾堆积,\r\n污水\"\"横流\"\"\",,,,2022-08-19 16:00\r\n"
            + "P-2,群众举报,,绿化,城南,,,杂草,,,,2022/8/19 17:00\r\n"
        let l = try list(csv)
        #expect(l.rows.count == 2)
        #expect(l.rows[0].text("问题描述") == "垃圾堆积,\r\n污水\"横流\"")
        #expect(l.rows[1].number == 4)
        let p = try plan(l)
        #expect(p.events.count == 2)  // no 责任单位: reports only
        #expect(p.events[1].event.time == Timestamp(rfc3339: "2022-08-19T17:00:00+08:00"))
    }

    @Test("rows with unreadable labels or times are refused, every one with its row and column")
    func badRows() throws {
        let csv = "\(listHeader)\n"
            + "P-1,小道消息,,环境卫生,城北,,,垃圾,,,,2022-08-19 16:00\n"
            + "P-2,暗访曝光,,噪音,城北,,,垃圾,,,,2022-08-19 16:00\n"
            + "P-3,暗访曝光,,环境卫生,城北,,,垃圾,,,,昨天\n"
            + "P-4,暗访曝光,B-none,环境卫生,城北,,,垃圾,,,,2022-08-19 16:00\n"
            + "P-4,暗访曝光,,环境卫生,城北,,,垃圾,,,,2022-08-19 16:00\n"
        let error = try #require(throws: ImportRefused.self) { try plan(try list(csv)) }
        #expect(error.problems.map(\.row) == [2, 3, 4, 5, 6])
        #expect(error.problems.map(\.column) == ["B（来源）", "D（类别）", "L（发现时间）", "C（批次）", "A（编号）"])
        #expect(error.problems[3].message.contains("B-none"))
        #expect(error.problems[4].message.contains("第 5 行重复"))
    }

    @Test("a unit name registered twice is refused with both ids, not called unregistered")
    func ambiguousUnitName() throws {
        let store = TemporaryStore()
        let ledger = try store.open()
        _ = try ledger.append(try hengkouSetup())
        _ = try ledger.append(try events(line("u-twin", "unit.registered", "U-twin", "2022-06-24T10:00:00+08:00",
                                              #"{"name":"城管执法大队","kind":"department"}"#)))
        let error = try #require(throws: ImportRefused.self) {
            try ledger.importList(try fixture("Sources/Demo/Resources/hengkou-problems.csv"), fileName: "a.csv", by: actor,
                                  dryRun: true, recordedBy: "local:test")
        }
        let message = error.description
        #expect(message.contains("U-cgzf、U-twin"))
        #expect(!message.contains("未登记"))
    }

    @Test("a unit's aliases are stored with its registration and read back from its record")
    func aliasesStored() throws {
        let store = TemporaryStore()
        let ledger = try store.open()
        _ = try ledger.append(try events(line("u-cg", "unit.registered", "U-cg", "2022-06-24T10:00:00+08:00",
                                              #"{"name":"城管执法大队","kind":"department","aliases":["城管","城管局"]}"#)))
        #expect(try ledger.registry().unitList == [.init(id: "U-cg", name: "城管执法大队", aliases: ["城管", "城管局"])])
        #expect(throws: LineRefusal.self) {
            try events(line("u-x", "unit.registered", "U-x", "2022-06-24T10:00:00+08:00", #"{"name":"X","kind":"department","aliases":["城管","城管"]}"#))
        }
    }

    @Test("a 编号 that cannot be an event id is refused naming the column")
    func badProblemNumber() throws {
        let error = try #require(throws: ImportRefused.self) {
            try plan(try list("\(listHeader)\n问题 1,暗访曝光,,环境卫生,城北,,,垃圾,,,,2022-08-19 16:00\n"))
        }
        #expect(error.problems[0].message.hasPrefix("编号“问题 1”"))
    }
}
