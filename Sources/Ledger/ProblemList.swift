import Campaign

/// A problem list as offices keep it in Excel (`civic import`, docs/formats.md "Problem lists in"): UTF-8 CSV, with or without BOM,
/// with the Chinese headers 编号 来源 批次 类别 片区 路段 点位 问题描述 责任单位 责任领导 整改时限 发现时间.
///
/// Each row becomes a problem.reported and, when it names a 责任单位, a problem.assigned. Labels are
/// mapped to codes, unit names to registered units. Event ids derive from the problem id, so that
/// importing the same list twice stores nothing new.
public struct ProblemList: Sendable {
    /// The headers, in the order offices write them.
    public static let headers = ["编号", "来源", "批次", "类别", "片区", "路段", "点位", "问题描述", "责任单位", "责任领导", "整改时限", "发现时间"]

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

    /// One row, read.
    public struct Row: Sendable {
        public var line: Int
        public var fields: [String: String]
    }

    public var rows: [Row]

    /// Reads the CSV text.
    /// - Throws: `AppendRefused` when the header lacks a column or the quoting is broken.
    public init(csv bytes: [UInt8]) throws(AppendRefused) {
        let records: [(line: Int, fields: [String])]
        do { records = try CSV.records(bytes) } catch { throw AppendRefused(refusals: [error]) }
        guard let header = records.first else {
            throw AppendRefused(refusals: [LineRefusal(line: 1, id: nil, subject: nil, refusal: Refusal(.malformed, "文件是空的：没有表头"))])
        }
        let names = header.fields.map { $0.trimmingSpaces }
        let missing = Self.headers.filter { !names.contains($0) }
        if !missing.isEmpty {
            throw AppendRefused(refusals: [LineRefusal(line: header.line, id: nil, subject: nil, refusal: Refusal(.malformed,
                "表头缺少列：\(missing.joined(separator: "、"))；须有 \(Self.headers.joined(separator: " "))"))])
        }
        var rows: [Row] = []
        var refusals: [LineRefusal] = []
        for record in records.dropFirst() {
            if record.fields.allSatisfy({ $0.trimmingSpaces.isEmpty }) { continue }
            if record.fields.count > names.count {
                refusals.append(LineRefusal(line: record.line, id: nil, subject: nil, refusal: Refusal(.malformed,
                    "这一行有 \(record.fields.count) 列，表头只有 \(names.count) 列（问题描述里的逗号须用引号括起）")))
                continue
            }
            var fields: [String: String] = [:]
            for (k, name) in names.enumerated() where k < record.fields.count { fields[name] = record.fields[k].trimmingSpaces }
            rows.append(Row(line: record.line, fields: fields))
        }
        if !refusals.isEmpty { throw AppendRefused(refusals: refusals) }
        self.rows = rows
    }

