import Campaign
import Foundation
import JSON
import Projections

/// What the weekly bulletin (周通报) says (docs/views.md, "Bulletin"): built by `Views.bulletin`, written
/// by `BulletinReport` as JSON (with its digest), HTML (for the browser and print, A4) and Word (.docx).
public struct BulletinContent: Sendable {
    public struct Figures: Sendable, Equatable {
        public var assigned = 0
        public var closed = 0
        public var rejected = 0
        public var overdue = 0
        public init(assigned: Int = 0, closed: Int = 0, rejected: Int = 0, overdue: Int = 0) {
            self.assigned = assigned; self.closed = closed; self.rejected = rejected; self.overdue = overdue
        }
        /// closed / assigned, nil when nothing is assigned.
        public var clearRate: Double? { assigned == 0 ? nil : Double(closed) / Double(assigned) }
    }
    public struct Overdue: Sendable, Equatable {
        public var id: String
        public var description: String
        public var deadline: Timestamp
        /// Whole days (begun) past the deadline at the week's end.
        public var days: Int
        public init(id: String, description: String, deadline: Timestamp, days: Int) {
            self.id = id; self.description = description; self.deadline = deadline; self.days = days
        }
    }
    /// A problem event of the week: a reopening (反弹) or an escalation (点球).
    public struct Happening: Sendable, Equatable {
        public var id: String
        public var description: String
        public var time: Timestamp
        /// The reason.
        public var text: String
        /// The unit concerned; for a 点球, to whom it went.
        public var unit: String
        public init(id: String, description: String, time: Timestamp, text: String, unit: String) {
            self.id = id; self.description = description; self.time = time; self.text = text; self.unit = unit
        }
    }
    public struct Case: Sendable, Equatable {
        public var id: String
        public var target: String
        public var targetKind: TargetKind
        public var measure: String
        public var reason: String
        public var problems: [String]
        public var time: Timestamp
        public init(id: String, target: String, targetKind: TargetKind, measure: String, reason: String, problems: [String], time: Timestamp) {
            self.id = id; self.target = target; self.targetKind = targetKind; self.measure = measure; self.reason = reason
            self.problems = problems; self.time = time
        }
    }

    public var week: Week
    public var basis: ViewBasis
    /// This week's figures (by business time) and the overall ones at the week's end.
    public var thisWeek = Figures()
    public var overall = Figures()
    /// Units with something assigned, in their places.
    public var ranking: [RankingRow] = []
    public var unitNames: [String: String] = [:]
    /// Overdue problems at the week's end, by unit name.
    public var overdue: [(unit: String, problems: [Overdue])] = []
    public var reopened: [Happening] = []
    public var escalations: [Happening] = []
    public var accountability: [Case] = []
    public var progress: [BatchProgress] = []
    /// The log's latest signed checkpoint (a C2SP signed note), when there is one.
    public var checkpoint: String?

    public init(week: Week, basis: ViewBasis) { self.week = week; self.basis = basis }
}

public enum BulletinReport {
    // MARK: JSON

