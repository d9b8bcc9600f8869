import Campaign
import Foundation
import JSON
import Wire

/// The fast reading of an event line: straight from the bytes to the event, with no JSON tree built in
/// between. It takes only lines it is sure of (every field of the kind and shape `CloudEvents.read`
/// accepts) and gives up on anything else, leaving the line to `CloudEvents.read`, which then refuses it
/// with its message or reads it the same: the two agree on every line (a test holds them together over
/// random lines). Reading dominated a large append when the tree was built; this reads ~4× faster.
struct FastEventLine {
    private let bytes: UnsafeRawBufferPointer
    private var i = 0

    private init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Why the fast reading gave up: the line goes to the full reader.
    struct GiveUp: Error {}

    /// The event of `line`, or nil when the full reader must decide. With `actedBy`, the line must name
    /// no actor, role or unit (else nil) and takes them from it.
    static func read(_ line: UnsafeRawBufferPointer, number: Int, actedBy: Actor? = nil) -> Incoming? {
        guard line.count <= CloudEvents.maximumLineBytes, UTF8Check.isValid(line) else { return nil }
        var reader = FastEventLine(line)
        return try? reader.event(number, actedBy: actedBy)
    }

    /// Who acted, for lines that leave it to the writer: the account that signed in.
    struct Actor {
        var id: String
        var role: Role
        var unit: String?
    }

    // MARK: the envelope

    private mutating func event(_ number: Int, actedBy: Actor?) throws(GiveUp) -> Incoming {
        var specversion: String?, id: String?, source: String?, type: String?, subject: String?, time: String?
        var actor: String?, actorRole: String?, actorUnit: String?, contentType: String?
        var expected: UInt64?
        var data: Range<Int>?
        var parsedData: EventData?
        var seen = 0 as UInt32
        try members { r, key throws(GiveUp) in
            func once(_ bit: UInt32) throws(GiveUp) {
                guard seen & bit == 0 else { throw GiveUp() }
                seen |= bit
            }
            switch key {
            case "specversion": try once(1 << 0); specversion = try r.text()
            case "id": try once(1 << 1); id = try r.text()
            case "source": try once(1 << 2); source = try r.text()
            case "type": try once(1 << 3); type = try r.text()
            case "subject": try once(1 << 4); subject = try r.text()
            case "time": try once(1 << 5); time = try r.text()
            case "actor": try once(1 << 6); actor = try r.text()
            case "actorrole": try once(1 << 7); actorRole = try r.text()
            case "actorunit": try once(1 << 8); actorUnit = try r.text()
            case "datacontenttype": try once(1 << 9); contentType = try r.text()
            case "expectedversion":
                try once(1 << 10)
                if !r.null() {
                    guard let n = UInt64(try r.numberText()) else { throw GiveUp() }
                    expected = n
                }
            case "data":
                try once(1 << 11)
                r.space()
                guard r.peek == UInt8(ascii: "{") else { throw GiveUp() }
                if let typeName = type, let known = EventType(rawValue: typeName) {
                    parsedData = try r.data(known)  // the type came first, as it usually does
                } else {
                    let start = r.i
                    try r.skipValue()
                    data = start..<r.i
                }
            // Accepted and not read: what an export adds, and dataschema.
            case "dataschema": try once(1 << 12); try r.skipValue()
            case "seq": try once(1 << 13); try r.skipValue()
            case "version": try once(1 << 14); try r.skipValue()
            case "recordedat": try once(1 << 15); try r.skipValue()
            case "recordedby": try once(1 << 16); try r.skipValue()
            case "prevhash": try once(1 << 17); try r.skipValue()
            case "hash": try once(1 << 18); try r.skipValue()
            default: throw GiveUp()
            }
        }
        space()
        if let actedBy {
            guard seen & (1 << 6 | 1 << 7 | 1 << 8) == 0 else { throw GiveUp() }
            (actor, actorRole, actorUnit) = (actedBy.id, actedBy.role.rawValue, actedBy.unit)
        }
        guard i == bytes.count, specversion == "1.0", let typeName = type, let eventType = EventType(rawValue: typeName),
              let id, let source, let subject, let time, let moment = Timestamp(rfc3339: time), let actor,
              let roleName = actorRole, let role = Role(rawValue: roleName), data != nil || parsedData != nil
        else { throw GiveUp() }
        if let contentType, !contentType.hasPrefix("application/json") { throw GiveUp() }
        let eventData: EventData
        if let parsedData { eventData = parsedData } else {
            var inner = FastEventLine(UnsafeRawBufferPointer(rebasing: bytes[data!]))
            eventData = try inner.data(eventType)
            inner.space()
            guard inner.i == inner.bytes.count else { throw GiveUp() }
        }
        return Incoming(line: number, event: Event(id: id, source: source, subject: subject, time: moment, actor: actor, role: role,
                                                   actorUnit: actorUnit, data: eventData), expectedVersion: expected)
    }

