/// The 96-bit transaction id of a STUN message (RFC 8489 §6).
public struct STUNTransactionID: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt32
    public var low: UInt64

    public init(high: UInt32, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// A new id from the system's cryptographically secure generator.
    public static func random() -> STUNTransactionID {
        var rng = SystemRandomNumberGenerator()
        return STUNTransactionID(high: rng.next(), low: rng.next())
    }

    package init(bytes: UnsafeRawBufferPointer) {
        var h: UInt32 = 0
        for i in 0..<4 { h = h << 8 | UInt32(bytes[i]) }
        var l: UInt64 = 0
        for i in 4..<12 { l = l << 8 | UInt64(bytes[i]) }
        self.init(high: h, low: l)
    }

    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(12)
        for s in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: high >> UInt32(s))) }
        for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: low >> UInt64(s))) }
        return out
    }

    public var description: String {
        bytes.map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined()
    }
}
