import Campaign
import JSON

/// How a view is printed: a Chinese table for people, JSON or CSV for programs.
public enum OutputFormat: String, Sendable, CaseIterable {
    case table, json, csv
}

/// One column of a view: its JSON key, its Chinese header, its value, and how a person reads it.
public struct Column<Row>: Sendable {
    public var key: String
    public var header: String
    public var value: @Sendable (Row) -> JSONValue
    /// The cell as a table shows it; nil: the value's plain text.
    public var display: (@Sendable (Row) -> String)?

    public init(_ key: String, _ header: String, value: @escaping @Sendable (Row) -> JSONValue,
                display: (@Sendable (Row) -> String)? = nil) {
        self.key = key; self.header = header; self.value = value; self.display = display
    }
}

/// Rendering of rows under columns.
public enum Render {
    /// The rows as JSON objects, members in column order.
    public static func objects<Row>(_ rows: [Row], _ columns: [Column<Row>]) -> JSONValue {
        .array(rows.map { row in .object(columns.map { ($0.key, $0.value(row)) }) })
    }

    /// CSV (RFC 4180, CRLF line ends) with the JSON keys as header and codes as values.
    public static func csv<Row>(_ rows: [Row], _ columns: [Column<Row>]) -> String {
        var out = columns.map { csvField($0.key) }.joined(separator: ",") + "\r\n"
        for row in rows {
            out += columns.map { csvField(plain($0.value(row))) }.joined(separator: ",") + "\r\n"
        }
        return out
    }

    /// A table for a terminal, with Chinese headers, aligned by display width (CJK counts double).
    public static func table<Row>(_ rows: [Row], _ columns: [Column<Row>]) -> String {
        let cells = rows.map { row in columns.map { ($0.display?(row) ?? plain($0.value(row))) } }
        var widths = columns.map { width($0.header) }
        for line in cells { for (k, cell) in line.enumerated() { widths[k] = max(widths[k], width(cell)) } }
        func format(_ line: [String]) -> String {
            var text = ""
            for (k, cell) in line.enumerated() {
                text += cell
                if k < line.count - 1 { text += String(repeating: " ", count: widths[k] - width(cell) + 2) }
            }
            return text
        }
        var out = format(columns.map(\.header)) + "\n"
        out += format(widths.map { String(repeating: "─", count: $0) }) + "\n"
        for line in cells { out += format(line) + "\n" }
        return out
    }

    /// A value as plain text: strings bare, null empty.
    public static func plain(_ value: JSONValue) -> String {
        switch value {
        case .null: ""
        case .string(let s): s
        case .bool(let b): b ? "true" : "false"
        case .number(let n): n
        case .array(let items) where items.allSatisfy({ if case .string = $0 { true } else { false } }):
            items.map(plain).joined(separator: ";")
        case .array, .object: JSONText.render(value)
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
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

extension JSONValue {
    /// A timestamp as RFC 3339 with the offset it was written with, or null.
    public static func time(_ t: Timestamp?) -> JSONValue { t.map { .string($0.rfc3339) } ?? .null }
}
