import Campaign
import JSON
import Projections

/// The board as a report (docs/views.md, "Board").
public enum BoardReport {
    /// The columns of the board, in their documented order.
    public static let columns: [Column<BoardRow>] = [
        .string("id", "编号", { $0.id }),
        .string("status", "状态", { $0.problem.status.rawValue }, display: { $0.problem.status.label }),
        .string("batch", "批次", { $0.problem.batch }),
        .string("source", "来源", { $0.report?.source.rawValue }, display: { $0.report?.source.label ?? "—" }),
        .string("category", "类别", { $0.report?.category.rawValue }, display: { $0.report?.category.label ?? "—" }),
        .string("area", "片区", { $0.report?.location.area }),
        .string("street", "路段", { $0.report?.location.street }),
        .string("point", "点位", { $0.report?.location.point }),
        .string("description", "问题描述", { $0.report?.description }),
        .string("unit", "责任单位", { $0.problem.unit }),
        .string("leader", "责任领导", { $0.problem.leader }),
        .time("deadline", "整改时限", { $0.problem.deadline }),
        .bool("overdue", "超期", { $0.overdue }, display: { $0.overdue ? "超期" : "" }),
        .time("reportedAt", "发现时间", { $0.problem.reportedAt }),
        .time("closedAt", "销号时间", { $0.problem.closedAt }),
        .int("rejections", "退回", { $0.problem.rejections }),
        .int("escalations", "点球", { $0.problem.escalations }),
        .int("reopens", "反弹", { $0.problem.reopens }),
        .int("version", "事件数", { Int($0.version) }),
    ]

    /// The table shows the description last, where a long text does not push the other columns.
    /// Units appear by name where the name is known.
    static func tableColumns(unitNames: [String: String]) -> [Column<BoardRow>] {
        var shown = columns.filter { $0.key != "description" } + columns.filter { $0.key == "description" }
        if let k = shown.firstIndex(where: { $0.key == "unit" }) {
            shown[k] = shown[k].displayed { row in row.problem.unit.map { unitNames[$0] ?? $0 } ?? "—" }
        }
        return shown
    }

    /// The board's rows and counts, with what it was built from.
    public struct Content: Sendable {
        public var rows: RowSource<BoardRow>
        public var counts: BoardCounts
        public var basis: ViewBasis
        public var unitNames: [String: String]
        public init(rows: RowSource<BoardRow>, counts: BoardCounts, basis: ViewBasis, unitNames: [String: String]) {
            self.rows = rows; self.counts = counts; self.basis = basis; self.unitNames = unitNames
        }
    }

    /// The board written in `format`. JSON and CSV stream the rows, rendered on two threads; a table
    /// reads them all first, to align them.
    /// - Returns: the digest of its JSON (for JSON and the table).
    @discardableResult
    public static func write(_ c: Content, format: OutputFormat, to out: Output) throws -> String? {
        switch format {
        case .json:
            return try writeJSON(c, to: out)
        case .csv:
            Render.csvHeader(columns, to: out)
            try Pieces.write(c.rows, to: out) { rows, _, out in try Render.csvRows(rows, columns, to: out) }
            try out.flush()
            return nil
        case .csvLabelled:
            let shown = tableColumns(unitNames: c.unitNames)
            Render.csvHeader(shown, labelled: true, to: out)
            try Pieces.write(c.rows, to: out) { rows, _, out in try Render.csvRows(rows, shown, labelled: true, to: out) }
            try out.flush()
            return nil
        case .xlsx:
            let rows = try c.rows.all()
            let whole = Content(rows: RowSource(rows), counts: c.counts, basis: c.basis, unitNames: c.unitNames)
            let digest = try writeJSON(whole, to: Output(Discard()))
            try Spreadsheet.write([.init(name: "问题台账", title: c.basis.caption(title: "问题台账", names: c.unitNames), rows, tableColumns(unitNames: c.unitNames),
                                         notes: [ViewBasis.digestLine(digest).trimmingSpaces])], to: out)
            return digest
        case .table:
            let rows = try c.rows.all()
            let whole = Content(rows: RowSource(rows), counts: c.counts, basis: c.basis, unitNames: c.unitNames)
            let digest = try Pieces.alongside({ try writeJSON(whole, to: Output(Discard())) }) {
                let summary = ProblemStatus.allCases.map { "\($0.label) \(c.counts.byStatus[$0] ?? 0)" }.joined(separator: " · ")
                out.text(c.basis.caption(title: "问题台账", names: c.unitNames) + "\n")
                out.text("共 \(c.counts.total) 个问题：\(summary) · 超期 \(c.counts.overdue)\n\n")
                if rows.isEmpty { out.text("（没有符合条件的问题）\n") } else { try Render.table(rows, tableColumns(unitNames: c.unitNames), to: out) }
            }
            out.text("\n" + ViewBasis.digestLine(digest))
            try out.flush()
            return digest
        }
    }

    /// The digest of the board's whole JSON document (rendered, not kept).
    public static func digest(_ c: Content) throws -> String { try writeJSON(c, to: Output(Discard())) }

    private static func writeJSON(_ c: Content, to out: Output) throws -> String {
        try out.flush()
        out.startHashing()
        try writePage(c, from: 0, to: out)
        out.byte(93)
        return try c.basis.endDocument(out)
    }

    /// One page of the board's JSON: the rows of `c` (a page of the board's, the first of them its row
    /// `first`), preceded by the beginning of the document when `first` is 0, and followed by its end
    /// when `digest` (the whole document's) is given: the last page. A view's pages, in order, are its
    /// document (docs/server.md, "Pages").
    public static func writePage(_ c: Content, from first: Int, digest: String? = nil, to out: Output) throws {
        if first == 0 {
            c.basis.writeBeginning(view: "board", out)
            c.basis.member("counts", out)
            out.byte(123)
            for status in ProblemStatus.allCases {
                out.jsonString(status.rawValue)
                out.byte(58)
                out.number(c.counts.byStatus[status] ?? 0)
                out.byte(44)
            }
            out.text("\"overdue\":")
            out.number(c.counts.overdue)
            out.byte(125)
            c.basis.member("problems", out)
            out.byte(91)
        }
        try Pieces.write(c.rows, to: out) { rows, isFirst, out in
            try Render.objectRows(rows, columns, first: isFirst && first == 0, to: out)
        }
        if let digest {
            out.byte(93)
            try c.basis.end(digest: digest, out)
        }
    }
}
