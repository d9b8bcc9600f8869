import Campaign
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import ZIPFoundation

/// An Excel workbook (.xlsx, Office Open XML) read for its cells: the zip archive opened with
/// ZIPFoundation, its parts read with Foundation's XML parser. What a problem list needs: the sheets'
/// names, shared and inline strings, numbers (dates are serial numbers), merged title rows as they come.
enum Workbook {
    static func sheet(_ bytes: [UInt8], named wanted: String?) throws(SheetError) -> Sheet {
        let archive: Archive
        do { archive = try Archive(data: Data(bytes), accessMode: .read) } catch {
            throw SheetError("文件以 zip 开头，却不是完整的 Excel 工作簿：请在 Excel 或 WPS 中重新保存为 .xlsx")
        }
        func part(_ path: String) throws(SheetError) -> Data? {
            guard let entry = archive[path] else { return nil }
            guard entry.uncompressedSize < 256 << 20 else { throw SheetError("工作簿中 \(path) 超过 256 MB，无法读取") }
            var data = Data()
            do { _ = try archive.extract(entry, skipCRC32: false) { data.append($0) } } catch {
                throw SheetError("工作簿已损坏（\(path) 无法解压）：请在 Excel 或 WPS 中重新保存")
            }
            return data
        }
        guard let workbook = try part("xl/workbook.xml") else {
            throw SheetError("这个 zip 文件里没有 Excel 工作表（缺 xl/workbook.xml）：请选 .xlsx 文件")
        }
        let listed = Elements(workbook, ["sheet"])
        let relations = Elements(try part("xl/_rels/workbook.xml.rels") ?? Data(), ["Relationship"])
        for (part, read) in [("xl/workbook.xml", listed), ("xl/_rels/workbook.xml.rels", relations)] where !read.wellFormed {
            throw SheetError("工作簿已损坏（\(part) 不是完整的 XML）：请在 Excel 或 WPS 中重新保存")
        }
        let sheets = listed.found.map { ($0["name"] ?? "", $0["r:id"] ?? "") }
        let targets = Dictionary(relations.found.map { ($0["Id"] ?? "", $0["Target"] ?? "") }, uniquingKeysWith: { a, _ in a })
        guard !sheets.isEmpty else { throw SheetError("工作簿里没有工作表") }
        let chosen: (String, String)
        if let wanted {
            guard let found = sheets.first(where: { $0.0 == wanted }) else {
                throw SheetError("工作簿里没有工作表“\(wanted)”：有 \(sheets.map { "“\($0.0)”" }.joined(separator: "、"))")
            }
            chosen = found
        } else {
            chosen = sheets[0]
        }
        var target = targets[chosen.1] ?? "worksheets/sheet1.xml"
        if target.hasPrefix("/") { target.removeFirst() } else { target = "xl/" + target }
        guard let sheetData = try part(target) else { throw SheetError("工作簿已损坏：找不到工作表“\(chosen.0)”的内容") }
        let shared = SharedStrings(try part("xl/sharedStrings.xml") ?? Data())
        guard shared.wellFormed else {
            throw SheetError("工作簿已损坏（共享文本 xl/sharedStrings.xml 不是完整的 XML）：请在 Excel 或 WPS 中重新保存")
        }
        let reader = SheetReader(sheetData, shared: shared.strings)
        if let problem = reader.problem { throw SheetError("工作表“\(chosen.0)”无法读取：\(problem)") }
        return Sheet(name: chosen.0, rows: reader.rows, kind: "Excel 工作簿（工作表“\(chosen.0)”）")
    }

    /// The column index of a cell reference: `C5` → 2.
    static func column(_ reference: String) -> Int? {
        var k = 0, seen = false
        for c in reference.utf8 {
            guard c >= 65 && c <= 90 else { break }
            k = k * 26 + Int(c - 64)
            seen = true
        }
        return seen && k <= 16_384 ? k - 1 : nil
    }
}

