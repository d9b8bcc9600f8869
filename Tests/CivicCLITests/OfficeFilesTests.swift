import Campaign
import Foundation
import JSON
import Ledger
import Testing
import ZIPFoundation

@Suite("The offices' files through the command: workbooks out and in, CSV for Excel, the weekly bulletin, names for ids", .serialized)
struct OfficeFilesTests {
    static let demo: Folder = {
        let folder = Folder()
        _ = try? civic(["demo", "--no-serve", "--story-dates"], store: folder.path)
        return folder
    }()

    func temporary(_ name: String) -> String { FileManager.default.temporaryDirectory.appendingPathComponent("civic-office-\(UUID().uuidString)-\(name)").path }

    @Test("every view as a workbook: Chinese headers, names and labels, real dates, read back as the table shows them")
    func workbooks() throws {
        for (view, extra) in [("board", ["--at", "2022-08-25 12:00"]), ("progress", []), ("ranking", ["--week", "2022-W34"]),
                              ("audit", ["--subject", "P-20220819-008"])] {
            let file = temporary("\(view).xlsx")
            defer { try? FileManager.default.removeItem(atPath: file) }
            let run = try civic([view] + extra + ["--format", "xlsx", "--output", file], store: Self.demo.path)
            #expect(run.status == 0, "\(view): \(run.err)")
            let sheet = try Sheet.read(Array(try Data(contentsOf: URL(fileURLWithPath: file))), fileName: file)
            #expect(sheet.rows.count > 2, "\(view)")
            #expect(sheet.rows[0].cells.first??.text.contains("截至") == true, "\(view): a title row with its moment")
            let texts = sheet.rows.flatMap(\.cells).compactMap { $0?.text }
            switch view {
            case "board":
                #expect(sheet.rows[1].cells.compactMap { $0?.text }.prefix(3) == ["编号", "状态", "批次"])
                #expect(texts.contains("城管执法大队"))
                #expect(texts.contains("已销号") || texts.contains("已交办"))
                #expect(!texts.contains("U-cgzf"))
                // A deadline is a date cell, not text: 2022-08-26 18:00 in Beijing time.
                let deadline = sheet.rows[2].cells[10]
                #expect(deadline == .number(44799.75))
            case "ranking":
                #expect(texts.contains { $0.hasPrefix("并列第1名") || $0 == "第1名" })
            case "progress":
                // Each list's days are date cells, not text: the first day of the demo's series, 2022-08-20, is Excel's 44793.
                let days = try Sheet.read(Array(try Data(contentsOf: URL(fileURLWithPath: file))), fileName: file, sheet: "8月19日全市重点工作周调度会曝光问题每日未销号")
                #expect(days.rows[1].cells.compactMap { $0?.text } == ["日期", "未销号"])
                #expect(days.rows[2].cells.first == .number(44793), "\(days.rows[2].cells)")
            default: break
            }
            #expect(texts.last?.hasPrefix("摘要 sha256:") == true, "\(view): the digest at the foot")
        }
        let refused = try civic(["board", "--format", "xlsx"], store: Self.demo.path)
        #expect(refused.status == 0 || refused.status == 2)  // a pipe is no terminal: the workbook goes to it
    }

