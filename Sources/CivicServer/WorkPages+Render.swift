import Campaign
import Ledger
import Projections
import Reports

/// The parts of each role's page (docs/server.md, "Pages for each role"): every text escaped, forms that
/// need no script, laid out for a phone.
extension WorkPages {
    static func byDeadline(_ a: BoardRow, _ b: BoardRow) -> Bool {
        if a.overdue != b.overdue { return a.overdue }
        return (a.problem.deadline ?? Projection.endOfTime) < (b.problem.deadline ?? Projection.endOfTime)
    }

    static func unitWork(_ h: inout HTML, _ rows: [BoardRow], csrf: String, reasons: (String) -> String?) {
        h.raw("<section><h2>本单位待办 <small>\(rows.count) 个，逾期的在前</small></h2>")
        if rows.isEmpty { h.raw("<p>没有待办的问题。</p>") }
        for row in rows {
            h.raw(row.overdue ? "<article class=\"problem overdue\">" : "<article class=\"problem\">")
            h.raw("<h3>"); h.text(row.id); h.raw(" <span class=\"badge\">"); h.text(row.problem.status.label); h.raw("</span>")
            if row.overdue { h.raw(" <span class=\"badge late\">已逾期</span>") }
            h.raw("</h3><p>"); h.text(row.report?.description ?? ""); h.raw("</p><p class=\"meta\">")
            h.text("地点：\(row.report.map { [$0.location.area, $0.location.street, $0.location.point].compactMap { $0 }.joined(separator: " ") } ?? "—")")
            h.raw("<br>"); h.text("整改时限：\(row.problem.deadline.map { Dashboard.dated($0) } ?? "—")")
            h.raw("</p>")
            if let reason = reasons(row.id) {
                h.raw("<p class=\"error\">上次整改被退回：")
                h.text(reason)
                h.raw("</p>")
            }
            if row.problem.status == .assigned {
                h.raw("<form method=\"post\" action=\"/work/fix\" enctype=\"multipart/form-data\">")
                hidden(&h, "csrf", csrf); hidden(&h, "problem", row.id)
                h.raw("<label>整改情况<textarea name=\"summary\" required rows=\"3\"></textarea></label>")
                h.raw("<label>整改后照片（可多张，JPEG、PNG、HEIC 或 PDF）<input type=\"file\" name=\"photo\" accept=\"image/jpeg,image/png,image/heic,application/pdf\" multiple required></label>")
                h.raw("<button>报告整改完成</button></form>")
            } else {
                h.raw("<p class=\"meta\">已报告整改，等待核实。</p>")
            }
            h.raw("</article>")
        }
        h.raw("</section>")
    }

    static func verifyWork(_ h: inout HTML, _ rows: [BoardRow], names: [String: String], csrf: String,
                           fix: (String) -> (Rectification, String)?) {
        h.raw("<section><h2>待核实的整改 <small>\(rows.count) 个</small></h2>")
        if rows.isEmpty { h.raw("<p>没有待核实的整改。</p>") }
        for row in rows {
            h.raw("<article class=\"problem\"><h3>"); h.text(row.id); h.raw("</h3><p>"); h.text(row.report?.description ?? "")
            h.raw("</p><p class=\"meta\">"); h.text("责任单位：\(row.problem.unit.map { names[$0] ?? $0 } ?? "—")")
            if let (rectification, by) = fix(row.id) {
                h.raw("<br>"); h.text("整改情况（\(by)）：\(rectification.summary)")
                h.raw("</p><p class=\"photos\">")
                for item in rectification.evidence {
                    let sha = HTML.escape(item.sha256.lowercased())
                    h.raw("<a href=\"/api/evidence/\(sha)\"><img src=\"/api/evidence/\(sha)\" alt=\"整改照片\" loading=\"lazy\"></a>")
                }
            }
            h.raw("</p><form method=\"post\" action=\"/work/verify\">"); hidden(&h, "csrf", csrf); hidden(&h, "problem", row.id)
            h.raw("<button>核实销号</button></form><form method=\"post\" action=\"/work/reject\">"); hidden(&h, "csrf", csrf); hidden(&h, "problem", row.id)
            h.raw("<label>退回原因<input name=\"reason\" required></label><button class=\"plain\">整改不到位，退回</button></form></article>")
        }
        h.raw("</section>")
    }

