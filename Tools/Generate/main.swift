// civic-generate: a deterministic, realistic campaign of any size, as NDJSON (CloudEvents, docs/formats.md).
//
//   civic-generate --events 1000000 --seed 7 > campaign.ndjson
//   civic-generate --events 1000000 --seed 7 --mix sparse > other.ndjson
//
// Two mixes: `city` (the default: 67 units, about five events a problem, every kind of event) and
// `sparse` (the other proportions the benchmark is also run on: 477 units, three and a half events a
// problem: a third withdrawn at once as 不属实, the rest mostly reported, assigned, fixed and closed, with
// few rejections, extensions or look-backs).
//
// Units of every kind, a list (batch) of exposed problems every week, problems spread over months with
// every event type in realistic proportions: assignments and reassignments (转办), extensions, fixes
// reported and rejected (整改不到位), verifications, escalations (点球) of late problems, withdrawals
// (不属实), look-backs (回头看) that reopen closed problems, and accountability (约谈, 通报批评…), some
// revoked. Events come out in business-time order, each problem's in its own order, all lawful, so that
// `civic append` stores every one. The same seed gives the same bytes.
import Campaign
import Demo
import Foundation
import JSON
import Ledger


var arguments = CommandLine.arguments.dropFirst()
var total = 10_000
var seed: UInt64 = 1
var sparse = false
while let flag = arguments.popFirst() {
    switch flag {
    case "--events": total = Int(arguments.popFirst() ?? "") ?? total
    case "--seed": seed = UInt64(arguments.popFirst() ?? "") ?? seed
    case "--mix" where arguments.first == "city": _ = arguments.popFirst()
    case "--mix" where arguments.first == "sparse": _ = arguments.popFirst(); sparse = true
    default:
        FileHandle.standardError.write(Data("usage: civic-generate [--events N] [--seed S] [--mix city|sparse]\n".utf8))
        exit(2)
    }
}

/// The chances of what befalls a problem, by mix.
struct Odds {
    var withdrawnAtOnce = 0.03, escalatedWhenLate = 0.35, reassigned = 0.04, extended = 0.05, withdrawnLater = 0.01
    var rejected = 0.15
    /// Reports among the events (about).
    var reportShare = 0.2
    /// Closed problems looked back at, a week (a share of a list's problems).
    var lookBacks = 0.05
    var streets = 8, communitiesEach = 4
}
let odds = sparse
    ? Odds(withdrawnAtOnce: 0.3, escalatedWhenLate: 0.1, reassigned: 0.01, extended: 0.01, withdrawnLater: 0.005, rejected: 0.03,
           reportShare: 0.3, lookBacks: 0.005, streets: 30, communitiesEach: 14)
    : Odds()
var rng = SeededRandom(seed: seed)
@MainActor func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
@MainActor func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &rng)] }
@MainActor func hours(_ low: Double, _ high: Double) -> Int64 { Int64(Double.random(in: low...high, using: &rng) * 3600) }

// MARK: the campaign's world

