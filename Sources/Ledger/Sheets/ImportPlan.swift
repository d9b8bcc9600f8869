import Campaign

/// What importing a list would append, and why (shown before it is appended, and by `--dry-run`).
public struct ImportPlan: Sendable {
    /// The events, in the order of the rows.
    public var events: [Incoming]
    /// Problems the store does not have yet.
    public var newProblems: [String]
    /// Problems already in the store whose row says something else now, each said as the event it becomes.
    public var changes: [String]
    /// Problems already in the store, the same as their row.
    public var unchanged: Int
    /// What a row says differently that no event can say (an earlier deadline, a closed problem's unit).
    public var notApplied: [String]
    /// Units named otherwise than by their registered name: the text, and the unit it was taken for.
    public var unitsRecognised: [(text: String, unit: String)]
    /// The registered units' names by id, for the lines people read.
    public var unitNames: [String: String] = [:]

    /// A unit as a clerk reads it: `城管执法大队（U-cgzf）`, or its id when it has no registered name.
    public func named(_ unit: String) -> String { Named.withID(unitNames[unit], unit) }
}

/// The earliest and latest dates a list may hold (docs/formats.md, "Dates in a list"): a year typed wrong
/// (0001, 9999) is refused, so that no problem is made one that can never be overdue.
enum ListDates {
    static let earliest = Timestamp.startOfChinaDay(Timestamp.days(fromCivil: 2000, 1, 1))
    /// Deadlines at most three years after today; 发现时间 not after today.
    static let deadlineYearsAhead: Int64 = 3
}

