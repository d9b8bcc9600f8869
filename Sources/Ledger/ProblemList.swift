import Campaign

/// A problem list as offices keep it (`civic import`, docs/formats.md "Problem lists in"): a workbook or a
/// CSV file in the encodings Excel and WPS save, a title row or two above the header, the header in any
/// of the words offices use for each column, a 合计 row at the end.
///
/// Each row becomes a problem.reported and, when it names a 责任单位, a problem.assigned. Labels are
/// mapped to codes, unit names and aliases to registered units. Event ids derive from the problem id, so
/// that importing the same list twice stores nothing new; a row whose problem is already in the store and
/// whose unit or deadline changed becomes the event that says so (a reassignment, an extension).
public struct ProblemList: Sendable {
    /// A column the list is read for, and every header offices write for it.
    public struct Field: Sendable {
        public var name: String
        public var synonyms: [String]
    }

    /// The columns, in the order offices write them, each with its synonyms (docs/formats.md has the table).
    public static let fields: [Field] = [
        Field(name: "编号", synonyms: ["序号", "问题编号", "编码", "问题序号", "No.", "NO"]),
        Field(name: "来源", synonyms: ["问题来源", "发现渠道", "来源渠道", "发现方式"]),
        Field(name: "批次", synonyms: ["清单", "问题清单", "批次编号", "所属批次", "清单编号"]),
        Field(name: "类别", synonyms: ["问题类型", "问题类别", "类型", "问题分类", "分类"]),
        Field(name: "片区", synonyms: ["所属片区", "区域", "所属区域", "镇街", "所属镇街", "辖区"]),
        Field(name: "路段", synonyms: ["道路", "街道", "所在路段", "所在道路"]),
        Field(name: "点位", synonyms: ["具体点位", "问题点位", "位置", "地点", "具体位置", "问题地点"]),
        Field(name: "问题描述", synonyms: ["存在问题", "问题", "问题内容", "具体问题", "主要问题", "问题表现"]),
        Field(name: "责任单位", synonyms: ["责任部门", "整改单位", "牵头单位", "责任主体", "整改责任单位"]),
        Field(name: "责任领导", synonyms: ["包抓领导", "包联领导", "分管领导", "责任人", "包抓责任人"]),
        Field(name: "整改时限", synonyms: ["完成时限", "整改期限", "完成时间", "时限", "整改完成时限", "办结时限"]),
        Field(name: "发现时间", synonyms: ["发现日期", "检查时间", "督查时间", "暗访时间", "上报时间", "交办时间"]),
    ]

    /// The headers, in the order offices write them.
    public static let headers = fields.map(\.name)

    /// The columns without which a row cannot become a problem.
    static let required = ["编号", "类别", "片区", "问题描述"]

    /// The field a header names, nil for one the list is not read for (备注, 整改情况…).
    public static func field(forHeader header: String) -> String? {
        var h = header.filter { !$0.isWhitespace && $0 != "*" && $0 != "＊" }
        for (open, close) in [("（", "）"), ("(", ")")] {
            if let start = h.firstIndex(of: Character(open)), h.hasSuffix(close), start != h.startIndex { h = String(h[..<start]) }
        }
        return fields.first { $0.name == h || $0.synonyms.contains(h) }?.name
    }

    /// Who is recorded as appending the list.
    public struct Actor: Sendable {
        public var actor: String
        public var role: Role
        public var unit: String?
        public var source: String
        public init(actor: String, role: Role, unit: String?, source: String = "/civic/import") {
            self.actor = actor; self.role = role; self.unit = unit; self.source = source
        }
    }

    /// One row, read: its cells by field.
    public struct Row: Sendable {
        public var number: Int
        public var cells: [String: Sheet.Cell]
        public func text(_ field: String) -> String? {
            guard let v = cells[field]?.text, !v.isEmpty else { return nil }
            return v
        }
    }

    public var sheet: Sheet
    /// The row of the header.
    public var headerRow: Int
    /// Each column of the header: its letter, its text, and the field it was taken as (nil: not read).
    public var columns: [(letter: String, header: String, field: String?)]
    public var rows: [Row]
    /// Rows passed over, and why: titles above the header, blank rows, 合计.
    public var skipped: [(row: Int, why: String)]