let areas = ["中心城区", "城北片区", "城南片区", "东关片区", "西河片区", "新区"]
let streets = ["中心大街", "迎宾路", "和平路", "滨河路", "通达路", "黄家沟路", "乐湾路", "建设路", "人民路", "解放路", "兴安路", "育才路"]
let points = ["农贸市场", "公交站", "十字路口", "背街小巷", "小区门口", "学校周边", "建筑工地", "商业街", "广场", "绿化带", "医院门口", "老旧小区"]
let phrases: [(Category, [String])] = [
    (.streetVending, ["流动摊贩占道经营，早晚高峰堵塞通行", "商户店外经营、占道摆摊设点", "夜市摊点油烟扰民、垃圾随地丢弃"]),
    (.illegalConstruction, ["临街商铺违规搭建彩钢棚", "楼顶违规加盖简易房", "院落私搭乱建未拆除"]),
    (.disorderlyParking, ["机动车、三轮车乱停乱放堵塞交通", "电动车乱停乱放、占用盲道", "共享单车堆积无人清理"]),
    (.sanitation, ["垃圾堆积、污水横流，异味明显", "垃圾清运不及时，垃圾桶满溢", "楼道乱堆乱放、卫生死角多"]),
    (.trafficOrder, ["行人闯红灯、车辆不礼让斑马线", "路口交通秩序混乱、无人疏导", "渣土车超速、不按规定路线行驶"]),
    (.publicFacilities, ["盲道被占用且多处断头", "建筑工地围挡破损、围挡广告缺失", "路灯损坏、井盖缺失存在安全隐患", "排水沟淤塞发臭"]),
    (.publicAds, ["创文公益广告缺失或破损", "公益广告内容陈旧、未按要求更新"]),
    (.marketOrder, ["市场缺少行业规范、经营秩序混乱", "商户以次充好、价格标示不清"]),
    (.civility, ["窗口单位工作人员在公共场所吸烟", "群众随地吐痰、乱扔烟头"]),
    (.cityAppearance, ["户外广告牌破损、未统一规划设置", "沿街店铺乱贴乱画、牛皮癣较多", "空中线缆杂乱、飞线充电"]),
    (.greenery, ["绿化带杂草丛生、枯枝未清理", "绿地被踩踏、黄土裸露"]),
    (.onlineMaterials, ["创文网报资料活动照片与文字不符", "网报资料佐证材料不全"]),
]
let sources: [ProblemSource] = [.covertExposure, .covertExposure, .inspection, .inspection, .specialSupervision, .publicReport, .onlineMaterials]
let leaders = ["李显锋", "陈阳斌", "王仁康", "许配铭", "张建国", "刘海燕", "赵志强", "孙丽华"]
let departments = ["城管执法大队", "恒口公安分局", "市场监管所", "住建局", "党群局", "交通运输局", "卫健局", "教体局", "生态环境分局", "自然资源所",
                   "水利局", "农业农村局", "商务局", "文旅局", "民政局", "司法所", "应急管理局", "供电所", "自来水公司", "燃气公司"]
let enterprises = ["环卫保洁公司", "渣土运输公司", "物业服务公司", "公交公司", "园林绿化公司", "市政工程公司"]

struct Unit { var id: String; var name: String; var kind: UnitKind; var parent: String? }
var units: [Unit] = [Unit(id: "U-office", name: "示范区创文指挥部办公室", kind: .department, parent: nil)]
for (k, name) in departments.enumerated() { units.append(Unit(id: "U-d\(k + 1)", name: name, kind: .department, parent: nil)) }
for (k, name) in enterprises.enumerated() { units.append(Unit(id: "U-e\(k + 1)", name: name, kind: .enterprise, parent: nil)) }
for s in 1...odds.streets {
    units.append(Unit(id: "U-s\(s)", name: "第\(s)街道办", kind: .street, parent: nil))
    for c in 1...odds.communitiesEach { units.append(Unit(id: "U-s\(s)c\(c)", name: "第\(s)街道第\(c)社区", kind: .community, parent: "U-s\(s)")) }
}
let rectifiers = Array(units.dropFirst())

// MARK: output

var written = 0
var out = ""
out.reserveCapacity(1 << 20)
let stdout = FileHandle.standardOutput
@MainActor func emit(_ subject: String, _ time: Timestamp, _ actor: String, _ role: Role, _ unit: String?, _ data: EventData) {
    guard written < total else { return }
    written += 1
    let event = Event(id: "g-\(written)", source: "/generated/chuangwen", subject: subject, time: time, actor: actor,
                      role: role, actorUnit: unit, data: data)
    JSONText.write(CloudEvents.json(event), to: &out)
    out += "\n"
    if out.utf8.count > 1 << 20 {
        stdout.write(Data(out.utf8))
        out = ""
    }
}
@MainActor func evidence(_ problem: String, _ t: Timestamp) -> [Evidence] {
    // A stand-in photo hash, the same for the same problem and moment (FNV-1a of the id, mixed with the time).
    let fnv = problem.utf8.reduce(UInt64(14_695_981_039_346_656_037)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
    var hasher = SeededRandom(seed: UInt64(truncatingIfNeeded: t.micros) ^ fnv)
    let hex = (0..<4).map { _ in String(hasher.next(), radix: 16) }.map { String(repeating: "0", count: 16 - $0.count) + $0 }.joined()
    return [Evidence(sha256: hex, uri: "photos/\(problem)/\(t.micros / 1_000_000).jpg", caption: "整改后现场照片")]
}

// MARK: the timeline

let start = Timestamp(rfc3339: "2022-06-24T09:00:00+08:00")!
for (k, u) in units.enumerated() {
    emit(u.id, start.adding(seconds: Int64(k) * 60), "office/admin", .office, "U-office",
         .unitRegistered(UnitRegistration(name: u.name, kind: u.kind, parent: u.parent, leader: chance(0.5) ? pick(leaders) : nil)))
}

/// What happens next to a problem, scheduled at a time.
struct Step: Comparable {
    var time: Timestamp
    var order: Int
    var problem: Int
    static func < (a: Step, b: Step) -> Bool { (a.time, a.order) < (b.time, b.order) }
    static func == (a: Step, b: Step) -> Bool { a.time == b.time && a.order == b.order }
}

/// A binary min-heap of steps.
struct Agenda {
    var items: [Step] = []
    mutating func push(_ s: Step) {
        items.append(s)
        var i = items.count - 1
        while i > 0, items[i] < items[(i - 1) / 2] { items.swapAt(i, (i - 1) / 2); i = (i - 1) / 2 }
    }
    mutating func pop() -> Step? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count, items[l] < items[m] { m = l }
            if r < items.count, items[r] < items[m] { m = r }
            if m == i { break }
            items.swapAt(i, m)
            i = m
        }
        return top
    }
    var next: Step? { items.first }
}

