import Campaign
import JSON

/// How a view is printed: a Chinese table for people, JSON or CSV for programs.
public enum OutputFormat: String, Sendable, CaseIterable {
    case table, json, csv
}

/// One column of a view: its JSON key, its Chinese header, and its value written three ways: as JSON,
/// as plain text (CSV: codes, times as RFC 3339), and as a person reads it (the table: labels, short times).
/// Written straight to the output, with no value built in between: a board has 200,000 rows.
public struct Column<Row>: Sendable {
    public var key: String
    public var header: String
    public var json: @Sendable (Row, Output) -> Void
    public var plain: @Sendable (Row) -> String
    public var display: @Sendable (Row) -> String

    public init(_ key: String, _ header: String, json: @escaping @Sendable (Row, Output) -> Void,
                plain: @escaping @Sendable (Row) -> String, display: (@Sendable (Row) -> String)? = nil) {
        self.key = key; self.header = header; self.json = json; self.plain = plain
        self.display = display ?? plain
    }

    /// A text column (null when nil).
    public static func string(_ key: String, _ header: String, _ value: @escaping @Sendable (Row) -> String?,
                              display: (@Sendable (Row) -> String)? = nil) -> Column {
        Column(key, header, json: { row, out in out.jsonString(value(row)) }, plain: { value($0) ?? "" }, display: display)
    }

    /// A number column.
    public static func int(_ key: String, _ header: String, _ value: @escaping @Sendable (Row) -> Int) -> Column {
        Column(key, header, json: { row, out in out.number(value(row)) }, plain: { String(value($0)) })
    }

    /// A moment, RFC 3339 with the offset it was written with (null when nil); a table shows it short.
    public static func time(_ key: String, _ header: String, _ value: @escaping @Sendable (Row) -> Timestamp?,
                            display: (@Sendable (Row) -> String)? = nil) -> Column {
        Column(key, header, json: { row, out in out.jsonString(value(row)?.rfc3339) }, plain: { value($0)?.rfc3339 ?? "" },
               display: display ?? { Render.short(value($0)) })
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
               plain: { row in value(row) == nil ? "" : Render.rate(value(row)) }, display: { Render.percent(value($0)) })
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
        let keys = columns.map { Array(("\"" + $0.key + "\":").utf8) }
        out.byte(91)
        var first = true
        for row in rows {
            if !first { out.byte(44) }
            out.byte(123)
            first = false
            for (k, column) in columns.enumerated() {
                if k > 0 { out.byte(44) }
                out.bytes(keys[k])
                column.json(row, out)
            }
            out.byte(125)
            try out.flushIfFull()
        }
        out.byte(93)
    }

    /// CSV (RFC 4180, CRLF line ends) with the JSON keys as header and codes as values.
    public static func csv<Row>(_ rows: some Sequence<Row>, _ columns: [Column<Row>], to out: Output) throws {
        out.text(columns.map { csvField($0.key) }.joined(separator: ",") + "\r\n")
        for row in rows {
            for (k, column) in columns.enumerated() {
                if k > 0 { out.byte(44) }
                out.text(csvField(column.plain(row)))
            }
            out.bytes([13, 10])
            try out.flushIfFull()
        }
    }

    /// A table for a terminal, with Chinese headers, aligned by display width (CJK counts double).
    public static func table<Row>(_ rows: [Row], _ columns: [Column<Row>], to out: Output) throws {
        var widths = columns.map { width($0.header) }
        for row in rows { for (k, c) in columns.enumerated() { widths[k] = max(widths[k], width(c.display(row))) } }
        func line(_ cells: [String]) {
            for (k, cell) in cells.enumerated() {
                out.text(cell)
                if k < cells.count - 1 { out.text(String(repeating: " ", count: widths[k] - width(cell) + 2)) }
            }
            out.byte(10)
        }
        line(columns.map(\.header))
        line(widths.map { String(repeating: "─", count: $0) })
        for row in rows {
            line(columns.map { $0.display(row) })
            try out.flushIfFull()
        }
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Display width in a terminal: East Asian wide and full-width characters take two cells.
    public static func width(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { sum, s in
            let v = s.value
            let wide = (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
                || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
                || (0xFFE0...0xFFE6).contains(v) || (0x20000...0x3FFFD).contains(v)
            return sum + (wide ? 2 : 1)
        }
    }

    /// `08-26 18:00` in UTC+8, for tables.
    public static func short(_ t: Timestamp?) -> String {
        guard let t else { return "—" }
        let text = t.inOffset(Timestamp.chinaOffset).rfc3339
        let chars = Array(text)
        return String(chars[5..<10]) + " " + String(chars[11..<16])
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
