import Campaign
import Testing

/// 2022-08-19T08:00:00Z in microseconds since the epoch.
let micros20220819T08Z: Int64 = 1_660_896_000 * 1_000_000

@Suite("Timestamp: RFC 3339, local times, China dates")
struct TimestampTests {
    @Test("RFC 3339 times with an offset or Z parse to the moment and keep their offset", arguments: [
        ("2022-08-19T16:00:00+08:00", micros20220819T08Z, Int32(480)),
        ("2022-08-19T08:00:00Z", micros20220819T08Z, 0),
        ("2022-08-19T08:00:00z", micros20220819T08Z, 0),
        ("2022-08-19t08:00:00Z", micros20220819T08Z, 0),
        ("2022-08-19 08:00:00Z", micros20220819T08Z, 0),
        ("2022-08-19T02:30:00-05:30", micros20220819T08Z, -330),
        ("2022-08-19T08:00:00+00:00", micros20220819T08Z, 0),
        ("2022-08-19T08:00:00.5Z", micros20220819T08Z + 500_000, 0),
        ("2022-08-19T16:00:00.123456+08:00", micros20220819T08Z + 123_456, 480),
        ("2022-08-19T16:00:00.1234567+08:00", micros20220819T08Z + 123_456, 480),
        ("1970-01-01T00:00:00Z", 0, 0),
        ("1970-01-01T07:59:59+08:00", -1_000_000, 480),
    ])
    func parses(_ text: String, _ micros: Int64, _ offset: Int32) throws {
        let t = try #require(Timestamp(rfc3339: text))

        #expect(t.micros == micros)
        #expect(t.offsetMinutes == offset)
    }

    @Test("a moment as a clerk reads it: the date and minute in UTC+8, hours and minutes with two digits", arguments: [
        ("2022-08-19T16:00:00+08:00", "2022年8月19日 16:00", "2022年8月19日", "8月19日"),
        ("2022-08-19T15:59:59Z", "2022年8月19日 23:59", "2022年8月19日", "8月19日"),
        ("2022-08-19T16:05:00Z", "2022年8月20日 00:05", "2022年8月20日", "8月20日"),
        ("2022-12-31T16:00:00Z", "2023年1月1日 00:00", "2023年1月1日", "1月1日"),
        ("1969-12-31T15:59:00Z", "1969年12月31日 23:59", "1969年12月31日", "12月31日"),
    ])
    func chineseForms(_ text: String, _ minute: String, _ date: String, _ monthDay: String) throws {
        let t = try #require(Timestamp(rfc3339: text))
        #expect(t.chineseMinute == minute)
        #expect(t.chineseDate == date)
        #expect(t.chineseMonthDay == monthDay)
    }

    @Test("leap years are honoured")
    func leapYears() {
        #expect(Timestamp(rfc3339: "2024-02-29T12:00:00+08:00") != nil)
        #expect(Timestamp(rfc3339: "2000-02-29T12:00:00+08:00") != nil)
        #expect(Timestamp(rfc3339: "2022-02-29T12:00:00+08:00") == nil)
        #expect(Timestamp(rfc3339: "1900-02-29T12:00:00+08:00") == nil)
    }

