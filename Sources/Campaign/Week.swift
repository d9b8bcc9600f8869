/// An office's week in UTC+8: seven days from its first day 00:00 to the next first day 00:00, Beijing time.
/// By default the ISO 8601 week (`2022-W34`: Monday to Sunday); an office whose week ends on another day
/// (a store setting, docs/views.md "Ranking") has weeks that end on that day, each named by the ISO week
/// its last day falls in.
public struct Week: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Days since 1970-01-01 of its first day (in UTC+8).
    public let first: Int64

    /// The week whose first day is `first` days after 1970-01-01.
    public init(first: Int64) { self.first = first }

    /// The week holding `moment` (in UTC+8), ending on weekday `endsOn` (0 Monday … 6 Sunday).
    public init(containing moment: Timestamp, endsOn: Int = Week.sunday) {
        let day = moment.chinaDay
        let start = Int64((endsOn + 1) % 7)
        first = day - ((Self.weekdayIndex(day) - start) % 7 + 7) % 7
    }

    /// The last day's weekday index of an ISO week.
    public static let sunday = 6

    /// Reads `YYYY-Www`, or `2022年第34周` as an office writes it: the week (ending on `endsOn`) whose last
    /// day lies in that ISO week. Nil when malformed or when the year has no such week.
    public init?(_ text: String, endsOn: Int = Week.sunday) {
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
        guard Timestamp.civil(fromDays: monday + 3).0 == year else { return nil }  // week 53 of a 52-week year
        first = monday + Int64(endsOn) - 6
    }

    /// Its last day (in UTC+8), days since 1970-01-01.
    public var last: Int64 { first + 6 }
    /// The ISO week-numbering year of its last day.
    public var isoYear: Int64 { Timestamp.civil(fromDays: Self.isoMonday(last) + 3).0 }
    /// The ISO week number (1–53) of its last day.
    public var number: Int64 {
        let jan4 = Timestamp.days(fromCivil: isoYear, 1, 4)
        return (Self.isoMonday(last) - (jan4 - Self.weekdayIndex(jan4))) / 7 + 1
    }

    /// Its last day's weekday: 0 Monday … 6 Sunday.
    public var lastWeekday: Int { Int(Self.weekdayIndex(last)) }

    /// The week before.
    public var previous: Week { Week(first: first - 7) }

    /// Its first day, 00:00 UTC+8.
    public var start: Timestamp { Timestamp.startOfChinaDay(first) }
    /// The day after its last, 00:00 UTC+8 (not in the week).
    public var end: Timestamp { Timestamp.startOfChinaDay(first + 7) }
    /// The last instant of the week: the moment a week is judged at.
    public var lastInstant: Timestamp { Timestamp(micros: end.micros - 1, offsetMinutes: Timestamp.chinaOffset) }

    public func contains(_ moment: Timestamp) -> Bool { moment >= start && moment < end }

    /// `2022-W34`: the ISO week of its last day.
    public var description: String { "\(isoYear)-W\(number < 10 ? "0" : "")\(number)" }

    public static func < (a: Week, b: Week) -> Bool { a.first < b.first }

    /// 0 for Monday … 6 for Sunday (1970-01-01 was a Thursday).
    static func weekdayIndex(_ day: Int64) -> Int64 { ((day + 3) % 7 + 7) % 7 }
    /// The Monday of the ISO week holding `day`.
    public static func isoMonday(_ day: Int64) -> Int64 { day - weekdayIndex(day) }

    /// The weekday names an office writes, by index: 周一 … 周日.
    public static let weekdayNames = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]

    /// The index (0 Monday … 6 Sunday) of a weekday written `周五`, `星期五`, `friday`, `fri` or `5`.
    public static func weekday(_ text: String) -> Int? {
        let t = text.trimmingSpaces.lowercased()
        let english = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        for k in 0..<7 {
            let chinese = ["一", "二", "三", "四", "五", "六", "日"][k]
            if t == "周" + chinese || t == "星期" + chinese || t == english[k] || t == String(english[k].prefix(3)) || t == String(k + 1) { return k }
        }
        if t == "周天" || t == "星期天" || t == "0" { return 6 }
        return nil
    }
}

extension Week {
    /// The week as an office writes it: `第34周（8月22日—28日）`, or `第35周（8月29日—9月4日）` across a month.
    public var label: String {
        let (_, m1, d1) = Timestamp.civil(fromDays: first)
        let (_, m2, d2) = Timestamp.civil(fromDays: last)
        return "第\(number)周（\(m1)月\(d1)日—\(m1 == m2 ? "" : "\(m2)月")\(d2)日）"
    }

    /// `2022年第34周（8月22日—28日）`: the label with its year, for a title.
    public var labelWithYear: String { "\(isoYear)年" + label }
}
