import Campaign
import JSON
import Projections

/// One accountability case, as the ledger of cases shows it (docs/views.md, "Cases").
public struct CaseRow: Sendable, Equatable {
    public var id: String
    public var targetKind: TargetKind
    public var targetId: String
    /// The target by name (a unit's registered name, a person's as recorded).
    public var target: String
    public var targetUnit: String?
    public var measure: Measure
    public var reason: String
    public var problems: [String]
    public var organ: String?
    public var document: String?
    public var time: Timestamp
    public var recordedAt: Timestamp
    public var actor: String
    public var recordedBy: String
    public var revokedAt: Timestamp?
    public var revokedBy: String?
    public var revokeReason: String?

    public init(id: String, targetKind: TargetKind, targetId: String, target: String, targetUnit: String?, measure: Measure,
                reason: String, problems: [String], organ: String?, document: String?, time: Timestamp, recordedAt: Timestamp,
                actor: String, recordedBy: String) {
        self.id = id; self.targetKind = targetKind; self.targetId = targetId; self.target = target; self.targetUnit = targetUnit
        self.measure = measure; self.reason = reason; self.problems = problems; self.organ = organ; self.document = document
        self.time = time; self.recordedAt = recordedAt; self.actor = actor; self.recordedBy = recordedBy
    }
}

/// A unit or a person, with the signals an inspector starts from (docs/views.md, "Clues").
public struct ClueRow: Sendable, Equatable {
    public enum Kind: String, Sendable { case unit, person }
    public var kind: Kind
    /// A unit's id, or an actor's.
    public var id: String
    public var name: String
    /// The unit it is, or the unit the person acts for.
    public var unit: String?
    /// That unit's registered name, for people to read.
    public var unitName: String?
    public var overdueProblems = 0
    /// Days (begun) past the deadline, summed over its overdue problems, at the view's moment.
    public var overdueDays = 0
    public var rejections = 0
    public var reopenings = 0
    public var escalations = 0
    /// Flagged events, and the flags by kind.
    public var flagged = 0
    public var flags: [AuditFlag: Int] = [:]
    public var rank = 0

    public init(kind: Kind, id: String, name: String, unit: String?) { self.kind = kind; self.id = id; self.name = name; self.unit = unit }

    /// The order of the clues: a day overdue counts 1, a rejection 3, a reopening, an escalation and a
    /// flagged event 5 each (docs/views.md, "Clues").
    public var score: Int { overdueDays + 3 * rejections + 5 * (reopenings + escalations + flagged) }

    /// The trail that proves it, as a command.
    public var trail: String { kind == .unit ? "civic audit --unit \(id)" : "civic audit --actor \(id)" }
    /// The same, as the dashboard's address.
    public var link: String { kind == .unit ? "/api/audit?unit=\(id)" : "/api/audit?actor=\(id)" }
}

/// The ledger of cases and the clues, written in every format a view is (docs/views.md).
public enum InspectionReport {
    public static let caseColumns: [Column<CaseRow>] = [
        .string("id", "案件编号", { $0.id }),
        .string("targetKind", "对象类别", { $0.targetKind.rawValue }, display: { $0.targetKind.label }),
        .string("target", "问责对象", { $0.target }),
        .string("targetId", "对象编号", { $0.targetId }),
        .string("measure", "问责方式", { $0.measure.rawValue }, display: { $0.measure.label }),
        .string("reason", "事由", { $0.reason }),
        .codes("problems", "所涉问题", { $0.problems }, display: { $0.problems.joined(separator: "、") }),
        .string("organ", "决定机关", { $0.organ }),
        .string("document", "文号", { $0.document }),
        .time("time", "决定时间", { $0.time }),
        .string("actor", "登记人", { $0.actor }),
        .string("recordedBy", "录入账号", { $0.recordedBy }),
        .time("recordedAt", "录入时间", { $0.recordedAt }),
        .bool("revoked", "已撤销", { $0.revokedAt != nil }, display: { $0.revokedAt == nil ? "" : "已撤销" }),
        .time("revokedAt", "撤销时间", { $0.revokedAt }, display: { $0.revokedAt.map(Render.short) ?? "" }),
        .string("revokedBy", "撤销人", { $0.revokedBy }),
        .string("revokeReason", "撤销理由", { $0.revokeReason }),
    ]

