import Campaign
import JSON
import Projections

/// The board of §5 as a report.
public enum BoardReport {
    /// The columns of §5, in its order.
    public static let columns: [Column<BoardRow>] = [
        Column("id", "编号", value: { .string($0.id) }),
        Column("status", "状态", value: { .string($0.problem.status.rawValue) }, display: { $0.problem.status.label }),
        Column("batch", "批次", value: { .string($0.problem.batch) }),
        Column("source", "来源", value: { .string($0.report?.source.rawValue) }, display: { $0.report?.source.label ?? "—" }),
        Column("category", "类别", value: { .string($0.report?.category.rawValue) }, display: { $0.report?.category.label ?? "—" }),
        Column("area", "片区", value: { .string($0.report?.location.area) }),
        Column("street", "路段", value: { .string($0.report?.location.street) }),
        Column("point", "点位", value: { .string($0.report?.location.point) }),
        Column("description", "问题描述", value: { .string($0.report?.description) }),
        Column("unit", "责任单位", value: { .string($0.problem.unit) }),
        Column("leader", "责任领导", value: { .string($0.problem.leader) }),
        Column("deadline", "整改时限", value: { .time($0.problem.deadline) }, display: { Render.short($0.problem.deadline) }),
        Column("overdue", "超期", value: { .bool($0.overdue) }, display: { $0.overdue ? "超期" : "" }),
        Column("reportedAt", "发现时间", value: { .time($0.problem.reportedAt) }, display: { Render.short($0.problem.reportedAt) }),
        Column("closedAt", "销号时间", value: { .time($0.problem.closedAt) }, display: { Render.short($0.problem.closedAt) }),
        Column("rejections", "退回", value: { .int($0.problem.rejections) }),
        Column("escalations", "点球", value: { .int($0.problem.escalations) }),
        Column("reopens", "反弹", value: { .int($0.problem.reopens) }),
        Column("version", "事件数", value: { .int($0.version) }),
    ]

    /// The table shows the description last, where a long text does not push the other columns.
    /// Units appear by name where the name is known.
    static func tableColumns(unitNames: [String: String]) -> [Column<BoardRow>] {
        var shown = columns.filter { $0.key != "description" } + columns.filter { $0.key == "description" }
        if let k = shown.firstIndex(where: { $0.key == "unit" }) {
            shown[k].display = { row in row.problem.unit.map { unitNames[$0] ?? $0 } ?? "—" }
        }
        return shown
    }

    /// The board rendered in `format`; `basis` says what it was built from (head, as-of, at, filters).
    public static func render(_ rows: [BoardRow], basis: ViewBasis, format: OutputFormat,
                              unitNames: [String: String] = [:]) -> String {
        let counts = Projection.counts(rows)
        var countMembers: [(key: String, value: JSONValue)] = ProblemStatus.allCases.map { ($0.rawValue, .int(counts.byStatus[$0] ?? 0)) }
        countMembers.append(("overdue", .int(counts.overdue)))
        let members: [(key: String, value: JSONValue)] = [
            ("counts", .object(countMembers)),
            ("problems", Render.objects(rows, columns)),
        ]
        switch format {
        case .json:
            return JSONText.render(basis.document(view: "board", members: members)) + "\n"
        case .csv:
            return Render.csv(rows, columns)
        case .table:
            let summary = ProblemStatus.allCases.map { "\($0.label) \(counts.byStatus[$0] ?? 0)" }.joined(separator: " · ")
            return basis.caption(title: "问题台账", members: members, view: "board") + "\n"
                + "共 \(rows.count) 个问题：\(summary) · 超期 \(counts.overdue)\n\n"
                + (rows.isEmpty ? "（没有符合条件的问题）\n" : Render.table(rows, tableColumns(unitNames: unitNames)))
        }
    }
}
