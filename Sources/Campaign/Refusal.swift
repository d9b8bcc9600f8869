/// Why an event was refused, in words a clerk understands (Chinese, with the codes).
public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// The rule broken (docs/rules.md, "Refusal codes"), as a stable English code for programs.
    public enum Rule: String, Sendable, CaseIterable {
        /// A field is missing, unknown or of the wrong shape.
        case malformed
        /// The actor's role may not append this type, or the unit is not the actor's own.
        case role
        /// Someone would verify or reject their own unit's fix, or verify their own submission.
        case separationOfDuties = "separation_of_duties"
        /// The problem (or case, unit, batch) is not in a status where this event can happen.
        case lifecycle
        /// A batch, unit or problem named does not exist.
        case reference
        /// A time lies in the future, goes backwards in its stream, or a deadline lies before the event.
        case time
        /// `expectedversion` does not match the stream.
        case concurrency
        /// The id is stored already with other content.
        case conflict
        /// The actor's account is revoked, or the event gives the actor another role or unit than its account.
        case account
    }

    public var rule: Rule
    /// The explanation, in Chinese, naming the subject, its status and the codes involved.
    public var message: String

    public init(_ rule: Rule, _ message: String) {
        self.rule = rule
        self.message = message
    }

    public var description: String { "\(message) [\(rule.rawValue)]" }
}