    /// The bulletin as a JSON document, with its digest (the one printed at the foot of every form of it).
    @discardableResult
    public static func writeJSON(_ c: BulletinContent, to out: Output) throws -> String {
        try c.basis.beginDocument(view: "bulletin", out)
        func figures(_ f: BulletinContent.Figures) -> JSONValue {
            .object([("assigned", .int(f.assigned)), ("closed", .int(f.closed)), ("rejected", .int(f.rejected)),
                     ("overdue", .int(f.overdue)), ("clearRate", f.clearRate.map { .number(Render.rate($0)) } ?? .null)])
        }
        func happening(_ h: BulletinContent.Happening) -> JSONValue {
            .object([("id", .string(h.id)), ("time", .string(h.time.rfc3339)), ("unit", .string(h.unit)), ("reason", .string(h.text))])
        }
        let members: [(String, JSONValue)] = [
            ("week", .string(c.week.description)),
            ("thisWeek", figures(c.thisWeek)),
            ("overall", figures(c.overall)),
            ("ranking", .array(c.ranking.map { r in
                .object([("unit", .string(r.unit)), ("assigned", .int(r.assigned)), ("closed", .int(r.closed)),
                         ("overdue", .int(r.overdue)), ("clearRate", r.clearRate.map { .number(Render.rate($0)) } ?? .null),
                         ("rank", .int(r.rank))])
            })),
            ("overdue", .array(c.overdue.flatMap { unit, problems in
                problems.map { .object([("unit", .string(unit)), ("id", .string($0.id)), ("deadline", .string($0.deadline.rfc3339)), ("days", .int($0.days))]) }
            })),
            ("reopened", .array(c.reopened.map(happening))),
            ("escalations", .array(c.escalations.map(happening))),
            ("accountability", .array(c.accountability.map { a in
                .object([("id", .string(a.id)), ("target", .string(a.target)), ("targetKind", .string(a.targetKind.rawValue)),
                         ("measure", .string(a.measure)), ("reason", .string(a.reason)),
                         ("problems", .array(a.problems.map { .string($0) })), ("time", .string(a.time.rfc3339))])
            })),
            ("progress", .array(c.progress.map { b in
                .object([("id", .string(b.id)), ("name", .string(b.name)), ("dueAt", .string(b.dueAt.rfc3339)),
                         ("total", .int(b.tally.total)), ("closed", .int(b.tally.closed)), ("outstanding", .int(b.tally.open + b.tally.submitted)),
                         ("zeroed", .bool(b.tally.zeroed))])
            })),
        ]
        for (key, value) in members {
            c.basis.member(key, out)
            out.text(JSONText.render(value))
        }
        return try c.basis.endDocument(out)
    }

    /// The digest of the bulletin's JSON document.
    public static func digest(_ c: BulletinContent) throws -> String { try writeJSON(c, to: Output(Discard())) }

    // MARK: words shared by HTML and Word

    static func title(_ c: BulletinContent) -> String { "创文问题整改情况通报（\(c.week.isoYear)年第\(c.week.number)周）" }

    /// `8月29日—9月4日`: the week's days.
    static func days(_ c: BulletinContent) -> String {
        let label = c.week.label
        guard let open = label.firstIndex(of: "（") else { return label }
        return String(label[label.index(after: open)...].dropLast())
    }

    static func summary(_ c: BulletinContent) -> String {
        let w = c.thisWeek, o = c.overall
        return "本周（\(days(c))）"
            + "新交办问题 \(w.assigned) 个，核实销号 \(w.closed) 个，整改不到位退回 \(w.rejected) 次。"
            + "截至本周末，累计交办 \(o.assigned) 个，已销号 \(o.closed) 个，销号率 \(Render.percent(o.clearRate))，"
            + "超期未销号 \(o.overdue) 个。"
    }

    static func place(_ c: BulletinContent, _ row: RankingRow) -> String { c.ranking.place(of: row) }
    static func unit(_ c: BulletinContent, _ id: String) -> String { c.unitNames[id] ?? id }

    /// The ranking's rows as text cells: place, unit, assigned, closed, overdue, clear rate.
    static func rankingCells(_ c: BulletinContent) -> [[String]] {
        c.ranking.map { [place(c, $0), unit(c, $0.unit), "\($0.assigned)", "\($0.closed)", "\($0.overdue)", Render.percent($0.clearRate), "\($0.week.rejected)"] }
    }

    static let rankingHeaders = ["名次", "责任单位", "交办", "已销号", "超期", "销号率", "本周退回"]

    /// The 红榜 (first places, nothing overdue) and 黑榜 (the last places, or anything overdue).
    static func boards(_ c: BulletinContent) -> (red: [String], black: [String]) {
        guard let best = c.ranking.first?.rank else { return ([], []) }
        let red = c.ranking.filter { $0.rank == best && $0.overdue == 0 && ($0.clearRate ?? 0) > 0 }.map { unit(c, $0.unit) }
        let worst = c.ranking.last?.rank ?? best
        let black = c.ranking.filter { $0.overdue > 0 || ($0.rank == worst && worst != best) }.map { unit(c, $0.unit) }
        return (red, black)
    }

    static func foot(_ c: BulletinContent, digest: String) -> [String] {
        var lines = ["本通报依据问题台账日志第 \(c.basis.headSeq) 个事件（链头 \(c.basis.headHash.prefix(16))…）生成，按\(c.basis.at.chineseMinute)的状态统计。",
                     "视图摘要 sha256:\(digest)（与 civic bulletin --week \(c.week) --format json 的 digest 相同，可据此核对）。"]
        if let checkpoint = c.checkpoint {
            lines.append("日志的签名检查点（可用 civic verify --checkpoint 或 Tools/verify-proof 独立核验）：")
            lines += checkpoint.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
        } else {
            lines.append("（本通报生成时，日志尚无签名检查点。）")
        }
        return lines
    }