    @Test("anything but an RFC 3339 date-time with an offset is refused", arguments: [
        "", "2022-08-19", "2022-08-19T16:00:00", "2022-08-19T16:00:00.5", "2022-08-19T16:00+08:00",
        "2022-02-30T10:00:00+08:00", "2022-04-31T10:00:00+08:00", "2022-13-01T10:00:00+08:00",
        "2022-00-10T10:00:00+08:00", "2022-08-00T10:00:00+08:00", "2022-08-19T24:00:00+08:00",
        "2022-08-19T16:60:00+08:00", "2022-8-19T16:00:00+08:00", "2022/08/19T16:00:00+08:00",
        "2022-08-19T16:00:00+0800", "2022-08-19T16:00:00+08", "2022-08-19T16:00:00+24:00",
        "2022-08-19T16:00:00.Z", "2022-08-19T16:00:00ZZ", "2022-08-19T16:00:00+08:00 ",
        " 2022-08-19T16:00:00+08:00", "2022-08-19T16:00:00 +08:00", "2022-08-19X16:00:00Z",
        "２０２２-08-19T16:00:00Z",
    ])
    func refuses(_ text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test("rfc3339 writes the moment back with the offset it came in", arguments: [
        "2022-08-19T16:00:00+08:00", "2022-08-19T08:00:00Z", "2022-08-19T02:30:00-05:30",
        "2022-08-19T08:00:00.5Z", "2022-08-19T16:00:00.123456+08:00", "2022-12-31T23:59:59.000001+08:00",
        "1969-12-31T23:59:59.999999-05:30", "2024-02-29T00:00:00+14:00",
    ])
    func roundTrip(_ text: String) throws {
        let t = try #require(Timestamp(rfc3339: text))

        #expect(t.rfc3339 == text)
        #expect(t.description == text)
        #expect(Timestamp(rfc3339: t.rfc3339)?.isIdentical(to: t) == true)
    }

    @Test("the same moment in two offsets is equal but not identical, and writes differently")
    func sameMomentTwoOffsets() throws {
        let china = try #require(Timestamp(rfc3339: "2022-08-19T16:00:00+08:00"))
        let utc = try #require(Timestamp(rfc3339: "2022-08-19T08:00:00Z"))

        #expect(china == utc)
        #expect(!china.isIdentical(to: utc))
        #expect(china.hashValue == utc.hashValue)
        #expect(china.inOffset(0).rfc3339 == "2022-08-19T08:00:00Z")
        #expect(utc.inOffset(480).rfc3339 == "2022-08-19T16:00:00+08:00")
        #expect(china.inOffset(0).isIdentical(to: utc))
    }

    @Test("timestamps order by moment, whatever their offsets")
    func ordering() throws {
        let a = try #require(Timestamp(rfc3339: "2022-08-19T16:00:00+08:00"))
        let b = try #require(Timestamp(rfc3339: "2022-08-19T08:00:01Z"))
        let c = try #require(Timestamp(rfc3339: "2022-08-19T03:00:02-05:00"))

        #expect(a < b && b < c)
        #expect([c, a, b].sorted() == [a, b, c])
    }

    @Test("adding seconds keeps the offset")
    func adding() throws {
        let t = try #require(Timestamp(rfc3339: "2022-08-19T23:30:00+08:00"))

        #expect(t.adding(seconds: 3600).rfc3339 == "2022-08-20T00:30:00+08:00")
        #expect(t.adding(seconds: -86_400).rfc3339 == "2022-08-18T23:30:00+08:00")
    }

    @Test("a local time as offices write it is taken in UTC+8", arguments: [
        "2022-08-26 18:00", "2022-08-26 18:00:00", "2022/8/26 18:00", "2022-08-26T18:00", "  2022-08-26 18:00 ",
    ])
    func localTime(_ text: String) throws {
        let t = try #require(Timestamp(local: text))

        #expect(t.offsetMinutes == 480)
        #expect(t == Timestamp(rfc3339: "2022-08-26T10:00:00Z"))
        #expect(t.rfc3339 == "2022-08-26T18:00:00+08:00")
    }

    @Test("a local date alone is midnight in UTC+8")
    func localDate() throws {
        let t = try #require(Timestamp(local: "2022-08-26"))

        #expect(t.rfc3339 == "2022-08-26T00:00:00+08:00")
    }

    @Test("a local time accepts RFC 3339 and keeps its offset")
    func localAcceptsRFC3339() throws {
        let t = try #require(Timestamp(local: "2022-08-26T18:00:00Z"))

        #expect(t.offsetMinutes == 0)
        #expect(t.rfc3339 == "2022-08-26T18:00:00Z")
    }

    @Test("impossible local times are refused", arguments: [
        "", "2022-02-30 10:00", "2022-08-26 24:00", "2022-08-26 18:60", "22-08-26 18:00", "2022-08-26 18",
        "2022-08-26 18:00:60", "明天 18:00", "2022-08-26 18:00 extra",
    ])
    func badLocalTimes(_ text: String) {
        #expect(Timestamp(local: text) == nil)
    }

    @Test("chinaDate is the calendar date in UTC+8, across midnight", arguments: [
        ("2022-08-19T15:59:59Z", "2022-08-19"),
        ("2022-08-19T16:00:00Z", "2022-08-20"),
        ("2022-08-19T23:59:59.999999+08:00", "2022-08-19"),
        ("2022-08-20T00:00:00+08:00", "2022-08-20"),
        ("2022-08-19T11:00:00-05:00", "2022-08-20"),
        ("2022-12-31T16:00:00Z", "2023-01-01"),
        ("1970-01-01T00:00:00+08:00", "1970-01-01"),
        ("1969-12-31T15:59:59Z", "1969-12-31"),
    ])
    func chinaDate(_ text: String, _ date: String) throws {
        let t = try #require(Timestamp(rfc3339: text))

        #expect(t.chinaDate == date)
    }

    @Test("the start of a China day is its midnight in UTC+8, and lies on that day")
    func startOfChinaDay() throws {
        let t = try #require(Timestamp(rfc3339: "2022-08-19T23:59:59+08:00"))

        let start = Timestamp.startOfChinaDay(t.chinaDay)

        #expect(start.rfc3339 == "2022-08-19T00:00:00+08:00")
        #expect(start.chinaDay == t.chinaDay)
        #expect(start.adding(seconds: -1).chinaDay == t.chinaDay - 1)
        #expect(start.adding(seconds: 86_400).chinaDate == "2022-08-20")
    }
}

@Suite("Spreadsheet columns as Excel names them")
struct SpreadsheetColumnTests {
    @Test("0 is A, 25 Z, 26 AA, 701 ZZ, 702 AAA", arguments: [(0, "A"), (5, "F"), (25, "Z"), (26, "AA"), (27, "AB"), (701, "ZZ"), (702, "AAA")])
    func letters(k: Int, expected: String) {
        #expect(SpreadsheetColumn.letters(k) == expected)
    }
}
