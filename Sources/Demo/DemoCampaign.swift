import Campaign
import EventLog
import Crypto
import Foundation
import Ledger

/// A realistic sample campaign for `civic demo`: the Hengkou office's units and its 8月19日 list
/// (Resources/), then five weeks of what follows: rectifications, verifications, rejections (整改不到位),
/// an extension, an escalation (点球), a withdrawal (不属实), accountability (约谈, 通报批评, one revoked),
/// and a look-back (回头看) list that reopens a problem that came back (反弹回潮).
public enum DemoCampaign {
    /// The units and the first batch, as NDJSON.
    public static func setupNDJSON() throws -> [UInt8] { try resource("hengkou-setup", "ndjson") }
    /// The 8月19日 problem list, as offices keep it in Excel.
    public static func problemsCSV() throws -> [UInt8] { try resource("hengkou-problems", "csv") }

    static func resource(_ name: String, _ ext: String) throws -> [UInt8] {
        guard let url = Bundle.module.url(forResource: name, withExtension: ext) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "\(name).\(ext)"])
        }
        return Array(try Data(contentsOf: url))
    }

    /// Fills `ledger` (expected empty) with the whole campaign, in the appends an office would make.
    /// - Returns: how many events were stored.
    @discardableResult
    /// Makes a store in `path` and fills it with the campaign.
    /// - Returns: how many events it holds, and its head.
    /// - Throws: `NotEmpty` when a store with events is there already.
    ///
    /// The campaign is replayed as it was recorded: the store's clock is set, for each append, to the day
    /// and hour the office would have made it (a little after the last event it holds), so that `补录`
    /// and the other flags mark only what the story has recorded late (docs/views.md, "The demo").
    ///
    /// Unless `storyDates`, the whole story is moved by whole weeks (weekdays and weeks kept) so that its
    /// last day lies in the week before today: its times lie around the day the store is made, and only
    /// what the story enters late is recorded late.
    /// - Returns: how many events it holds, its head, and the seconds the story was moved by.
    public static func fillNew(path: String, storyDates: Bool = false, now: Timestamp = Ledger.systemClock()) throws -> (Int, LogHead, Int64) {
        if let head = try Ledger.initialize(path: path), head.seq > 0 { throw NotEmpty(path: path) }
        let clock = ReplayClock()
        let ledger = try Ledger(path: path, clock: { clock.now })
        let shift = storyDates ? 0 : weeksToNow(now) * 7 * 86_400
        let count = try fill(ledger, replay: clock, shift: shift)
        return (count, try ledger.head(), shift)
    }

    /// The whole weeks from the story's last day (9月8日) to a day before `now`: moved by them, the story
    /// ends within the past week and nothing of it is recorded after `now`.
    static func weeksToNow(_ now: Timestamp) -> Int64 {
        let last = t("2022-09-08T12:00:00")
        return max(0, (now.micros - 86_400_000_000 - last.micros) / (7 * 86_400_000_000))
    }

    /// `time` of the story ("2022-08-25 12:00") moved by `shift` seconds, written the same way.
    public static func storyTime(_ time: String, shift: Int64) -> String {
        guard let moment = Timestamp(local: time)?.adding(seconds: shift) else { return time }
        let text = moment.inOffset(Timestamp.chinaOffset).rfc3339
        return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(5))
    }

    /// The clock of a replayed campaign: set before each append.
    public final class ReplayClock: @unchecked Sendable {
        private let lock = NSLock()
        private var moment = Timestamp(micros: 0)
        public init() {}
        public var now: Timestamp {
            get { lock.lock(); defer { lock.unlock() }; return moment }
            set { lock.lock(); moment = newValue; lock.unlock() }
        }
    }

    /// When the append of `events` is recorded in the replay: half an hour after the latest of them,
    /// or, for a day the story has entered late, at the time it gives.
    static func recording(_ events: [Incoming], late: [String: Timestamp]) -> Timestamp {
        if let first = events.first, let given = late[first.event.id] { return given }
        return (events.map(\.event.time).max() ?? Timestamp(micros: 0)).adding(seconds: 1800)
    }

    /// The store for the demo holds events already.
    public struct NotEmpty: Error, CustomStringConvertible {
        public var path: String
        public var description: String { "存储 \(path) 已有内容：civic demo 只填充新的存储（换一个 --store 目录）" }
    }

    public static func fill(_ ledger: Ledger, replay: ReplayClock? = nil, shift: Int64 = 0) throws -> Int {
        var total = 0
        func moved(_ events: [Incoming]) -> [Incoming] {
            shift == 0 ? events : events.map { var e = $0; e.event = e.event.shifted(by: shift); return e }
        }
        let late = enteredLate.mapValues { t($0).adding(seconds: shift) }
        let setup = moved(CloudEvents.readLines(try setupNDJSON()).events)
        // The units registered in June, the list opened in August: appends of their own days.
        let days = Dictionary(grouping: setup) { $0.event.time.chinaDay }.sorted { $0.key < $1.key }.map(\.value)
        for day in replay == nil ? [setup] : days {
            replay?.now = recording(day, late: [:])
            total += try ledger.append(day, recordedBy: Ledger.localRecorder).appended.count
        }
        let office = ProblemList.Actor(actor: "office/li-xianfeng", role: .office, unit: "U-office", source: "/hengkou/chuangwen")
        let (_, plan) = try ledger.planImport(try problemsCSV(), fileName: "hengkou-problems.csv", by: office, now: Ledger.systemClock())
        let imported = moved(plan.events)
        replay?.now = recording(imported, late: [:])
        total += try ledger.append(imported, recordedBy: Ledger.localRecorder).appended.count
        for day in activity().map(moved) {
            replay?.now = recording(day, late: late)
            total += try ledger.append(day, recordedBy: Ledger.localRecorder).appended.count
        }
        return total
    }

    /// Who does what: a unit's staff, the office, the inspectors, the discipline body.
    private struct Script {
        var events: [Incoming] = []
        var counter = 0

        mutating func add(_ subject: String, _ time: String, _ actor: String, _ role: Role, _ unit: String?, _ data: EventData) {
            counter += 1
            events.append(Incoming(line: counter, event: Event(
                id: "demo-\(String(counter + 1000).dropFirst())", source: "/hengkou/chuangwen", subject: subject,
                time: Timestamp(rfc3339: time + "+08:00")!, actor: actor, role: role, actorUnit: unit, data: data)))
        }

        mutating func submit(_ problem: String, _ time: String, by unit: String, _ summary: String) {
            add(problem, time, "unit/\(unit.dropFirst(2).lowercased())-staff", .unit, unit,
                .rectificationSubmitted(Rectification(summary: summary, evidence: [photo(problem, time)])))
        }
        mutating func verify(_ problem: String, _ time: String, note: String? = nil) {
            add(problem, time, "inspector/zhao-min", .inspector, "U-office", .rectificationVerified(note: note))
        }
        mutating func reject(_ problem: String, _ time: String, _ reason: String) {
            add(problem, time, "inspector/zhao-min", .inspector, "U-office", .rectificationRejected(reason: reason))
        }
        mutating func office(_ subject: String, _ time: String, _ data: EventData) {
            add(subject, time, "office/li-xianfeng", .office, "U-office", data)
        }
        mutating func discipline(_ case_: String, _ time: String, _ data: EventData) {
            add(case_, time, "discipline/hzb-chen", .discipline, nil, data)
        }

        func photo(_ problem: String, _ time: String) -> Evidence {
            let digest = SHA256.hash(data: Data("整改后照片 \(problem) \(time)".utf8))
            return Evidence(sha256: digest.map { String(format: "%02x", $0) }.joined(),
                            uri: "photos/\(problem)-\(time.prefix(10)).jpg", caption: "整改后现场照片")
        }
    }

    static func t(_ s: String) -> Timestamp { Timestamp(rfc3339: s + "+08:00")! }

    /// The appends the story has entered late, by the id of their first event, and when. The office enters
    /// the verifications of 8月26日 (the list's 清零 day) the next morning, dated the 26th: on paper its units
    /// were zeroed on time (纸面销号, flagged recorded-after-due). 城管执法大队's fix of 9月1日 is entered on
    /// 9月5日 (补录).
    static let enteredLate: [String: String] = [
        "demo-036": "2022-08-27T08:50:00",
        "demo-051": "2022-09-05T08:30:00",
    ]

    /// The appends after the list is imported, one per working day or so.
    static func activity() -> [[Incoming]] {
        var days: [[Incoming]] = []
        var s = Script()
        func close() { days.append(s.events); s.events = [] }

        // 8月21日–22日: the quick fixes come in; one is not good enough.
        s.submit("P-20220819-005", "2022-08-21T15:00:00", by: "U-dqbj", "政务服务中心设置禁烟标识，清理烟头，落实窗口人员禁烟承诺")
        s.submit("P-20220819-004", "2022-08-21T16:30:00", by: "U-hw", "古街背街小巷垃圾全部清运，疏通排污管道")
        s.submit("P-20220819-012", "2022-08-21T17:00:00", by: "U-hpsq", "社区门口施划电动车停放区，安排志愿者劝导")
        close()
        s.verify("P-20220819-005", "2022-08-22T09:30:00")
        s.verify("P-20220819-004", "2022-08-22T10:00:00", note: "现场核实，已整改到位")
        s.reject("P-20220819-012", "2022-08-22T10:30:00", "复查时社区门口仍有电动车乱停，整改不到位")
        s.submit("P-20220819-017", "2022-08-22T11:00:00", by: "U-hw", "滨河路绿化带杂草全部清除")
        s.verify("P-20220819-017", "2022-08-22T16:00:00")
        close()

        // 8月23日: an extension, a withdrawal, and the first 点球.
        s.office("P-20220819-013", "2022-08-23T09:00:00", .deadlineExtended(DeadlineExtension(
            deadline: t("2022-09-02T18:00:00"), reason: "违建拆除须履行法定程序，经指挥部研究延期")))
        s.office("P-20220819-020", "2022-08-23T10:00:00", .problemWithdrawn(reason: "经核实该小区不属恒口辖区，问题不属实，予以撤销"))
        s.office("P-20220819-021", "2022-08-23T11:00:00", .problemEscalated(Escalation(
            to: "李显锋", reason: "网报资料逾期未整改，以指挥部名义点球分管领导")))
        close()

        // 8月24日–26日: the bulk of the list before the 清零 deadline.
        let fixes: [(String, String, String, String)] = [
            ("P-20220819-001", "2022-08-24T10:00:00", "U-cgzf", "彩钢棚已全部拆除，恢复临街立面"),
            ("P-20220819-002", "2022-08-24T10:30:00", "U-scjg", "划定临时疏导点，流动摊贩入市经营"),
            ("P-20220819-003", "2022-08-24T11:00:00", "U-ga", "增设停车泊位，交警每日早晚高峰定点执勤"),
            ("P-20220819-006", "2022-08-24T14:00:00", "U-cgzf", "破损广告牌拆除，统一规划设置"),
            ("P-20220819-007", "2022-08-24T15:00:00", "U-zj", "清理占用盲道物品，修复断头盲道"),
            ("P-20220819-008", "2022-08-24T16:00:00", "U-zt", "渣土车加装密闭篷布，砂石路洒水降尘"),
            ("P-20220819-009", "2022-08-24T17:00:00", "U-zj", "水沟清淤疏通，消杀除臭"),
            ("P-20220819-010", "2022-08-25T09:00:00", "U-cgzf", "早市规范入场，中心大街十字无摆摊"),
            ("P-20220819-011", "2022-08-25T10:00:00", "U-dqbj", "恒口中学围墙增设创文公益广告 12 幅"),
            ("P-20220819-012", "2022-08-25T11:00:00", "U-hpsq", "加装停车引导牌，社区网格员每日巡查"),
            ("P-20220819-014", "2022-08-25T14:00:00", "U-zj", "更换破损围挡，围挡公益广告重新喷绘"),
            ("P-20220819-015", "2022-08-25T15:00:00", "U-scjg", "商城制定经营规范，清理店外经营"),
            ("P-20220819-016", "2022-08-25T16:00:00", "U-hpsq", "修复景观小品，补齐社区公益广告"),
            ("P-20220819-018", "2022-08-25T17:00:00", "U-hw", "通达老街增加保洁频次，垃圾日产日清"),
            ("P-20220819-021", "2022-08-25T17:30:00", "U-dqbj", "重新整理网报资料，照片与文字逐项核对"),
            ("P-20220819-019", "2022-08-26T10:00:00", "U-ga", "黄家沟市场周边施划停车线，违停车辆已劝离"),
            ("P-20220819-022", "2022-08-26T11:00:00", "U-ga", "公交站设置文明劝导岗，开展礼让斑马线整治"),
        ]
        for (problem, time, unit, summary) in fixes.prefix(9) { s.submit(problem, time, by: unit, summary) }
        close()
        for (problem, time, unit, summary) in fixes.dropFirst(9) { s.submit(problem, time, by: unit, summary) }
        s.verify("P-20220819-001", "2022-08-25T09:00:00")
        s.verify("P-20220819-002", "2022-08-25T09:20:00")
        s.verify("P-20220819-003", "2022-08-25T09:40:00")
        s.verify("P-20220819-006", "2022-08-25T10:00:00")
        s.verify("P-20220819-007", "2022-08-25T10:20:00")
        s.reject("P-20220819-008", "2022-08-25T10:40:00", "复查时砂石路仍有渣土撒漏，整改不到位")
        s.verify("P-20220819-009", "2022-08-25T11:00:00")
        close()
        for problem in ["P-20220819-010", "P-20220819-011", "P-20220819-012", "P-20220819-014", "P-20220819-015",
                        "P-20220819-016", "P-20220819-018", "P-20220819-021"] {
            s.verify(problem, "2022-08-26T15:00:00")
        }
        s.verify("P-20220819-019", "2022-08-26T16:00:00")
        s.verify("P-20220819-022", "2022-08-26T16:30:00")
        close()

        // After the deadline: the late ones, and accountability.
        s.office("P-20220819-008", "2022-08-27T09:00:00", .problemEscalated(Escalation(
            to: "渣土运输公司负责人", reason: "逾期未整改到位，点球单位主要负责人")))
        s.submit("P-20220819-008", "2022-08-27T16:00:00", by: "U-zt", "全部渣土车密闭运输，路面冲洗，设专人保洁")
        s.verify("P-20220819-008", "2022-08-28T10:00:00")
        s.discipline("A-20220829-001", "2022-08-29T10:00:00", .accountabilityRecorded(Accountability(
            target: AccountabilityTarget(kind: .unit, id: "U-zt", name: "渣土运输公司"),
            measure: .interview, reason: "曝光问题整改不到位、逾期未清零", problems: ["P-20220819-008"])))
        s.discipline("A-20220829-002", "2022-08-29T10:30:00", .accountabilityRecorded(Accountability(
            target: AccountabilityTarget(kind: .person, id: "person/dqbj-liu", name: "刘某", unit: "U-dqbj"),
            measure: .circulatedCriticism, reason: "网报资料弄虚作假、逾期整改", problems: ["P-20220819-021"])))
        close()
        s.submit("P-20220819-013", "2022-09-01T17:00:00", by: "U-cgzf", "一期临街商铺违建依法拆除完毕")
        s.verify("P-20220819-013", "2022-09-02T10:00:00")
        s.discipline("A-20220829-002", "2022-09-02T15:00:00", .accountabilityRevoked(
            reason: "经复核，照片不符系上报平台故障所致，撤销通报批评"))
        close()

        // 9月5日: 回头看. One problem came back; new ones are found.
        s.office("B-20220905", "2022-09-05T09:00:00", .batchOpened(BatchOpening(
            name: "9月5日回头看发现问题", source: .lookBack, dueAt: t("2022-09-09T18:00:00"))))
        s.add("P-20220819-002", "2022-09-05T10:00:00", "inspector/zhao-min", .inspector, "U-office", .problemReopened(Reopening(
            reason: "回头看发现和平菜市场门口流动摊贩反弹回潮", deadline: t("2022-09-09T18:00:00"))))
        s.add("P-20220905-001", "2022-09-05T10:30:00", "inspector/zhao-min", .inspector, "U-office", .problemReported(ProblemReport(
            batch: "B-20220905", source: .lookBack, category: .cityAppearance, description: "迎宾路沿街店铺乱贴乱画、牛皮癣反弹",
            location: Location(area: "中心城区", street: "迎宾路", point: "迎宾路口"))))
        s.add("P-20220905-002", "2022-09-05T11:00:00", "inspector/zhao-min", .inspector, "U-office", .problemReported(ProblemReport(
            batch: "B-20220905", source: .lookBack, category: .disorderlyParking, description: "和平社区门口电动车乱停乱放反弹",
            location: Location(area: "中心城区", street: "和平路", point: "和平社区门口"))))
        s.office("P-20220905-001", "2022-09-05T14:00:00", .problemAssigned(Assignment(unit: "U-cgzf", leader: "李显锋", deadline: t("2022-09-08T18:00:00"))))
        s.office("P-20220905-002", "2022-09-05T14:05:00", .problemAssigned(Assignment(unit: "U-hpsq", leader: "李显锋", deadline: t("2022-09-07T18:00:00"))))
        close()
        s.submit("P-20220819-002", "2022-09-07T16:00:00", by: "U-scjg", "菜市场门口设固定执勤点，摊贩全部入市")
        s.submit("P-20220905-001", "2022-09-07T17:00:00", by: "U-cgzf", "清理牛皮癣 60 余处，落实门前三包")
        close()
        s.verify("P-20220819-002", "2022-09-08T10:00:00")
        s.verify("P-20220905-001", "2022-09-08T10:30:00")
        s.office("P-20220905-002", "2022-09-08T11:00:00", .problemEscalated(Escalation(
            to: "恒口街道办主任", reason: "逾期未整改，点球街道主要负责人")))
        close()
        return days
    }
}