    // MARK: HTML

    /// The bulletin as one HTML page, for the browser and for print on A4.
    public static func html(_ c: BulletinContent) throws -> String {
        let digest = try digest(c)
        var h = HTML()
        h.raw("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>")
        h.text(title(c))
        h.raw("</title><style>\(style)</style></head><body><article class=\"bulletin\">")
        h.raw("<h1>"); h.text(title(c)); h.raw("</h1>")
        h.raw("<p class=\"issuer\">"); h.text("\(days(c)) · 创文办 · 截至 \(c.basis.at.chineseMinute)"); h.raw("</p>")
        h.raw("<h2>一、基本情况</h2><p>"); h.text(summary(c)); h.raw("</p>")
        h.raw("<h2>二、红黑榜</h2>")
        let (red, black) = boards(c)
        h.raw("<p><b>红榜：</b>"); h.text(red.isEmpty ? "无" : red.joined(separator: "、"))
        h.raw("。<b>黑榜：</b>"); h.text(black.isEmpty ? "无" : black.joined(separator: "、")); h.raw("。</p>")
        if c.ranking.isEmpty { h.raw("<p>本周之前尚无单位被交办问题。</p>") } else {
            h.raw(barChartSVG(c))
            table(&h, rankingHeaders, rankingCells(c))
        }
        h.raw("<h2>三、超期未销号问题</h2>")
        if c.overdue.isEmpty { h.raw("<p>无。</p>") } else {
            table(&h, ["责任单位", "问题编号", "问题描述", "整改时限", "超期天数"], c.overdue.flatMap { unit, problems in
                problems.map { [unit, $0.id, $0.description, $0.deadline.chineseMinute, "\($0.days) 天"] }
            })
        }
        h.raw("<h2>四、反弹问题（回头看重新交办）</h2>")
        happenings(&h, c.reopened, unitHeader: "责任单位")
        h.raw("<h2>五、点球</h2>")
        happenings(&h, c.escalations, unitHeader: "点球对象")
        h.raw("<h2>六、追责问责</h2>")
        if c.accountability.isEmpty { h.raw("<p>本周无。</p>") } else {
            table(&h, ["对象", "措施", "事由", "涉及问题"], c.accountability.map {
                ["\($0.target)（\($0.targetKind.label)）", $0.measure, $0.reason, $0.problems.joined(separator: "、")]
            })
        }
        h.raw("<h2>七、各清单清零进度</h2>")
        for batch in c.progress {
            h.raw("<h3>"); h.text("\(batch.name)（清零时限 \(batch.dueAt.chineseMinute)）"); h.raw("</h3><p>")
            let t = batch.tally
            h.text("共 \(t.total) 个，已销号 \(t.closed) 个，待核实 \(t.submitted) 个，未整改 \(t.open) 个" + (t.zeroed ? "，已清零。" : "。"))
            h.raw("</p>")
            h.raw(Dashboard.chart(batch.series, due: batch.dueAt))
        }
        h.raw("<footer>")
        for line in foot(c, digest: digest) { h.raw("<p>"); h.text(line); h.raw("</p>") }
        h.raw("</footer></article></body></html>")
        return h.text
    }

    private static func happenings(_ h: inout HTML, _ list: [BulletinContent.Happening], unitHeader: String) {
        if list.isEmpty { h.raw("<p>本周无。</p>"); return }
        table(&h, ["问题编号", "问题描述", unitHeader, "时间", "原因"], list.map { [$0.id, $0.description, $0.unit, $0.time.chineseMinute, $0.text] })
    }

    private static func table(_ h: inout HTML, _ headers: [String], _ rows: [[String]]) {
        h.raw("<table><thead><tr>")
        for header in headers { h.raw("<th>"); h.text(header); h.raw("</th>") }
        h.raw("</tr></thead><tbody>")
        for row in rows {
            h.raw("<tr>")
            for cell in row { h.raw("<td>"); h.text(cell); h.raw("</td>") }
            h.raw("</tr>")
        }
        h.raw("</tbody></table>")
    }

