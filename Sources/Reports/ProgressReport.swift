import Campaign
import JSON
import Projections

/// The 清零 progress as a report (docs/views.md, "Progress").
public enum ProgressReport {
    /// The counts shared by a batch and each of its units, in their documented order.
    static let tallyColumns: [Column<Tally>] = [
        .int("total", "总数", { $0.total }),
        .int("withdrawn", "已撤销", { $0.withdrawn }),
        .int("closed", "已销号", { $0.closed }),
        .int("submitted", "待核实", { $0.submitted }),
        .int("open", "未整改", { $0.open }),
        .int("overdue", "超期", { $0.overdue }),
        .rate("clearRate", "销号率", { $0.clearRate }),
        .bool("zeroed", "清零", { $0.zeroed }, display: { $0.zeroed ? "已清零" : "" }),
        .time("zeroedAt", "清零时间", { $0.zeroedAt }, display: { $0.zeroedAt.map(Render.short) ?? "" }),
        .time("zeroedRecordedAt", "清零登记时间", { $0.zeroedRecordedAt }, display: { $0.zeroedRecordedAt.map(Render.short) ?? "" }),
        Column("onTime", "按时清零", json: { row, out in out.text(row.onTime.map { $0 ? "true" : "false" } ?? "null") },
               plain: { $0.onTime.map { $0 ? "true" : "false" } ?? "" },
               display: { t in t.onTime.map { $0 ? "按时" : t.onPaperOnly ? "纸面清零（期后补录）" : "逾期清零" } ?? "" }),
    ]

    static func writeTally(_ tally: Tally, _ out: Output) {
        for column in tallyColumns {
            out.byte(44)
            out.jsonString(column.key)
            out.byte(58)
            column.json(tally, out)
        }
    }

    static func writeJSON(_ batches: [BatchProgress], basis: ViewBasis, to out: Output) throws -> String {
        try basis.beginDocument(view: "progress", out)
        basis.member("batches", out)
        out.byte(91)
        for (k, batch) in batches.enumerated() {
            if k > 0 { out.byte(44) }
            out.text("{\"id\":")
            out.jsonString(batch.id)
            out.text(",\"name\":")
            out.jsonString(batch.name)
            out.text(",\"dueAt\":")
            out.jsonString(batch.dueAt.rfc3339)
            writeTally(batch.tally, out)
            out.text(",\"units\":[")
            for (u, unit) in batch.units.enumerated() {
                if u > 0 { out.byte(44) }
                out.text("{\"unit\":")
                out.jsonString(unit.unit)
                writeTally(unit.tally, out)
                out.byte(125)
            }
            out.text("],\"series\":[")
            for (d, day) in batch.series.enumerated() {
                if d > 0 { out.byte(44) }
                out.text("{\"date\":\"")
                Timestamp.withChinaDate(ofDay: day.day) { out.bytes($0) }
                out.text("\",\"outstanding\":")
                out.number(day.outstanding)
                out.byte(125)
            }
            out.text("]}")
            try out.flushIfFull()
        }
        out.byte(93)
        return try basis.endDocument(out)
    }

    /// A list's burn-down as the table's line (docs/views.md, "The Chinese table"): `MM-DD n` for a day,
    /// and three days or more with the same count as one run, `MM-DD 至 MM-DD 均为 n`: a list cleared in
    /// 2022 and viewed in 2026 is one run from its last change, not 1,500 days of zeros. A date is written
    /// with its year when it is the line's first or falls in another year than the date before it.
    static func writeSeries(_ series: [BurnDownDay], _ out: Output) {
        out.text("每日未销号：")
        var year: Int64?
        func date(_ day: Int64) {
            let (y, m, d) = Timestamp.civil(fromDays: day)
            if y != year {
                out.number(Int(y))
                out.byte(45)
                year = y
            }
            out.byte(48 + UInt8(m / 10))
            out.byte(48 + UInt8(m % 10))
            out.byte(45)
            out.byte(48 + UInt8(d / 10))
            out.byte(48 + UInt8(d % 10))
        }
        var k = 0
        while k < series.count {
            var end = k
            while end + 1 < series.count, series[end + 1].outstanding == series[k].outstanding { end += 1 }
            if k > 0 { out.text(" · ") }
            date(series[k].day)
            if end - k >= 2 {
                out.text(" 至 ")
                date(series[end].day)
                out.text(" 均为 ")
            } else {
                end = k
                out.byte(32)
            }
            out.number(series[k].outstanding)
            k = end + 1
        }
        out.byte(10)
    }