struct Life {
    var id: String
    var status: ProblemStatus = .reported
    var unit: String?
    var deadline: Timestamp?
    var last: Timestamp
}
var lives: [Life] = []
var agenda = Agenda()
var order = 0
@MainActor func schedule(_ k: Int, after t: Timestamp, _ low: Double, _ high: Double) {
    order += 1
    agenda.push(Step(time: t.adding(seconds: hours(low, high)), order: order, problem: k))
}
var closed: [Int] = []
var cases = 0

/// Plays the next step of problem k, as its status allows.
@MainActor func play(_ k: Int, at t: Timestamp) {
    var life = lives[k]
    let id = life.id
    let office = ("office/" + pick(["li-xianfeng", "chen-yangbin", "wang-li"]), Role.office, Optional("U-office"))
    switch life.status {
    case .reported:
        if chance(odds.withdrawnAtOnce) {
            emit(id, t, office.0, .office, office.2, .problemWithdrawn(reason: "经核实不属实，予以撤销"))
            life.status = .withdrawn
        } else {
            let unit = pick(rectifiers).id
            let deadline = t.adding(seconds: hours(48, 240))
            emit(id, t, office.0, .office, office.2, .problemAssigned(Assignment(unit: unit, leader: pick(leaders), deadline: deadline)))
            life.status = .assigned; life.unit = unit; life.deadline = deadline
            schedule(k, after: t, 4, 200)
        }
    case .assigned:
        let late = life.deadline.map { t > $0 } ?? false
        if late && chance(odds.escalatedWhenLate) {
            emit(id, t, office.0, .office, office.2, .problemEscalated(Escalation(to: pick(leaders), reason: "逾期未整改，以指挥部名义点球")))
            schedule(k, after: t, 2, 72)
        } else if chance(odds.reassigned) {
            let unit = pick(rectifiers).id
            let deadline = t.adding(seconds: hours(48, 200))
            emit(id, t, office.0, .office, office.2, .problemAssigned(Assignment(unit: unit, deadline: deadline)))
            life.unit = unit; life.deadline = deadline
            schedule(k, after: t, 4, 150)
        } else if chance(odds.extended), let current = life.deadline {
            let deadline = max(current, t).adding(seconds: hours(72, 240))
            emit(id, t, office.0, .office, office.2, .deadlineExtended(DeadlineExtension(deadline: deadline, reason: "整改须履行程序，申请延期")))
            life.deadline = deadline
            schedule(k, after: t, 12, 150)
        } else if chance(odds.withdrawnLater) {
            emit(id, t, office.0, .office, office.2, .problemWithdrawn(reason: "经复核不属于创文问题，予以撤销"))
            life.status = .withdrawn
        } else {
            let unit = life.unit!
            emit(id, t, "unit/\(unit.dropFirst(2).lowercased())-\(pick(["wang", "zhang", "liu"]))", .unit, unit,
                 .rectificationSubmitted(Rectification(summary: "已按要求完成整改：" + pick(["清理到位", "拆除完毕", "规范设置", "建立长效机制"]),
                                                       evidence: evidence(id, t))))
            life.status = .submitted
            schedule(k, after: t, 3, 60)
        }
    case .submitted:
        let inspector = chance(0.6) ? ("inspector/" + pick(["zhao-min", "qian-lei"]), Role.inspector) : (office.0, Role.office)
        if chance(odds.rejected) {
            emit(id, t, inspector.0, inspector.1, "U-office", .rectificationRejected(reason: "复查发现整改不到位，" + pick(["仍有反弹", "未彻底清理", "佐证材料不实"])))
            life.status = .assigned
            schedule(k, after: t, 6, 96)
        } else {
            emit(id, t, inspector.0, inspector.1, "U-office", .rectificationVerified(note: chance(0.3) ? "现场核实，已整改到位" : nil))
            life.status = .closed
            closed.append(k)
        }
    case .closed:
        let deadline = t.adding(seconds: hours(48, 168))
        let moved = chance(0.2) ? pick(rectifiers).id : nil
        emit(id, t, "inspector/zhao-min", .inspector, "U-office", .problemReopened(Reopening(reason: "回头看发现问题反弹回潮", deadline: deadline, unit: moved)))
        life.status = .assigned; life.deadline = deadline
        if let moved { life.unit = moved }
        schedule(k, after: t, 4, 120)
    case .withdrawn:
        break
    }
    life.last = t
    lives[k] = life
}