    /// The ranking's clear rates as horizontal bars, one per unit in its place.
    static func barChartSVG(_ c: BulletinContent) -> String {
        let rowHeight = 22.0, left = 130.0, width = 600.0
        let height = Double(c.ranking.count) * rowHeight + 24
        var svg = "<svg class=\"bars\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"各单位销号率\">"
        for (k, row) in c.ranking.enumerated() {
            let y = 4 + Double(k) * rowHeight
            let rate = row.clearRate ?? 0
            let w = (width - left - 60) * rate
            svg += "<text x=\"\(Int(left - 6))\" y=\"\(Int(y + 15))\" text-anchor=\"end\">\(HTML.escape(unit(c, row.unit)))</text>"
            svg += "<rect x=\"\(Int(left))\" y=\"\(Int(y + 3))\" width=\"\(Int(w.rounded()))\" height=\"\(Int(rowHeight - 6))\" class=\"\(row.overdue > 0 ? "late" : "ok")\"/>"
            svg += "<text x=\"\(Int(left + w + 6))\" y=\"\(Int(y + 15))\">\(Render.percent(row.clearRate))</text>"
        }
        return svg + "</svg>"
    }

    private static let style = """
        body{font-family:"FangSong","仿宋","Noto Serif CJK SC","Songti SC",serif;color:#111;margin:0;background:#eee}
        .bulletin{background:#fff;max-width:210mm;margin:0 auto;padding:20mm 18mm;box-sizing:border-box}
        h1{font-family:"SimHei","Noto Sans CJK SC",sans-serif;text-align:center;font-size:22pt;margin:0 0 6mm}
        h2{font-family:"SimHei","Noto Sans CJK SC",sans-serif;font-size:15pt;margin:7mm 0 2mm}
        h3{font-size:13pt;margin:4mm 0 1mm}
        p{font-size:13pt;line-height:1.7;margin:1mm 0;text-indent:2em}
        .issuer{text-align:center;text-indent:0;color:#444}
        table{border-collapse:collapse;width:100%;font-size:11pt;margin:2mm 0}
        th,td{border:1px solid #555;padding:3px 6px;text-align:left;vertical-align:top}
        th{background:#e8eef7}
        svg{width:100%;height:auto;max-height:90mm;font-size:12px;font-family:sans-serif}
        svg .ok{fill:#2f6fb3} svg .late{fill:#c0392b}
        svg.chart .line{fill:none;stroke:#2f6fb3;stroke-width:2} svg.chart .area{fill:#2f6fb322}
        svg.chart .axis{stroke:#888} svg.chart .due{stroke:#c0392b;stroke-dasharray:4 3} svg.chart .tick{font-size:10px;fill:#555}
        footer{margin-top:8mm;border-top:1px solid #999;padding-top:2mm}
        footer p{font-size:9pt;line-height:1.4;text-indent:0;font-family:monospace;word-break:break-all;color:#333}
        @media (max-width:600px){.bulletin{padding:6mm 4mm} h1{font-size:17pt}}
        @page{size:A4;margin:18mm 16mm}
        @media print{body{background:#fff}.bulletin{padding:0;max-width:none} table,svg{break-inside:avoid} h2{break-after:avoid}}
        """

    // MARK: Word