    /// The list in `sheet`. - Throws: `ImportRefused` when no header can be found or a column is missing.
    public init(_ sheet: Sheet) throws(ImportRefused) {
        self.sheet = sheet
        func refuse(_ row: Int, _ message: String) -> ImportRefused { ImportRefused(sheet: sheet.name, [.init(row: row, column: nil, message: message)]) }
        // The header is the first of the top rows that names at least three of the fields.
        guard let headerIndex = sheet.rows.prefix(20).firstIndex(where: { row in
            Set(row.cells.compactMap { $0.flatMap { Self.field(forHeader: $0.text) } }).count >= 3
        }) else {
            throw refuse(sheet.rows.first?.number ?? 1, sheet.rows.isEmpty ? "文件是空的：没有表头"
                : "前 20 行中找不到表头：表头须有 \(Self.headers.joined(separator: "、")) 等列（同义的列名见 docs/formats.md）")
        }
        let header = sheet.rows[headerIndex]
        headerRow = header.number
        skipped = sheet.rows[..<headerIndex].map { ($0.number, "表头上方的标题") }
        var columns: [(letter: String, header: String, field: String?)] = []
        var seen: [String: String] = [:]
        for (k, cell) in header.cells.enumerated() {
            let text = cell?.text ?? ""
            var field = text.isEmpty ? nil : Self.field(forHeader: text)
            if let f = field {
                if let first = seen[f] {
                    throw ImportRefused(sheet: sheet.name, [.init(row: header.number, column: SpreadsheetColumn.letters(k),
                        message: "“\(text)”与第 \(first) 列都表示“\(f)”：请只保留一列")])
                }
                seen[f] = SpreadsheetColumn.letters(k)
            }
            if text.isEmpty { field = nil }
            columns.append((SpreadsheetColumn.letters(k), text, field))
        }
        self.columns = columns
        let missing = Self.required.filter { seen[$0] == nil }
        if !missing.isEmpty {
            throw refuse(header.number, "表头缺少列：\(missing.map { "“\($0)”" }.joined(separator: "、"))（可写作 \(missing.map { f in ([f] + (Self.fields.first { $0.name == f }?.synonyms.prefix(2) ?? [])).joined(separator: "/") }.joined(separator: "；"))）")
        }
        var rows: [Row] = []
        for row in sheet.rows[(headerIndex + 1)...] {
            let texts = row.cells.compactMap { $0?.text }.filter { !$0.isEmpty }
            if texts.isEmpty { skipped.append((row.number, "空行")); continue }
            if let first = texts.first, ["合计", "总计", "小计", "合 计", "总 计"].contains(where: { first.hasPrefix($0) }) {
                skipped.append((row.number, "“\(first)”行")); continue
            }
            var cells: [String: Sheet.Cell] = [:]
            for (k, cell) in row.cells.enumerated() where k < columns.count {
                if let field = columns[k].field, let cell { cells[field] = cell }
            }
            // A row with only a number (序号 written ahead of the content) is blank too.
            if texts.count == 1, let only = cells["编号"]?.text, only.allSatisfy(\.isNumber) {
                skipped.append((row.number, "只有序号的空行")); continue
            }
            rows.append(Row(number: row.number, cells: cells))
        }
        self.rows = rows
    }

    /// The column letter of `field`, for a message.
    func letter(_ field: String) -> String? { columns.first { $0.field == field }?.letter }
}

/// A list refused, each problem named by its sheet, row and column, in a clerk's words. Nothing was stored.
public struct ImportRefused: Error, Sendable, CustomStringConvertible {
    public struct Problem: Sendable, Equatable {
        public var row: Int
        /// The column's letter and header, when one cell is at fault.
        public var column: String?
        public var message: String
        public init(row: Int, column: String?, message: String) { self.row = row; self.column = column; self.message = message }
    }
    public var sheet: String
    public var problems: [Problem]
    public init(sheet: String, _ problems: [Problem]) { self.sheet = sheet; self.problems = problems }

    public var description: String {
        let shown = problems.prefix(200)
        var text = "未导入：\(problems.count) 处需要改正，整张表都没有写入\n"
            + shown.map { "  工作表“\(sheet)”第 \($0.row) 行" + ($0.column.map { "“\($0)”列" } ?? "") + "：\($0.message)" }.joined(separator: "\n")
        if problems.count > shown.count { text += "\n  ……另有 \(problems.count - shown.count) 处（只列出前 \(shown.count) 处）" }
        return text
    }
}