    /// The office's problems waiting to be assigned (交办), each with a form: the unit, the deadline.
    static func assignWork(_ h: inout HTML, _ rows: [BoardRow], units: [String: String], csrf: String) {
        h.raw("<section><h2>待交办的问题 <small>\(rows.count) 个</small></h2>")
        if rows.isEmpty { h.raw("<p>没有待交办的问题。</p>") }
        let choices = units.sorted { $0.value < $1.value }
        for row in rows {
            h.raw("<article class=\"problem\"><h3>"); h.text(row.id); h.raw("</h3><p>"); h.text(row.report?.description ?? "")
            h.raw("</p><form method=\"post\" action=\"/work/assign\">"); hidden(&h, "csrf", csrf); hidden(&h, "problem", row.id)
            h.raw("<label>责任单位<select name=\"unit\" required><option value=\"\"></option>")
            for (id, name) in choices { h.raw("<option value=\""); h.text(id); h.raw("\">"); h.text(name); h.raw("</option>") }
            h.raw("</select></label><label>整改时限（北京时间）<input name=\"deadline\" type=\"datetime-local\" required></label>")
            h.raw("<button>交办</button></form></article>")
        }
        h.raw("</section>")
    }

    static func select<V: Vocabulary>(_ h: inout HTML, _ name: String, _ label: String, _ values: [V]) {
        h.raw("<label>\(label)<select name=\"\(name)\" required><option value=\"\"></option>")
        for v in values { h.raw("<option value=\"\(v.rawValue)\">"); h.text(v.label); h.raw("</option>") }
        h.raw("</select></label>")
    }

    static func field(_ h: inout HTML, _ name: String, _ label: String, required: Bool = true, type: String = "text") {
        h.raw("<label>\(label)<input name=\"\(name)\" type=\"\(type)\"\(required ? " required" : "")></label>")
    }

    /// The office's import of a list from a workbook or CSV: a preview (the dry run) comes first.
    static func importForm(_ h: inout HTML, registry: Registry, csrf: String) {
        h.raw("<section><h2>导入问题清单</h2><form method=\"post\" action=\"/work/import\" enctype=\"multipart/form-data\">")
        hidden(&h, "csrf", csrf)
        h.raw("<label>清单文件（Excel .xlsx，或 CSV：UTF-8、GBK 均可）<input type=\"file\" name=\"list\" accept=\".xlsx,.csv,.txt\" required></label>")
        h.raw("<label>属于哪个问题清单（表中“批次”为空或编号为 1、2、3 时须选）<select name=\"batch\"><option value=\"\"></option>")
        for b in registry.batchList.sorted(by: { $0.id > $1.id }) { h.raw("<option value=\""); h.text(b.id); h.raw("\">"); h.text(b.name); h.raw("</option>") }
        h.raw("</select></label>")
        field(&h, "sheet", "工作表名称（不填则第一张）", required: false)
        h.raw("<button>预览</button><p class=\"meta\">先预览：显示列的对应和将写入的内容，确认后才写入。</p></form></section>")
    }

    /// A list's dry run: how its columns were read, what it would append, and the button that appends it.
    static func importPreview(_ h: inout HTML, _ p: ImportPreview, csrf: String) {
        h.raw("<section class=\"preview\"><h2>导入预览（尚未写入）</h2><p>")
        h.text("\(p.list.sheet.kind)，表头在第 \(p.list.headerRow) 行，\(p.list.rows.count) 行问题。")
        h.raw("</p><h3>列的对应</h3><ul>")
        for line in p.list.mappingLines { h.raw("<li>"); h.text(line); h.raw("</li>") }
        for (row, why) in p.list.skipped where why != "空行" { h.raw("<li>"); h.text("跳过第 \(row) 行：\(why)"); h.raw("</li>") }
        for (text, unit) in p.plan.unitsRecognised { h.raw("<li>"); h.text("责任单位“\(text)”按 \(p.plan.named(unit)) 导入"); h.raw("</li>") }
        h.raw("</ul><p>")
        let refused = p.plan.notApplied.isEmpty ? "" : "，另有 \(p.plan.notApplied.count) 处改动不能写入（见下）"
        h.text("新问题 \(p.plan.newProblems.count) 个，已有且未变 \(p.plan.unchanged) 个，有变化 \(p.plan.changes.count) 处\(refused)；将写入 \(p.events) 个事件。")
        h.raw("</p>")
        if !p.plan.changes.isEmpty || !p.plan.notApplied.isEmpty {
            h.raw("<ul>")
            for change in p.plan.changes { h.raw("<li>"); h.text(change); h.raw("</li>") }
            for note in p.plan.notApplied { h.raw("<li class=\"late\">"); h.text("不写入：" + note); h.raw("</li>") }
            h.raw("</ul>")
        }
        if p.events > 0 {
            h.raw("<form method=\"post\" action=\"/work/import\">")
            hidden(&h, "csrf", csrf); hidden(&h, "pending", p.token)
            h.raw("<button>确认导入</button></form>")
        } else {
            h.raw("<p>没有要写入的内容。</p>")
        }
        h.raw("</section>")
    }