    /// The bulletin as a Word document (.docx, Office Open XML WordprocessingML), A4, with the ranking as a
    /// bar chart and each list's daily outstanding count as a line chart (charts Word and WPS draw and edit).
    public static func docx(_ c: BulletinContent) throws -> [UInt8] {
        let digest = try digest(c)
        var body = ""
        body += Word.paragraph(title(c), size: 44, bold: true, center: true, font: "方正小标宋简体")
        body += Word.paragraph("（\(days(c))）    创文办    截至 \(c.basis.at.chineseMinute)", size: 28, center: true)
        body += Word.heading("一、基本情况")
        body += Word.paragraph(summary(c), indent: true)
        body += Word.heading("二、红黑榜")
        let (red, black) = boards(c)
        body += Word.paragraph("红榜：\(red.isEmpty ? "无" : red.joined(separator: "、"))。黑榜：\(black.isEmpty ? "无" : black.joined(separator: "、"))。", indent: true)
        var charts: [String] = []
        if c.ranking.isEmpty {
            body += Word.paragraph("本周之前尚无单位被交办问题。", indent: true)
        } else {
            charts.append(Word.barChart(title: "各单位销号率（%）", categories: c.ranking.map { unit(c, $0.unit) },
                                        values: c.ranking.map { (($0.clearRate ?? 0) * 1000).rounded() / 10 }))
            body += Word.chart(id: charts.count, name: "销号率", widthCm: 16, heightCm: max(5, Double(c.ranking.count) * 0.8 + 1.5))
            body += Word.table(rankingHeaders, rankingCells(c), widths: [16, 28, 10, 11, 10, 13, 12])
        }
        body += Word.heading("三、超期未销号问题")
        if c.overdue.isEmpty { body += Word.paragraph("无。", indent: true) } else {
            body += Word.table(["责任单位", "问题编号", "问题描述", "整改时限", "超期天数"], c.overdue.flatMap { unit, problems in
                problems.map { [unit, $0.id, $0.description, $0.deadline.chineseMinute, "\($0.days) 天"] }
            }, widths: [18, 20, 34, 18, 10])
        }
        func happenings(_ list: [BulletinContent.Happening], unitHeader: String) {
            if list.isEmpty { body += Word.paragraph("本周无。", indent: true); return }
            body += Word.table(["问题编号", "问题描述", unitHeader, "时间", "原因"],
                               list.map { [$0.id, $0.description, $0.unit, $0.time.chineseMinute, $0.text] }, widths: [18, 26, 16, 16, 24])
        }
        body += Word.heading("四、反弹问题（回头看重新交办）")
        happenings(c.reopened, unitHeader: "责任单位")
        body += Word.heading("五、点球")
        happenings(c.escalations, unitHeader: "点球对象")
        body += Word.heading("六、追责问责")
        if c.accountability.isEmpty { body += Word.paragraph("本周无。", indent: true) } else {
            body += Word.table(["对象", "措施", "事由", "涉及问题"], c.accountability.map {
                ["\($0.target)（\($0.targetKind.label)）", $0.measure, $0.reason, $0.problems.joined(separator: "、")]
            }, widths: [22, 16, 40, 22])
        }
        body += Word.heading("七、各清单清零进度")
        for batch in c.progress {
            let t = batch.tally
            body += Word.paragraph("\(batch.name)（清零时限 \(batch.dueAt.chineseMinute)）：共 \(t.total) 个，已销号 \(t.closed) 个，待核实 \(t.submitted) 个，未整改 \(t.open) 个"
                                   + (t.zeroed ? "，已清零。" : "。"), indent: true)
            if batch.series.count > 1 {
                charts.append(Word.lineChart(title: "\(batch.name)：每日未销号", categories: batch.series.map { String($0.date.dropFirst(5)) },
                                             values: batch.series.map { Double($0.outstanding) }))
                body += Word.chart(id: charts.count, name: "清零进度", widthCm: 16, heightCm: 6)
            }
        }
        for line in foot(c, digest: digest) { body += Word.paragraph(line, size: 16, font: "Consolas") }
        return try Word.package(body: body, charts: charts)
    }
}

/// WordprocessingML written by hand: paragraphs, headings, tables and charts (DrawingML), in a zip made
/// by ZIPFoundation.
enum Word {
    static func run(_ text: String, size: Int, bold: Bool, font: String) -> String {
        "<w:r><w:rPr><w:rFonts w:ascii=\"\(font)\" w:hAnsi=\"\(font)\" w:eastAsia=\"\(font)\"/>\(bold ? "<w:b/>" : "")<w:sz w:val=\"\(size)\"/><w:szCs w:val=\"\(size)\"/></w:rPr>"
            + "<w:t xml:space=\"preserve\">\(XML.escape(text))</w:t></w:r>"
    }