/// The units and lists registered in a store: what an imported list and a view's filters name.
public struct Registry: Sendable {
    public struct Unit: Sendable, Equatable {
        public var id: String
        public var name: String
        public var aliases: [String]
        public init(id: String, name: String, aliases: [String] = []) { self.id = id; self.name = name; self.aliases = aliases }
    }
    public struct Batch: Sendable, Equatable {
        public var id: String
        public var name: String
        public var source: ProblemSource?
        public var dueAt: Timestamp?
        /// When the list was opened (business time).
        public var openedAt: Timestamp?
        public init(id: String, name: String, source: ProblemSource? = nil, dueAt: Timestamp? = nil, openedAt: Timestamp? = nil) {
            self.id = id; self.name = name; self.source = source; self.dueAt = dueAt; self.openedAt = openedAt
        }
    }
    public var unitList: [Unit]
    public var batchList: [Batch]

    public init(units: [Unit], batches: [Batch]) {
        unitList = units.sorted { $0.id < $1.id }
        batchList = batches.sorted { $0.id < $1.id }
    }

    /// Unit ids → names, list ids → names (as the views name them).
    public init(units: [String: String], batches: [String: String]) {
        self.init(units: units.map { Unit(id: $0.key, name: $0.value) }, batches: batches.map { Batch(id: $0.key, name: $0.value) })
    }

    public var units: [String: String] { Dictionary(uniqueKeysWithValues: unitList.map { ($0.id, $0.name) }) }
    public var batches: [String: String] { Dictionary(uniqueKeysWithValues: batchList.map { ($0.id, $0.name) }) }

    /// The ids of the units registered as `name`, sorted.
    public func units(named name: String) -> [String] { unitList.filter { $0.name == name }.map(\.id) }
    /// The ids of the lists opened as `name`, sorted.
    public func batches(named name: String) -> [String] { batchList.filter { $0.name == name }.map(\.id) }

    /// A unit named in a list or a filter, and how it was recognised.
    public enum UnitMatch: Sendable, Equatable {
        /// By its id, name or alias, or by a name that ends with its own (示范区城管执法大队).
        case found(id: String, how: String)
        /// Several units answer to it.
        case ambiguous([String])
        /// None does; the closest names, best first.
        case unknown(closest: [String])
    }

    /// The unit `text` names: its id, registered name or an alias, or a longer name that ends with exactly
    /// one unit's name or alias (a district's prefix: 示范区城管执法大队 for 城管执法大队).
    public func unit(_ text: String) -> UnitMatch {
        let t = text.trimmingSpaces
        if let u = unitList.first(where: { $0.id == t }) { return .found(id: u.id, how: "编号") }
        let byName = unitList.filter { $0.name == t }
        if byName.count == 1 { return .found(id: byName[0].id, how: "名称") }
        if byName.count > 1 { return .ambiguous(byName.map(\.id)) }
        let byAlias = unitList.filter { $0.aliases.contains(t) }
        if byAlias.count == 1 { return .found(id: byAlias[0].id, how: "简称“\(t)”") }
        if byAlias.count > 1 { return .ambiguous(byAlias.map(\.id)) }
        let bySuffix = unitList.filter { u in ([u.name] + u.aliases).contains { $0.count >= 2 && t.count > $0.count && t.hasSuffix($0) } }
        if bySuffix.count == 1 { return .found(id: bySuffix[0].id, how: "名称（去掉前缀）") }
        if bySuffix.count > 1 { return .ambiguous(bySuffix.map(\.id)) }
        return .unknown(closest: closestUnits(to: t))
    }

    /// The registered units whose names come nearest `text` (characters in common), at most three.
    public func closestUnits(to text: String) -> [String] {
        let wanted = Set(text)
        let scored = unitList.map { u -> (Int, String) in
            let best = ([u.name] + u.aliases + [u.id]).map { Set($0).intersection(wanted).count }.max() ?? 0
            return (best, Named.withID(u.name, u.id))
        }
        return scored.filter { $0.0 > 0 }.sorted { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }.prefix(3).map(\.1)
    }

    /// The list `text` names: its id or its name.
    public func batch(_ text: String) -> Batch? {
        if let b = batchList.first(where: { $0.id == text }) { return b }
        let named = batchList.filter { $0.name == text }
        return named.count == 1 ? named[0] : nil
    }
}
