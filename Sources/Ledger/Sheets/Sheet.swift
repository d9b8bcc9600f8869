import Campaign
import Foundation
import Glibc

/// One sheet as an office keeps it, read from a workbook (.xlsx) or a CSV/tab-separated text file in any
/// encoding Excel and WPS save (docs/formats.md, "Problem lists in"): rows of cells, each row with the
/// number the office sees beside it.
public struct Sheet: Sendable {
    /// A cell: text as shown, or a number (an Excel date is a number with a date format).
    public enum Cell: Sendable, Equatable {
        case text(String)
        case number(Double)

        /// As the office reads it: the text, or the number without a needless `.0`.
        public var text: String {
            switch self {
            case .text(let s): return s.trimmingSpaces
            case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
            }
        }
    }

    /// The sheet's name (a workbook's tab; a text file's name).
    public var name: String
    /// Rows in order, each with its number as shown (1-based) and its cells by column (nil: empty).
    public var rows: [(number: Int, cells: [Cell?])]
    /// What the file was read as, for the dry run: `Excel 工作簿`, `CSV（GBK 编码）`…
    public var kind: String

    public init(name: String, rows: [(number: Int, cells: [Cell?])], kind: String) {
        self.name = name; self.rows = rows; self.kind = kind
    }

    /// The sheet in `bytes`: a workbook when it is a zip archive, else text in the encoding it is in.
    /// - Parameter sheet: the workbook's sheet to read (by name); nil: the first.
    /// - Throws: `SheetError` with a clerk's message.
    public static func read(_ bytes: [UInt8], fileName: String, sheet: String? = nil) throws(SheetError) -> Sheet {
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return try Workbook.sheet(bytes, named: sheet) }
        if bytes.starts(with: [0xD0, 0xCF, 0x11, 0xE0]) {
            throw SheetError("这是旧版 Excel 文件（.xls）：请在 Excel 或 WPS 中“另存为”Excel 工作簿（.xlsx）后再导入")
        }
        let (text, encoding) = try TextFile.decode(bytes)
        return try TextFile.sheet(text, name: fileName, kind: "CSV（\(encoding)）")
    }
}

/// What keeps a file from being read as a sheet, in a clerk's words.
public struct SheetError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Text files as Excel and WPS save them: CSV in UTF-8 (with or without BOM) or GBK/GB18030 (“CSV（逗号分隔）”
/// on Chinese Windows), and “Unicode 文本”: UTF-16 with BOM, separated by tabs.
enum TextFile {
    /// The text and the name of its encoding.
    static func decode(_ bytes: [UInt8]) throws(SheetError) -> (String, String) {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]), let text = String(validating: bytes.dropFirst(3), as: UTF8.self) {
            return (text, "UTF-8")
        }
        if bytes.starts(with: [0xFF, 0xFE]) { return (try convert(Array(bytes.dropFirst(2)), from: "UTF-16LE"), "UTF-16") }
        if bytes.starts(with: [0xFE, 0xFF]) { return (try convert(Array(bytes.dropFirst(2)), from: "UTF-16BE"), "UTF-16") }
        if let text = String(validating: bytes, as: UTF8.self) { return (text, "UTF-8") }
        // Not UTF-8: what Excel and WPS write on Chinese Windows. GB18030 reads GBK and GB2312 alike.
        return (try convert(bytes, from: "GB18030"), "GBK")
    }

    /// `bytes` in `encoding`, as text. - Throws: when they are not (naming the first byte that is not).
    static func convert(_ bytes: [UInt8], from encoding: String) throws(SheetError) -> String {
        guard let cd = iconv_open("UTF-8", encoding), cd != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw SheetError("本机无法读取 \(encoding) 编码")
        }
        defer { iconv_close(cd) }
        var input = bytes
        var output = [UInt8](repeating: 0, count: bytes.count * 2 + 16)
        let (written, left) = input.withUnsafeMutableBufferPointer { ib in
            output.withUnsafeMutableBufferPointer { ob -> (Int, Int) in
                var ip = ib.baseAddress.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: CChar.self) }
                var il = ib.count
                var op = ob.baseAddress.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: CChar.self) }
                var ol = ob.count
                _ = iconv(cd, &ip, &il, &op, &ol)
                return (ob.count - ol, il)
            }
        }
        guard left == 0 else {
            let at = bytes.count - left
            throw SheetError("文件既不是 UTF-8 也不是 \(encoding == "GB18030" ? "GBK" : encoding) 编码（第 \(at + 1) 个字节无法识别）：请在 Excel 中另存为“CSV UTF-8”或 Excel 工作簿")
        }
        return String(decoding: output.prefix(written), as: UTF8.self)
    }

    /// The rows of `text`: RFC 4180 CSV, or tab-separated when its first line holds tabs and no commas.
    static func sheet(_ text: String, name: String, kind: String) throws(SheetError) -> Sheet {
        let firstLine = text.prefix { $0 != "\n" && $0 != "\r" }
        let tabs = firstLine.contains("\t") && !firstLine.contains(",")
        let separator: Unicode.Scalar = tabs ? "\t" : ","
        var rows: [(number: Int, cells: [Sheet.Cell?])] = []
        var fields: [Sheet.Cell?] = []
        var field = ""
        var quoted = false
        var line = 1
        var recordLine = 1
        var scalars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = scalars.next()
        func endField() {
            fields.append(field.isEmpty ? nil : .text(field))
            field = ""
        }
        func endRecord() {
            endField()
            rows.append((recordLine, fields))
            fields = []
        }
        while let c = pending {
            pending = scalars.next()
            if quoted {
                if c == "\"" {
                    if pending == "\"" { field.unicodeScalars.append("\""); pending = scalars.next() } else { quoted = false }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"" where field.isEmpty: quoted = true
            case separator: endField()
            case "\r" where pending == "\n": continue
            case "\n", "\r":
                endRecord()
                line += 1
                recordLine = line
            default: field.unicodeScalars.append(c)
            }
        }
        if quoted { throw SheetError("第 \(recordLine) 行：引号未闭合（某个字段以 \" 开始却没有结束）") }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return Sheet(name: name, rows: rows, kind: tabs ? kind.replacingOccurrences(of: "CSV", with: "制表符分隔文本") : kind)
    }
}
