import Campaign
import Wire

/// The stored form of a projection at a seq: either whole (a full snapshot) or only what changed since
/// the snapshot before it (a delta). A projection restored from a full snapshot and the deltas after
/// it, in order, is the projection of the log up to the last of them (docs/storage.md, "Snapshots").
///
/// Bytes: `CIVVIEW` and a format byte, a 64-bit checksum of the payload (8 bytes, little-endian), then
/// the payload, written with the untagged values of `Wire` (varints, zigzag varints, length-prefixed
/// strings): the header (`Header`), the names and problem ids made since the base, the problems changed,
/// then the lists, burn-down days, zero-out records, unit names, units assigned and weekly counts changed,
/// each sorted by key. The encoding is canonical: the same fold gives the same bytes, which is how
/// `civic verify` checks a stored snapshot against the log.
public enum ProjectionSnapshot {
    static let magic = Array("CIVVIEW".utf8) + [4]

    /// What a snapshot says of itself, readable without decoding the rest.
    public struct Header: Sendable, Equatable {
        /// The seq it is the projection of.
        public var seq: UInt64
        /// The snapshot it adds to (0: none, it is whole).
        public var base: UInt64
        /// The snapshot before it in the store (0: none): its block of the log is `(blockStart, seq]`.
        public var blockStart: UInt64
        /// The latest business time of every event up to `seq`.
        public var latestTime: Timestamp?
        /// The earliest business time among the events of its block.
        public var earliestInBlock: Timestamp?
        public var isFull: Bool { base == 0 }
    }

    public struct Damaged: Error, Sendable {}

    /// The snapshot of `projection` (folded at the end of time): whole, or only what changed since noting
    /// started at the snapshot `base` (`Projection.startNoting`). `blockStart` is the seq of the snapshot
    /// before it in the store. Noting starts afresh for the next one.
    public static func take(_ projection: inout Projection, base: UInt64?, blockStart: UInt64) -> [UInt8] {
        precondition(projection.keepsWeeks, "a snapshot holds the weekly counts: take it of a projection that keeps them")
        let changes = projection.changes ?? Projection.Changes(slotsBefore: 0, namesBefore: 0)
        let p = projection.problems
        let whole = base == nil
        let slotsFrom = whole ? 0 : changes.slotsBefore
        // Room for the records and strings at once: grown by doubling, a whole one of 16 MB was copied
        // eight times, each time into fresh pages.
        var room: [UInt8] = []
        room.reserveInLargePages((p.count - slotsFrom) * (ProblemRecord.size + 16) + changes.slots.count * 24
                                 + (whole ? p.names.bytes.count : 0) + (1 << 16))
        var w = WireWriter(into: consume room)
        // The magic and room for the checksum first: the payload is then not copied behind them.
        w.bytes.append(contentsOf: magic)
        w.bytes.append(contentsOf: repeatElement(0, count: 8))
        w.varint(projection.seq)
        w.varint(base ?? 0)
        w.varint(blockStart)
        time(&w, projection.latestTime)
        time(&w, changes.earliest)
        // Names and ids made since the base.
        let namesFrom = whole ? 0 : changes.namesBefore
        w.varint(UInt64(namesFrom))
        let names = p.names.suffix(from: namesFrom)
        strings(&w, names)
        w.varint(UInt64(slotsFrom))
        strings(&w, p.ids.suffix(from: slotsFrom))
        // Problems: those made since the base, as stored, slot after slot; then those changed before it, by slot.
        let added = p.recordBytes[(slotsFrom * ProblemRecord.size)...]
        w.lengthPrefixed(added)
        // A changed record as the bytes that changed: which of its 64 (a mask), then those bytes.
        let changed = whole ? [] : changes.slots.filter { Int($0) < slotsFrom }.sorted()
        w.varint(UInt64(changed.count))
        var previous: Int32 = -1
        var original = [UInt8](repeating: 0, count: ProblemRecord.size)
        for slot in changed {
            w.varint(UInt64(slot - previous - 1))
            previous = slot
            original.withUnsafeMutableBytes { changes.originals[slot]!.write(into: $0) }
            let now = p.recordBytes[(Int(slot) * ProblemRecord.size)..<((Int(slot) + 1) * ProblemRecord.size)]
            var mask: UInt64 = 0
            for (k, byte) in now.enumerated() where byte != original[k] { mask |= 1 << UInt64(k) }
            w.fixed64(mask)
            for (k, byte) in now.enumerated() where mask & (1 << UInt64(k)) != 0 { w.byte(byte) }
        }
        func keys<K: Comparable>(_ all: some Collection<K>, _ changed: Set<K>) -> [K] { whole ? all.sorted() : changed.sorted() }
        let batches = keys(projection.batches.keys, changes.batches)
        w.varint(UInt64(batches.count))
        for n in batches {
            let b = projection.batches[n]!
            w.varint(UInt64(n))
            w.string(b.opening.name)
            w.varint(UInt64(b.opening.source.number))
            time(&w, b.opening.dueAt)
            time(&w, b.openedAt)
        }
        let days = keys(projection.outstandingChanges.keys, changes.outstanding)
        w.varint(UInt64(days.count))
        for key in days {
            w.varint(UInt64(key.batch))
            w.zigzag(key.day)
            w.zigzag(Int64(projection.outstandingChanges[key] ?? 0))
        }
        let zero = keys(projection.zeroRecords.keys, changes.zero)
        w.varint(UInt64(zero.count))
        for key in zero {
            let r = projection.zeroRecords[key] ?? ZeroRecord()
            w.varint(UInt64(key.batch))
            w.zigzag(Int64(key.unit))
            w.zigzag(Int64(r.counted))
            w.zigzag(Int64(r.closed))
            time(&w, r.zeroedAt)
            time(&w, r.zeroedRecordedAt)
        }
        let named = keys(projection.registeredNames.keys, changes.registeredNames)
        w.varint(UInt64(named.count))
        for n in named {
            w.varint(UInt64(n))
            w.string(projection.registeredNames[n]!)
        }
        let assigned = keys(projection.unitsAssigned, changes.unitsAssigned)
        w.varint(UInt64(assigned.count))
        for n in assigned { w.varint(UInt64(n)) }
        let weeks = keys(projection.weeks.keys, changes.weeks)
        w.varint(UInt64(weeks.count))
        for key in weeks {
            let c = projection.weeks[key]!
            w.zigzag(key.day)
            w.varint(UInt64(key.unit))
            for n in [c.closed, c.rejected, c.reopened, c.escalated] { w.varint(UInt64(n)) }
        }
        projection.startNoting()
        let sum = w.bytes.withUnsafeBytes { checksum(UnsafeRawBufferPointer(rebasing: $0[(magic.count + 8)...])) }
        w.bytes.withUnsafeMutableBytes { $0.storeBytes(of: sum.littleEndian, toByteOffset: magic.count, as: UInt64.self) }
        return w.bytes
    }