    @Test("a workbook whose shared texts or sheet are cut short is refused naming the part, not read as far as the cut; whole, it imports")
    func workbookCutShort() throws {
        let store = try filledStore()
        func workbook(sharedStrings: String, sheetCut: Int = 0) throws -> String {
            let file = temporary("list.xlsx")
            let archive = try Archive(url: URL(fileURLWithPath: file), accessMode: .create)
            let sheet = "<?xml version=\"1.0\"?><worksheet><sheetData>"
                + "<row r=\"1\">" + (0..<6).map { "<c r=\"\(["A", "B", "C", "D", "E", "F"][$0])1\" t=\"s\"><v>\($0)</v></c>" }.joined() + "</row>"
                + "<row r=\"2\">" + (0..<6).map { "<c r=\"\(["A", "B", "C", "D", "E", "F"][$0])2\" t=\"s\"><v>\($0 + 6)</v></c>" }.joined() + "</row>"
                + "</sheetData></worksheet>"
            let parts = [
                ("[Content_Types].xml", "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>"),
                ("xl/workbook.xml", "<?xml version=\"1.0\"?><workbook xmlns:r=\"r\"><sheets><sheet name=\"清单\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"),
                ("xl/_rels/workbook.xml.rels", "<?xml version=\"1.0\"?><Relationships><Relationship Id=\"rId1\" Target=\"worksheets/sheet1.xml\"/></Relationships>"),
                ("xl/worksheets/sheet1.xml", String(sheet.prefix(sheet.count - sheetCut))),
                ("xl/sharedStrings.xml", sharedStrings),
            ]
            for (path, text) in parts {
                let data = Data(text.utf8)
                try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) { position, size in
                    data.subdata(in: Int(position)..<Int(position) + size)
                }
            }
            return file
        }
        let texts = ["序号", "问题类型", "所属片区", "存在问题", "责任部门", "完成时限", "1", "环境卫生", "城北", "垃圾堆积", "城管执法大队", "8月26日前"]
        let whole = "<?xml version=\"1.0\"?><sst>" + texts.map { "<si><t>\($0)</t></si>" }.joined() + "</sst>"
        // Cut inside the last text: every cell still finds a text, the last one short of its end.
        let cut = try workbook(sharedStrings: String(whole.prefix(whole.count - 16)))
        defer { try? FileManager.default.removeItem(atPath: cut) }
        let refused = try civic(["import", cut, "--batch", "B-20220819", "--actor-unit", "U-office", "--dry-run"], store: store.path)
        #expect(refused.status != 0)
        #expect(refused.err.contains("xl/sharedStrings.xml") && refused.err.contains("重新保存"), "\(refused.err) \(refused.out)")
        // The sheet cut after its header: no row would be read, and nothing said.
        let sheetCut = try workbook(sharedStrings: whole, sheetCut: 211)
        defer { try? FileManager.default.removeItem(atPath: sheetCut) }
        let short = try civic(["import", sheetCut, "--batch", "B-20220819", "--actor-unit", "U-office", "--dry-run"], store: store.path)
        #expect(short.status != 0)
        #expect(short.err.contains("XML 不完整"), "\(short.err)")
        let good = try workbook(sharedStrings: whole)
        defer { try? FileManager.default.removeItem(atPath: good) }
        let read = try civic(["import", good, "--batch", "B-20220819", "--actor-unit", "U-office", "--dry-run"], store: store.path)
        #expect(read.status == 0, "\(read.err) \(read.out)")
    }

    @Test("CSV opens in Excel: a BOM first; --labels zh gives Chinese headers, labels and names")
    func csvForExcel() throws {
        let codes = try civic(["board", "--format", "csv"], store: Self.demo.path)
        #expect(codes.out.hasPrefix("\u{FEFF}id,status,"))
        let zh = try civic(["board", "--format", "csv", "--labels", "zh", "--at", "2022-08-25 12:00"], store: Self.demo.path)
        #expect(zh.status == 0, "\(zh.err)")
        #expect(zh.out.hasPrefix("\u{FEFF}编号,状态,批次,来源,类别"))
        #expect(zh.out.contains(",城管执法大队,"))
        #expect(zh.out.contains(",2022-08-26 18:00,"))
        #expect(!zh.out.contains(",U-cgzf,"))
        #expect(try civic(["board", "--format", "json", "--labels", "zh"], store: Self.demo.path).status == 2)
    }

    @Test("a text that Excel would run as a formula is written as text in CSV and in the workbook")
    func formulasDefused() throws {
        let store = Folder()
        #expect(try civic(["init"], store: store.path).status == 0)
        #expect(try civic(["append", setupFile], store: store.path).status == 0)
        let list = temporary("list.csv")
        defer { try? FileManager.default.removeItem(atPath: list) }
        let hostile = ["=cmd|' /C calc'!A0", "=HYPERLINK(\"http://x\",\"点这里\")", "+1+1", "-2+3", "@SUM(1)"]
        let rows = hostile.enumerated().map { k, text in "P-F\(k),暗访曝光,,环境卫生,城北,,,\"\(text.replacingOccurrences(of: "\"", with: "\"\""))\",,,,2022-08-19 16:00" }
        try ("编号,来源,批次,类别,片区,路段,点位,问题描述,责任单位,责任领导,整改时限,发现时间\n" + rows.joined(separator: "\n") + "\n")
            .write(toFile: list, atomically: true, encoding: .utf8)
        let imported = try civic(["import", list, "--actor-unit", "U-office"], store: store.path)
        #expect(imported.status == 0, "\(imported.err)")
        let csv = try civic(["board", "--format", "csv"], store: store.path).out
        for text in hostile {
            #expect(csv.contains("\"'" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""), "\(text)")
            #expect(!csv.contains("," + text + ","))
        }
        let file = temporary("board.xlsx")
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(try civic(["board", "--format", "xlsx", "-o", file], store: store.path).status == 0)
        let archive = try Archive(url: URL(fileURLWithPath: file), accessMode: .read)
        var xml = Data()
        _ = try archive.extract(try #require(archive["xl/worksheets/sheet1.xml"])) { xml.append($0) }
        let text = String(decoding: xml, as: UTF8.self)
        #expect(!text.contains("<f>"))  // no cell is a formula
        #expect(text.contains("=cmd|&apos; /C calc&apos;!A0") || text.contains("=cmd|' /C calc'!A0"))
    }

    @Test("filters take names, aliases and labels; an unknown unit is an error naming the closest, never an empty board")
    func namesForIds() throws {
        let byName = try json(try civic(["board", "--format", "json", "--unit", "城管执法大队"], store: Self.demo.path).out)
        let byId = try json(try civic(["board", "--format", "json", "--unit", "U-cgzf"], store: Self.demo.path).out)
        #expect(byName["problems"] == byId["problems"])
        let label = try json(try civic(["board", "--format", "json", "--status", "已销号"], store: Self.demo.path).out)
        #expect(label["filters"]?["status"] == .array([.string("closed")]))
        let unknown = try civic(["board", "--unit", "城管执法队"], store: Self.demo.path)
        #expect(unknown.status == 2)
        #expect(unknown.err.contains("城管执法大队（U-cgzf）"))
        #expect(!unknown.err.contains("Usage"))
        let trail = try civic(["audit", "--unit", "渣土运输公司", "--format", "json"], store: Self.demo.path)
        #expect(trail.status == 0)
        #expect(try json(trail.out)["filters"]?["unit"] == .string("U-zt"))
        #expect(try civic(["audit", "--unit", "城管执法队"], store: Self.demo.path).status == 2)
        #expect(try civic(["progress", "--batch", "没有这个清单"], store: Self.demo.path).status == 2)
        #expect(try civic(["ranking", "--week", "2022年第34周", "--format", "json"], store: Self.demo.path).status == 0)
    }

    @Test("civic demo is dated to end last week and recorded as it happened: 补录 marks only the one entry the story makes late")
    func demoAroundToday() throws {
        let store = Folder()
        let made = try civic(["demo", "--no-serve"], store: store.path)
        #expect(made.status == 0 && made.out.contains("结束于上周"), "\(made.err)")
        let events = try civic(["export"], store: store.path).out.split(separator: "\n").map { try json(String($0)) }
        let now = Date().timeIntervalSince1970
        func seconds(_ v: JSONValue?) -> Double { (v?.text).flatMap { Timestamp(rfc3339: $0) }.map { Double($0.micros) / 1e6 } ?? 0 }
        let last = events.map { seconds($0["time"]) }.max() ?? 0
        #expect(last <= now && last > now - 8 * 86_400)
        #expect(events.allSatisfy { seconds($0["recordedat"]) <= now })
        var backdated: [String] = []
        for unit in ["U-cgzf", "U-zt", "U-hw", "U-dqbj", "U-hpsq", "U-ga", "U-scjg", "U-zj"] {
            let trail = try json(try civic(["audit", "--unit", unit, "--format", "json"], store: store.path).out)
            for row in trail["events"]?.array ?? [] where row["flags"]?.array.contains(.string("backdated")) == true {
                backdated.append(row["id"]?.text ?? "")
            }
        }
        #expect(Set(backdated) == ["demo-051"])
    }

    @Test("the office's week may end on a Friday: the ranking and the bulletin of 第34周 then run 8月20日—26日, counted day by day")
    func weekEndsFriday() throws {
        let store = Folder()
        _ = try civic(["demo", "--no-serve", "--story-dates"], store: store.path)
        #expect(try civic(["settings", "--week-ends", "星期八"], store: store.path).status == 2)
        let set = try civic(["settings", "--week-ends", "周五"], store: store.path)
        #expect(set.status == 0 && set.out.contains("周五"), "\(set.err)")
        let view = try json(try civic(["ranking", "--week", "2022-W34", "--format", "json"], store: store.path).out)
        #expect(view["at"]?.text == "2022-08-26T23:59:59.999999+08:00")
        #expect(view["filters"]?["weekEnds"]?.text == "周五")
        // 本周销号 counts the verifications dated Saturday 20 to Friday 26 August, per unit.
        let export = try civic(["export"], store: store.path).out.split(separator: "\n").map { try json(String($0)) }
        let verified = export.filter { $0["type"]?.text == "rectification.verified" && ($0["time"]?.text ?? "") >= "2022-08-20" && ($0["time"]?.text ?? "") < "2022-08-27" }
        let counted = (view["units"]?.array ?? []).reduce(0) { $0 + ($1["closedInWeek"]?.int ?? 0) }
        #expect(counted == verified.count && counted > 0)
        let bulletin = try civic(["bulletin", "--week", "2022-W34"], store: store.path)
        #expect(bulletin.out.contains("本周（8月20日—26日）"))
    }

    @Test("the bulletin: text, JSON, HTML and Word carry the same digest; ties share a place; Word holds its charts")
    func bulletin() throws {
        let jsonRun = try civic(["bulletin", "--week", "2022-W34", "--format", "json"], store: Self.demo.path)
        #expect(jsonRun.status == 0, "\(jsonRun.err)")
        let doc = try json(jsonRun.out)
        let digest = try #require(doc["digest"]?.text)
        #expect(doc["view"] == .string("bulletin"))
        let ranking = try #require(doc["ranking"]?.array)
        #expect(ranking.allSatisfy { ($0["assigned"]?.int ?? 0) > 0 })  // units with nothing assigned left out
        #expect(Set(ranking.map { $0["rank"]?.int ?? 0 }).count < ranking.count)  // ties share a place
        let text = try civic(["bulletin", "--week", "2022-W34"], store: Self.demo.path)
        #expect(text.out.contains("并列第1名"))
        #expect(text.out.contains(digest))
        let html = temporary("b.html"), docx = temporary("b.docx")
        defer { try? FileManager.default.removeItem(atPath: html); try? FileManager.default.removeItem(atPath: docx) }
        #expect(try civic(["bulletin", "--week", "2022-W34", "-o", html], store: Self.demo.path).status == 0)
        #expect(try civic(["bulletin", "--week", "2022-W34", "-o", docx], store: Self.demo.path).status == 0)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.contains(digest))
        #expect(page.contains("@page{size:A4"))
        #expect(page.contains("<svg class=\"bars\""))
        let archive = try Archive(url: URL(fileURLWithPath: docx), accessMode: .read)
        var body = Data()
        _ = try archive.extract(try #require(archive["word/document.xml"])) { body.append($0) }
        let document = String(decoding: body, as: UTF8.self)
        #expect(document.contains(digest))
        #expect(document.contains("红榜"))
        #expect(archive["word/charts/chart1.xml"] != nil)
        #expect(archive["word/charts/chart2.xml"] != nil)
        #expect(try civic(["bulletin", "--week", "2022-W60"], store: Self.demo.path).status == 2)
    }
}