    // MARK: data, by type

    /// The keys of each type's data, in a fixed order: the slots its texts are read into.
    private static func keys(_ type: EventType) -> [StaticString] {
        switch type {
        case .unitRegistered: unitKeys
        case .batchOpened: batchKeys
        case .problemReported: reportKeys
        case .problemAssigned: assignKeys
        case .deadlineExtended: extendKeys
        case .rectificationSubmitted: submitKeys
        case .rectificationVerified: verifyKeys
        case .rectificationRejected, .problemWithdrawn, .accountabilityRevoked: reasonKeys
        case .problemEscalated: escalateKeys
        case .problemReopened: reopenKeys
        case .accountabilityRecorded: accountabilityKeys
        case .accountEnrolled, .accountChanged, .accountRevoked: []  // rare: read by the JSON reading
        }
    }
    private static let unitKeys: [StaticString] = ["name", "kind", "parent", "leader"]
    private static let batchKeys: [StaticString] = ["name", "source", "dueAt"]
    private static let reportKeys: [StaticString] = ["batch", "source", "category", "description", "location", "evidence"]
    private static let assignKeys: [StaticString] = ["unit", "leader", "deadline"]
    private static let extendKeys: [StaticString] = ["deadline", "reason"]
    private static let submitKeys: [StaticString] = ["summary", "evidence"]
    private static let verifyKeys: [StaticString] = ["note"]
    private static let reasonKeys: [StaticString] = ["reason"]
    private static let escalateKeys: [StaticString] = ["to", "reason"]
    private static let reopenKeys: [StaticString] = ["reason", "deadline", "unit"]
    private static let accountabilityKeys: [StaticString] = ["target", "measure", "reason", "problems"]

    /// Texts by slot: fixed fields, no dictionary (a large append reads a million of these).
    private struct Slots {
        var t0: String?, t1: String?, t2: String?, t3: String?
        subscript(k: Int) -> String? {
            get {
                switch k {
                case 0: t0
                case 1: t1
                case 2: t2
                default: t3
                }
            }
            set {
                switch k {
                case 0: t0 = newValue
                case 1: t1 = newValue
                case 2: t2 = newValue
                default: t3 = newValue
                }
            }
        }
    }

