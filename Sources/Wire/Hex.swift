extension Sequence<UInt8> {
    /// Lowercase hex, two digits a byte.
    public var hex: String {
        var out = [UInt8]()
        out.reserveCapacity(underestimatedCount * 2)
        for b in self {
            out.append(hexDigits[Int(b >> 4)])
            out.append(hexDigits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

private let hexDigits = Array("0123456789abcdef".utf8)

extension Array where Element == UInt8 {
    /// The bytes of `hex` (upper or lower case digits, an even number of them); nil otherwise.
    public init?(hex: some StringProtocol) {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(digits.count / 2)
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x61...0x66: c - 0x61 + 10
            case 0x41...0x46: c - 0x41 + 10
            default: nil
            }
        }
        var k = 0
        while k < digits.count {
            guard let high = value(digits[k]), let low = value(digits[k + 1]) else { return nil }
            bytes.append(high << 4 | low)
            k += 2
        }
        self = bytes
    }
}
