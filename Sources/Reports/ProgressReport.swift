import Campaign
import JSON
import Projections

/// The 清零 progress of §5 as a report.
public enum ProgressReport {
    /// The counts shared by a batch and each of its units, in §5's order.
    static let tallyColumns: [Column<Tally>] = [
        Column("total", "总数", value: { .int($0.total) }),
        Column("withdrawn", "核销", value: { .int($0.withdrawn) }),
        Column("closed", "已销号", value: { .int($0.closed) }),
        Column("submitted", "待核实", value: { .int($0.submitted) }),
        Column("open", "未整改", value: { .int($0.open) }),
        Column("overdue", "超期", value: { .int($0.overdue) }),
        Column("clearRate", "销号率", value: { .double($0.clearRate) }, display: { percent($0.clearRate) }),
        Column("zeroed", "清零", value: { .bool($0.zeroed) }, display: { $0.zeroed ? "已清零" : "" }),
        Column("zeroedAt", "清零时间", value: { .time($0.zeroedAt) }, display: { $0.zeroedAt.map(Render.short) ?? "" }),
    ]

    static func percent(_ rate: Double?) -> String {
        guard let rate else { return "—" }
        let tenths = Int((rate * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }

    static func json(_ batch: BatchProgress) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("id", .string(batch.id)), ("name", .string(batch.name)), ("dueAt", .time(batch.dueAt)),
        ]
        members += tallyColumns.map { ($0.key, $0.value(batch.tally)) }
        members.append(("units", .array(batch.units.map { unit in
            .object([("unit", .string(unit.unit))] + tallyColumns.map { ($0.key, $0.value(unit.tally)) })
        })))
        members.append(("series", .array(batch.series.map { day in
            .object([("date", .string(day.date)), ("outstanding", .int(day.outstanding))])
        })))
        return .object(members)
    }

    /// The progress of `batches` in `format`.
    public static func render(_ batches: [BatchProgress], basis: ViewBasis, format: OutputFormat,
                              unitNames: [String: String] = [:]) -> String {
        let members: [(key: String, value: JSONValue)] = [("batches", .array(batches.map(json)))]
        switch format {
        case .json:
            return JSONText.render(basis.document(view: "progress", members: members)) + "\n"
        case .csv:
            // One line per batch (unit empty) and per unit of it.
            let lines: [(batch: String, unit: String?, tally: Tally)] = batches.flatMap { b in
                [(b.id, nil, b.tally)] + b.units.map { (b.id, $0.unit, $0.tally) }
            }
            let columns = [Column<(batch: String, unit: String?, tally: Tally)>("batch", "批次", value: { .string($0.batch) }),
                           Column("unit", "责任单位", value: { .string($0.unit) })]
                + tallyColumns.map { c in Column(c.key, c.header, value: { c.value($0.tally) }) }
            return Render.csv(lines, columns)
        case .table:
            var out = basis.caption(title: "清零进度", members: members, view: "progress") + "\n"
            if batches.isEmpty { return out + "\n（此时还没有问题清单）\n" }
            for batch in batches {
                out += "\n【\(batch.name)】\(batch.id)  清零时限 \(Render.short(batch.dueAt))\n"
                let rows = [("合计", batch.tally)] + batch.units.map { (unitNames[$0.unit] ?? $0.unit, $0.tally) }
                let columns = [Column<(String, Tally)>("unit", "责任单位", value: { .string($0.0) })]
                    + tallyColumns.map { c in Column(c.key, c.header, value: { c.value($0.1) }, display: c.display.map { d in { d($0.1) } }) }
                out += Render.table(rows, columns)
                out += "每日未销号：" + batch.series.map { "\($0.date.suffix(5)) \($0.outstanding)" }.joined(separator: " · ") + "\n"
            }
            return out
        }
    }
}

