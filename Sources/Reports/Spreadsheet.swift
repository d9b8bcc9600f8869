import Campaign
import Foundation
import ZIPFoundation

/// A view as an Excel workbook (.xlsx, Office Open XML SpreadsheetML), for `--format xlsx` (docs/formats.md,
/// "Out to Excel"): one sheet per table, Chinese headers in bold and frozen, labels and names as a table
/// shows them, times as real dates in Beijing time, shares as percentages. Every text is an inline string,
/// never a formula, whatever it begins with. The archive is made by ZIPFoundation.
public enum Spreadsheet {
    /// One sheet: its name (a tab), a title line above the header, the header, the rows.
    public struct Table: Sendable {
        public var name: String
        public var title: String?
        public var headers: [String]
        public var rows: [[SheetValue]]
        /// Lines under the table (the view's digest).
        public var notes: [String]
        public init(name: String, title: String? = nil, headers: [String], rows: [[SheetValue]], notes: [String] = []) {
            self.name = name; self.title = title; self.headers = headers; self.rows = rows; self.notes = notes
        }

        /// The rows of `rows` under `columns`, each cell as the column gives it.
        public init<Row>(name: String, title: String?, _ rows: some Sequence<Row>, _ columns: [Column<Row>], notes: [String] = []) {
            self.init(name: name, title: title, headers: columns.map(\.header),
                      rows: rows.map { row in columns.map { $0.cell(row) } }, notes: notes)
        }
    }

    /// The workbook of `tables`, written to `out`.
    public static func write(_ tables: [Table], to out: Output) throws {
        out.bytes(try workbook(tables))
        try out.flush()
    }

    /// The workbook's bytes.
    public static func workbook(_ tables: [Table]) throws -> [UInt8] {
        let package = try OfficePackage()
        func add(_ path: String, _ text: String) throws { try package.add(path, text) }
        let names = sheetNames(tables.map(\.name))
        try add("[Content_Types].xml", """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
            <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
            <Default Extension="xml" ContentType="application/xml"/>\
            <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
            <Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
            \(tables.indices.map { "<Override PartName=\"/xl/worksheets/sheet\($0 + 1).xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>" }.joined())\
            </Types>
            """)
        try add("_rels/.rels", """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
            <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>\
            </Relationships>
            """)
        try add("xl/workbook.xml", """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
            <sheets>\(names.enumerated().map { "<sheet name=\"\(XML.escape($1))\" sheetId=\"\($0 + 1)\" r:id=\"rId\($0 + 1)\"/>" }.joined())</sheets>\
            </workbook>
            """)
        try add("xl/_rels/workbook.xml.rels", """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
            \(tables.indices.map { "<Relationship Id=\"rId\($0 + 1)\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet\($0 + 1).xml\"/>" }.joined())\
            <Relationship Id="rId\(tables.count + 1)" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>\
            </Relationships>
            """)
        try add("xl/styles.xml", styles)
        for (k, table) in tables.enumerated() { try add("xl/worksheets/sheet\(k + 1).xml", sheet(table)) }
        return try package.bytes()
    }

    /// Style indices of `styles.xml`: 0 plain, 1 bold header, 2 date and time, 3 percentage, 4 title, 5 wrapped text.
    private static let styles = """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
        <numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot; hh:mm"/>\
        <numFmt numFmtId="165" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/></numFmts>\
        <fonts count="3"><font><sz val="11"/><name val="等线"/></font><font><b/><sz val="11"/><name val="等线"/></font><font><b/><sz val="14"/><name val="等线"/></font></fonts>\
        <fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>\
        <fill><patternFill patternType="solid"><fgColor rgb="FFE8EEF7"/><bgColor indexed="64"/></patternFill></fill></fills>\
        <borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>\
        <border><left style="thin"><color rgb="FFB0B7C3"/></left><right style="thin"><color rgb="FFB0B7C3"/></right><top style="thin"><color rgb="FFB0B7C3"/></top><bottom style="thin"><color rgb="FFB0B7C3"/></bottom><diagonal/></border></borders>\
        <cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
        <cellXfs count="7">\
        <xf numFmtId="0" fontId="0" fillId="0" borderId="1" xfId="0" applyBorder="1"/>\
        <xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1"/>\
        <xf numFmtId="164" fontId="0" fillId="0" borderId="1" xfId="0" applyNumberFormat="1" applyBorder="1"/>\
        <xf numFmtId="10" fontId="0" fillId="0" borderId="1" xfId="0" applyNumberFormat="1" applyBorder="1"/>\
        <xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>\
        <xf numFmtId="0" fontId="0" fillId="0" borderId="1" xfId="0" applyBorder="1" applyAlignment="1"><alignment wrapText="1" vertical="top"/></xf>\
        <xf numFmtId="165" fontId="0" fillId="0" borderId="1" xfId="0" applyNumberFormat="1" applyBorder="1"/>\
        </cellXfs>\
        <cellStyles count="1"><cellStyle name="常规" xfId="0" builtinId="0"/></cellStyles>\
        </styleSheet>
        """