extension ProblemList {
    /// The events of the list against the units and lists of `registry` and the problems the store has
    /// (`existing`), the batch `batch` (an id or name) taken for rows that name none, `now` the clock.
    /// - Throws: `ImportRefused` naming every row and column that cannot be read.
    public func plan(by actor: Actor, given registry: Registry, batch defaultBatch: String?, now: Timestamp,
                     existing: (String) -> Problem?) throws(ImportRefused) -> ImportPlan {
        var problems: [ImportRefused.Problem] = []
        var plan = ImportPlan(events: [], newProblems: [], changes: [], unchanged: 0, notApplied: [], unitsRecognised: [],
                              unitNames: Dictionary(registry.unitList.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a }))
        var listBatch: Registry.Batch?
        if let defaultBatch {
            guard let b = registry.batch(defaultBatch) else {
                throw ImportRefused(sheet: sheet.name, [.init(row: headerRow, column: nil,
                    message: "清单“\(defaultBatch)”不存在：请先建立清单（batch.opened），现有 \(registry.batchList.map { Named.withID($0.name, $0.id) }.joined(separator: "、"))")])
            }
            listBatch = b
        }
        let latestDeadline = now.adding(seconds: ListDates.deadlineYearsAhead * 366 * 86_400)
        let endOfToday = Timestamp.startOfChinaDay(now.chinaDay + 1)
        var seenIds: [String: Int] = [:]
        var recognised: [String: String] = [:]
        for row in rows {
            var rowProblems: [ImportRefused.Problem] = []
            func refuse(_ field: String?, _ message: String) {
                rowProblems.append(.init(row: row.number, column: field.map { f in letter(f).map { "\($0)（\(f)）" } ?? f }, message: message))
            }
            // The list: the row's 批次, or the one given for the whole sheet.
            var batch = listBatch
            if let b = row.text("批次") {
                if let found = registry.batch(b) { batch = found } else {
                    let named = registry.batches(named: b)
                    refuse("批次", named.count > 1 ? "清单名称“\(b)”对应多个清单（\(named.joined(separator: "、"))）：请填写清单编号"
                        : "清单“\(b)”不存在：请先建立清单（batch.opened），或改正清单名称")
                }
            }
            let year = batch?.dueAt.map { Timestamp.civil(fromDays: $0.chinaDay).0 }
            // The problem's id: the 编号 as written, or, for a number (序号 1, 2, 3), the list's id and it.
            var id = row.text("编号") ?? ""
            if id.isEmpty { refuse("编号", "编号为空") }
            else if id.allSatisfy(\.isNumber), let n = Int(id) {
                if let batch { id = "\(batch.id)-\(n < 10 ? "00" : n < 100 ? "0" : "")\(n)" }
                else { refuse("编号", "编号“\(id)”是序号：请用 --batch 指明这张表属于哪个清单，或填写“批次”列"); id = "" }
            } else if !Rules.isIdentifier(id) || id.utf8.count > 110 {
                refuse("编号", "编号“\(id)”只能由字母、数字和 . _ : - 组成，最长 110 个字符"); id = ""
            }
            if !id.isEmpty {
                if let first = seenIds[id] { refuse("编号", "编号“\(id)”与第 \(first) 行重复") } else { seenIds[id] = row.number }
            }
            var source = batch?.source
            if let s = row.text("来源") {
                if let found = ProblemSource(codeOrLabel: s) { source = found } else { refuse("来源", "来源“\(s)”不可识别；可用：\(ProblemSource.labels)") }
            } else if source == nil { refuse("来源", "来源为空，且未指明清单（清单的来源可代替）") }
            var category: Category?
            if let c = row.text("类别") {
                category = Category(codeOrLabel: c)
                if category == nil { refuse("类别", "类别“\(c)”不可识别；可用：\(Category.labels)") }
            } else { refuse("类别", "类别为空") }
            let area = row.text("片区")
            if area == nil { refuse("片区", "片区为空") }
            let description = row.text("问题描述")
            if description == nil { refuse("问题描述", "问题描述为空") }
            // 发现时间: as written, or when the list was opened.
            var reportedAt = batch?.openedAt
            if let cell = row.cells["发现时间"], !cell.text.isEmpty {
                if let read = OfficeDate.read(cell, year: year) {
                    reportedAt = read.hadTime ? read.moment : Timestamp(micros: min(read.moment.micros, now.micros), offsetMinutes: Timestamp.chinaOffset)
                    if read.moment < ListDates.earliest || read.moment >= endOfToday {
                        refuse("发现时间", "发现时间“\(cell.text)”不在 2000 年至今天之间：请核对年份"); reportedAt = nil
                    }
                } else { refuse("发现时间", "“\(cell.text)”不是日期：写作 2022-08-19 16:00、2022年8月19日 或 8月19日") }
            } else if reportedAt == nil { refuse("发现时间", "发现时间为空，且未指明清单（清单的建立时间可代替）") }
            var assignment: Assignment?
            if let unitText = row.text("责任单位") {
                var unit: String?
                switch registry.unit(unitText) {
                case let .found(found, how):
                    unit = found
                    if how != "编号" && how != "名称" { recognised[unitText] = found }
                case .ambiguous(let ids): refuse("责任单位", "“\(unitText)”对应多个已登记单位（\(ids.joined(separator: "、"))）：请填写单位编号或全称")
                case .unknown(let closest):
                    refuse("责任单位", "责任单位“\(unitText)”未登记" + (closest.isEmpty ? "" : "：是不是 \(closest.joined(separator: "、"))？")
                        + "（可在登记单位时加上简称 aliases）")
                }
                if let cell = row.cells["整改时限"], !cell.text.isEmpty {
                    if let read = OfficeDate.read(cell, year: year) {
                        if read.moment < ListDates.earliest || read.moment > latestDeadline {
                            refuse("整改时限", "整改时限“\(cell.text)”不在 2000 年至三年后之间：请核对年份（时限过远的问题永远不会超期）")
                        } else if let reportedAt, read.moment < reportedAt {
                            refuse("整改时限", "整改时限“\(cell.text)”早于发现时间")
                        } else if let unit {
                            assignment = Assignment(unit: unit, leader: row.text("责任领导"), deadline: read.moment)
                        }
                    } else { refuse("整改时限", "“\(cell.text)”不是日期：写作 2022-08-26、2022年8月26日、8月26日前 或 2022-08-26 18:00（只写日期即当天 24 时前）") }
                } else { refuse("整改时限", "有责任单位却没有整改时限") }
            }
            problems += rowProblems
            guard rowProblems.isEmpty, let source, let category, let area, let description, let reportedAt else { continue }
            func event(_ suffix: String, _ time: Timestamp, _ data: EventData) -> Incoming {
                Incoming(line: row.number, event: Event(
                    id: "import:\(id):\(suffix)", source: actor.source, subject: id, time: time,
                    actor: actor.actor, role: actor.role, actorUnit: actor.unit, data: data))
            }
            guard let stored = existing(id) else {
                let report = ProblemReport(batch: batch?.id, source: source, category: category, description: description,
                                           location: Location(area: area, street: row.text("路段"), point: row.text("点位")))
                plan.events.append(event("reported", reportedAt, .problemReported(report)))
                if let assignment { plan.events.append(event("assigned", reportedAt, .problemAssigned(assignment))) }
                plan.newProblems.append(id)
                continue
            }
            // Already in the store: what changed becomes the event that says so, dated now.
            guard let assignment else { plan.unchanged += 1; continue }
            let place = "第 \(row.number) 行 \(id)"
            if (stored.unit != assignment.unit || stored.deadline != assignment.deadline) && assignment.deadline <= now {
                plan.notApplied.append("\(place)：整改时限写作 \(assignment.deadline.chineseMinute)，已经过去：改派或延期须给出今后的时限")
            } else if stored.unit != assignment.unit {
                if stored.status == .reported || stored.status == .assigned {
                    plan.events.append(event("assigned:\(assignment.unit):\(assignment.deadline.micros)", now, .problemAssigned(assignment)))
                    plan.changes.append("\(place)：改派 \(stored.unit.map(plan.named) ?? "—") → \(plan.named(assignment.unit))，整改时限 \(assignment.deadline.chineseMinute)")
                } else {
                    plan.notApplied.append("\(place)：责任单位写作 \(plan.named(assignment.unit))，但问题已\(stored.status.label)，不能改派")
                }
            } else if stored.deadline != assignment.deadline {
                if stored.status == .assigned, let inForce = stored.deadline, assignment.deadline > inForce {
                    plan.events.append(event("extended:\(assignment.deadline.micros)", now, .deadlineExtended(DeadlineExtension(
                        deadline: assignment.deadline, reason: "按更正后的清单（工作表“\(sheet.name)”第 \(row.number) 行）调整整改时限"))))
                    plan.changes.append("\(place)：整改时限 \(inForce.chineseMinute) → \(assignment.deadline.chineseMinute)（延期）")
                } else if let inForce = stored.deadline, assignment.deadline < inForce {
                    plan.notApplied.append("\(place)：整改时限提前到 \(assignment.deadline.chineseMinute)：台账只记延期，提前须另行交办")
                } else {
                    plan.notApplied.append("\(place)：整改时限写作 \(assignment.deadline.chineseMinute)，但问题已\(stored.status.label)")
                }
            } else {
                plan.unchanged += 1
            }
        }
        if !problems.isEmpty { throw ImportRefused(sheet: sheet.name, problems) }
        plan.unitsRecognised = recognised.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return plan
    }

    /// The column mapping, for the dry run: `A 序号 → 编号`, `F 备注（不导入）`.
    public var mappingLines: [String] {
        columns.filter { !$0.header.isEmpty }.map { c in
            guard let field = c.field else { return "\(c.letter) “\(c.header)”（不导入）" }
            return "\(c.letter) “\(c.header)” → \(field)"
        }
    }
}

extension Vocabulary {
    /// Every label, for a clerk's message: `暗访曝光、督查检查、…`.
    public static var labels: String { allCases.map(\.label).joined(separator: "、") }
}