    /// The events of the list, against the units and batches of `registry`.
    /// - Throws: `AppendRefused` naming every row that cannot be read, with the unknown unit names listed.
    public func events(by actor: Actor, given registry: Registry) throws(AppendRefused) -> [Incoming] {
        var events: [Incoming] = []
        var refusals: [LineRefusal] = []
        var unknownUnits: [String: [Int]] = [:]
        for row in rows {
            let id = row.fields["编号"] ?? ""
            func refuse(_ message: String) {
                refusals.append(LineRefusal(line: row.line, id: nil, subject: id.isEmpty ? nil : id, refusal: Refusal(.malformed, message)))
            }
            func text(_ column: String) -> String? {
                guard let v = row.fields[column], !v.isEmpty else { return nil }
                return v
            }
            guard !id.isEmpty else { refuse("编号为空"); continue }
            guard Rules.isIdentifier(id), id.utf8.count <= 110 else {
                refuse("编号“\(id)”只能由字母、数字和 . _ : - 组成，最长 110 个字符"); continue
            }
            guard let sourceText = text("来源"), let source = ProblemSource(codeOrLabel: sourceText) else {
                refuse("来源“\(row.fields["来源"] ?? "")”不可识别；可用：\(ProblemSource.listing)"); continue
            }
            guard let categoryText = text("类别"), let category = Category(codeOrLabel: categoryText) else {
                refuse("类别“\(row.fields["类别"] ?? "")”不可识别；可用：\(Category.listing)"); continue
            }
            var batch: String?
            if let b = text("批次") {
                let named = registry.batches(named: b)
                if registry.batches[b] != nil { batch = b }
                else if named.count == 1 { batch = named[0] }
                else if named.isEmpty { refuse("批次“\(b)”不存在：请先建立清单(batch.opened)"); continue }
                else {
                    refuse("批次名称“\(b)”对应多个清单（\(named.joined(separator: "、"))）：请在“批次”列填写清单编号"); continue
                }
            }
            guard let found = text("发现时间"), let reportedAt = Timestamp(local: found) else {
                refuse("发现时间“\(row.fields["发现时间"] ?? "")”不是时间，例如 2022-08-19 16:00"); continue
            }
            guard let area = text("片区") else { refuse("片区为空"); continue }
            guard let description = text("问题描述") else { refuse("问题描述为空"); continue }
            let report = ProblemReport(batch: batch, source: source, category: category, description: description,
                                       location: Location(area: area, street: text("路段"), point: text("点位")))
            var assignment: Assignment?
            if let unitName = text("责任单位") {
                let named = registry.units(named: unitName)
                if registry.units[unitName] == nil && named.count > 1 {
                    refuse("责任单位名称“\(unitName)”对应多个已登记单位（\(named.joined(separator: "、"))）：请在“责任单位”列填写单位编号")
                    continue
                }
                guard let unit = registry.units[unitName].map({ _ in unitName }) ?? named.first else {
                    unknownUnits[unitName, default: []].append(row.line)
                    continue
                }
                guard let due = text("整改时限"), let deadline = Timestamp(local: due) else {
                    refuse("整改时限“\(row.fields["整改时限"] ?? "")”不是时间，例如 2022-08-26 18:00"); continue
                }
                assignment = Assignment(unit: unit, leader: text("责任领导"), deadline: deadline)
            }
            func event(_ suffix: String, _ data: EventData) -> Incoming {
                Incoming(line: row.line, event: Event(
                    id: "import:\(id):\(suffix)", source: actor.source, subject: id, time: reportedAt,
                    actor: actor.actor, role: actor.role, actorUnit: actor.unit, data: data))
            }
            events.append(event("reported", .problemReported(report)))
            if let assignment { events.append(event("assigned", .problemAssigned(assignment))) }
        }
        for (name, lines) in unknownUnits.sorted(by: { $0.value[0] < $1.value[0] }) {
            refusals.append(LineRefusal(line: lines[0], id: nil, subject: nil, refusal: Refusal(.reference,
                "责任单位“\(name)”未登记（第 \(lines.map(String.init).joined(separator: "、")) 行）：请先登记(unit.registered)或改正单位名称")))
        }
        if !refusals.isEmpty { throw AppendRefused(refusals: refusals.sorted { $0.line < $1.line }) }
        return events
    }
}

/// RFC 4180 CSV: quoted fields may hold commas, quotes (doubled) and line ends; CRLF or LF; a BOM skipped.
enum CSV {
    static func records(_ bytes: [UInt8]) throws(LineRefusal) -> [(line: Int, fields: [String])] {
        guard let text = String(validating: bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes, as: UTF8.self) else {
            throw LineRefusal(line: 1, id: nil, subject: nil, refusal: Refusal(.malformed, "文件不是 UTF-8 编码：请在 Excel 中另存为“CSV UTF-8”"))
        }
        var records: [(line: Int, fields: [String])] = []
        var fields: [String] = []
        var field = ""
        var quoted = false
        var line = 1
        var recordLine = 1
        var scalars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = scalars.next()
        func endRecord() {
            fields.append(field)
            records.append((recordLine, fields))
            fields = []
            field = ""
        }
        while let c = pending {
            pending = scalars.next()
            if quoted {
                if c == "\"" {
                    if pending == "\"" { field.unicodeScalars.append("\""); pending = scalars.next() }
                    else { quoted = false }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"" where field.isEmpty: quoted = true
            case ",": fields.append(field); field = ""
            case "\r" where pending == "\n": continue
            case "\n", "\r":
                endRecord()
                line += 1
                recordLine = line
            default: field.unicodeScalars.append(c)
            }
        }
        if quoted {
            throw LineRefusal(line: recordLine, id: nil, subject: nil, refusal: Refusal(.malformed, "引号未闭合：这一行的某个字段以 \" 开始却没有结束"))
        }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return records
    }
}

/// The units and lists registered in a store, by id with their names: what an imported list names.
public struct Registry: Sendable {
    /// Unit id → registered name.
    public var units: [String: String]
    /// List id → its name.
    public var batches: [String: String]

    public init(units: [String: String], batches: [String: String]) { self.units = units; self.batches = batches }

    /// The ids of the units registered as `name`, sorted.
    public func units(named name: String) -> [String] { units.filter { $0.value == name }.map(\.key).sorted() }
    /// The ids of the lists opened as `name`, sorted.
    public func batches(named name: String) -> [String] { batches.filter { $0.value == name }.map(\.key).sorted() }
}