    /// A sheet's XML: the title in row 1 (when there is one), the header frozen below it, then the rows.
    static func sheet(_ table: Table) -> String {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
        xml += "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
        let headerRow = table.title == nil ? 1 : 2
        xml += "<sheetViews><sheetView workbookViewId=\"0\"><pane ySplit=\"\(headerRow)\" topLeftCell=\"A\(headerRow + 1)\" activePane=\"bottomLeft\" state=\"frozen\"/></sheetView></sheetViews>"
        xml += "<cols>"
        for (k, header) in table.headers.enumerated() {
            let widest = table.rows.prefix(500).reduce(Render.width(header)) { w, row in
                guard k < row.count else { return w }
                switch row[k] {
                case .text(let s): return max(w, min(Render.width(s), 60))
                case .time: return max(w, 18)
                case .day: return max(w, 12)
                default: return max(w, 8)
                }
            }
            xml += "<col min=\"\(k + 1)\" max=\"\(k + 1)\" width=\"\(widest + 2)\" customWidth=\"1\"/>"
        }
        xml += "</cols><sheetData>"
        var r = 0
        func row(_ cells: [(SheetValue, style: Int)]) {
            r += 1
            xml += "<row r=\"\(r)\">"
            for (c, (value, style)) in cells.enumerated() {
                let ref = "\(SpreadsheetColumn.letters(c))\(r)"
                switch value {
                case .empty: xml += "<c r=\"\(ref)\" s=\"\(style)\"/>"
                case .text(let s): xml += "<c r=\"\(ref)\" s=\"\(style)\" t=\"inlineStr\"><is><t xml:space=\"preserve\">\(XML.escape(s))</t></is></c>"
                case .number(let n): xml += "<c r=\"\(ref)\" s=\"\(style)\"><v>\(number(n))</v></c>"
                case .percent(let p): xml += "<c r=\"\(ref)\" s=\"3\"><v>\(number(p))</v></c>"
                case .time(let t): xml += "<c r=\"\(ref)\" s=\"2\"><v>\(number(serial(t)))</v></c>"
                case .day(let d): xml += "<c r=\"\(ref)\" s=\"6\"><v>\(d + 25_569)</v></c>"
                }
            }
            xml += "</row>"
        }
        if let title = table.title { row([(.text(title), 4)]) }
        row(table.headers.map { (.text($0), 1) })
        for cells in table.rows {
            row(cells.map { value in
                if case .text(let s) = value, Render.width(s) > 40 { return (value, 5) }
                return (value, 0)
            })
        }
        for note in table.notes { r += 1; xml += "<row r=\"\(r)\"><c r=\"A\(r)\" t=\"inlineStr\"><is><t>\(XML.escape(note))</t></is></c></row>" }
        xml += "</sheetData>"
        if table.title != nil, table.headers.count > 1 { xml += "<mergeCells count=\"1\"><mergeCell ref=\"A1:\(SpreadsheetColumn.letters(table.headers.count - 1))1\"/></mergeCells>" }
        return xml + "<pageSetup paperSize=\"9\" orientation=\"landscape\"/></worksheet>"
    }

    /// Excel's day number of `t` in Beijing time (days since 1899-12-30, the time of day its fraction).
    public static func serial(_ t: Timestamp) -> Double {
        let local = Double(t.micros) / 1_000_000 + Double(Timestamp.chinaOffset) * 60
        return (local / 86_400 + 25_569 ).rounded(toPlaces: 8)
    }

    static func number(_ n: Double) -> String {
        n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
    }

    /// Sheet names as Excel allows them: at most 31 characters, none of `[]:*?/\`, no two alike.
    static func sheetNames(_ names: [String]) -> [String] {
        var used: Set<String> = []
        return names.map { name in
            var clean = String(name.map { "[]:*?/\\".contains($0) ? "_" : $0 }.prefix(31))
            if clean.isEmpty { clean = "Sheet" }
            var candidate = clean, n = 2
            while used.contains(candidate) { candidate = String(clean.prefix(28)) + "(\(n))"; n += 1 }
            used.insert(candidate)
            return candidate
        }
    }
}

/// An Office Open XML package (.xlsx, .docx): XML parts in a zip archive made in memory by ZIPFoundation,
/// each entry with a fixed time, so that the same parts make the same bytes.
final class OfficePackage {
    private let archive: Archive
    static let fixedDate = Date(timeIntervalSince1970: 1_640_995_200)

    init() throws { archive = try Archive(data: Data(), accessMode: .create) }

    func add(_ path: String, _ text: String) throws {
        let data = Data(text.utf8)
        try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), modificationDate: Self.fixedDate,
                             compressionMethod: .deflate) { position, size in data.subdata(in: Int(position)..<Int(position) + size) }
    }

    func bytes() throws -> [UInt8] {
        guard let data = archive.data else { throw CocoaError(.fileWriteUnknown) }
        return Array(data)
    }
}

/// Text escaped for XML content and attributes, characters XML 1.0 cannot hold left out.
enum XML {
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default:
                let v = scalar.value
                if v == 9 || v == 10 || v == 13 || (v >= 0x20 && v != 0xFFFE && v != 0xFFFF) { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}

extension Double {
    func rounded(toPlaces places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (self * scale).rounded() / scale
    }
}
