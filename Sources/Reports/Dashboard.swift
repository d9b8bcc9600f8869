import Campaign
import JSON
import Projections

/// What the dashboard shows: the views of one moment, and the options they were asked with.
public struct DashboardContent: Sendable {
    /// The options as given (`at`, `asOf`, `batch`, `unit`, `status`, `overdue`, `week`, `subject`), for the
    /// form and for links that keep them.
    public var options: [String: String]
    public var at: Timestamp
    /// The board's first rows (at most `Dashboard.boardRows`), with their reports.
    public var board: [BoardRow]
    /// The counts of the whole board.
    public var boardCounts: BoardCounts
    public var boardBasis: ViewBasis
    public var progress: [BatchProgress]
    public var progressBasis: ViewBasis
    public var ranking: [RankingRow]
    public var week: Week
    public var rankingBasis: ViewBasis
    /// The audit trail of `options["subject"]`, when one is asked for.
    public var audit: [AuditRow]?
    public var auditBasis: ViewBasis?
    public var unitNames: [String: String]
    /// The latest signed checkpoint the store keeps (a C2SP note), and the names that cosigned it.
    public var checkpoint: (note: String, cosigners: [String])?
    /// The evidence files of the trail the store holds (shown as photos; the others named by their hash).
    public var evidenceAtHand: Set<String> = []
    /// The accountability cases in force for each problem shown, by problem id.
    public var cases: [String: [String]] = [:]

    public init(options: [String: String], at: Timestamp, board: [BoardRow], boardCounts: BoardCounts, boardBasis: ViewBasis, progress: [BatchProgress],
                progressBasis: ViewBasis, ranking: [RankingRow], week: Week, rankingBasis: ViewBasis, audit: [AuditRow]?,
                auditBasis: ViewBasis?, unitNames: [String: String], evidenceAtHand: Set<String> = [],
                checkpoint: (note: String, cosigners: [String])? = nil) {
        self.checkpoint = checkpoint
        self.evidenceAtHand = evidenceAtHand
        self.options = options; self.at = at; self.board = board; self.boardCounts = boardCounts; self.boardBasis = boardBasis
        self.progress = progress
        self.progressBasis = progressBasis; self.ranking = ranking; self.week = week; self.rankingBasis = rankingBasis
        self.audit = audit; self.auditBasis = auditBasis; self.unitNames = unitNames
    }
}

/// The dashboard page (docs/server.md): one HTML document, drawn on the server, with its charts as inline SVG and
/// its style inline: it fetches nothing, works without scripts, and prints.
public enum Dashboard {
    /// The board shows at most this many rows; the filters narrow it.
    public static let boardRows = 300

    /// The latest signed checkpoint, and how anyone checks the log against it (docs/transparency.md).
    static func checkpointSection(_ h: inout HTML, _ c: DashboardContent) {
        h.raw("<section><h2>可验证的日志</h2>")
        guard let checkpoint = c.checkpoint else {
            h.raw("<p>尚未签发检查点。创文办在存储所在机器运行 <code>civic checkpoint --key 私钥文件</code> 后，这里显示最近的检查点。</p></section>")
            return
        }
        let lines = checkpoint.note.split(separator: "\n", omittingEmptySubsequences: false)
        let size = lines.count > 1 ? String(lines[1]) : "?"
        h.raw("<p>最近的签名检查点覆盖前 ")
        h.text(size)
        h.raw(" 个事件")
        if checkpoint.cosigners.isEmpty { h.raw("（尚无见证方联署）") } else {
            h.raw("，见证方联署：")
            h.text(checkpoint.cosigners.joined(separator: "、"))
        }
        h.raw("。请把它存到本机构以外，以后任何人都可核对日志没有被改写：</p><pre class=\"note\">")
        h.text(checkpoint.note)
        h.raw("</pre><p>核对方法：把上面的文字存为文件，运行 <code>civic verify --checkpoint 文件 --vkey 日志验证密钥</code>")
        h.raw("（日志须延续该检查点，树根由每个事件的原始字节重算）；单个问题的离线证明用 <code>civic proof --subject 编号</code> 导出，")
        h.raw("以 <code>civic-verify-proof</code> 或 <code>Tools/verify-proof</code> 核对，无需存储。</p></section>")
    }