/// The attributes of every element named one of `names`.
private final class Elements: NSObject, XMLParserDelegate {
    let names: Set<String>
    var found: [[String: String]] = []
    /// Whether the part is whole XML (an absent part, given empty, is).
    private(set) var wellFormed = true
    init(_ data: Data, _ names: Set<String>) {
        self.names = names
        super.init()
        guard !data.isEmpty else { return }
        let parser = XMLParser(data: data)
        parser.delegate = self
        wellFormed = XMLWhole.parse(parser)
    }
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if names.contains(name) { found.append(attributes) }
    }
}

/// `xl/sharedStrings.xml`: each `<si>`'s text, its runs (`<r><t>`) joined, phonetic runs (`<rPh>`) left out.
private final class SharedStrings: NSObject, XMLParserDelegate {
    var strings: [String] = []
    private var current = ""
    private var inText = false
    private var inPhonetic = false
    /// Whether the part is whole XML (an absent part, given empty, is): cut short, the texts after the
    /// cut would be missing and the cells naming them read as errors, or worse, as other texts.
    private(set) var wellFormed = true
    init(_ data: Data) {
        super.init()
        guard !data.isEmpty else { return }
        let parser = XMLParser(data: data)
        parser.delegate = self
        wellFormed = XMLWhole.parse(parser)
    }
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        switch name {
        case "si": current = ""
        case "t": inText = !inPhonetic
        case "rPh": inPhonetic = true
        default: break
        }
    }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch name {
        case "si": strings.append(current)
        case "t": inText = false
        case "rPh": inPhonetic = false
        default: break
        }
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { if inText { current += string } }
}

/// A worksheet's `<sheetData>`: rows (`<row r>`) of cells (`<c r t>` with `<v>` or `<is><t>`).
private final class SheetReader: NSObject, XMLParserDelegate {
    let shared: [String]
    var rows: [(number: Int, cells: [Sheet.Cell?])] = []
    var problem: String?
    private var row: [Sheet.Cell?] = []
    private var rowNumber = 0
    private var column = 0
    private var type = "n"
    private var value = ""
    private var inValue = false

    init(_ data: Data, shared: [String]) {
        self.shared = shared
        super.init()
        let parser = XMLParser(data: data)
        parser.delegate = self
        if !XMLWhole.parse(parser), problem == nil { problem = "XML 不完整或格式错误（\(parser.parserError.map { "\($0)" } ?? "未知")）" }
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        switch name {
        case "row":
            rowNumber = attributes["r"].flatMap(Int.init) ?? rowNumber + 1
            row = []
            column = 0
        case "c":
            column = attributes["r"].flatMap(Workbook.column) ?? column
            type = attributes["t"] ?? "n"
            value = ""
        case "v", "t":
            inValue = true
        default: break
        }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch name {
        case "v", "t": inValue = false
        case "c":
            let cell: Sheet.Cell?
            switch type {
            case "s":
                guard let k = Int(value), shared.indices.contains(k) else {
                    problem = "第 \(rowNumber) 行第 \(SpreadsheetColumn.letters(column)) 列引用了不存在的共享文本"
                    parser.abortParsing()
                    return
                }
                cell = .text(shared[k])
            case "inlineStr", "str": cell = .text(value)
            case "b": cell = .text(value == "1" ? "TRUE" : "FALSE")
            case "e": cell = .text(value)
            default: cell = value.isEmpty ? nil : Double(value).map(Sheet.Cell.number) ?? .text(value)
            }
            if let cell, !(cell == .text("")) {
                while row.count < column { row.append(nil) }
                if row.count == column { row.append(cell) } else { row[column] = cell }
            }
            column += 1
        case "row":
            rows.append((rowNumber, row))
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { if inValue { value += string } }
}

/// Parses with `parser`, true only when the whole document was read: Foundation's parser on Linux
/// returns true from `parse()` for a document cut short, and says so only in `parserError` (premature
/// end of the document: a part cut short would be read as far as the cut, its rows or texts after it
/// missing without a word).
enum XMLWhole {
    static func parse(_ parser: XMLParser) -> Bool {
        parser.parse() && parser.parserError == nil
    }
}