/// The weekly ranking of §5 as a report.
public enum RankingReport {
    public static let columns: [Column<RankingRow>] = [
        Column("unit", "责任单位", value: { .string($0.unit) }),
        Column("assigned", "交办", value: { .int($0.assigned) }),
        Column("closed", "已销号", value: { .int($0.closed) }),
        Column("overdue", "超期", value: { .int($0.overdue) }),
        Column("clearRate", "销号率", value: { .double($0.clearRate) }, display: { ProgressReport.percent($0.clearRate) }),
        Column("closedInWeek", "本周销号", value: { .int($0.week.closed) }),
        Column("rejectedInWeek", "本周退回", value: { .int($0.week.rejected) }),
        Column("reopenedInWeek", "本周反弹", value: { .int($0.week.reopened) }),
        Column("escalatedInWeek", "本周点球", value: { .int($0.week.escalated) }),
        Column("rank", "排名", value: { .int($0.rank) }),
    ]

    public static func render(_ rows: [RankingRow], week: Week, basis: ViewBasis, format: OutputFormat,
                              unitNames: [String: String] = [:]) -> String {
        let members: [(key: String, value: JSONValue)] = [("week", .string(week.description)), ("units", Render.objects(rows, columns))]
        switch format {
        case .json:
            return JSONText.render(basis.document(view: "ranking", members: members)) + "\n"
        case .csv:
            return Render.csv(rows, columns)
        case .table:
            var shown = [columns[9]] + columns.dropLast()
            shown[1].display = { unitNames[$0.unit] ?? $0.unit }
            return basis.caption(title: "\(week) 周排名（\(week.start.chinaDate) 至 \(Timestamp.startOfChinaDay(week.monday + 6).chinaDate)）",
                                 members: members, view: "ranking") + "\n\n"
                + (rows.isEmpty ? "（这一周之前还没有交办任何问题）\n" : Render.table(rows, shown))
        }
    }
}

/// The audit trail of §5 as a report.
public enum AuditReport {
    public static let columns: [Column<AuditRow>] = [
        Column("seq", "序号", value: { .int($0.seq) }),
        Column("version", "版本", value: { .int($0.version) }),
        Column("recordedAt", "登记时间", value: { .time($0.recordedAt) }, display: { $0.recordedAt.inOffset(Timestamp.chinaOffset).rfc3339.prefix(16).replacingOccurrences(of: "T", with: " ") }),
        Column("occurredAt", "发生时间", value: { .time($0.occurredAt) }, display: { $0.occurredAt.inOffset(Timestamp.chinaOffset).rfc3339.prefix(16).replacingOccurrences(of: "T", with: " ") }),
        Column("type", "事件", value: { .string($0.type.rawValue) }, display: { $0.type.label }),
        Column("subject", "对象", value: { .string($0.subject) }),
        Column("actor", "操作人", value: { .string($0.actor) }),
        Column("actorrole", "角色", value: { .string($0.role.rawValue) }, display: { $0.role.label }),
        Column("id", "事件编号", value: { .string($0.id) }),
        Column("hash", "哈希", value: { .string($0.hash) }, display: { String($0.hash.prefix(12)) }),
        Column("flags", "提示", value: { .array($0.flags.map { .string($0.rawValue) }) },
               display: { $0.flags.map(\.label).joined(separator: "、") }),
    ]

    public static func render(_ rows: [AuditRow], basis: ViewBasis, format: OutputFormat) -> String {
        let members: [(key: String, value: JSONValue)] = [("events", Render.objects(rows, columns))]
        switch format {
        case .json:
            return JSONText.render(basis.document(view: "audit", members: members)) + "\n"
        case .csv:
            return Render.csv(rows, columns)
        case .table:
            let flagged = rows.filter { !$0.flags.isEmpty }.count
            return basis.caption(title: "审计轨迹", members: members, view: "audit") + "\n"
                + "共 \(rows.count) 个事件，\(flagged) 个带提示\n\n"
                + (rows.isEmpty ? "（没有相关事件）\n" : Render.table(rows, columns))
        }
    }
}

extension Substring {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        String(self).replacingOccurrences(of: target, with: replacement)
    }
}