    /// The page a person gets for options the dashboard cannot read (a time mistyped in its form): what
    /// is wrong, and the way back.
    public static func refusal(_ message: String) -> String {
        var h = HTML()
        head(&h, title: "创文问题台账 · 无法显示")
        h.raw("<main><section>")
        h.raw("<h2>无法显示这一页</h2><p class=\"error\" role=\"alert\">"); h.text(message); h.raw("</p>")
        h.raw("<p>时间可写作 2022-08-25 12:00 或 2022-08-25（北京时间）；登记截至可写 seq:60 或一个时间。</p>")
        h.raw("<p><a href=\"/\">返回仪表盘</a></p></section></main></body></html>\n")
        return h.text
    }

    /// The document's start, up to and with `<body>`: the page's title and the dashboard's style.
    private static func head(_ h: inout HTML, title: String) {
        h.raw("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">")
        h.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        h.raw("<title>\(title)</title><style>\(style)</style></head><body>")
    }

    public static func render(_ c: DashboardContent) -> String {
        var h = HTML()
        head(&h, title: "创文问题台账 · 清零进度")
        header(&h, c)
        h.raw("<main>")
        summary(&h, c)
        if let audit = c.audit, let basis = c.auditBasis { auditSection(&h, c, audit, basis) }
        progressSection(&h, c)
        rankingSection(&h, c)
        boardSection(&h, c)
        checkpointSection(&h, c)
        h.raw("</main><footer>本页只读：数据取自不可篡改的事件日志（哈希链）。每个视图的摘要可与命令行 <code>--format json</code> 的 digest 核对。")
        h.raw(" 接口：<a href=\"/api/board\">/api/board</a> · <a href=\"/api/progress\">/api/progress</a> · ")
        h.raw("<a href=\"/api/ranking\">/api/ranking</a> · <a href=\"/api/events?limit=100\">/api/events</a> · <a href=\"/api/verify\">/api/verify</a> · <a href=\"/checkpoint\">/checkpoint</a>")
        h.raw(" · 纪检：<a href=\"/cases\">问责台账</a> · <a href=\"/clues\">问题线索</a></footer>")
        h.raw("</body></html>\n")
        return h.text
    }

    // MARK: - Sections

    private static func header(_ h: inout HTML, _ c: DashboardContent) {
        let o = c.options
        h.raw("<header><div class=\"title\"><h1>创文问题台账</h1><span class=\"sub\">问题清单 · 清零进度 · 周排名 · 审计轨迹</span></div>")
        h.raw("<div class=\"head\">日志 seq <b>\(c.boardBasis.headSeq)</b> · 哈希 <code title=\"")
        h.text(c.boardBasis.headHash)
        h.raw("\">\(c.boardBasis.headHash.prefix(16))…</code></div></header>")
        h.raw("<form class=\"controls\" method=\"get\" action=\"/\" id=\"moment\">")
        h.raw("<fieldset class=\"clock\"><legend>查看哪一刻</legend>")
        field(&h, "业务时间（at）", "at", o["at"], placeholder: "现在，如 2022-08-25 12:00", hint: "当时的状态；时限按此刻判定")
        field(&h, "登记截至（asOf）", "asOf", o["asOf"], placeholder: "全部，如 2022-08-26 09:00 或 seq:40", hint: "只看当时已登记的事件")
        h.raw("</fieldset><fieldset><legend>筛选问题</legend>")
        select(&h, "批次", "batch", o["batch"], [("", "全部批次")] + c.progress.map { ($0.id, $0.name) })
        let units = Set(c.board.compactMap(\.problem.unit) + c.ranking.map(\.unit) + [o["unit"]].compactMap { $0 }).sorted()
        select(&h, "责任单位", "unit", o["unit"], [("", "全部单位")] + units.map { ($0, c.unitNames[$0] ?? $0) })
        select(&h, "状态", "status", o["status"], [("", "全部状态")] + ProblemStatus.allCases.map { ($0.rawValue, $0.label) })
        h.raw("<label class=\"check\"><input type=\"checkbox\" name=\"overdue\" value=\"true\"\(o["overdue"] == "true" ? " checked" : "")> 只看超期</label>")
        field(&h, "排名周", "week", o["week"], placeholder: "\(c.week.isoYear)年第\(c.week.number)周", hint: nil)
        if let subject = o["subject"] { h.raw("<input type=\"hidden\" name=\"subject\" value=\"\(HTML.escape(subject))\">") }
        h.raw("</fieldset><div class=\"buttons\"><button type=\"submit\">查看</button><a class=\"reset\" href=\"/\">回到现在</a></div></form>")
        h.raw("<p class=\"moment\">以下为 <b>")
        h.text(c.at.chineseMinute)
        h.raw("</b>（北京时间）的状态")
        if let asOf = o["asOf"] { h.raw("，只计截至 <b>"); h.text(asOf); h.raw("</b> 已登记的事件") }
        h.raw("。</p>")
    }

    private static func summary(_ h: inout HTML, _ c: DashboardContent) {
        let all = c.progress.map(\.tally)
        let total = all.reduce(0) { $0 + $1.total }, closed = all.reduce(0) { $0 + $1.closed }
        let withdrawn = all.reduce(0) { $0 + $1.withdrawn }, overdue = all.reduce(0) { $0 + $1.overdue }
        let outstanding = all.reduce(0) { $0 + $1.open + $1.submitted }
        let zeroed = c.progress.filter(\.tally.zeroed).count
        h.raw("<section class=\"cards\">")
        card(&h, "问题清单", "\(c.progress.count)", "已清零 \(zeroed) 个")
        card(&h, "清单内问题", "\(total)", "撤销 \(withdrawn)")
        card(&h, "已销号", "\(closed)", "销号率 " + Render.percent(total - withdrawn > 0 ? Double(closed) / Double(total - withdrawn) : nil))
        card(&h, "未销号", "\(outstanding)", "整改中与待核实")
        card(&h, "超期", "\(overdue)", overdue > 0 ? "须督办" : "无超期", alert: overdue > 0)
        h.raw("</section>")
    }

    private static func progressSection(_ h: inout HTML, _ c: DashboardContent) {
        h.raw("<section id=\"progress\"><h2>清零进度 <small>每个问题清单的未销号数，逐日至所看时刻</small></h2>")
        if c.progress.isEmpty { h.raw("<p class=\"empty\">此刻还没有问题清单。</p>") }
        h.raw("<div class=\"batches\">")
        for batch in c.progress {
            let t = batch.tally
            h.raw("<article class=\"batch\(t.zeroed ? " zeroed" : "")\" data-batch=\"\(HTML.escape(batch.id))\"><div class=\"batch-head\"><h3>")
            h.text(batch.name)
            h.raw("</h3><span class=\"badge \(t.zeroed ? "closed" : (t.overdue > 0 ? "overdue" : "assigned"))\">")
            h.text(t.onPaperOnly ? "纸面清零：记为 \(Render.short(t.zeroedAt))，实登记于 \(Render.short(t.zeroedRecordedAt))"
                   : t.zeroed ? "已清零 " + Render.short(t.zeroedAt) : (t.overdue > 0 ? "超期 \(t.overdue)" : "推进中"))
            h.raw("</span></div><p class=\"meta\">")
            h.text("\(batch.id) · 清零时限 \(Render.short(batch.dueAt)) · 共 \(t.total) 个 · 已销号 \(t.closed) · 待核实 \(t.submitted) · 未整改 \(t.open)")
            h.raw("</p>")
            h.raw(chart(batch.series, due: batch.dueAt))
            h.raw("<div class=\"rate\"><div class=\"bar\"><span style=\"width:\(Int(((t.clearRate ?? 0) * 100).rounded()))%\"></span></div><b>")
            h.text(Render.percent(t.clearRate))
            h.raw("</b></div>")
            if !batch.units.isEmpty {
                h.raw("<details><summary>按责任单位（\(batch.units.count)）</summary><table class=\"small\"><thead><tr><th>责任单位</th><th>问题</th><th>已销号</th><th>超期</th><th>销号率</th><th>清零</th></tr></thead><tbody>")
                for (unit, u) in batch.units {
                    h.raw("<tr><td>"); h.link(c.unitNames[unit] ?? unit, href: link(c, ["unit": unit, "batch": batch.id]) + "#board")
                    h.raw("</td><td>\(u.total - u.withdrawn)</td><td>\(u.closed)</td><td class=\"\(u.overdue > 0 ? "late" : "")\">\(u.overdue)</td><td>")
                    h.text(Render.percent(u.clearRate))
                    h.raw("</td><td>"); h.text(u.zeroed ? Render.short(u.zeroedAt) : "—"); h.raw("</td></tr>")
                }
                h.raw("</tbody></table></details>")
            }
            h.raw("</article>")
        }
        h.raw("</div>")
        digest(&h, c.progressBasis, view: "progress", members: [])
        h.raw("</section>")
    }

    private static func rankingSection(_ h: inout HTML, _ c: DashboardContent) {
        h.raw("<section id=\"ranking\"><h2>周排名 <small>\(c.week.labelWithYear)，按本周最后时刻（\(Week.weekdayNames[c.week.lastWeekday]) 24:00）的情况排名</small></h2>")
        if c.ranking.isEmpty {
            h.raw("<p class=\"empty\">这一周还没有单位被交办问题。</p>")
        } else {
            h.raw("<table class=\"ranking\"><thead><tr><th>名次</th><th>责任单位</th><th>交办</th><th>已销号</th><th>超期</th><th>销号率</th><th>本周销号</th><th>本周退回</th><th>本周反弹</th><th>本周点球</th></tr></thead><tbody>")
            for row in c.ranking {
                h.raw("<tr><td class=\"rank\">"); h.text(c.ranking.place(of: row)); h.raw("</td><td>")
                h.link(c.unitNames[row.unit] ?? row.unit, href: link(c, ["unit": row.unit]) + "#board")
                h.raw("</td><td>\(row.assigned)</td><td>\(row.closed)</td><td class=\"\(row.overdue > 0 ? "late" : "")\">\(row.overdue)</td>")
                h.raw("<td><div class=\"rate inline\"><div class=\"bar\"><span style=\"width:\(Int(((row.clearRate ?? 0) * 100).rounded()))%\"></span></div>")
                h.text(Render.percent(row.clearRate))
                h.raw("</div></td><td>\(row.week.closed)</td><td>\(row.week.rejected)</td><td>\(row.week.reopened)</td><td>\(row.week.escalated)</td></tr>")
            }
            h.raw("</tbody></table>")
        }
        h.raw("<p class=\"note\">本周通报：<a href=\"/bulletin?week=\(c.week)\">网页（可打印）</a> · <a href=\"/bulletin?week=\(c.week)&amp;format=docx\">Word 文档</a></p>")
        digest(&h, c.rankingBasis, view: "ranking", members: [])
        h.raw("</section>")
    }

    private static func boardSection(_ h: inout HTML, _ c: DashboardContent) {
        let counts = c.boardCounts
        h.raw("<section id=\"board\"><h2>问题台账 <small>共 \(counts.total) 个")
        h.text(" · " + ProblemStatus.allCases.map { "\($0.label) \(counts.byStatus[$0] ?? 0)" }.joined(separator: " · ") + " · 超期 \(counts.overdue)")
        h.raw("</small></h2>")
        if c.board.isEmpty { h.raw("<p class=\"empty\">没有符合条件的问题。</p>") }
        if counts.total > c.board.count { h.raw("<p class=\"note\">只显示前 \(boardRows) 个；请用上方筛选缩小范围，或取 <a href=\"/api/board\">/api/board</a> 的全部数据。</p>") }
        if !c.board.isEmpty {
            h.raw("<table class=\"board\"><thead><tr><th>编号</th><th>状态</th><th>类别</th><th>地点</th><th>问题描述</th><th>责任单位</th><th>整改时限</th><th>退回</th><th>审计</th></tr></thead><tbody>")
            for row in c.board.prefix(boardRows) {
                let p = row.problem
                h.raw("<tr class=\"\(row.overdue ? "overdue" : "")\"><td class=\"id\">"); h.text(row.id)
                h.raw("</td><td><span class=\"badge \(p.status.rawValue)\">"); h.text(p.status.label); h.raw("</span>")
                if row.overdue { h.raw(" <span class=\"badge overdue\">超期</span>") }
                if let cases = c.cases[row.id] {
                    h.raw(" <a class=\"badge flag\" href=\"/cases\" title=\""); h.text(cases.joined(separator: "、")); h.raw("\">已问责</a>")
                }
                h.raw("</td><td>"); h.text(row.report?.category.label ?? "—")
                h.raw("</td><td>"); h.text([row.report?.location.area, row.report?.location.street, row.report?.location.point].compactMap { $0 }.joined(separator: " "))
                h.raw("</td><td class=\"desc\">"); h.text(row.report?.description ?? "")
                h.raw("</td><td>"); h.text(p.unit.map { c.unitNames[$0] ?? $0 } ?? "未交办")
                h.raw("</td><td>"); h.text(Render.short(p.deadline))
                h.raw("</td><td>\(p.rejections)</td><td>"); h.link("轨迹", href: link(c, ["subject": row.id]) + "#audit")
                h.raw("</td></tr>")
            }
            h.raw("</tbody></table>")
        }
        digest(&h, c.boardBasis, view: "board", members: [])
        h.raw("</section>")
    }

    private static func auditSection(_ h: inout HTML, _ c: DashboardContent, _ rows: [AuditRow], _ basis: ViewBasis) {
        h.raw("<section id=\"audit\" class=\"audit\"><h2>审计轨迹 <small>")
        h.text(c.options["subject"] ?? "")
        h.raw(" · 每个已登记的事件，按 seq 顺序</small> <a class=\"close\" href=\"\(HTML.escape(link(c, ["subject": nil])))\">关闭</a></h2>")
        if rows.isEmpty { h.raw("<p class=\"empty\">此刻没有这个编号的事件。</p>") }
        if !rows.isEmpty {
            h.raw("<table class=\"trail\"><thead><tr><th>seq</th><th>事件</th><th>发生时间</th><th>登记时间</th><th>操作人</th><th>登记人</th><th>内容</th><th>标记</th><th>哈希</th></tr></thead><tbody>")
            for row in rows {
                h.raw("<tr><td>\(row.seq)</td><td>"); h.text(row.type.label)
                h.raw("</td><td>"); h.text(dated(row.occurredAt))
                h.raw("</td><td>"); h.text(dated(row.recordedAt))
                h.raw("</td><td>"); h.text("\(row.actor)（\(row.role.label)）")
                h.raw("</td><td>"); h.text(row.recordedBy.isEmpty ? "—" : row.recordedBy)
                h.raw("</td><td class=\"what\">"); h.text(row.summary)
                for sha in row.evidence.map({ $0.lowercased() }) {
                    let safe = HTML.escape(sha)
                    if c.evidenceAtHand.contains(sha) {
                        h.raw("<a href=\"/api/evidence/\(safe)\"><img class=\"evidence\" src=\"/api/evidence/\(safe)\" alt=\"佐证照片\" loading=\"lazy\"></a>")
                    } else {
                        h.raw("<br><small title=\"\(safe)\">佐证材料 \(safe.prefix(12))…（未存于本系统）</small>")
                    }
                }
                h.raw("</td><td>")
                for flag in row.flags { h.raw("<span class=\"badge flag\">"); h.text(flag.label); h.raw("</span> ") }
                h.raw("</td><td><code title=\"\(row.hash)\">\(row.hash.prefix(12))…</code></td></tr>")
            }
            h.raw("</tbody></table>")
        }
        digest(&h, basis, view: "audit", members: [])
        h.raw("</section>")
    }

    // MARK: - Pieces

    /// `2022年8月24日 16:00` in UTC+8: an audit trail needs the year (recorded in another one is a finding).
    public static func dated(_ t: Timestamp) -> String { t.chineseMinute }

    /// The days of `series` worth drawing: up to the later of the due day and the last change, and two
    /// days more. A list zeroed months ago is not a cliff and then a flat line to today.
    static func drawn(_ series: [BurnDownDay], due: Timestamp) -> (days: [BurnDownDay], cut: Bool) {
        guard let last = series.last else { return (series, false) }
        var lastChange = 0
        for k in series.indices.dropFirst() where series[k].outstanding != series[k - 1].outstanding { lastChange = k }
        let dueIndex = Int(due.chinaDay - (series.first?.day ?? 0))
        let end = min(series.count - 1, max(lastChange, dueIndex) + 2)
        return (Array(series[...max(0, end)]), series[max(0, end)].day != last.day)
    }

    /// The burn-down as SVG: outstanding problems day by day, the list's due day marked; days after the
    /// last change (beyond the due day) left out, and said so.
    static func chart(_ whole: [BurnDownDay], due: Timestamp) -> String {
        let (series, cut) = drawn(whole, due: due)
        let width = 360.0, height = 120.0, left = 30.0, bottom = 18.0, top = 8.0
        guard let first = series.first, let last = series.last else {
            return "<svg class=\"chart\" viewBox=\"0 0 360 120\" role=\"img\" aria-label=\"无数据\"></svg>"
        }
        let peak = max(1, series.map(\.outstanding).max() ?? 1)
        let span = Double(max(1, series.count - 1))
        func x(_ k: Int) -> Double { left + (width - left - 6) * Double(k) / span }
        func y(_ v: Int) -> Double { top + (height - top - bottom) * (1 - Double(v) / Double(peak)) }
        func f(_ v: Double) -> String { String(Int((v * 10).rounded())) .withDecimal }
        var points = ""
        for (k, day) in series.enumerated() {
            if k > 0 { points += " " }
            points += "\(f(x(k))),\(f(y(day.outstanding)))"
        }
        var svg = "<svg class=\"chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"清零进度图：\(first.date) 至 \(last.date)，现未销号 \(last.outstanding)\">"
        svg += "<line class=\"axis\" x1=\"\(f(left))\" y1=\"\(f(y(0)))\" x2=\"\(f(width - 6))\" y2=\"\(f(y(0)))\"/>"
        svg += "<text class=\"tick\" x=\"\(f(left - 4))\" y=\"\(f(y(peak) + 4))\" text-anchor=\"end\">\(peak)</text>"
        svg += "<text class=\"tick\" x=\"\(f(left - 4))\" y=\"\(f(y(0)))\" text-anchor=\"end\">0</text>"
        let dueDay = due.chinaDay, firstDay = first.day
        if dueDay >= firstDay, dueDay <= last.day {
            let dx = f(x(Int(dueDay - firstDay)))
            svg += "<line class=\"due\" x1=\"\(dx)\" y1=\"\(f(top))\" x2=\"\(dx)\" y2=\"\(f(y(0)))\"><title>清零时限 \(Timestamp.chinaDate(ofDay: dueDay))</title></line>"
        }
        svg += "<polygon class=\"area\" points=\"\(f(x(0))),\(f(y(0))) \(points) \(f(x(series.count - 1))),\(f(y(0)))\"/>"
        svg += "<polyline class=\"line\" points=\"\(points)\"/>"
        svg += "<circle class=\"end\" cx=\"\(f(x(series.count - 1)))\" cy=\"\(f(y(last.outstanding)))\" r=\"3\"><title>\(last.date) 未销号 \(last.outstanding)</title></circle>"
        svg += "<text class=\"tick\" x=\"\(f(left))\" y=\"\(Int(height) - 4)\">\(first.date.suffix(5))</text>"
        svg += "<text class=\"tick\" x=\"\(f(width - 6))\" y=\"\(Int(height) - 4)\" text-anchor=\"end\">\(last.date.suffix(5))\(cut ? " 起无变化" : "")</text>"
        return svg + "</svg>"
    }

    /// `/` with the page's options, `changes` applied (nil removes one).
    static func link(_ c: DashboardContent, _ changes: [String: String?]) -> String {
        var options = c.options
        for (key, value) in changes { options[key] = value ?? nil }
        let order = ["at", "asOf", "batch", "unit", "status", "overdue", "week", "subject"]
        let query = order.compactMap { key in options[key].map { "\(key)=\(HTML.percent($0))" } }.joined(separator: "&")
        return query.isEmpty ? "/" : "/?" + query
    }

    private static func digest(_ h: inout HTML, _ basis: ViewBasis, view: String, members: [(key: String, value: JSONValue)]) {
        h.raw("<p class=\"digest\">日志 seq \(basis.headSeq) · 视图摘要见 <code>\(HTML.escape(apiPath(view, basis)))</code> 的 digest</p>")
    }

    /// The API request that answers with the same document, so the same digest, as a panel of the page:
    /// its moment (`at`; the ranking is judged at its week's end and takes none), its filters, and its
    /// `asOf` when the page had one.
    static func apiPath(_ view: String, _ basis: ViewBasis) -> String {
        var query: [(String, String)] = []
        if view != "ranking" { query.append(("at", basis.at.rfc3339)) }
        for (key, value) in basis.setFilters where key != "weekEnds" {
            if case .number = value { continue }  // the audit's thresholds: its defaults, the page gives none
            query.append((key, ViewBasis.plain(value)))
        }
        if basis.asOf != "all" { query.append(("asOf", basis.asOf)) }
        let text = query.map { "\($0)=\(HTML.percent($1))" }.joined(separator: "&")
        return "/api/\(view)" + (text.isEmpty ? "" : "?" + text)
    }

    private static func field(_ h: inout HTML, _ label: String, _ name: String, _ value: String?, placeholder: String, hint: String?) {
        h.raw("<label>\(label)<input name=\"\(name)\" value=\"\(HTML.escape(value ?? ""))\" placeholder=\"\(HTML.escape(placeholder))\">")
        if let hint { h.raw("<small>\(hint)</small>") }
        h.raw("</label>")
    }

    private static func select(_ h: inout HTML, _ label: String, _ name: String, _ value: String?, _ options: [(String, String)]) {
        h.raw("<label>\(label)<select name=\"\(name)\">")
        for (code, text) in options {
            h.raw("<option value=\"\(HTML.escape(code))\"\(code == (value ?? "") ? " selected" : "")>")
            h.text(text)
            h.raw("</option>")
        }
        h.raw("</select></label>")
    }

    private static func card(_ h: inout HTML, _ label: String, _ value: String, _ note: String, alert: Bool = false) {
        h.raw("<div class=\"card\(alert ? " alert" : "")\"><span>\(label)</span><b>\(value)</b><small>")
        h.text(note)
        h.raw("</small></div>")
    }

    static let style = """
    :root{--ink:#1f2933;--muted:#6b7785;--line:#e3e8ee;--bg:#f5f7fa;--brand:#b3261e;--blue:#1d5fbf;--green:#2e7d32;--amber:#b26a00;--red:#c62828}
    *{box-sizing:border-box}body{margin:0;font:14px/1.55 "Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",sans-serif;color:var(--ink);background:var(--bg)}
    header{display:flex;justify-content:space-between;align-items:flex-end;padding:18px 28px 14px;background:#fff;border-bottom:3px solid var(--brand)}
    h1{margin:0;font-size:22px;color:var(--brand);letter-spacing:2px}.sub{color:var(--muted);margin-left:12px}.head{color:var(--muted);font-size:12px}
    .controls{display:flex;flex-wrap:wrap;gap:10px 18px;align-items:flex-end;padding:12px 28px;background:#fff;border-bottom:1px solid var(--line)}
    fieldset{border:1px solid var(--line);border-radius:8px;padding:6px 12px 10px;display:flex;gap:12px;flex-wrap:wrap;margin:0}
    fieldset.clock{border-color:#f0c9c6;background:#fff8f7}legend{color:var(--muted);font-size:12px;padding:0 4px}
    label{display:flex;flex-direction:column;font-size:12px;color:var(--muted);gap:3px}label small{font-size:11px}
    label.check{flex-direction:row;align-items:center;gap:6px;color:var(--ink);font-size:13px;padding-bottom:6px;align-self:flex-end}label.check input{min-width:0}
    input,select{font:inherit;font-size:13px;padding:5px 8px;border:1px solid #cfd6de;border-radius:6px;min-width:150px;background:#fff;color:var(--ink)}
    button{font:inherit;background:var(--brand);color:#fff;border:0;border-radius:6px;padding:7px 20px;cursor:pointer}.buttons{display:flex;gap:12px;align-items:center}
    a{color:var(--blue);text-decoration:none}a:hover{text-decoration:underline}.reset{font-size:13px}.error{color:var(--red);font-weight:bold}
    .moment{margin:0;padding:8px 28px;background:#fffbe6;border-bottom:1px solid #f3e3a3;font-size:13px}
    main{padding:16px 28px 8px;max-width:1500px}section{background:#fff;border:1px solid var(--line);border-radius:10px;padding:14px 18px;margin-bottom:16px}
    h2{font-size:17px;margin:0 0 12px}h2 small{font-weight:normal;color:var(--muted);font-size:12px;margin-left:8px}h3{font-size:15px;margin:0}
    .cards{display:grid;grid-template-columns:repeat(5,1fr);gap:12px;background:none;border:0;padding:0}
    .card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:12px 16px;display:flex;flex-direction:column}
    .card span{color:var(--muted);font-size:12px}.card b{font-size:26px}.card small{color:var(--muted)}.card.alert b{color:var(--red)}
    .batches{display:grid;grid-template-columns:repeat(auto-fill,minmax(380px,1fr));gap:14px}
    .batch{border:1px solid var(--line);border-radius:8px;padding:10px 12px}.batch.zeroed{border-color:#b7dfb9;background:#f6fbf6}
    .batch-head{display:flex;justify-content:space-between;gap:8px;align-items:center}.meta{color:var(--muted);font-size:12px;margin:4px 0}
    .chart{width:100%;height:auto;display:block}.chart .axis{stroke:#c4ccd5}.chart .line{fill:none;stroke:var(--brand);stroke-width:2}
    .chart .area{fill:rgba(179,38,30,.10)}.chart .due{stroke:var(--amber);stroke-dasharray:4 3}.chart .end{fill:var(--brand)}.chart .tick{font-size:10px;fill:var(--muted)}
    .rate{display:flex;align-items:center;gap:8px;font-size:12px}.rate .bar{flex:1;height:6px;background:#edf0f3;border-radius:3px;overflow:hidden}
    .rate .bar span{display:block;height:100%;background:var(--green)}.rate.inline .bar{width:90px;flex:none}
    details{margin-top:6px}summary{cursor:pointer;color:var(--blue);font-size:12px}
    table{border-collapse:collapse;width:100%}th{background:#f0f3f6;color:#44515e;font-weight:600;text-align:left;font-size:12px;padding:6px 8px;white-space:nowrap}
    td{border-top:1px solid var(--line);padding:6px 8px;vertical-align:top}table.small td,table.small th{padding:3px 6px;font-size:12px}
    tr.overdue td{background:#fff5f5}td.late{color:var(--red);font-weight:600}td.rank{font-weight:700;color:var(--brand);text-align:center}
    td.id{white-space:nowrap;font-family:ui-monospace,monospace;font-size:12px}td.desc{max-width:420px}
    .badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;white-space:nowrap;background:#eef1f4;color:#44515e}
    .badge.assigned{background:#e6effc;color:var(--blue)}.badge.submitted{background:#fff3e0;color:var(--amber)}.badge.closed{background:#e8f5e9;color:var(--green)}
    .badge.withdrawn{background:#f2f2f2;color:#999}.badge.overdue{background:#fde8e8;color:var(--red)}.badge.flag{background:#fde8e8;color:var(--red)}
    .audit{border-color:#c9d8ef;background:#fbfdff}.close{float:right;font-size:12px;font-weight:normal}
    .empty,.note{color:var(--muted)}.digest{color:var(--muted);font-size:11px;margin:8px 0 0}code{font-size:12px}
    footer{color:var(--muted);font-size:12px;padding:6px 28px 24px}
    td.what{min-width:220px}img.evidence{display:block;max-width:160px;max-height:120px;margin-top:4px;border-radius:4px;border:1px solid var(--line)}
    pre.note{white-space:pre-wrap;word-break:break-all;font-size:12px;background:#f6f7f9;padding:8px;border-radius:4px}
    section{overflow-x:auto}
    @media (max-width:720px){
      header{flex-direction:column;align-items:flex-start;gap:4px;padding:12px 14px}.sub{display:block;margin-left:0}
      .controls,.moment{padding:10px 14px}main{padding:10px 10px 4px}section{padding:10px 12px}
      .cards{grid-template-columns:repeat(2,1fr);gap:8px}.card{padding:8px 10px}.card b{font-size:20px}
      .batches{grid-template-columns:1fr}input,select{min-width:0;width:100%}label{flex:1 1 140px}fieldset{width:100%}
      td.desc{max-width:none}footer{padding:6px 14px 18px}label.check{flex:0 0 auto}label.check input{width:auto}
    }
    @media (max-width:900px){.cards{grid-template-columns:repeat(2,1fr)}}
    @media print{.controls{display:none}section{break-inside:avoid}}
    """
}

/// HTML text with escaping.
public struct HTML {
    public var text = ""
    public init() {}
    public mutating func raw(_ s: String) { text += s }
    public mutating func text(_ s: String) { text += Self.escape(s) }
    mutating func link(_ label: String, href: String) { text += "<a href=\"\(Self.escape(href))\">\(Self.escape(label))</a>" }

    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// Percent-encoding for a query value.
    public static func percent(_ s: String) -> String {
        var out = ""
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: ":"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (byte < 16 ? "0" + hex : hex)
            }
        }
        return out
    }
}

private extension String {
    /// Tenths written as a decimal: "1234" → "123.4".
    var withDecimal: String {
        let negative = hasPrefix("-")
        var digits = negative ? String(dropFirst()) : self
        while digits.count < 2 { digits = "0" + digits }
        return (negative ? "-" : "") + digits.dropLast() + "." + digits.suffix(1)
    }
}
