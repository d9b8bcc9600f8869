import Campaign

/// Dates and times as offices write them in a list (docs/formats.md, "Dates in a list"): `2022-08-26`,
/// `2022/8/26`, `2022.8.26`, `2022年8月26日`, `8月26日` (the list's year), each with `前` or a time after
/// it (`18:00`, `18时`, `18时30分`), RFC 3339, or an Excel serial number. All in Beijing time. A date
/// without a time means the end of that day, 23:59:59: 8月26日前 is still on time at 8 pm on the 26th.
enum OfficeDate {
    /// A moment read, and whether the cell gave its time of day.
    struct Read: Equatable {
        var moment: Timestamp
        var hadTime: Bool
    }

    /// The moment `cell` says, with `year` for a date written without one; nil when it says none.
    static func read(_ cell: Sheet.Cell, year: Int64?) -> Read? {
        switch cell {
        case .number(let serial): return excelSerial(serial)
        case .text(let raw): return read(raw, year: year)
        }
    }

    static func read(_ raw: String, year: Int64?) -> Read? {
        var text = raw.trimmingSpaces
        for suffix in ["之前", "以前", "前", "止", "为止"] where text.hasSuffix(suffix) {
            text = String(text.dropLast(suffix.count)).trimmingSpaces
            break
        }
        if let t = Timestamp(rfc3339: text) { return Read(moment: t, hadTime: true) }
        if text.count == 5, let serial = Double(text), serial >= 20_000, serial <= 80_000 { return excelSerial(serial) }
        // Split the date from the time: at a space, a `T`, or where 日 ends the date.
        var datePart = Substring(text), timePart: Substring?
        if let day = text.firstIndex(of: "日") {
            datePart = text[...day]
            let rest = text[text.index(after: day)...].trimmingSpaces
            timePart = rest.isEmpty ? nil : Substring(rest)
        } else if let gap = text.firstIndex(where: { $0 == " " || $0 == "T" }) {
            datePart = text[..<gap]
            let rest = text[text.index(after: gap)...].trimmingSpaces
            timePart = rest.isEmpty ? nil : Substring(rest)
        }
        guard let (y, m, d) = date(datePart, year: year), (1...12).contains(m), d >= 1, d <= Timestamp.daysIn(month: m, year: y)
        else { return nil }
        var seconds: Int64 = 86_399
        if let timePart {
            guard let s = clock(timePart) else { return nil }
            seconds = s
        }
        let local = Timestamp.days(fromCivil: y, m, d) * 86_400 + seconds
        return Read(moment: Timestamp(micros: (local - Int64(Timestamp.chinaOffset) * 60) * 1_000_000, offsetMinutes: Timestamp.chinaOffset),
                    hadTime: timePart != nil)
    }

    /// Days since 1899-12-30 (Excel's day 0, its 1900 leap-year error included), the fraction the time of day.
    static func excelSerial(_ serial: Double) -> Read? {
        guard serial.isFinite, serial >= 1, serial < 2_958_466 else { return nil }
        let days = serial.rounded(.down)
        let secondsOfDay = Int64(((serial - days) * 86_400).rounded())
        let local = (Int64(days) - 25_569) * 86_400 + (secondsOfDay == 0 ? 86_399 : min(secondsOfDay, 86_399))
        return Read(moment: Timestamp(micros: (local - Int64(Timestamp.chinaOffset) * 60) * 1_000_000, offsetMinutes: Timestamp.chinaOffset),
                    hadTime: secondsOfDay != 0)
    }

    /// `2022-08-26`, `2022/8/26`, `2022.8.26`, `2022年8月26日`, `8月26日`, `8-26` (with `year`).
    private static func date(_ text: Substring, year: Int64?) -> (Int64, Int64, Int64)? {
        let parts = text.split(whereSeparator: { "-/.年月日".contains($0) }).map(String.init)
        guard parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) }) else { return nil }
        let numbers = parts.compactMap { Int64($0) }
        guard numbers.count == parts.count else { return nil }
        switch numbers.count {
        case 3 where parts[0].count == 4: return (numbers[0], numbers[1], numbers[2])
        case 2:
            guard let year else { return nil }
            return (year, numbers[0], numbers[1])
        default: return nil
        }
    }

    /// Seconds into the day: `18:00`, `18:00:30`, `18时`, `18时30分`, `18点`, `18点30`.
    private static func clock(_ text: Substring) -> Int64? {
        let parts = text.split(whereSeparator: { ":：时点分秒".contains($0) }).map(String.init)
        guard (1...3).contains(parts.count), parts.count > 1 || text.contains(where: { "时点".contains($0) }) else { return nil }
        let numbers = parts.compactMap { Int64($0) }
        guard numbers.count == parts.count, (0...24).contains(numbers[0]) else { return nil }
        let h = numbers[0], m = numbers.count > 1 ? numbers[1] : 0, s = numbers.count > 2 ? numbers[2] : 0
        guard (0...59).contains(m), (0...59).contains(s) else { return nil }
        if h == 24 { return m == 0 && s == 0 ? 86_399 : nil }  // 24:00, the day's end
        return h * 3600 + m * 60 + s
    }
}