var week = 0
var clock = Timestamp(rfc3339: "2022-08-01T09:00:00+08:00")!
// Problems per weekly list: enough that about a fifth of the events are reports.
let perWeek = max(20, min(sparse ? 12_000 : 4000, Int(Double(total) * odds.reportShare) / 26))
while written < total {
    // A new weekly list, and its problems reported over the following days.
    week += 1
    let batchID = "B-\(week)"
    let opened = clock
    emit(batchID, opened, "office/li-xianfeng", .office, "U-office",
         .batchOpened(BatchOpening(name: "第\(week)周暗访曝光问题清单", source: pick(sources), dueAt: opened.adding(seconds: 7 * 86_400))))
    for _ in 0..<perWeek {
        let t = opened.adding(seconds: hours(0, 120))
        // Steps due before this report are played first, so that output stays in time order.
        while let step = agenda.next, step.time <= t, written < total { _ = agenda.pop(); play(step.problem, at: step.time) }
        let k = lives.count
        let id = "P-\(week)-\(k)"
        let (category, texts) = pick(phrases)
        let area = pick(areas), street = pick(streets), point = pick(points)
        emit(id, t, chance(0.5) ? "inspector/zhao-min" : "office/li-xianfeng", chance(0.5) ? .inspector : .office, "U-office",
             .problemReported(ProblemReport(batch: chance(0.95) ? batchID : nil, source: pick(sources), category: category,
                                            description: "\(street)\(point)\(pick(texts))，群众反映强烈，请责任单位立即整改",
                                            location: Location(area: area, street: street, point: street + point))))
        lives.append(Life(id: id, last: t))
        schedule(k, after: t, 1, 30)
    }
    // Look-back: a few problems closed weeks ago are found again.
    for _ in 0..<Int(Double(perWeek) * odds.lookBacks) where !closed.isEmpty {
        let k = closed.removeFirst()
        if lives[k].status == .closed { schedule(k, after: max(lives[k].last, opened), 24, 240) }
    }
    // Accountability for a unit or person with late problems; now and then one is revoked.
    if week % 2 == 0 {
        cases += 1
        let late = lives.indices.suffix(perWeek * 3).filter { lives[$0].status == .assigned && (lives[$0].deadline.map { $0 < opened } ?? false) }
        if let k = late.first, let unit = lives[k].unit {
            let person = chance(0.5)
            emit("A-\(cases)", opened.adding(seconds: 3600), "discipline/hzb-chen", .discipline, nil,
                 .accountabilityRecorded(Accountability(
                    target: person ? AccountabilityTarget(kind: .person, id: "person/\(unit)-head", name: pick(leaders), unit: unit)
                                   : AccountabilityTarget(kind: .unit, id: unit),
                    measure: pick([.interview, .writtenSelfCriticism, .circulatedCriticism]),
                    reason: "曝光问题逾期未整改、推诿扯皮", problems: [lives[k].id])))
            if chance(0.1) {
                emit("A-\(cases)", opened.adding(seconds: 86_400), "discipline/hzb-chen", .discipline, nil,
                     .accountabilityRevoked(reason: "经复核，逾期系客观原因所致，撤销问责"))
            }
        }
    }
    clock = opened.adding(seconds: 7 * 86_400)
    while let step = agenda.next, step.time <= clock, written < total { _ = agenda.pop(); play(step.problem, at: step.time) }
}
stdout.write(Data(out.utf8))
