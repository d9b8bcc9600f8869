import Campaign
import Foundation

/// The names people read and the rules compare (docs/rules.md, "Identifiers"): ids of subjects, actors
/// and units, and unit names. Each must be in one Unicode form (NFC), so that two texts that look the same
/// are the same bytes for the rules, the views and the store alike; and must hold no character that
/// cannot be seen or that turns the text around (controls, format characters such as a zero-width space
/// or a byte-order mark, bidirectional overrides), so that a name cannot pass for another.
enum Identifiers {
    /// Refuses the first such text of `event`, naming its field.
    static func check(_ event: Event) throws(Refusal) {
        try check(event.subject, "subject")
        try check(event.actor, "actor")
        if let unit = event.actorUnit { try check(unit, "actorunit") }
        switch event.data {
        case .unitRegistered(let u):
            try check(u.name, "data.name")
            if let parent = u.parent { try check(parent, "data.parent") }
            for (k, alias) in u.aliases.enumerated() { try check(alias, "data.aliases[\(k)]") }
        case .problemReported(let p): if let batch = p.batch { try check(batch, "data.batch") }
        case .problemAssigned(let a): try check(a.unit, "data.unit")
        case .problemReopened(let r): if let unit = r.unit { try check(unit, "data.unit") }
        case .accountabilityRecorded(let a):
            try check(a.target.id, "data.target.id")
            if let unit = a.target.unit { try check(unit, "data.target.unit") }
            for (k, problem) in a.problems.enumerated() { try check(problem, "data.problems[\(k)]") }
        case .accountEnrolled(let a): if let unit = a.unit { try check(unit, "data.unit") }
        case .accountChanged(let c): if let unit = c.unit { try check(unit, "data.unit") }
        case .batchOpened, .deadlineExtended, .rectificationSubmitted, .rectificationVerified, .rectificationRejected,
             .problemEscalated, .problemWithdrawn, .accountabilityRevoked, .accountRevoked:
            break
        }
    }

    /// Refuses `text` unless it is NFC and holds only characters that are seen.
    static func check(_ text: String, _ field: String) throws(Refusal) {
        var ascii = true
        for byte in text.utf8 {
            if byte >= 0x80 { ascii = false; break }
            if byte < 0x20 || byte == 0x7F { throw Refusal(.malformed, "\(field) “\(visible(text))” 含控制字符：名称与编号中不能有") }
        }
        if ascii { return }
        for scalar in text.unicodeScalars where !isSeen(scalar) {
            let code = "U+" + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 4)
            throw Refusal(.malformed, "\(field) “\(visible(text))” 含不可见或改变文字方向的字符 \(code)：看起来相同的名称会被当作不同，请删去")
        }
        if !text.precomposedStringWithCanonicalMapping.utf8.elementsEqual(text.utf8) {
            throw Refusal(.malformed, "\(field) “\(text)” 不是 Unicode NFC 形式（同一个字有两种编码）：请以 NFC 形式提交，例如由输入法直接输入")
        }
    }

    private static func isSeen(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned: false
        default: !(0xFE00...0xFE0F).contains(scalar.value) && scalar.value != 0x3164 && scalar.value != 0x115F && scalar.value != 0x1160
        }
    }

    /// `text` with every unseen character written as its code, for a message.
    static func visible(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.flatMap { s -> [Unicode.Scalar] in
            isSeen(s) && s.value >= 0x20 && s.value != 0x7F ? [s] : Array("<U+\(String(s.value, radix: 16, uppercase: true))>".unicodeScalars)
        }))
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