    /// The progress of `batches` in `format`. - Returns: the digest of its JSON (for JSON and the table).
    @discardableResult
    public static func write(_ batches: [BatchProgress], basis: ViewBasis, format: OutputFormat,
                             unitNames: [String: String] = [:], to out: Output) throws -> String? {
        switch format {
        case .json:
            return try writeJSON(batches, basis: basis, to: out)
        case .csv, .csvLabelled, .xlsx:
            // One line per batch (unit empty, or 合计) and per unit of it.
            let labelled = format != .csv
            let lines: [(batch: String, unit: String?, tally: Tally)] = batches.flatMap { b in
                [(labelled ? b.name : b.id, labelled ? "合计" : nil, b.tally)] + b.units.map { (labelled ? b.name : b.id, labelled ? unitNames[$0.unit] ?? $0.unit : $0.unit, $0.tally) }
            }
            let columns = [Column<(batch: String, unit: String?, tally: Tally)>.string("batch", "批次", { $0.batch }),
                           .string("unit", "责任单位", { $0.unit })]
                + tallyColumns.map { $0.of { $0.tally } }
            if format == .xlsx {
                let digest = try writeJSON(batches, basis: basis, to: Output(Discard()))
                var tables = [Spreadsheet.Table(name: "清零进度", title: basis.caption(title: "清零进度"), lines, columns,
                                                notes: [ViewBasis.digestLine(digest).trimmingSpaces])]
                for batch in batches {
                    tables.append(Spreadsheet.Table(name: "\(batch.name)每日未销号", title: "【\(batch.name)】每日未销号（清零时限 \(Render.short(batch.dueAt))）",
                                                    headers: ["日期", "未销号"],
                                                    rows: batch.series.map { [.day($0.day), .number(Double($0.outstanding))] }))
                }
                try Spreadsheet.write(tables, to: out)
                return digest
            }
            try Render.csv(lines, columns, labelled: labelled, to: out)
            try out.flush()
            return nil
        case .table:
            let digest = try Pieces.alongside({ try writeJSON(batches, basis: basis, to: Output(Discard())) }) {
                out.text(basis.caption(title: "清零进度") + "\n")
                if batches.isEmpty { out.text("\n（此时还没有问题清单）\n") }
                for batch in batches {
                    out.text("\n【\(batch.name)】\(batch.id)  清零时限 \(Render.short(batch.dueAt))\n")
                    let rows = [("合计", batch.tally)] + batch.units.map { (unitNames[$0.unit] ?? $0.unit, $0.tally) }
                    let columns = [Column<(String, Tally)>.string("unit", "责任单位", { $0.0 })]
                        + tallyColumns.map { $0.of { $0.1 } }
                    try Render.table(rows, columns, to: out)
                    writeSeries(batch.series, out)
                }
            }
            out.text("\n" + ViewBasis.digestLine(digest))
            try out.flush()
            return digest
        }
    }
}

/// The weekly ranking as a report (docs/views.md, "Ranking").
public enum RankingReport {
    public static let columns: [Column<RankingRow>] = [
        .string("unit", "责任单位", { $0.unit }),
        .int("assigned", "交办", { $0.assigned }),
        .int("closed", "已销号", { $0.closed }),
        .int("overdue", "超期", { $0.overdue }),
        .rate("clearRate", "销号率", { $0.clearRate }),
        .int("closedInWeek", "本周销号", { $0.week.closed }),
        .int("rejectedInWeek", "本周退回", { $0.week.rejected }),
        .int("reopenedInWeek", "本周反弹", { $0.week.reopened }),
        .int("escalatedInWeek", "本周点球", { $0.week.escalated }),
        .int("rank", "排名", { $0.rank }),
    ]

    /// The place first (并列 where shared), units by name: as a person reads the ranking.
    static func labelledColumns(_ rows: [RankingRow], unitNames: [String: String]) -> [Column<RankingRow>] {
        var shown = [columns[9].displayed { rows.place(of: $0) }] + columns.dropLast()
        shown[1] = shown[1].displayed { unitNames[$0.unit] ?? $0.unit }
        return shown
    }

    static func writeJSON(_ rows: [RankingRow], week: Week, basis: ViewBasis, to out: Output) throws -> String {
        try basis.beginDocument(view: "ranking", out)
        basis.member("week", out)
        out.jsonString(week.description)
        basis.member("units", out)
        try Render.objects(rows, columns, to: out)
        return try basis.endDocument(out)
    }

    /// The ranking in `format`. - Returns: the digest of its JSON (for JSON and the table).
    @discardableResult
    public static func write(_ rows: [RankingRow], week: Week, basis: ViewBasis, format: OutputFormat,
                             unitNames: [String: String] = [:], to out: Output) throws -> String? {
        switch format {
        case .json:
            return try writeJSON(rows, week: week, basis: basis, to: out)
        case .csv:
            try Render.csv(rows, columns, to: out)
            try out.flush()
            return nil
        case .csvLabelled, .xlsx:
            let shown = labelledColumns(rows, unitNames: unitNames)
            if format == .csvLabelled {
                try Render.csv(rows, shown, labelled: true, to: out)
                try out.flush()
                return nil
            }
            let digest = try writeJSON(rows, week: week, basis: basis, to: Output(Discard()))
            try Spreadsheet.write([.init(name: "周排名", title: basis.caption(title: "\(week.labelWithYear) 排名"), rows, shown,
                                         notes: [ViewBasis.digestLine(digest).trimmingSpaces])], to: out)
            return digest
        case .table:
            let digest = try Pieces.alongside({ try writeJSON(rows, week: week, basis: basis, to: Output(Discard())) }) {
                let shown = labelledColumns(rows, unitNames: unitNames)
                out.text(basis.caption(title: "\(week.labelWithYear) 排名") + "\n\n")
                if rows.isEmpty { out.text("（这一周之前还没有交办任何问题）\n") } else { try Render.table(rows, shown, to: out) }
            }
            out.text("\n" + ViewBasis.digestLine(digest))
            try out.flush()
            return digest
        }
    }
}