    public static let clueColumns: [Column<ClueRow>] = [
        .int("rank", "序", { $0.rank }),
        .string("kind", "类别", { $0.kind.rawValue }, display: { $0.kind == .unit ? "单位" : "个人" }),
        .string("id", "编号", { $0.id }),
        .string("name", "名称", { $0.name }),
        .string("unit", "所属单位", { $0.unit }, display: { row in
            row.kind == .unit ? "" : row.unit.map { Named.withID(row.unitName, $0) } ?? ""  // a unit's own is its name, beside
        }),
        .int("score", "线索分", { $0.score }),
        .int("overdueProblems", "超期问题", { $0.overdueProblems }),
        .int("overdueDays", "超期天数", { $0.overdueDays }),
        .int("rejections", "退回", { $0.rejections }),
        .int("reopenings", "反弹", { $0.reopenings }),
        .int("escalations", "点球", { $0.escalations }),
        .int("flagged", "带提示事件", { $0.flagged }),
        .codes("flags", "提示", { row in AuditFlag.allCases.compactMap { f in row.flags[f].map { "\(f.rawValue):\($0)" } } },
               display: { row in AuditFlag.allCases.compactMap { f in row.flags[f].map { "\(f.label) \($0)" } }.joined(separator: "、") }),
        .string("trail", "轨迹", { $0.trail }, display: { $0.trail }),
    ]

    /// `rows` under `columns` as the view `view` (its JSON member `member`), titled `title` for people.
    /// - Returns: the digest of its JSON (nil for CSV).
    @discardableResult
    public static func write<Row>(_ rows: [Row], _ columns: [Column<Row>], view: String, member: String, title: String,
                                  basis: ViewBasis, format: OutputFormat, to out: Output) throws -> String? {
        func json(_ out: Output) throws -> String {
            try basis.beginDocument(view: view, out)
            basis.member(member, out)
            try Render.objects(rows, columns, to: out)
            return try basis.endDocument(out)
        }
        switch format {
        case .json: return try json(out)
        case .csv, .csvLabelled:
            try Render.csv(rows, columns, labelled: format == .csvLabelled, to: out)
            try out.flush()
            return nil
        case .xlsx:
            let digest = try json(Output(Discard()))
            try Spreadsheet.write([.init(name: title, title: basis.caption(title: title), rows, columns,
                                         notes: [ViewBasis.digestLine(digest).trimmingSpaces])], to: out)
            return digest
        case .table:
            let digest = try json(Output(Discard()))
            out.text(basis.caption(title: title) + "\n")
            out.text("共 \(rows.count) 条\n\n")
            if rows.isEmpty { out.text("（没有）\n") } else { try Render.table(rows, columns, to: out) }
            out.text("\n" + ViewBasis.digestLine(digest))
            try out.flush()
            return digest
        }
    }
}

extension InspectionReport {
    /// The ledger of cases, or the clues, as a page of the dashboard (`/cases`, `/clues`): a table whose
    /// rows link to the trails that prove them, scrolling inside itself on a phone.
    public static func page<Row>(_ rows: [Row], _ columns: [Column<Row>], title: String, basis: ViewBasis, api: String,
                                 link: (Row) -> (label: String, href: String)?) throws -> String {
        let digest = try write(rows, columns, view: api, member: api, title: title, basis: basis, format: .json, to: Output(Discard())) ?? ""
        var h = HTML()
        h.raw("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        h.raw("<title>创文问题台账 · "); h.text(title); h.raw("</title><style>\(Dashboard.style)</style></head><body>")
        h.raw("<header><h1><a href=\"/\">创文问题台账</a></h1><nav><a href=\"/\">台账</a> · <a href=\"/cases\">问责台账</a> · <a href=\"/clues\">问题线索</a></nav></header><main>")
        h.raw("<section><h2>"); h.text(title); h.raw(" <small>"); h.text("截至 \(basis.at.chineseMinute)（业务时间） · 共 \(rows.count) 条"); h.raw("</small></h2>")
        if rows.isEmpty { h.raw("<p class=\"empty\">没有。</p>") } else {
            h.raw("<div class=\"scroll\"><table><thead><tr>")
            for column in columns { h.raw("<th>"); h.text(column.header); h.raw("</th>") }
            h.raw("</tr></thead><tbody>")
            for row in rows {
                h.raw("<tr>")
                for column in columns {
                    h.raw("<td>")
                    if column.key == "trail" || column.key == "id", let (label, href) = link(row), column.key == "trail" {
                        h.link(label, href: href)
                    } else {
                        h.text(column.display(row))
                    }
                    h.raw("</td>")
                }
                h.raw("</tr>")
            }
            h.raw("</tbody></table></div>")
        }
        h.raw("<p class=\"digest\">日志 seq \(basis.headSeq) · 摘要 sha256:\(digest)（与 <code>/api/\(api)</code> 的 digest 相同）</p></section></main></body></html>\n")
        return h.text
    }
}