    /// The header of stored snapshot `bytes`, read without checking the rest.
    /// - Throws: `Damaged` when the bytes do not begin as a snapshot of this format.
    public static func header(_ bytes: UnsafeRawBufferPointer) throws(Damaged) -> Header {
        guard bytes.count > magic.count + 8, bytes.prefix(magic.count).elementsEqual(magic) else { throw Damaged() }
        var r = WireReader(bytes, from: magic.count + 8, to: bytes.count)
        do {
            return Header(seq: try r.varint(), base: try r.varint(), blockStart: try r.varint(),
                          latestTime: try time(&r), earliestInBlock: try time(&r))
        } catch { throw Damaged() }
    }

    /// Adds stored snapshot `bytes` to `projection`: a full one to an empty projection, a delta to the
    /// projection of its base. Afterwards the projection is that of the snapshot's seq, at the end of time.
    /// Without `weeks`, the weekly counts are read (and checked) but not kept (`Projection.keepsWeeks`).
    /// `room`: the bytes of the deltas still to be added after this one, for whose problems the table
    /// makes room at once (each grows it by less than its size).
    /// - Throws: `Damaged` when the checksum fails, the bytes do not decode, or they do not follow the
    ///   projection they are added to. The projection is then unusable.
    public static func apply(_ bytes: UnsafeRawBufferPointer, to projection: inout Projection, weeks: Bool = true,
                             room: Int = 0) throws(Damaged) {
        guard bytes.count > magic.count + 8, bytes.prefix(magic.count).elementsEqual(magic) else { throw Damaged() }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[(magic.count + 8)...])
        guard checksum(payload) == UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: magic.count, as: UInt64.self)) else {
            throw Damaged()
        }
        var r = WireReader(payload)
        do {
            let seq = try r.varint(), base = try r.varint()
            _ = try r.varint()
            let latest = try time(&r)
            _ = try time(&r)
            guard base == 0 ? projection.seq == 0 && projection.problems.count == 0 : base == projection.seq, seq > base
            else { throw Damaged() }
            guard try r.varint() == UInt64(projection.problems.nameCount) else { throw Damaged() }
            let (nameBytes, nameEnds) = try strings(&r)
            projection.problems.names.append(bytes: nameBytes, ends: nameEnds)
            let slotsBefore = projection.problems.count
            guard try r.varint() == UInt64(slotsBefore) else { throw Damaged() }
            let (idBytes, idEnds) = try strings(&r)
            projection.problems.appendIDs(bytes: idBytes, ends: idEnds, room: room)
            let slotCount = slotsBefore + idEnds.count
            let names = Int32(projection.problems.nameCount)
            func name(_ n: UInt64) throws(WireReader.Malformed) -> Int32 {
                guard n < UInt64(names) else { throw WireReader.Malformed() }
                return Int32(n)
            }
            let added = try r.slice()
            guard added.count == idEnds.count * ProblemRecord.size, projection.problems.appendRecords(added, room: room) else { throw Damaged() }
            let changed = try r.count(atMost: slotsBefore)
            var slot = -1
            for _ in 0..<changed {
                slot += 1 + (try r.count(atMost: slotsBefore))
                guard slot < slotsBefore else { throw Damaged() }
                let mask = UInt64(littleEndian: try r.fixed(8).loadUnaligned(as: UInt64.self))
                let bytes = try r.fixed(mask.nonzeroBitCount)
                guard projection.problems.patch(slot, mask: mask, bytes, names: names) else { throw Damaged() }
            }
            guard projection.problems.count == slotCount else { throw Damaged() }
            for _ in 0..<(try r.count(atMost: r.remaining)) {
                let n = try name(try r.varint())
                let opening = BatchOpening(name: try r.validString(), source: try vocabulary(&r), dueAt: try requiredTime(&r))
                projection.batches[n] = BatchView(opening: opening, openedAt: try requiredTime(&r))
            }
            // The tables grown to their count at once: grown one by one, a restore of 12,000 zero-out
            // records rehashed them a dozen times, each time into fresh pages. A count is bounded by the
            // bytes left (an entry takes at least 3 or 6 of them), so no snapshot reserves past its size.
            let days = try r.count(atMost: r.remaining / 3)
            projection.outstandingChanges.reserveCapacity(projection.outstandingChanges.count + days)
            for _ in 0..<days {
                let key = DayKey(batch: try name(try r.varint()), day: try r.zigzag())
                projection.outstandingChanges[key] = Int(try r.zigzag())
            }
            let zeroRecords = try r.count(atMost: r.remaining / 6)
            projection.zeroRecords.reserveCapacity(projection.zeroRecords.count + zeroRecords)
            for _ in 0..<zeroRecords {
                let batch = try name(try r.varint())
                let unit = try r.zigzag()
                guard unit >= -1, unit < Int64(names) else { throw Damaged() }
                projection.zeroRecords[ZeroKey(batch: batch, unit: Int32(unit))] =
                    ZeroRecord(counted: Int(try r.zigzag()), closed: Int(try r.zigzag()), zeroedAt: try time(&r), zeroedRecordedAt: try time(&r))
            }
            for _ in 0..<(try r.count(atMost: r.remaining)) {
                projection.registeredNames[try name(try r.varint())] = try r.validString()
            }
            for _ in 0..<(try r.count(atMost: r.remaining)) { projection.unitsAssigned.insert(try name(try r.varint())) }
            let keep = weeks && projection.keepsWeeks
            if !keep { projection.leaveOutWeeks() }
            let weekCounts = try r.count(atMost: r.remaining / 6)
            if keep { projection.weeks.reserveCapacity(projection.weeks.count + weekCounts) }
            for _ in 0..<weekCounts {
                let key = WeekKey(day: try r.zigzag(), unit: try name(try r.varint()))
                let counts = WeekCounts(closed: try r.count(atMost: Int(Int32.max)), rejected: try r.count(atMost: Int(Int32.max)),
                                        reopened: try r.count(atMost: Int(Int32.max)), escalated: try r.count(atMost: Int(Int32.max)))
                if keep { projection.weeks[key] = counts }
            }
            guard r.isAtEnd else { throw Damaged() }
            projection.seq = seq
            projection.latestTime = latest
        } catch { throw Damaged() }
    }

    // MARK: values

    private static func time(_ w: inout WireWriter, _ t: Timestamp?) {
        guard let t else { w.byte(0); return }
        w.byte(1)
        w.zigzag(t.micros)
        w.zigzag(Int64(t.offsetMinutes))
    }

    private static func time(_ r: inout WireReader) throws(WireReader.Malformed) -> Timestamp? {
        switch try r.byte() {
        case 0: return nil
        case 1:
            let micros = try r.zigzag()
            guard let offset = Int32(exactly: try r.zigzag()), abs(offset) < 24 * 60 else { throw WireReader.Malformed() }
            return Timestamp(micros: micros, offsetMinutes: offset)
        default: throw WireReader.Malformed()
        }
    }

    private static func requiredTime(_ r: inout WireReader) throws(WireReader.Malformed) -> Timestamp {
        guard let t = try time(&r) else { throw WireReader.Malformed() }
        return t
    }

    private static func vocabulary<V: Vocabulary>(_ r: inout WireReader) throws(WireReader.Malformed) -> V {
        guard let v = V(number: Int(try r.count(atMost: 1 << 16))) else { throw WireReader.Malformed() }
        return v
    }

    /// Strings as their count, the length of each, then all their bytes as one length-prefixed block:
    /// read back with one UTF-8 check of the block (a snapshot holds some 200,000 ids).
    private static func strings(_ w: inout WireWriter, _ s: (bytes: ArraySlice<UInt8>, ends: [UInt32])) {
        w.varint(UInt64(s.ends.count))
        var start: UInt32 = 0
        for end in s.ends {
            w.varint(UInt64(end - start))
            start = end
        }
        w.lengthPrefixed(s.bytes)
    }

    /// Strings written by `strings(_:_:)`, as their bytes (in the snapshot's, copied once by the index
    /// that takes them) and ends. Each is UTF-8: the block is, and no string begins inside a character.
    private static func strings(_ r: inout WireReader) throws(WireReader.Malformed) -> (UnsafeRawBufferPointer, [UInt32]) {
        let n = try r.count(atMost: r.remaining)
        var ends: [UInt32] = []
        ends.reserveCapacity(n)
        var total = 0
        for _ in 0..<n {
            total += try r.count(atMost: r.remaining)
            ends.append(UInt32(truncatingIfNeeded: total))
        }
        let block = try r.slice()
        guard block.count == total, total <= Int(UInt32.max), UTF8Check.isValid(block) else { throw WireReader.Malformed() }
        for end in ends where Int(end) < total && block[Int(end)] & 0xC0 == 0x80 { throw WireReader.Malformed() }
        return (block, ends)
    }
}

