import JSON
import Testing

/// Parses `text`'s UTF-8 bytes.
private func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

/// Whether the parser refuses `bytes`.
private func refuses(_ bytes: [UInt8]) -> Bool {
    do { _ = try JSONParser.parse(bytes); return false } catch { return true }
}

/// Whether the parser refuses `text`.
private func refuses(_ text: String) -> Bool { refuses(Array(text.utf8)) }

/// `depth` arrays nested in one another, e.g. `[[[]]]` for 3.
private func nestedArrays(_ depth: Int) -> String { String(repeating: "[", count: depth) + String(repeating: "]", count: depth) }

@Suite("JSON reading: every kind of value")
struct ValueKindTests {
    @Test("null, booleans, numbers, strings, arrays and objects parse to their cases")
    func everyKind() throws {
        #expect(try parse("null") == .null)
        #expect(try parse("true") == .bool(true))
        #expect(try parse("false") == .bool(false))
        #expect(try parse("42") == .number("42"))
        #expect(try parse(#""城管""#) == .string("城管"))
        #expect(try parse("[]") == .array([]))
        #expect(try parse("{}") == .object([]))
        #expect(try parse(#"[1,"a",null,true,{"k":[false]}]"#)
            == .array([.number("1"), .string("a"), .null, .bool(true), .object([("k", .array([.bool(false)]))])]))
    }

    @Test("spaces, tabs and newlines are allowed around the document and between tokens")
    func whitespace() throws {
        #expect(try parse(" \t\r\n { \"a\" : [ 1 , 2 ] } \n") == .object([("a", .array([.number("1"), .number("2")]))]))
    }

    @Test("an empty document, or one of spaces only, is refused")
    func emptyDocument() {
        #expect(refuses(""))
        #expect(refuses("   \n"))
    }

    @Test("literals must be spelled exactly")
    func literals() {
        for text in ["tru", "nul", "fals", "True", "NULL", "nil", "undefined"] {
            #expect(refuses(text), "\(text)")
        }
    }

    @Test("the subscript finds an object member by key, and is nil for absent keys and for non-objects")
    func subscriptByKey() throws {
        let value = try parse(#"{"a":1,"b":{"c":"d"}}"#)
        #expect(value["a"] == .number("1"))
        #expect(value["b"]?["c"] == .string("d"))
        #expect(value["z"] == nil)
        #expect(JSONValue.array([.number("1")])["a"] == nil)
    }
}

@Suite("JSON reading: objects")
struct ObjectTests {
    @Test("object members keep the order they were written in")
    func memberOrderKept() throws {
        let value = try parse(#"{"z":1,"a":2,"m":3,"b":4}"#)
        guard case .object(let members) = value else {
            Issue.record("not an object: \(value)")
            return
        }
        #expect(members.map(\.key) == ["z", "a", "m", "b"])
        #expect(members.map(\.value) == [.number("1"), .number("2"), .number("3"), .number("4")])
    }

    @Test("two objects with the same members in another order are not equal")
    func orderMattersForEquality() throws {
        #expect(try parse(#"{"a":1,"b":2}"#) != parse(#"{"b":2,"a":1}"#))
        #expect(try parse(#"{"a":1,"b":2}"#) == parse(#"{ "a" : 1 , "b" : 2 }"#))
    }

    @Test("a key repeated in one object is refused, at any depth and however it is escaped")
    func duplicateKeysRefused() throws {
        #expect(refuses(#"{"a":1,"a":2}"#))
        #expect(refuses(#"{"a":1,"b":2,"a":1}"#))
        #expect(refuses(#"[{"x":{"k":1,"k":1}}]"#))
        #expect(refuses(#"{"a":1,"\u0061":2}"#))
        let error = #expect(throws: JSONSyntaxError.self) { try parse(#"{"id":1,"id":2}"#) }
        #expect(error?.reason.contains("id") == true)
    }

    @Test("in a large object, too, every key is checked: distinct keys pass, a repeated one is refused")
    func duplicateKeysInLargeObjects() throws {
        let keys = (0..<20_000).map { "\"k\($0)\":\($0)" }
        let fine = try JSONParser.parse(Array(("{" + keys.joined(separator: ",") + "}").utf8))
        #expect(fine["k19999"] == .number("19999"))
        let repeated = "{" + keys.joined(separator: ",") + ",\"k17\":1}"
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(Array(repeated.utf8)) }
        let early = "{" + keys.prefix(30).joined(separator: ",") + ",\"k3\":1}"
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(Array(early.utf8)) }
    }

    @Test("the same key in sibling or nested objects is not a duplicate")
    func sameKeyInOtherObjects() throws {
        #expect(try parse(#"[{"a":1},{"a":2}]"#) == .array([.object([("a", .number("1"))]), .object([("a", .number("2"))])]))
        #expect(try parse(#"{"a":{"a":1}}"#)["a"]?["a"] == .number("1"))
    }

    @Test("malformed objects are refused: missing colon, comma, key, closing brace; trailing comma; non-string key")
    func malformedObjects() {
        for text in [#"{"a" 1}"#, #"{"a":1 "b":2}"#, #"{"a":}"#, #"{"a":1,}"#, "{,}", "{1:2}", "{a:1}", #"{"a":1"#, "{", #"{"a""#] {
            #expect(refuses(text), "\(text)")
        }
    }

    @Test("malformed arrays are refused: trailing or leading comma, missing comma, unclosed")
    func malformedArrays() {
        for text in ["[1,]", "[,1]", "[1 2]", "[1,2", "[", "]", "[1]]"] {
            #expect(refuses(text), "\(text)")
        }
    }
}

