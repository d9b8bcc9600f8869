import Campaign
import JSON

/// How a view is printed: a Chinese table for people, JSON or CSV for programs.
public enum OutputFormat: String, Sendable, CaseIterable {
    case table, json, csv, xlsx
    /// CSV with the Chinese headers and labels, names for ids, times as Excel reads them (`--labels zh`).
    case csvLabelled = "csv-zh"
}

/// A cell of a workbook: what a column gives for a row (docs/formats.md, "Out to Excel").
public enum SheetValue: Sendable, Equatable {
    case text(String)
    case number(Double)
    /// A moment, shown as a date and time in Beijing time.
    case time(Timestamp)
    /// A day (days since 1970-01-01 in Beijing time), shown as a date.
    case day(Int64)
    /// A share, shown as a percentage.
    case percent(Double)
    case empty
}

/// One column of a view: its JSON key, its Chinese header, and its value written three ways: as JSON,
/// as a CSV field (codes, times as RFC 3339), and as a person reads it (the table: labels, short times).
/// JSON and CSV are written straight to the output, with no value built in between: a board has 200,000 rows.
public struct Column<Row>: Sendable {
    public var key: String
    public var header: String
    public var json: @Sendable (Row, Output) -> Void
    public var csv: @Sendable (Row, Output) -> Void
    public var display: @Sendable (Row) -> String
    /// The cell of a workbook: by default the text as displayed (labels and names, never a formula).
    public var cell: @Sendable (Row) -> SheetValue

    public init(_ key: String, _ header: String, json: @escaping @Sendable (Row, Output) -> Void,
                csv: @escaping @Sendable (Row, Output) -> Void, display: @escaping @Sendable (Row) -> String,
                cell: (@Sendable (Row) -> SheetValue)? = nil) {
        self.key = key; self.header = header; self.json = json; self.csv = csv; self.display = display
        self.cell = cell ?? { row in
            let text = display(row)
            return text.isEmpty || text == "—" ? .empty : .text(text)
        }
    }

    /// The column with its display (and so its cell and labelled CSV) as `display`.
    public func displayed(_ display: @escaping @Sendable (Row) -> String) -> Column {
        var copy = self
        copy.display = display
        copy.cell = { row in
            let text = display(row)
            return text.isEmpty || text == "—" ? .empty : .text(text)
        }
        return copy
    }

    /// A column whose CSV field is `plain` (escaped as CSV needs), shown as `display` (by default the same).
    public init(_ key: String, _ header: String, json: @escaping @Sendable (Row, Output) -> Void,
                plain: @escaping @Sendable (Row) -> String, display: (@Sendable (Row) -> String)? = nil) {
        self.init(key, header, json: json, csv: { row, out in out.csvField(plain(row)) }, display: display ?? plain)
    }

    /// The same column of a larger row, reached through `part`.
    public func of<Whole>(_ part: @escaping @Sendable (Whole) -> Row) -> Column<Whole> {
        let json = json, csv = csv, display = display, cell = cell
        return Column<Whole>(key, header, json: { json(part($0), $1) }, csv: { csv(part($0), $1) }, display: { display(part($0)) },
                             cell: { cell(part($0)) })
    }

    /// A text column (null when nil).
    public static func string(_ key: String, _ header: String, _ value: @escaping @Sendable (Row) -> String?,
                              display: (@Sendable (Row) -> String)? = nil) -> Column {
        Column(key, header, json: { row, out in out.jsonString(value(row)) }, csv: { row, out in value(row).map(out.csvField) },
               display: display ?? { value($0) ?? "" })
    }

    /// A number column.
    public static func int(_ key: String, _ header: String, _ value: @escaping @Sendable (Row) -> Int) -> Column {
        Column(key, header, json: { row, out in out.number(value(row)) }, csv: { row, out in out.number(value(row)) },
               display: { String(value($0)) }, cell: { .number(Double(value($0))) })
    }