/// A 64-bit checksum of `bytes`: four lanes of eight bytes each round (in the manner of xxHash64), so
/// that checking a snapshot of megabytes takes a fraction of a millisecond. It catches damage by accident;
/// a snapshot rewritten on purpose is caught by `civic verify`, which folds the log and compares.
func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    let p1: UInt64 = 0x9E37_79B1_85EB_CA87, p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    @inline(__always) func round(_ lane: UInt64, _ w: UInt64) -> UInt64 {
        let x = lane &+ w &* p2
        return (x << 31 | x >> 33) &* p1
    }
    var lanes: (UInt64, UInt64, UInt64, UInt64) = (p1 &+ p2, p2, 0, 0 &- p1)
    var i = 0
    while i + 32 <= bytes.count {
        func word(_ k: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i + k, as: UInt64.self)) }
        lanes = (round(lanes.0, word(0)), round(lanes.1, word(8)), round(lanes.2, word(16)), round(lanes.3, word(24)))
        i += 32
    }
    var h = (lanes.0 << 1 | lanes.0 >> 63) &+ (lanes.1 << 7 | lanes.1 >> 57) &+ (lanes.2 << 12 | lanes.2 >> 52)
        &+ (lanes.3 << 18 | lanes.3 >> 46) &+ UInt64(bytes.count)
    while i < bytes.count {
        h = (h ^ UInt64(bytes[i]) &* p1) &* p2
        h = h << 11 | h >> 53
        i += 1
    }
    h ^= h >> 33
    h = h &* p2
    h ^= h >> 29
    return h
}