@Suite("JSON reading: nesting depth")
struct DepthTests {
    @Test("nesting exactly maximumDepth deep is accepted; one deeper is refused")
    func depthLimit() throws {
        let limit = JSONParser.maximumDepth
        #expect(limit == 32)
        var value = try parse(nestedArrays(limit))
        var depth = 0
        while case .array(let items) = value {
            depth += 1
            guard let first = items.first else { break }
            value = first
        }
        #expect(depth == limit)
        let error = #expect(throws: JSONSyntaxError.self) { try parse(nestedArrays(limit + 1)) }
        #expect(error?.offset == limit)  // stopped at the bracket that is one too deep
    }

    @Test("objects count towards the depth like arrays")
    func objectsCount() throws {
        let atLimit = String(repeating: #"{"a":"#, count: 32) + "1" + String(repeating: "}", count: 32)
        let tooDeep = String(repeating: #"{"a":["#, count: 17) + "1" + String(repeating: "]}", count: 17)
        #expect(throws: Never.self) { try parse(atLimit) }
        #expect(refuses(tooDeep))
    }

    @Test("depth is how deep values nest, not how many brackets the document has")
    func depthIsNesting() throws {
        let manySiblings = "[" + Array(repeating: nestedArrays(JSONParser.maximumDepth - 1), count: 50).joined(separator: ",") + "]"
        #expect(throws: Never.self) { try parse(manySiblings) }
    }
}

@Suite("JSON reading: strings")
struct StringTests {
    @Test("the simple escapes decode to their characters")
    func simpleEscapes() throws {
        #expect(try parse(#""\" \\ \/ \b \f \n \r \t""#) == .string("\" \\ / \u{08} \u{0C} \n \r \t"))
    }

    @Test("\\u escapes decode, in either case of hex, including \\u0000")
    func unicodeEscapes() throws {
        #expect(try parse(#""\u4e2d\u6587""#) == .string("中文"))
        #expect(try parse(#""\u4E2D""#) == .string("中"))
        #expect(try parse(#""a\u0000b""#) == .string("a\u{0}b"))
        #expect(try parse(#""\u00e9""#) == .string("\u{E9}"))
    }

    @Test("a valid surrogate pair decodes to one scalar outside the BMP")
    func surrogatePair() throws {
        let value = try parse(#""\uD83D\uDE00 \ud842\udfb7""#)
        #expect(value == .string("😀 𠮷"))
        guard case .string(let s) = value else { return }
        #expect(s.unicodeScalars.map(\.value) == [0x1F600, 0x20, 0x20BB7])
    }

    @Test("lone or mismatched surrogate escapes are refused")
    func loneSurrogates() {
        for text in [#""\uD800""#, #""\uDC00""#, #""\uDFFF""#, #""\uD800x""#, #""\uD800\u0041""#,
                     #""\uD800\uD800""#, #""\uDE00\uD83D""#, #""\uD83D\n""#, #""\uD83D\"#] {
            #expect(refuses(text), "\(text)")
        }
    }

    @Test("malformed escapes are refused: unknown letter, short or non-hex \\u, escape at the end")
    func malformedEscapes() {
        for text in [#""\x""#, #""\a""#, #""\U0041""#, #""\u12""#, #""\u12G4""#, #""\u""#, #""abc\"#, #""\'""#] {
            #expect(refuses(text), "\(text)")
        }
    }

    @Test("an unterminated string is refused")
    func unterminated() {
        #expect(refuses(#""abc"#))
        #expect(refuses(#""abc\n"#))
        #expect(refuses(#"""#))
    }

    @Test("unescaped control characters are refused, with and without other escapes in the string")
    func controlCharactersRefused() {
        for c: UInt8 in [0x00, 0x01, 0x09, 0x0A, 0x0D, 0x1F] {
            #expect(refuses([0x22, 0x61, c, 0x62, 0x22]), "raw \(c)")
            #expect(refuses([0x22, 0x5C, 0x6E, c, 0x22]), "raw \(c) after an escape")
        }
    }

    @Test("DEL and non-ASCII characters need no escape")
    func delAndNonASCIIAccepted() throws {
        #expect(try JSONParser.parse([0x22, 0x7F, 0x22]) == .string("\u{7F}"))
        #expect(try parse("\"整改 ✓ 😀\"") == .string("整改 ✓ 😀"))
    }

    @Test("invalid UTF-8 inside a string is refused: stray, truncated, overlong, encoded surrogate, too large")
    func invalidUTF8Refused() {
        let invalid: [[UInt8]] = [
            [0xFF],                    // never valid
            [0x80],                    // a continuation byte alone
            [0xE4, 0xB8],              // 中 cut short
            [0xC0, 0xAF],              // overlong '/'
            [0xE0, 0x80, 0xAF],        // overlong '/'
            [0xED, 0xA0, 0x80],        // U+D800 encoded
            [0xF4, 0x90, 0x80, 0x80],  // past U+10FFFF
        ]
        for bad in invalid {
            #expect(refuses([0x22] + bad + [0x22]), "\(bad)")
            #expect(refuses([0x22, 0x5C, 0x6E] + bad + [0x22]), "\(bad) after an escape")
            #expect(refuses([0x22] + bad + [0x5C, 0x6E, 0x22]), "\(bad) before an escape")
        }
    }

    @Test("bytes that are not JSON outside strings are refused")
    func strayBytes() {
        #expect(refuses([0xEF, 0xBB, 0xBF] + Array("{}".utf8)))  // a byte-order mark
        #expect(refuses([0x5B, 0xFF, 0x5D]))
        #expect(refuses("'single'"))
    }
}

@Suite("JSON reading: numbers and trailing content")
struct NumberTests {
    @Test("numbers are kept exactly as written")
    func numbersAsWritten() throws {
        for text in ["0", "-0", "7", "-1.5e3", "2.50", "1E+10", "1e-7", "0.000", "12345678901234567890123", "-0.0e0"] {
            #expect(try parse(text) == .number(text), "\(text)")
            #expect(try parse("[\(text)]") == .array([.number(text)]), "[\(text)]")
        }
    }

    @Test("leading zeros are refused, alone, negative, and inside arrays and objects")
    func leadingZerosRefused() {
        for text in ["01", "-01", "00", "007", "00.5", "[01]", "[1,02]", #"{"a":01}"#, "-00"] {
            #expect(refuses(text), "\(text)")
        }
    }

    @Test("malformed numbers are refused")
    func malformedNumbers() {
        for text in ["1.", ".5", "+1", "-", "1e", "1e+", "1E-", "1.e3", "--1", "- 1", "0x10", "NaN", "Infinity",
                     "-Infinity", "1_000", "[-]", "[1.]"] {
            #expect(refuses(text), "\(text)")
        }
    }

    @Test("anything after the document, spaces aside, is refused, with the offset where it starts")
    func trailingContentRefused() {
        for text in ["1 2", "{}x", "[]]", "nullx", "truefalse", #""a""b""#, "{} {}", "0 0"] {
            #expect(refuses(text), "\(text)")
        }
        let error = #expect(throws: JSONSyntaxError.self) { try parse("[1] ,") }
        #expect(error?.offset == 4)
    }
}

@Suite("JSON writing")
struct WritingTests {
    @Test("quote escapes quotes and backslashes, and control characters as \\n \\r \\t or \\u00XX")
    func quoteEscapes() {
        #expect(JSONText.quote(#"say "hi" \ bye"#) == #""say \"hi\" \\ bye""#)
        #expect(JSONText.quote("a\nb\rc\td") == #""a\nb\rc\td""#)
        #expect(JSONText.quote("\u{0}\u{1}\u{8}\u{C}\u{1F}") == #""\u0000\u0001\u0008\u000c\u001f""#)
        #expect(JSONText.quote("") == #""""#)
    }

    @Test("quote keeps Chinese, other non-ASCII, DEL and / as they are")
    func quoteKeepsUTF8() {
        let text = "城管执法大队 李显锋 😀 é / \u{7F}"
        let quoted = JSONText.quote(text)
        #expect(quoted == "\"" + text + "\"")
        #expect(Array(quoted.utf8) == [0x22] + Array(text.utf8) + [0x22])
        #expect(!quoted.contains("\\u"))
    }

    @Test("every string survives quote then parse, control characters included")
    func quoteRoundTrip() throws {
        let everyControl = String(String.UnicodeScalarView((0..<0x20).compactMap(Unicode.Scalar.init)))
        for text in [everyControl, "\"\\\"", "中文\n\"引号\"", "😀\u{0}end", "\u{2028}\u{2029}"] {
            #expect(try parse(JSONText.quote(text)) == .string(text))
        }
    }

    @Test("render gives back compact canonical input exactly")
    func renderRoundTrip() throws {
        let inputs = [
            "null", "true", "false", "0", "-1.5e3", "2.50", #""""#, #""城管""#, "[]", "{}",
            #"[1,"two",null,false,{"k":[]}]"#,
            #"{"z":1,"a":{"b":[true,{"c":"\n\"\\"}]},"m":-0}"#,
            #"{"id":"P-0819-003","status":"已销号","evidence":[{"sha256":"ab","uri":null}],"lat":30.52}"#,
            #""\u0000\u001f\t""#,
            nestedArrays(JSONParser.maximumDepth),
        ]
        for input in inputs {
            #expect(JSONText.render(try parse(input)) == input, "\(input)")
        }
    }

    @Test("render writes members in the order given, with nothing between tokens")
    func renderBuiltValue() {
        let value = JSONValue.object([("b", .int(2)), ("a", .array([.string("x"), .null])), ("c", .bool(true))])
        #expect(JSONText.render(value) == #"{"b":2,"a":["x",null],"c":true}"#)
    }

    @Test("the value helpers: int, double (integral, fractional, not finite), optional string")
    func helpers() {
        #expect(JSONValue.int(-42) == .number("-42"))
        #expect(JSONValue.int(UInt64.max) == .number("18446744073709551615"))
        #expect(JSONValue.double(3.0) == .number("3"))
        #expect(JSONValue.double(1.5) == .number("1.5"))
        #expect(JSONValue.double(.nan) == .null)
        #expect(JSONValue.double(.infinity) == .null)
        #expect(JSONValue.double(nil) == .null)
        #expect(JSONValue.string(nil) == .null)
        #expect(JSONValue.string("x") == .string("x"))
    }

    @Test("a syntax error names the byte offset, counted from 1, and the reason")
    func errorDescription() {
        let error = #expect(throws: JSONSyntaxError.self) { try parse("[1] ,") }
        #expect(error?.description == "JSON 格式错误（第 5 个字节）：" + (error?.reason ?? ""))
        #expect(error?.reason.isEmpty == false)
    }
}