    /// A moment, RFC 3339 with the offset it was written with (null when nil); a table shows it short.
    public static func time(_ key: String, _ header: String, _ value: @escaping @Sendable (Row) -> Timestamp?,
                            display: (@Sendable (Row) -> String)? = nil) -> Column {
        Column(key, header, json: { row, out in out.jsonTime(value(row)) },
               csv: { row, out in value(row)?.withRFC3339 { out.bytes($0) } },
               display: display ?? { Render.short(value($0)) }, cell: { value($0).map(SheetValue.time) ?? .empty })
    }

    /// A yes or no.
    public static func bool(_ key: String, _ header: String, _ value: @escaping @Sendable (Row) -> Bool,
                            display: @escaping @Sendable (Row) -> String) -> Column {
        Column(key, header, json: { row, out in out.text(value(row) ? "true" : "false") },
               plain: { value($0) ? "true" : "false" }, display: display)
    }

    /// A share, 4 places (null when nil); a table shows it as a percentage.
    public static func rate(_ key: String, _ header: String, _ value: @escaping @Sendable (Row) -> Double?) -> Column {
        Column(key, header, json: { row, out in out.text(Render.rate(value(row))) },
               csv: { row, out in out.text(value(row) == nil ? "" : Render.rate(value(row))) }, display: { Render.percent(value($0)) },
               cell: { value($0).map(SheetValue.percent) ?? .empty })
    }

    /// A list of codes (a JSON array; `;` between them as text).
    public static func codes(_ key: String, _ header: String, _ value: @escaping @Sendable (Row) -> [String],
                             display: @escaping @Sendable (Row) -> String) -> Column {
        Column(key, header, json: { row, out in
            out.byte(91)
            for (k, code) in value(row).enumerated() {
                if k > 0 { out.byte(44) }
                out.jsonString(code)
            }
            out.byte(93)
        }, plain: { value($0).joined(separator: ";") }, display: display)
    }
}

/// Rendering of rows under columns, streamed to an `Output`.
public enum Render {
    /// The rows as a JSON array of objects, members in column order.
    public static func objects<Row>(_ rows: some Sequence<Row>, _ columns: [Column<Row>], to out: Output) throws {
        out.byte(91)
        try objectRows(rows, columns, first: true, to: out)
        out.byte(93)
    }

    /// The rows as JSON objects, members in column order, a comma before each but the very first.
    static func objectRows<Row>(_ rows: some Sequence<Row>, _ columns: [Column<Row>], first: Bool, to out: Output) throws {
        let keys = columns.map { Array(("\"" + $0.key + "\":").utf8) }
        var first = first
        for row in rows {
            if !first { out.byte(44) }
            out.byte(123)
            first = false
            for k in columns.indices {
                if k > 0 { out.byte(44) }
                out.bytes(keys[k])
                columns[k].json(row, out)
            }
            out.byte(125)
            try out.flushIfFull()
        }
    }

    /// CSV (RFC 4180, CRLF line ends, a BOM first so that Excel reads it as UTF-8): with the JSON keys as
    /// header and codes as values, or, `labelled`, with the Chinese headers, labels and names as a table shows them.
    public static func csv<Row>(_ rows: some Sequence<Row>, _ columns: [Column<Row>], labelled: Bool = false, to out: Output) throws {
        csvHeader(columns, labelled: labelled, to: out)
        try csvRows(rows, columns, labelled: labelled, to: out)
    }

    static func csvHeader<Row>(_ columns: [Column<Row>], labelled: Bool = false, to out: Output) {
        out.bytes([0xEF, 0xBB, 0xBF])
        for k in columns.indices {
            if k > 0 { out.byte(44) }
            out.csvField(labelled ? columns[k].header : columns[k].key)
        }
        out.bytes([13, 10])
    }

    static func csvRows<Row>(_ rows: some Sequence<Row>, _ columns: [Column<Row>], labelled: Bool = false, to out: Output) throws {
        for row in rows {
            for k in columns.indices {
                if k > 0 { out.byte(44) }
                if labelled { labelledField(columns[k].cell(row), out) } else { columns[k].csv(row, out) }
            }
            out.bytes([13, 10])
            try out.flushIfFull()
        }
    }