    /// A paragraph; `size` in half-points (32: 三号, the body of an official document).
    static func paragraph(_ text: String, size: Int = 30, bold: Bool = false, center: Bool = false, indent: Bool = false,
                          font: String = "仿宋") -> String {
        "<w:p><w:pPr><w:spacing w:after=\"60\" w:line=\"400\" w:lineRule=\"auto\"/>\(center ? "<w:jc w:val=\"center\"/>" : "")"
            + "\(indent ? "<w:ind w:firstLineChars=\"200\" w:firstLine=\"600\"/>" : "")</w:pPr>\(run(text, size: size, bold: bold, font: font))</w:p>"
    }

    static func heading(_ text: String) -> String {
        "<w:p><w:pPr><w:pStyle w:val=\"Heading2\"/><w:spacing w:before=\"200\" w:after=\"80\"/></w:pPr>\(run(text, size: 32, bold: true, font: "黑体"))</w:p>"
    }

    /// A table with a header row, bordered, its columns in the shares `widths` (percent) of the text width.
    static func table(_ headers: [String], _ rows: [[String]], widths: [Int]) -> String {
        let total = 9_000  // twentieths of a point across an A4 page's text
        let grid = widths.map { $0 * total / 100 }
        var xml = "<w:tbl><w:tblPr><w:tblW w:w=\"\(total)\" w:type=\"dxa\"/><w:tblBorders>"
        for side in ["top", "left", "bottom", "right", "insideH", "insideV"] { xml += "<w:\(side) w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"555555\"/>" }
        xml += "</w:tblBorders><w:tblLayout w:type=\"fixed\"/><w:tblCellMar><w:left w:w=\"80\" w:type=\"dxa\"/><w:right w:w=\"80\" w:type=\"dxa\"/></w:tblCellMar></w:tblPr><w:tblGrid>"
        for w in grid { xml += "<w:gridCol w:w=\"\(w)\"/>" }
        xml += "</w:tblGrid>"
        func row(_ cells: [String], header: Bool) {
            xml += "<w:tr>\(header ? "<w:trPr><w:tblHeader/></w:trPr>" : "")"
            for (k, cell) in cells.enumerated() {
                xml += "<w:tc><w:tcPr><w:tcW w:w=\"\(k < grid.count ? grid[k] : 1000)\" w:type=\"dxa\"/>\(header ? "<w:shd w:val=\"clear\" w:color=\"auto\" w:fill=\"E8EEF7\"/>" : "")</w:tcPr>"
                xml += "<w:p><w:pPr><w:spacing w:after=\"0\"/></w:pPr>\(run(cell, size: 21, bold: header, font: header ? "黑体" : "仿宋"))</w:p></w:tc>"
            }
            xml += "</w:tr>"
        }
        row(headers, header: true)
        for cells in rows { row(cells, header: false) }
        return xml + "</w:tbl>" + paragraph("", size: 12)
    }

    /// A paragraph holding chart `id` (its part word/charts/chart<id>.xml), `widthCm` by `heightCm`.
    static func chart(id: Int, name: String, widthCm: Double, heightCm: Double) -> String {
        let cx = Int(widthCm * 360_000), cy = Int(heightCm * 360_000)
        return "<w:p><w:pPr><w:jc w:val=\"center\"/></w:pPr><w:r><w:drawing><wp:inline distT=\"0\" distB=\"0\" distL=\"0\" distR=\"0\">"
            + "<wp:extent cx=\"\(cx)\" cy=\"\(cy)\"/><wp:docPr id=\"\(id)\" name=\"\(XML.escape(name)) \(id)\"/>"
            + "<a:graphic xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\"><a:graphicData uri=\"http://schemas.openxmlformats.org/drawingml/2006/chart\">"
            + "<c:chart xmlns:c=\"http://schemas.openxmlformats.org/drawingml/2006/chart\" r:id=\"rIdChart\(id)\"/></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>"
    }

    private static func series(_ name: String, _ categories: [String], _ values: [Double], color: String) -> String {
        var xml = "<c:ser><c:idx val=\"0\"/><c:order val=\"0\"/><c:tx><c:v>\(XML.escape(name))</c:v></c:tx>"
        xml += "<c:spPr><a:solidFill><a:srgbClr val=\"\(color)\"/></a:solidFill><a:ln w=\"28575\"><a:solidFill><a:srgbClr val=\"\(color)\"/></a:solidFill></a:ln></c:spPr>"
        xml += "<c:cat><c:strLit><c:ptCount val=\"\(categories.count)\"/>"
        for (k, c) in categories.enumerated() { xml += "<c:pt idx=\"\(k)\"><c:v>\(XML.escape(c))</c:v></c:pt>" }
        xml += "</c:strLit></c:cat><c:val><c:numLit><c:formatCode>General</c:formatCode><c:ptCount val=\"\(values.count)\"/>"
        for (k, v) in values.enumerated() { xml += "<c:pt idx=\"\(k)\"><c:v>\(Spreadsheet.number(v))</c:v></c:pt>" }
        return xml + "</c:numLit></c:val>"
    }

    private static func chartSpace(_ title: String, _ plot: String) -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<c:chartSpace xmlns:c=\"http://schemas.openxmlformats.org/drawingml/2006/chart\" "
            + "xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">"
            + "<c:roundedCorners val=\"0\"/><c:chart><c:title><c:tx><c:rich><a:bodyPr/><a:p><a:pPr><a:defRPr sz=\"1200\" b=\"1\"/></a:pPr><a:r><a:rPr lang=\"zh-CN\" sz=\"1200\" b=\"1\"><a:ea typeface=\"黑体\"/></a:rPr><a:t>\(XML.escape(title))</a:t></a:r></a:p></c:rich></c:tx><c:overlay val=\"0\"/></c:title>"
            + "<c:autoTitleDeleted val=\"0\"/><c:plotArea><c:layout/>\(plot)</c:plotArea><c:plotVisOnly val=\"1\"/></c:chart>"
            + "<c:txPr><a:bodyPr/><a:p><a:pPr><a:defRPr sz=\"1000\"><a:ea typeface=\"仿宋\"/></a:defRPr></a:pPr><a:endParaRPr lang=\"zh-CN\"/></a:p></c:txPr></c:chartSpace>"
    }

    private static func axes(catPosition: String, valPosition: String, maximum: Double?) -> String {
        "<c:catAx><c:axId val=\"1\"/><c:scaling><c:orientation val=\"\(catPosition == "l" ? "maxMin" : "minMax")\"/></c:scaling><c:delete val=\"0\"/><c:axPos val=\"\(catPosition)\"/>"
            + "<c:numFmt formatCode=\"General\" sourceLinked=\"0\"/><c:tickLblPos val=\"nextTo\"/><c:crossAx val=\"2\"/><c:crosses val=\"autoZero\"/><c:auto val=\"1\"/><c:lblAlgn val=\"ctr\"/><c:lblOffset val=\"100\"/></c:catAx>"
            + "<c:valAx><c:axId val=\"2\"/><c:scaling><c:orientation val=\"minMax\"/>\(maximum.map { "<c:max val=\"\(Spreadsheet.number($0))\"/>" } ?? "")<c:min val=\"0\"/></c:scaling><c:delete val=\"0\"/><c:axPos val=\"\(valPosition)\"/>"
            + "<c:majorGridlines><c:spPr><a:ln w=\"3175\"><a:solidFill><a:srgbClr val=\"D9D9D9\"/></a:solidFill></a:ln></c:spPr></c:majorGridlines>"
            + "<c:numFmt formatCode=\"General\" sourceLinked=\"0\"/><c:tickLblPos val=\"nextTo\"/><c:crossAx val=\"1\"/><c:crosses val=\"\(catPosition == "l" ? "max" : "autoZero")\"/><c:crossBetween val=\"between\"/></c:valAx>"
    }

    /// Horizontal bars, the first category at the top, values labelled.
    static func barChart(title: String, categories: [String], values: [Double]) -> String {
        chartSpace(title, "<c:barChart><c:barDir val=\"bar\"/><c:grouping val=\"clustered\"/><c:varyColors val=\"0\"/>"
            + series("销号率", categories, values, color: "2F6FB3")
            + "<c:dLbls><c:showLegendKey val=\"0\"/><c:showVal val=\"1\"/><c:showCatName val=\"0\"/><c:showSerName val=\"0\"/><c:showPercent val=\"0\"/><c:showBubbleSize val=\"0\"/></c:dLbls></c:ser>"
            + "<c:gapWidth val=\"60\"/><c:axId val=\"1\"/><c:axId val=\"2\"/></c:barChart>" + axes(catPosition: "l", valPosition: "b", maximum: 100))
    }

    /// A line over the days.
    static func lineChart(title: String, categories: [String], values: [Double]) -> String {
        chartSpace(title, "<c:lineChart><c:grouping val=\"standard\"/><c:varyColors val=\"0\"/>"
            + series("未销号", categories, values, color: "2F6FB3") + "<c:marker><c:symbol val=\"none\"/></c:marker><c:smooth val=\"0\"/></c:ser>"
            + "<c:marker val=\"1\"/><c:axId val=\"1\"/><c:axId val=\"2\"/></c:lineChart>" + axes(catPosition: "b", valPosition: "l", maximum: nil))
    }

    /// The package: the document with `body`, its styles and its charts.
    static func package(body: String, charts: [String]) throws -> [UInt8] {
        let package = try OfficePackage()
        func add(_ path: String, _ text: String) throws { try package.add(path, text) }
        let chartTypes = charts.indices.map {
            "<Override PartName=\"/word/charts/chart\($0 + 1).xml\" ContentType=\"application/vnd.openxmlformats-officedocument.drawingml.chart+xml\"/>"
        }.joined()
        try add("[Content_Types].xml", "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
            + "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/>"
            + "<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>"
            + "<Override PartName=\"/word/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml\"/>\(chartTypes)</Types>")
        try add("_rels/.rels", "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
            + "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/></Relationships>")
        try add("word/_rels/document.xml.rels", "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
            + "<Relationship Id=\"rIdStyles\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/>"
            + charts.indices.map { "<Relationship Id=\"rIdChart\($0 + 1)\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart\" Target=\"charts/chart\($0 + 1).xml\"/>" }.joined()
            + "</Relationships>")
        try add("word/styles.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<w:styles xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">"
            + "<w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii=\"Times New Roman\" w:hAnsi=\"Times New Roman\" w:eastAsia=\"仿宋\"/><w:sz w:val=\"30\"/><w:lang w:val=\"en-US\" w:eastAsia=\"zh-CN\"/></w:rPr></w:rPrDefault></w:docDefaults>"
            + "<w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\"><w:name w:val=\"Normal\"/></w:style>"
            + "<w:style w:type=\"paragraph\" w:styleId=\"Heading2\"><w:name w:val=\"heading 2\"/><w:basedOn w:val=\"Normal\"/><w:pPr><w:keepNext/><w:outlineLvl w:val=\"1\"/></w:pPr></w:style>"
            + "</w:styles>")
        try add("word/document.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" "
            + "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\" xmlns:wp=\"http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing\">"
            + "<w:body>\(body)<w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/><w:pgMar w:top=\"1440\" w:right=\"1247\" w:bottom=\"1440\" w:left=\"1247\" w:header=\"851\" w:footer=\"992\" w:gutter=\"0\"/></w:sectPr></w:body></w:document>")
        for (k, chart) in charts.enumerated() { try add("word/charts/chart\(k + 1).xml", chart) }
        return try package.bytes()
    }
}

