import Campaign
import EventLog
import Wire

extension EventCodec {
    /// The recorded event of an entry read in place.
    /// - Throws: `LogDamage` naming its seq when its event does not decode.
    public static func recorded(_ entry: EntryView, reading: Reading = .whole) throws -> RecordedEvent {
        do {
            return RecordedEvent(seq: entry.seq, version: entry.version, recordedAt: Timestamp(micros: entry.recordedAtMicros),
                                 event: try decode(entry.body, id: entry.idString, subject: entry.subjectString, reading: reading))
        } catch {
            throw LogDamage(seq: entry.seq, problem: "event does not decode (not a civic.v1.Event civic can read)")
        }
    }
}