    /// A cell as Excel reads it from CSV: times as `2022-08-26 18:00` (Beijing time), shares as `85.0%`.
    static func labelledField(_ cell: SheetValue, _ out: Output) {
        switch cell {
        case .empty: break
        case .text(let s): out.csvField(s)
        case .number(let n): out.text(n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n))
        case .percent(let r): out.text(Render.percent(r))
        case .time(let t):
            t.inOffset(Timestamp.chinaOffset).withRFC3339 { text in
                out.bytes(UnsafeBufferPointer(rebasing: text[0..<10]))
                out.byte(32)
                out.bytes(UnsafeBufferPointer(rebasing: text[11..<16]))
            }
        case .day(let d): out.text(Timestamp.chinaDate(ofDay: d))
        }
    }

    /// A table for a terminal, with Chinese headers, aligned by display width (CJK counts double).
    public static func table<Row>(_ rows: [Row], _ columns: [Column<Row>], to out: Output) throws {
        guard !columns.isEmpty else {
            for _ in 0..<(rows.count + 2) { out.byte(10) }  // an empty line each, header and rule included
            return
        }
        // Each cell's text and width, taken once, row after row.
        var cells: [(text: String, width: Int)] = []
        cells.reserveCapacity((rows.count + 1) * columns.count)
        for column in columns { cells.append((column.header, width(column.header))) }
        for row in rows { for column in columns { let text = column.display(row); cells.append((text, width(text))) } }
        var widths = [Int](repeating: 0, count: columns.count)
        for (k, cell) in cells.enumerated() { widths[k % columns.count] = max(widths[k % columns.count], cell.width) }
        func line(_ cells: ArraySlice<(text: String, width: Int)>) {
            for (k, cell) in zip(0..., cells) {
                out.text(cell.text)
                if k < columns.count - 1 { for _ in 0..<(widths[k] - cell.width + 2) { out.byte(32) } }
            }
            out.byte(10)
        }
        line(cells[0..<columns.count])
        line(ArraySlice(widths.map { (String(repeating: "─", count: $0), $0) }))
        for start in stride(from: columns.count, to: cells.count, by: columns.count) {
            line(cells[start..<(start + columns.count)])
            try out.flushIfFull()
        }
    }

    /// Display width in a terminal: East Asian wide and full-width characters take two cells. Read from
    /// the UTF-8 bytes: the wide ranges all lie past U+1100, so only three- and four-byte characters are
    /// decoded.
    public static func width(_ text: String) -> Int {
        var text = text
        return text.withUTF8 { bytes in
            var sum = 0, k = 0
            while k < bytes.count {
                let lead = bytes[k]
                let length = lead < 0xE0 ? 1 : lead < 0xF0 ? 3 : 4
                guard length > 1, k + length <= bytes.count else {
                    // ASCII, the lead of a two-byte character (its second byte counts nothing), or a
                    // continuation byte.
                    if lead < 0x80 || lead >= 0xC0 { sum += 1 }
                    k += 1
                    continue
                }
                let v = length == 3
                    ? UInt32(lead & 0x0F) << 12 | UInt32(bytes[k + 1] & 0x3F) << 6 | UInt32(bytes[k + 2] & 0x3F)
                    : UInt32(lead & 0x07) << 18 | UInt32(bytes[k + 1] & 0x3F) << 12 | UInt32(bytes[k + 2] & 0x3F) << 6
                        | UInt32(bytes[k + 3] & 0x3F)
                k += length
                let wide = (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
                    || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
                    || (0xFFE0...0xFFE6).contains(v) || (0x20000...0x3FFFD).contains(v)
                sum += wide ? 2 : 1
            }
            return sum
        }
    }

    /// `2022年8月26日 18:00` in UTC+8, as a clerk reads a time (docs/formats.md, "Words").
    public static func short(_ t: Timestamp?) -> String {
        guard let t else { return "—" }
        return t.chineseMinute
    }

    /// A share as JSON: 4 places at most, `null` when nil.
    public static func rate(_ r: Double?) -> String {
        guard let r, r.isFinite else { return "null" }
        if r == r.rounded(), abs(r) < 1e15 { return String(Int64(r)) }
        return "\(r)"
    }

    /// A share as a percentage with one decimal, `—` when nil.
    public static func percent(_ rate: Double?) -> String {
        guard let rate else { return "—" }
        let tenths = Int((rate * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