    private mutating func data(_ type: EventType) throws(GiveUp) -> EventData {
        let keys = Self.keys(type)
        var s = Slots()
        var location: Location?
        var target: AccountabilityTarget?
        var evidence: [Evidence]?
        var problems: [String]?
        var seen = 0
        try object { r, key throws(GiveUp) in
            guard let k = keys.firstIndex(where: { $0 ~= key }), seen & (1 << k) == 0 else { throw GiveUp() }
            seen |= 1 << k
            switch key {
            case "location":
                if r.null() { return }
                location = try r.location()
            case "target":
                if r.null() { return }
                target = try r.target()
            case "evidence":
                if r.null() { return }
                evidence = try r.evidence()
            case "problems":
                if r.null() { return }
                problems = try r.stringArray()
            default:
                guard k < 4 else { throw GiveUp() }
                s[k] = try r.text()
            }
        }
        func required(_ k: Int) throws(GiveUp) -> String {
            guard let v = s[k] else { throw GiveUp() }
            return v
        }
        func time(_ k: Int) throws(GiveUp) -> Timestamp {
            guard let t = Timestamp(rfc3339: try required(k)) else { throw GiveUp() }
            return t
        }
        func code<V: Vocabulary>(_ k: Int) throws(GiveUp) -> V {
            guard let v = V(rawValue: try required(k)) else { throw GiveUp() }
            return v
        }
        switch type {
        case .unitRegistered:
            return .unitRegistered(UnitRegistration(name: try required(0), kind: try code(1), parent: s[2], leader: s[3]))
        case .batchOpened:
            return .batchOpened(BatchOpening(name: try required(0), source: try code(1), dueAt: try time(2)))
        case .problemReported:
            guard let location else { throw GiveUp() }
            return .problemReported(ProblemReport(batch: s[0], source: try code(1), category: try code(2),
                                                  description: try required(3), location: location, evidence: evidence ?? []))
        case .problemAssigned:
            return .problemAssigned(Assignment(unit: try required(0), leader: s[1], deadline: try time(2)))
        case .deadlineExtended:
            return .deadlineExtended(DeadlineExtension(deadline: try time(0), reason: try required(1)))
        case .rectificationSubmitted:
            guard let evidence else { throw GiveUp() }
            return .rectificationSubmitted(Rectification(summary: try required(0), evidence: evidence))
        case .rectificationVerified: return .rectificationVerified(note: s[0])
        case .rectificationRejected: return .rectificationRejected(reason: try required(0))
        case .problemEscalated: return .problemEscalated(Escalation(to: try required(0), reason: try required(1)))
        case .problemReopened:
            return .problemReopened(Reopening(reason: try required(0), deadline: try time(1), unit: s[2]))
        case .problemWithdrawn: return .problemWithdrawn(reason: try required(0))
        case .accountabilityRecorded:
            guard let target, let problems else { throw GiveUp() }
            return .accountabilityRecorded(Accountability(target: target, measure: try code(1), reason: try required(2), problems: problems))
        case .accountabilityRevoked: return .accountabilityRevoked(reason: try required(0))
        case .accountEnrolled, .accountChanged, .accountRevoked: throw GiveUp()
        }
    }

    private mutating func location() throws(GiveUp) -> Location {
        var area: String?, street: String?, point: String?
        var lat: Double?, lon: Double?
        var seen = 0
        try object { r, key throws(GiveUp) in
            func once(_ bit: Int) throws(GiveUp) {
                guard seen & bit == 0 else { throw GiveUp() }
                seen |= bit
            }
            switch key {
            case "area": try once(1); area = try r.text()
            case "street": try once(2); street = try r.text()
            case "point": try once(4); point = try r.text()
            case "lat": try once(8); lat = try r.double()
            case "lon": try once(16); lon = try r.double()
            default: throw GiveUp()
            }
        }
        guard let area else { throw GiveUp() }
        return Location(area: area, street: street, point: point, lat: lat, lon: lon)
    }

    private mutating func target() throws(GiveUp) -> AccountabilityTarget {
        var kind: String?, id: String?, name: String?, unit: String?
        var seen = 0
        try object { r, key throws(GiveUp) in
            func once(_ bit: Int) throws(GiveUp) {
                guard seen & bit == 0 else { throw GiveUp() }
                seen |= bit
            }
            switch key {
            case "kind": try once(1); kind = try r.text()
            case "id": try once(2); id = try r.text()
            case "name": try once(4); name = try r.text()
            case "unit": try once(8); unit = try r.text()
            default: throw GiveUp()
            }
        }
        guard let kindName = kind, let kind = TargetKind(rawValue: kindName), let id else { throw GiveUp() }
        return AccountabilityTarget(kind: kind, id: id, name: name, unit: unit)
    }