    /// An inspector's (or the office's) report of a problem found, with its place and photos.
    static func reportForm(_ h: inout HTML, registry: Registry, csrf: String) {
        h.raw("<section><h2>上报问题</h2><form method=\"post\" action=\"/work/report\" enctype=\"multipart/form-data\">")
        hidden(&h, "csrf", csrf)
        h.raw("<label>问题清单（可不选）<select name=\"batch\"><option value=\"\"></option>")
        for (id, name) in registry.batches.sorted(by: { $0.key > $1.key }) { h.raw("<option value=\""); h.text(id); h.raw("\">"); h.text(name); h.raw("</option>") }
        h.raw("</select></label>")
        select(&h, "source", "来源", ProblemSource.allCases)
        select(&h, "category", "类别", Category.allCases)
        h.raw("<label>问题描述<textarea name=\"description\" required rows=\"3\"></textarea></label>")
        field(&h, "area", "片区"); field(&h, "street", "路段", required: false); field(&h, "point", "点位", required: false)
        h.raw("<label>现场照片（可多张）<input type=\"file\" name=\"photo\" accept=\"image/jpeg,image/png,image/heic,application/pdf\" multiple></label>")
        h.raw("<button>上报</button></form></section>")
    }

    /// The office's other actions on a problem, by its number.
    static func officeForms(_ h: inout HTML, csrf: String) {
        h.raw("<section><h2>问题办理</h2><details><summary>延长整改时限</summary><form method=\"post\" action=\"/work/extend\">")
        hidden(&h, "csrf", csrf); field(&h, "problem", "问题编号"); field(&h, "deadline", "新的整改时限（北京时间）", type: "datetime-local"); field(&h, "reason", "原因")
        h.raw("<button>延长</button></form></details><details><summary>点球（报领导督办）</summary><form method=\"post\" action=\"/work/escalate\">")
        hidden(&h, "csrf", csrf); field(&h, "problem", "问题编号"); field(&h, "to", "点球对象（领导或单位负责人）"); field(&h, "reason", "原因")
        h.raw("<button>点球</button></form></details><details><summary>撤销（问题不属实）</summary><form method=\"post\" action=\"/work/withdraw\">")
        hidden(&h, "csrf", csrf); field(&h, "problem", "问题编号"); field(&h, "reason", "原因")
        h.raw("<button>撤销</button></form></details><details><summary>改派（交办给另一单位）</summary><form method=\"post\" action=\"/work/assign\">")
        hidden(&h, "csrf", csrf); field(&h, "problem", "问题编号"); field(&h, "unit", "新的责任单位编号")
        field(&h, "deadline", "整改时限（北京时间）", type: "datetime-local")
        h.raw("<button>改派</button></form></details><details><summary>回头看重新交办</summary><form method=\"post\" action=\"/work/reopen\">")
        hidden(&h, "csrf", csrf); field(&h, "problem", "问题编号"); field(&h, "reason", "原因")
        field(&h, "deadline", "整改时限（北京时间）", type: "datetime-local"); field(&h, "unit", "责任单位编号（不填则原单位）", required: false)
        h.raw("<button>重新交办</button></form></details><details><summary>登记责任单位</summary><form method=\"post\" action=\"/work/unit\">")
        hidden(&h, "csrf", csrf); field(&h, "unitId", "单位编号（如 U-cgzf）"); field(&h, "name", "单位名称")
        select(&h, "kind", "单位类别", UnitKind.allCases); field(&h, "leader", "包抓领导", required: false)
        h.raw("<button>登记</button></form></details><details><summary>建立问题清单</summary><form method=\"post\" action=\"/work/list\">")
        hidden(&h, "csrf", csrf); field(&h, "listId", "清单编号（如 B-20220819）"); field(&h, "name", "清单名称")
        select(&h, "source", "来源", ProblemSource.allCases); field(&h, "dueAt", "清零时限（北京时间）", type: "datetime-local")
        h.raw("<button>建立</button></form></details></section>")
    }

