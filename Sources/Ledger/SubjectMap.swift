import Projections

/// Values by subject id, found by the id's bytes (`StringIndex`): no String is made and no SipHash run
/// for each look-up, and each value is changed where it lies. What a fold of a whole log keeps per
/// subject (verify keeps some 200,000 of them for a city).
struct SubjectMap<Value> {
    private var index = StringIndex()
    private(set) var values: [Value] = []

    var count: Int { values.count }

    /// The place of `subject`, nil when it has none.
    mutating func place(of subject: UnsafeRawBufferPointer) -> Int? { index.number(of: subject).map(Int.init) }

    /// The place of `subject`, made with `value` when it has none. - Returns: the place, and whether it is new.
    mutating func place(of subject: UnsafeRawBufferPointer, making value: () -> Value) -> (Int, isNew: Bool) {
        let n = Int(index.intern(subject))
        guard n == values.count else { return (n, false) }
        values.append(value())
        return (n, true)
    }

    subscript(place: Int) -> Value {
        get { values[place] }
        _modify { yield &values[place] }
    }

    /// The subject id at `place`.
    func subject(at place: Int) -> String { index[Int32(place)] }

    /// Calls `body` with the bytes of the subject id at `place`.
    func withSubject<R>(at place: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R { index.withBytes(of: place, body) }
}
