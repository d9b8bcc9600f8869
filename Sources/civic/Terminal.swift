import Foundation
import Ledger

/// A line on standard error that tells how far a long command has come (events done, rate, time left),
/// when standard error is a terminal; nothing when it is not (a pipe, a log file, a test).
enum Terminal {
    static let isTerminal = isatty(2) == 1

    /// The callback that keeps the line up to date, or nil when standard error is not a terminal.
    static func progress(_ verb: String) -> (@Sendable (WorkProgress) -> Void)? {
        guard isTerminal else { return nil }
        return { p in
            let rate = p.seconds > 0 ? Double(p.events) / p.seconds : 0
            var line = "\r\(verb)：\(grouped(p.events)) 个事件"
            if let total = p.total, total > 0 { line += " / \(grouped(total))" }
            line += " · 每秒 \(grouped(Int(rate)))"
            if let fraction = p.fraction, fraction > 0, fraction < 1 {
                line += " · 约 \(Int((p.seconds / fraction - p.seconds).rounded(.up))) 秒后完成"
            }
            FileHandle.standardError.write(Data((line + "\u{1B}[K").utf8))
        }
    }

    /// Ends the line, when one was drawn.
    static func done() {
        if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    static func grouped(_ n: Int) -> String {
        let digits = Array(String(n))
        var out = ""
        for (k, d) in digits.enumerated() {
            if k > 0, (digits.count - k) % 3 == 0 { out.append(",") }
            out.append(d)
        }
        return out
    }
}
