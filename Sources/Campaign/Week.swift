/// An ISO 8601 week in UTC+8 (`2022-W34`): Monday 00:00 to the next Monday 00:00, Beijing time.
public struct Week: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Days since 1970-01-01 of its Monday (in UTC+8).
    public let monday: Int64

    /// The week whose Monday is `monday` days after 1970-01-01.
    public init(monday: Int64) { self.monday = monday }

    /// The week holding `moment` (in UTC+8).
    public init(containing moment: Timestamp) {
        let day = moment.chinaDay
        monday = day - Self.weekdayIndex(day)
    }

    /// Reads `YYYY-Www`, or `2022年第34周` as an office writes it; nil when malformed or when the year
    /// has no such week.
    public init?(_ text: String) {
        var text = text.trimmingSpaces
        if let year = text.firstRange(of: "年"), text.hasSuffix("周") {
            var number = text[year.upperBound...].dropLast()
            if number.hasPrefix("第") { number = number.dropFirst() }
            guard let n = Int(number), n >= 1, n <= 53 else { return nil }
            text = "\(text[..<year.lowerBound])-W\(n < 10 ? "0" : "")\(n)"
        }
        let parts = text.split(separator: "-")
        guard parts.count == 2, parts[0].count == 4, let year = Int64(parts[0]),
              parts[1].hasPrefix("W") || parts[1].hasPrefix("w"), parts[1].count == 3,
              let number = Int64(parts[1].dropFirst()), number >= 1
        else { return nil }
        let jan4 = Timestamp.days(fromCivil: year, 1, 4)
        let monday = jan4 - Self.weekdayIndex(jan4) + (number - 1) * 7
        self.monday = monday
        guard isoYear == year else { return nil }  // week 53 of a 52-week year
    }

    /// The ISO week-numbering year: the year of its Thursday.
    public var isoYear: Int64 { Timestamp.civil(fromDays: monday + 3).0 }
    /// The week's number in its ISO year, 1–53.
    public var number: Int64 {
        let jan4 = Timestamp.days(fromCivil: isoYear, 1, 4)
        return (monday - (jan4 - Self.weekdayIndex(jan4))) / 7 + 1
    }

    /// Monday 00:00 UTC+8.
    public var start: Timestamp { Timestamp.startOfChinaDay(monday) }
    /// The next Monday 00:00 UTC+8 (not in the week).
    public var end: Timestamp { Timestamp.startOfChinaDay(monday + 7) }
    /// The last instant of the week: the moment a week is judged at.
    public var lastInstant: Timestamp { Timestamp(micros: end.micros - 1, offsetMinutes: Timestamp.chinaOffset) }

    public func contains(_ moment: Timestamp) -> Bool { moment >= start && moment < end }

    public var description: String { "\(isoYear)-W\(number < 10 ? "0" : "")\(number)" }

    public static func < (a: Week, b: Week) -> Bool { a.monday < b.monday }

    /// 0 for Monday … 6 for Sunday (1970-01-01 was a Thursday).
    static func weekdayIndex(_ day: Int64) -> Int64 { ((day + 3) % 7 + 7) % 7 }
}

extension Week {
    /// The week as an office writes it: `第34周（8月22日—28日）`, or `第35周（8月29日—9月4日）` across a month.
    public var label: String {
        let (_, m1, d1) = Timestamp.civil(fromDays: monday)
        let (_, m2, d2) = Timestamp.civil(fromDays: monday + 6)
        return "第\(number)周（\(m1)月\(d1)日—\(m1 == m2 ? "" : "\(m2)月")\(d2)日）"
    }

    /// `2022年第34周（8月22日—28日）`: the label with its year, for a title.
    public var labelWithYear: String { "\(isoYear)年" + label }
}