/// The audit trail as a report (docs/views.md, "Audit trail").
public enum AuditReport {
    static func minute(_ t: Timestamp) -> String { t.chineseMinute }

    public static let columns: [Column<AuditRow>] = [
        .int("seq", "序号", { Int($0.seq) }),
        .int("version", "版本", { Int($0.version) }),
        .time("recordedAt", "登记时间", { $0.recordedAt }, display: { minute($0.recordedAt) }),
        .time("occurredAt", "发生时间", { $0.occurredAt }, display: { minute($0.occurredAt) }),
        .string("type", "事件", { $0.type.rawValue }, display: { $0.type.label }),
        .string("subject", "对象", { $0.subject }),
        .string("actor", "操作人", { $0.actor }),
        .string("actorrole", "角色", { $0.role.rawValue }, display: { $0.role.label }),
        .string("id", "事件编号", { $0.id }),
        .string("hash", "哈希", { $0.hash }, display: { String($0.hash.prefix(12)) }),
        .codes("flags", "提示", { $0.flags.map(\.rawValue) }, display: { $0.flags.map(\.label).joined(separator: "、") }),
        .string("recordedBy", "登记人", { $0.recordedBy.isEmpty ? nil : $0.recordedBy }, display: { $0.recordedBy.isEmpty ? "—" : $0.recordedBy }),
        .string("content", "内容", { $0.summary.isEmpty ? nil : $0.summary }),
        .codes("evidence", "佐证", { $0.evidence }, display: { $0.evidence.map { String($0.prefix(12)) }.joined(separator: " ") }),
    ]

    static func writeJSON(_ rows: [AuditRow], basis: ViewBasis, to out: Output) throws -> String {
        try out.flush()
        out.startHashing()
        try writePage(rows[...], from: 0, basis: basis, to: out)
        out.byte(93)
        return try basis.endDocument(out)
    }

    /// One page of the trail's JSON: `rows` (the first of them its row `first`), with the beginning of the
    /// document when `first` is 0 and its end when `digest` (the whole document's) is given.
    public static func writePage(_ rows: ArraySlice<AuditRow>, from first: Int, basis: ViewBasis, digest: String? = nil, to out: Output) throws {
        if first == 0 {
            basis.writeBeginning(view: "audit", out)
            basis.member("events", out)
            out.byte(91)
        }
        try Render.objectRows(rows, columns, first: first == 0, to: out)
        if let digest {
            out.byte(93)
            try basis.end(digest: digest, out)
        }
    }

    /// The digest of the trail's whole JSON document.
    public static func digest(_ rows: [AuditRow], basis: ViewBasis) throws -> String {
        try writeJSON(rows, basis: basis, to: Output(Discard()))
    }

    /// The trail in `format`. - Returns: the digest of its JSON (for JSON and the table).
    @discardableResult
    public static func write(_ rows: [AuditRow], basis: ViewBasis, format: OutputFormat, to out: Output) throws -> String? {
        switch format {
        case .json:
            return try writeJSON(rows, basis: basis, to: out)
        case .csv, .csvLabelled:
            try Render.csv(rows, columns, labelled: format == .csvLabelled, to: out)
            try out.flush()
            return nil
        case .xlsx:
            let digest = try writeJSON(rows, basis: basis, to: Output(Discard()))
            try Spreadsheet.write([.init(name: "审计轨迹", title: basis.caption(title: "审计轨迹"), rows, columns,
                                         notes: [ViewBasis.digestLine(digest).trimmingSpaces])], to: out)
            return digest
        case .table:
            let digest = try Pieces.alongside({ try writeJSON(rows, basis: basis, to: Output(Discard())) }) {
                let flagged = rows.filter { !$0.flags.isEmpty }.count
                out.text(basis.caption(title: "审计轨迹") + "\n")
                out.text("共 \(rows.count) 个事件，\(flagged) 个带提示\n\n")
                if rows.isEmpty { out.text("（没有相关事件）\n") } else { try Render.table(rows, columns, to: out) }
            }
            out.text("\n" + ViewBasis.digestLine(digest))
            try out.flush()
            return digest
        }
    }
}
