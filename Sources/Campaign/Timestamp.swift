/// A moment, as written in an RFC 3339 time: microseconds since 1970-01-01T00:00:00Z, and the UTC
/// offset (in minutes) it was written with, so that it can be written back as it came in.
///
/// Two timestamps compare by the moment alone: `2022-08-19T16:00:00+08:00` equals `2022-08-19T08:00:00Z`
/// for ordering, though it keeps its offset for display.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Microseconds since the Unix epoch, UTC.
    public var micros: Int64
    /// Minutes east of UTC that the time was written with (+480 for China Standard Time).
    public var offsetMinutes: Int32

    /// China Standard Time, UTC+8: the campaign's calendar (days of the burn-down, ISO weeks).
    public static let chinaOffset: Int32 = 480

    public init(micros: Int64, offsetMinutes: Int32 = 0) {
        self.micros = micros
        self.offsetMinutes = offsetMinutes
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.micros < b.micros }
    public static func == (a: Timestamp, b: Timestamp) -> Bool { a.micros == b.micros }
    public func hash(into hasher: inout Hasher) { hasher.combine(micros) }

    /// Whether the two are the same moment written the same way.
    public func isIdentical(to other: Timestamp) -> Bool {
        micros == other.micros && offsetMinutes == other.offsetMinutes
    }

    /// The same moment written with another offset.
    public func inOffset(_ minutes: Int32) -> Timestamp { Timestamp(micros: micros, offsetMinutes: minutes) }

    /// This moment plus `seconds`.
    public func adding(seconds: Int64) -> Timestamp {
        Timestamp(micros: micros + seconds * 1_000_000, offsetMinutes: offsetMinutes)
    }

    /// RFC 3339 with the offset it was written with: `2022-08-19T16:00:00+08:00`, fractions only when present.
    public var description: String { rfc3339 }

    public var rfc3339: String { withRFC3339 { String(decoding: $0, as: UTF8.self) } }

    /// Calls `body` with the bytes of `rfc3339`, written on the stack: a view writes times by the
    /// hundred thousand.
    public func withRFC3339<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let local = micros + Int64(offsetMinutes) * 60_000_000
        let (days, dayMicros) = Self.floorDivide(local, 86_400_000_000)
        let seconds = dayMicros / 1_000_000
        var fraction = dayMicros % 1_000_000, fractionDigits = 6
        while fraction != 0, fraction % 10 == 0 { fraction /= 10; fractionDigits -= 1 }
        return try Self.writing({ out in
            Self.date(days, into: &out)
            out.append(UInt8(ascii: "T"))
            out.digits(seconds / 3600, 2)
            out.append(UInt8(ascii: ":"))
            out.digits(seconds / 60 % 60, 2)
            out.append(UInt8(ascii: ":"))
            out.digits(seconds % 60, 2)
            if fraction != 0 {
                out.append(UInt8(ascii: "."))
                out.digits(fraction, fractionDigits)
            }
            if offsetMinutes == 0 {
                out.append(UInt8(ascii: "Z"))
            } else {
                out.append(UInt8(ascii: offsetMinutes < 0 ? "-" : "+"))
                let abs = Int64(Swift.abs(offsetMinutes))
                out.digits(abs / 60, 2)
                out.append(UInt8(ascii: ":"))
                out.digits(abs % 60, 2)
            }
        }, body)
    }

    /// The calendar date of this moment in UTC+8, `YYYY-MM-DD`.
    public var chinaDate: String { Self.chinaDate(ofDay: chinaDay) }

    /// The calendar date of the day `days` after 1970-01-01, `YYYY-MM-DD`.
    public static func chinaDate(ofDay days: Int64) -> String { text { date(days, into: &$0) } }

    /// Calls `body` with the bytes of `chinaDate(ofDay:)`, written on the stack: a progress view writes a
    /// date for every day of every list.
    public static func withChinaDate<R>(ofDay days: Int64, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try writing({ date(days, into: &$0) }, body)
    }

    private static func date(_ days: Int64, into out: inout ASCIIBuffer) {
        let (y, m, d) = civil(fromDays: days)
        out.digits(y, 4)
        out.append(UInt8(ascii: "-"))
        out.digits(m, 2)
        out.append(UInt8(ascii: "-"))
        out.digits(d, 2)
    }

    /// Text written into a buffer on the stack: times are written by the hundred thousand in a view.
    private static func text(_ write: (inout ASCIIBuffer) -> Void) -> String {
        writing(write) { String(decoding: $0, as: UTF8.self) }
    }

    private static func writing<R>(_ write: (inout ASCIIBuffer) -> Void, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { bytes in
            var out = ASCIIBuffer(bytes: bytes)
            write(&out)
            return try body(UnsafeBufferPointer(rebasing: bytes[..<out.count]))
        }
    }

    /// Days since 1970-01-01 of this moment's date in UTC+8.
    public var chinaDay: Int64 {
        // Held clear of overflow at the ends of time (the moment views of every event are judged at).
        Self.floorDivide(micros.addingReportingOverflow(Int64(Self.chinaOffset) * 60_000_000).overflow
                         ? micros : micros + Int64(Self.chinaOffset) * 60_000_000, 86_400_000_000).0
    }

    /// The first moment (00:00 UTC+8) of the day `days` after 1970-01-01, in UTC+8.
    public static func startOfChinaDay(_ days: Int64) -> Timestamp {
        Timestamp(micros: days * 86_400_000_000 - Int64(chinaOffset) * 60_000_000, offsetMinutes: chinaOffset)
    }

    /// Parses an RFC 3339 date-time with an offset: `2022-08-19T16:00:00+08:00`, `2022-08-19T08:00:00.5Z`.
    /// Returns nil for anything else (no offset, impossible dates, more than microsecond precision is truncated).
    public init?(rfc3339 text: some StringProtocol) {
        var text = String(text)
        guard let parsed = text.withUTF8({ Self(rfc3339UTF8: $0) }) else { return nil }
        self = parsed
    }

    /// `init(rfc3339:)` of the UTF-8 bytes of the text (read in place: times are read by the million).
    public init?(rfc3339UTF8 b: UnsafeBufferPointer<UInt8>) {
        guard b.count >= 20 else { return nil }
        func digits(_ from: Int, _ count: Int) -> Int64? {
            guard from + count <= b.count else { return nil }
            var v: Int64 = 0
            for i in from..<(from + count) {
                let c = b[i]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int64(c - 48)
            }
            return v
        }
        guard let year = digits(0, 4), b[4] == 45, let month = digits(5, 2), b[7] == 45,
              let day = digits(8, 2), b[10] == 84 || b[10] == 116 || b[10] == 32,
              let hour = digits(11, 2), b[13] == 58, let minute = digits(14, 2), b[16] == 58,
              let second = digits(17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year),
              hour <= 23, minute <= 59, second <= 60
        else { return nil }
        var i = 19
        var fraction: Int64 = 0
        if i < b.count && b[i] == 46 {
            i += 1
            var scale: Int64 = 100_000
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                fraction += Int64(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offset: Int32
        if b[i] == 90 || b[i] == 122 {  // Z
            offset = 0
            i += 1
        } else if b[i] == 43 || b[i] == 45 {
            let negative = b[i] == 45
            guard let oh = digits(i + 1, 2), b.count > i + 3, b[i + 3] == 58, let om = digits(i + 4, 2),
                  oh <= 23, om <= 59
            else { return nil }
            offset = Int32(oh * 60 + om) * (negative ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = Self.days(fromCivil: year, month, day)
        let local = ((days * 24 + hour) * 60 + minute) * 60 + min(second, 59)
        self.init(micros: (local - Int64(offset) * 60) * 1_000_000 + fraction, offsetMinutes: offset)
    }

    /// Parses a local time as offices write it in spreadsheets, `2022-08-26 18:00` or `2022-08-26 18:00:00`
    /// or `2022/8/26 18:00`, taken in UTC+8; an RFC 3339 time is accepted too.
    public init?(local text: some StringProtocol) {
        let s = text.trimmingSpaces
        if let t = Timestamp(rfc3339: s) { self = t; return }
        let parts = s.split(whereSeparator: { $0 == " " || $0 == "T" })
        guard parts.count == 1 || parts.count == 2 else { return nil }
        let date = parts[0].split(whereSeparator: { $0 == "-" || $0 == "/" })
        guard date.count == 3, date[0].count == 4,
              let y = Int64(date[0]), let m = Int64(date[1]), let d = Int64(date[2]),
              (1...12).contains(m), d >= 1, d <= Self.daysIn(month: m, year: y)
        else { return nil }
        var h: Int64 = 0, mi: Int64 = 0, se: Int64 = 0
        if parts.count == 2 {
            let clock = parts[1].split(separator: ":")
            guard clock.count == 2 || clock.count == 3, let hh = Int64(clock[0]), let mm = Int64(clock[1]),
                  (0...23).contains(hh), (0...59).contains(mm)
            else { return nil }
            h = hh; mi = mm
            if clock.count == 3 { guard let ss = Int64(clock[2]), (0...59).contains(ss) else { return nil }; se = ss }
        }
        let local = ((Self.days(fromCivil: y, m, d) * 24 + h) * 60 + mi) * 60 + se
        self.init(micros: (local - Int64(Self.chinaOffset) * 60) * 1_000_000, offsetMinutes: Self.chinaOffset)
    }

    // MARK: calendar arithmetic (proleptic Gregorian; Howard Hinnant's civil-from-days)

    static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let q = a >= 0 ? a / b : -((-a - 1) / b) - 1
        return (q, a - q * b)
    }

    public static func days(fromCivil y: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y - 1 : y
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public static func civil(fromDays z: Int64) -> (Int64, Int64, Int64) {
        let z = z + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    public static func daysIn(month m: Int64, year y: Int64) -> Int64 {
        switch m {
        case 2: return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

}

/// Text written as bytes into a buffer of fixed size (ASCII, and the UTF-8 of 年月日 for Chinese dates).
private struct ASCIIBuffer {
    let bytes: UnsafeMutableBufferPointer<UInt8>
    var count = 0

    mutating func append(_ byte: UInt8) {
        guard count < bytes.count else { return }
        bytes[count] = byte
        count += 1
    }

    /// `v` in decimal, with zeros in front up to `width` digits.
    mutating func digits(_ v: Int64, _ width: Int) {
        if v < 0 { append(UInt8(ascii: "-")) }
        var magnitude = v.magnitude, n = 0
        var reversed: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                       UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &reversed) { digits in
            repeat {
                digits[n] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                n += 1
            } while magnitude > 0
            for _ in n..<max(n, width) { append(UInt8(ascii: "0")) }
            for k in stride(from: n - 1, through: 0, by: -1) { append(digits[k]) }
        }
    }
}

extension StringProtocol {
    /// Whether it holds nothing but the spaces `trimmingSpaces` removes (without building a string).
    public var isBlank: Bool {
        // Most texts begin with a character that is not a space: one byte decides.
        if let first = utf8.first, first > 0x20, first != 0xE3 { return false }
        return unicodeScalars.allSatisfy { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "\u{3000}" }
    }

    /// The text without leading and trailing spaces, tabs and line ends (full-width spaces too).
    public var trimmingSpaces: String {
        // "\r\n" is one Character: a Windows line end is a space too.
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" || $0 == "\u{3000}" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}

extension Timestamp {
    /// `2022年8月25日 12:00` in UTC+8: a moment as a clerk reads it (docs/formats.md, "Words").
    public var chineseMinute: String {
        let local = micros + Int64(Self.chinaOffset) * 60_000_000
        let minuteOfDay = Self.floorDivide(local, 60_000_000).0 - chinaDay * 1440
        // Written into one buffer (a board or progress table shows thousands).
        return Self.text { out in
            writeChineseDate(&out)
            out.append(UInt8(ascii: " "))
            out.digits(minuteOfDay / 60, 2)
            out.append(UInt8(ascii: ":"))
            out.digits(minuteOfDay % 60, 2)
        }
    }

    /// `2022年8月25日` in UTC+8.
    public var chineseDate: String { Self.text { writeChineseDate(&$0) } }

    private func writeChineseDate(_ out: inout ASCIIBuffer) {
        let (y, m, d) = Self.civil(fromDays: chinaDay)
        out.digits(y, 1)
        for b in "年".utf8 { out.append(b) }
        out.digits(m, 1)
        for b in "月".utf8 { out.append(b) }
        out.digits(d, 1)
        for b in "日".utf8 { out.append(b) }
    }

    /// `8月25日` in UTC+8.
    public var chineseMonthDay: String {
        let (_, m, d) = Self.civil(fromDays: chinaDay)
        return "\(m)月\(d)日"
    }
}