extension BulletinReport {
    /// The bulletin as text for a terminal: what the document says, without its charts.
    public static func text(_ c: BulletinContent) throws -> String {
        let digest = try digest(c)
        var lines = [title(c), "", "一、基本情况", summary(c), "", "二、红黑榜"]
        let (red, black) = boards(c)
        lines.append("红榜：\(red.isEmpty ? "无" : red.joined(separator: "、"))。黑榜：\(black.isEmpty ? "无" : black.joined(separator: "、"))。")
        for row in rankingCells(c) { lines.append("  " + row.joined(separator: "  ")) }
        lines += ["", "三、超期未销号问题"]
        if c.overdue.isEmpty { lines.append("  无") }
        for (unit, problems) in c.overdue { for p in problems { lines.append("  \(unit)  \(p.id)  超期 \(p.days) 天  \(p.description)") } }
        lines += ["", "四、反弹问题"] + (c.reopened.isEmpty ? ["  本周无"] : c.reopened.map { "  \($0.id)  \($0.unit)  \($0.text)" })
        lines += ["", "五、点球"] + (c.escalations.isEmpty ? ["  本周无"] : c.escalations.map { "  \($0.id)  → \($0.unit)  \($0.text)" })
        lines += ["", "六、追责问责"] + (c.accountability.isEmpty ? ["  本周无"] : c.accountability.map { "  \($0.target)（\($0.targetKind.label)） \($0.measure)  \($0.reason)" })
        lines += ["", "七、各清单清零进度"] + c.progress.map { b in
            "  \(b.name)：共 \(b.tally.total) 个，已销号 \(b.tally.closed) 个，未销号 \(b.tally.open + b.tally.submitted) 个" + (b.tally.zeroed ? "，已清零" : "")
        }
        lines += [""] + foot(c, digest: digest)
        return lines.joined(separator: "\n") + "\n"
    }
}