    /// 纪工委's forms: record an accountability case, or revoke one.
    static func accountabilityForms(_ h: inout HTML, csrf: String) {
        h.raw("<section><h2>追责问责</h2><form method=\"post\" action=\"/work/accountability\">")
        hidden(&h, "csrf", csrf)
        select(&h, "kind", "问责对象类别", TargetKind.allCases)
        field(&h, "target", "问责对象（单位编号或人员）"); field(&h, "name", "姓名（人员时）", required: false)
        field(&h, "targetUnit", "所在单位编号（人员时）", required: false)
        // The measures a new record may take (单位 and 个人 each have theirs; the rules refuse the others).
        select(&h, "measure", "问责方式（对单位：通报批评、约谈、责令检查、责令整改、改组）", Measure.allCases.filter { $0 != .disciplinarySanction })
        h.raw("<label>事由<textarea name=\"reason\" required rows=\"3\"></textarea></label>")
        field(&h, "problems", "所涉问题编号（以逗号分隔，可空）", required: false)
        field(&h, "organ", "决定机关（可空）", required: false); field(&h, "document", "文号（可空）", required: false)
        h.raw("<button>登记问责</button></form></section><section><h2>撤销问责</h2><form method=\"post\" action=\"/work/revoke\">")
        hidden(&h, "csrf", csrf); field(&h, "case", "问责案件编号"); field(&h, "reason", "撤销理由")
        h.raw("<button class=\"plain\">撤销</button></form></section>")
        h.raw("<section><p><a href=\"/cases\">问责台账</a> · <a href=\"/clues\">问题线索</a>（超期、退回、反弹、点球与各类提示）</p></section>")
    }

    static func hidden(_ h: inout HTML, _ name: String, _ value: String) {
        h.raw("<input type=\"hidden\" name=\"\(name)\" value=\""); h.text(value); h.raw("\">")
    }

    static let style = """
    body{margin:0;font:15px/1.5 "Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;color:#1f2933;background:#f4f6f8}
    header{background:#b3261e;color:#fff;padding:10px 16px;display:flex;flex-wrap:wrap;align-items:center;gap:8px 16px}
    header h1{font-size:18px;margin:0;flex:1 1 auto}header p{margin:0;font-size:13px}header form{margin:0}
    main{max-width:720px;margin:0 auto;padding:12px}section{background:#fff;border:1px solid #e3e7eb;border-radius:10px;padding:12px 14px;margin-bottom:12px}
    h2{font-size:16px;margin:0 0 10px}h2 small{font-weight:normal;color:#66707a;font-size:12px}h3{font-size:15px;margin:0 0 4px;word-break:break-all}
    article.problem{border-top:1px solid #e3e7eb;padding:10px 0}article.overdue h3{color:#b3261e}
    .meta{color:#66707a;font-size:13px}.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;background:#eef1f4}.badge.late{background:#fde8e8;color:#b3261e}
    details{margin:6px 0}summary{cursor:pointer;color:#1f5fbf}
    label{display:block;font-size:13px;color:#44515e;margin:8px 0}textarea,select,input[type=text],input[type=password],input[type=datetime-local],input[name=reason],input[name=token]{display:block;width:100%;box-sizing:border-box;font:inherit;padding:6px 8px;border:1px solid #cfd6de;border-radius:6px}
    input[type=file]{display:block;max-width:100%;margin-top:4px}
    button{font:inherit;background:#b3261e;color:#fff;border:0;border-radius:6px;padding:8px 18px;margin:4px 8px 4px 0}button.plain{background:#fff;color:#b3261e;border:1px solid #b3261e}
    header button.plain{background:transparent;color:#fff;border-color:#fff;padding:2px 10px}
    .error{background:#fde8e8;color:#8a1c14;border-radius:6px;padding:6px 10px}.done{background:#e8f5e9;color:#1b5e20;border-radius:6px;padding:6px 10px}
    .more{text-align:center;font-size:13px}a{color:#1f5fbf}
    .photos img{max-width:46%;max-height:200px;margin:0 6px 6px 0;border-radius:6px;border:1px solid #e3e7eb;object-fit:cover}
    """
}