    private mutating func evidence() throws(GiveUp) -> [Evidence] {
        var list: [Evidence] = []
        try array { r throws(GiveUp) in
            var sha: String?, uri: String?, caption: String?
            var seen = 0
            try r.object { r, key throws(GiveUp) in
                func once(_ bit: Int) throws(GiveUp) {
                    guard seen & bit == 0 else { throw GiveUp() }
                    seen |= bit
                }
                switch key {
                case "sha256": try once(1); sha = try r.text()
                case "uri": try once(2); uri = try r.text()
                case "caption": try once(4); caption = try r.text()
                default: throw GiveUp()
                }
            }
            guard let sha else { throw GiveUp() }
            list.append(Evidence(sha256: sha, uri: uri, caption: caption))
        }
        return list
    }

    private mutating func stringArray() throws(GiveUp) -> [String] {
        var list: [String] = []
        try array { r throws(GiveUp) in
            r.space()
            guard r.peek == UInt8(ascii: "\"") else { throw GiveUp() }
            list.append(try r.string(checkingControls: false))
        }
        return list
    }

    // MARK: JSON

    /// A member's key, as its bytes in the line (a key with an escape gives up: the full reader decides).
    struct Key {
        let bytes: UnsafeRawBufferPointer
        static func ~= (pattern: StaticString, key: Key) -> Bool {
            pattern.utf8CodeUnitCount == key.bytes.count
                && (key.bytes.count == 0 || memcmp(pattern.utf8Start, key.bytes.baseAddress!, key.bytes.count) == 0)
        }
        var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    private mutating func keyBytes() throws(GiveUp) -> Key {
        i += 1
        let start = i
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                defer { i += 1 }
                return Key(bytes: UnsafeRawBufferPointer(rebasing: bytes[start..<i]))
            }
            if c == UInt8(ascii: "\\") || c < 0x20 { throw GiveUp() }
            i += 1
        }
        throw GiveUp()
    }

    private var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

    private mutating func space() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    private mutating func expect(_ c: UInt8) throws(GiveUp) {
        space()
        guard i < bytes.count, bytes[i] == c else { throw GiveUp() }
        i += 1
    }

    /// `null`, taken when it is next.
    private mutating func null() -> Bool {
        space()
        guard i + 4 <= bytes.count, bytes[i] == 0x6E, bytes[i + 1] == 0x75, bytes[i + 2] == 0x6C, bytes[i + 3] == 0x6C else { return false }
        i += 4
        return true
    }

    /// The members of the object that starts here, each key given to `body` to read its value.
    private mutating func object(_ body: (inout FastEventLine, Key) throws(GiveUp) -> Void) throws(GiveUp) {
        try expect(UInt8(ascii: "{"))
        space()
        if peek == UInt8(ascii: "}") { i += 1; return }
        while true {
            space()
            guard peek == UInt8(ascii: "\"") else { throw GiveUp() }
            let key = try keyBytes()
            try expect(UInt8(ascii: ":"))
            try body(&self, key)
            space()
            guard let c = peek else { throw GiveUp() }
            i += 1
            if c == UInt8(ascii: ",") { continue }
            if c == UInt8(ascii: "}") { return }
            throw GiveUp()
        }
    }

    /// The members of the event's own object (the whole line).
    private mutating func members(_ body: (inout FastEventLine, Key) throws(GiveUp) -> Void) throws(GiveUp) {
        try object(body)
    }

    private mutating func array(_ body: (inout FastEventLine) throws(GiveUp) -> Void) throws(GiveUp) {
        try expect(UInt8(ascii: "["))
        space()
        if peek == UInt8(ascii: "]") { i += 1; return }
        while true {
            try body(&self)
            space()
            guard let c = peek else { throw GiveUp() }
            i += 1
            if c == UInt8(ascii: ",") { continue }
            if c == UInt8(ascii: "]") { return }
            throw GiveUp()
        }
    }

    /// A string value, nil for `null`: refused (given up) for any other kind, or a control character.
    private mutating func text() throws(GiveUp) -> String? {
        if null() { return nil }
        space()
        guard peek == UInt8(ascii: "\"") else { throw GiveUp() }
        return try string(checkingControls: true)
    }

    /// A string literal; escapes other than the plain ones (`\"`, `\\`, `\/`, `\n`, `\r`, `\t`) give up.
    /// With `checkingControls`, a string holding a control character (but line ends and tabs) or DEL gives up.
    private mutating func string(checkingControls: Bool) throws(GiveUp) -> String {
        i += 1
        let start = i
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
                i += 1
                return text
            }
            if c == UInt8(ascii: "\\") { return try escaped(from: start, checkingControls: checkingControls) }
            if c < 0x20 || (checkingControls && c == 0x7F) { throw GiveUp() }
            i += 1
        }
        throw GiveUp()
    }

    private mutating func escaped(from start: Int, checkingControls: Bool) throws(GiveUp) -> String {
        var out = Array(bytes[start..<i])
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                if checkingControls, out.contains(0x7F) { throw GiveUp() }
                return String(decoding: out, as: UTF8.self)
            }
            if c < 0x20 { throw GiveUp() }
            guard c == UInt8(ascii: "\\") else { out.append(c); i += 1; continue }
            guard i + 1 < bytes.count else { throw GiveUp() }
            switch bytes[i + 1] {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            default: throw GiveUp()
            }
            i += 2
        }
        throw GiveUp()
    }

    /// The text of a number, as JSON writes numbers.
    private mutating func numberText() throws(GiveUp) -> String {
        space()
        let start = i
        if peek == UInt8(ascii: "-") { i += 1 }
        func digits(_ r: inout FastEventLine) -> Int {
            let s = r.i
            while r.i < r.bytes.count, r.bytes[r.i] >= 0x30, r.bytes[r.i] <= 0x39 { r.i += 1 }
            return r.i - s
        }
        guard i < bytes.count else { throw GiveUp() }
        if bytes[i] == 0x30 { i += 1 } else if digits(&self) == 0 { throw GiveUp() }
        if peek == UInt8(ascii: ".") {
            i += 1
            if digits(&self) == 0 { throw GiveUp() }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            i += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { i += 1 }
            if digits(&self) == 0 { throw GiveUp() }
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
    }

    private mutating func double() throws(GiveUp) -> Double? {
        if null() { return nil }
        guard let d = Double(try numberText()) else { throw GiveUp() }
        return d
    }

    /// Skips one value of any kind, checking only that it is JSON the full reader takes (duplicate keys
    /// inside it give up: they are the full reader's to refuse).
    private mutating func skipValue(depth: Int = 0) throws(GiveUp) {
        guard depth < 30 else { throw GiveUp() }
        space()
        guard let c = peek else { throw GiveUp() }
        switch c {
        case UInt8(ascii: "\""): _ = try string(checkingControls: false)
        case UInt8(ascii: "{"):
            var keys: Set<String> = []
            try object { r, key throws(GiveUp) in
                guard keys.insert(key.text).inserted else { throw GiveUp() }
                try r.skipValue(depth: depth + 1)
            }
        case UInt8(ascii: "["): try array { r throws(GiveUp) in try r.skipValue(depth: depth + 1) }
        case UInt8(ascii: "t"): try word("true")
        case UInt8(ascii: "f"): try word("false")
        case UInt8(ascii: "n"): try word("null")
        default: _ = try numberText()
        }
    }

    private mutating func word(_ w: StaticString) throws(GiveUp) {
        let n = w.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw GiveUp() }
        for k in 0..<n where bytes[i + k] != w.utf8Start[k] { throw GiveUp() }
        i += n
    }
}
