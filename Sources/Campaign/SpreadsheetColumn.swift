/// Columns of a spreadsheet as Excel names them: what a clerk reads in a refusal of an imported sheet
/// (`第 2 行“F”列`), and the cell references of a workbook civic writes.
public enum SpreadsheetColumn {
    /// The letters of column `k` (from 0): 0 → A, 25 → Z, 26 → AA.
    public static func letters(_ k: Int) -> String {
        var k = k, letters = ""
        repeat {
            letters = String(UnicodeScalar(UInt8(65 + k % 26))) + letters
            k = k / 26 - 1
        } while k >= 0
        return letters
    }
}
