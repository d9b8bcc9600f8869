import Campaign
import Foundation
import Testing
@testable import Ledger

@Suite("Importing a problem list kept in Excel")
struct ProblemListTests {
    let actor = ProblemList.Actor(actor: "office/li-xianfeng", role: .office, unit: "U-office")

    @Test("the shared list imports as 22 reports and 22 assignments, units matched by name")
    func importsSharedList() throws {
        let store = TemporaryStore()
        let ledger = try store.open()
        _ = try ledger.append(try hengkouSetup())
        let list = try ProblemList(csv: try fixture("Sources/Demo/Resources/hengkou-problems.csv"))
        #expect(list.rows.count == 22)
        let events = try list.events(by: actor, given: try ledger.registry())
        #expect(events.count == 44)
        let report = try ledger.append(events)
        #expect(report.appended.count == 44)
        let state = try ledger.currentState()
        let p4 = try #require(state.records["P-20220819-004"]?.problem)
        #expect(p4.status == .assigned)
        #expect(p4.unit == "U-hw")
        #expect(p4.deadline == Timestamp(rfc3339: "2022-08-23T18:00:00+08:00"))
        #expect(p4.batch == "B-20220819")
        guard case .problemReported(let r) = events[0].event.data else { Issue.record("first is not a report"); return }
        #expect(r.source == .covertExposure)
        #expect(r.category == .illegalConstruction)
        #expect(r.location.point == "中心大街东段")
        // P-20220819-021 has no 路段 or 点位.
        guard case .problemReported(let r21) = events[40].event.data else { Issue.record("not a report"); return }
        #expect(r21.location.street == nil)
        #expect(r21.category == .onlineMaterials)
        #expect(r21.source == .onlineMaterials)
        // Importing again stores nothing new.
        let again = try ledger.append(try list.events(by: actor, given: try ledger.registry()))
        #expect(again.appended.isEmpty)
        #expect(again.duplicates.count == 44)
    }

    @Test("unknown unit names are refused and listed with their lines")
    func unknownUnitsListed() throws {
        let store = TemporaryStore()
        let ledger = try store.open()
        _ = try ledger.append(try hengkouSetup())
        var text = String(decoding: try fixture("Sources/Demo/Resources/hengkou-problems.csv"), as: UTF8.self)
        text = text.replacingOccurrences(of: "渣土运输公司", with: "渣土公司").replacingOccurrences(of: "恒口公安分局", with: "公安局")
        let list = try ProblemList(csv: Array(text.utf8))
        let error = try #require(throws: AppendRefused.self) { try list.events(by: actor, given: try ledger.registry()) }
        #expect(error.refusals.count == 2)
        #expect(error.refusals.allSatisfy { $0.refusal.rule == .reference })
        let messages = error.refusals.map(\.refusal.message).joined(separator: "\n")
        #expect(messages.contains("渣土公司"))
        #expect(messages.contains("公安局"))
        #expect(messages.contains("4、20、23"))
    }

    @Test("a list without a required column is refused naming the column")
    func missingColumn() throws {
        let csv = "编号,来源,批次,类别,片区,路段,点位,问题描述,责任单位,责任领导,发现时间\nP-1,暗访曝光,,环境卫生,城北,,,垃圾,,,2022-08-19 16:00\n"
        let error = try #require(throws: AppendRefused.self) { try ProblemList(csv: Array(csv.utf8)) }
        #expect(error.refusals[0].refusal.message.contains("整改时限"))
        #expect(error.refusals[0].line == 1)
    }

    @Test("BOM, CRLF and quoted fields with commas and line ends are read")
    func csvQuoting() throws {
        let csv = "\u{FEFF}编号,来源,批次,类别,片区,路段,点位,问题描述,责任单位,责任领导,整改时限,发现时间\r\n"
            + "P-1,暗访曝光,,环境卫生,城北,,,\"垃圾堆积,\r\n污水\"\"横流\"\"\",,,,2022-08-19 16:00\r\n"
            + "P-2,群众举报,,绿化,城南,,,杂草,,,,2022/8/19 17:00\r\n"
        let list = try ProblemList(csv: Array(csv.utf8))
        #expect(list.rows.count == 2)
        #expect(list.rows[0].fields["问题描述"] == "垃圾堆积,\r\n污水\"横流\"")
        #expect(list.rows[1].line == 4)
        let events = try list.events(by: actor, given: Registry(units: [:], batches: [:]))
        #expect(events.count == 2)  // no 责任单位: reports only
        #expect(events[1].event.time == Timestamp(rfc3339: "2022-08-19T17:00:00+08:00"))
    }

    @Test("rows with unreadable labels or times are refused with their line")
    func badRows() throws {
        let csv = "编号,来源,批次,类别,片区,路段,点位,问题描述,责任单位,责任领导,整改时限,发现时间\n"
            + "P-1,小道消息,,环境卫生,城北,,,垃圾,,,,2022-08-19 16:00\n"
            + "P-2,暗访曝光,,噪音,城北,,,垃圾,,,,2022-08-19 16:00\n"
            + "P-3,暗访曝光,,环境卫生,城北,,,垃圾,,,,昨天\n"
            + "P-4,暗访曝光,B-none,环境卫生,城北,,,垃圾,,,,2022-08-19 16:00\n"
        let list = try ProblemList(csv: Array(csv.utf8))
        let error = try #require(throws: AppendRefused.self) { try list.events(by: actor, given: Registry(units: [:], batches: [:])) }
        #expect(error.refusals.map(\.line) == [2, 3, 4, 5])
        #expect(error.refusals[0].refusal.message.contains("来源"))
        #expect(error.refusals[1].refusal.message.contains("类别"))
        #expect(error.refusals[2].refusal.message.contains("发现时间"))
        #expect(error.refusals[3].refusal.message.contains("B-none"))
    }

    @Test("a file that is not UTF-8 is refused with advice")
    func notUTF8() {
        let bytes: [UInt8] = Array("编号".utf8) + [0xB1, 0xE0, 0xBA, 0xC5, 0x0A]
        #expect(throws: AppendRefused.self) { try ProblemList(csv: bytes) }
    }

    @Test("a unit name registered twice is refused with both ids, not called unregistered")
    func ambiguousUnitName() throws {
        let store = TemporaryStore()
        let ledger = try store.open()
        _ = try ledger.append(try hengkouSetup())
        _ = try ledger.append(try events(line("u-twin", "unit.registered", "U-twin", "2022-06-24T10:00:00+08:00",
                                              #"{"name":"城管执法大队","kind":"department"}"#)))
        let list = try ProblemList(csv: try fixture("Sources/Demo/Resources/hengkou-problems.csv"))
        let error = try #require(throws: AppendRefused.self) { try list.events(by: actor, given: try ledger.registry()) }
        let message = error.refusals.map(\.refusal.message).joined(separator: "\n")
        #expect(message.contains("U-cgzf、U-twin"))
        #expect(!message.contains("未登记"))
    }

    @Test("a 编号 that cannot be an event id is refused naming the column")
    func badProblemNumber() throws {
        let csv = "编号,来源,批次,类别,片区,路段,点位,问题描述,责任单位,责任领导,整改时限,发现时间\n"
            + "问题 1,暗访曝光,,环境卫生,城北,,,垃圾,,,,2022-08-19 16:00\n"
        let list = try ProblemList(csv: Array(csv.utf8))
        let error = try #require(throws: AppendRefused.self) { try list.events(by: actor, given: Registry(units: [:], batches: [:])) }
        #expect(error.refusals[0].refusal.message.hasPrefix("编号“问题 1”"))
    }
}
