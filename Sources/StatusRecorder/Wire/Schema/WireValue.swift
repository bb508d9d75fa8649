/// One field's value where it sits in the line being read: its bytes and whether they hold escapes. A reader
/// takes the value as it needs it (a number straight from the bytes, a string only for a text field), so a line
/// of numbers builds no strings. Valid only while the decoder reads that line.
struct WireValue {
    let bytes: UnsafeBufferPointer<UInt8>
    /// The bytes hold a `\` escape, so they read through ``string``.
    let hasEscape: Bool

    /// The value of a field the stream does not have: empty.
    static var absent: WireValue { WireValue(bytes: UnsafeBufferPointer(start: nil, count: 0), hasEscape: false) }

    var isEmpty: Bool { bytes.isEmpty }

    /// The value as text, unescaped.
    var string: String {
        hasEscape ? String(decoding: Self.unescaped(bytes), as: UTF8.self) : String(decoding: bytes, as: UTF8.self)
    }

    /// Whether the value is exactly `1`.
    var isOne: Bool { hasEscape ? string == "1" : bytes.count == 1 && bytes[0] == UInt8(ascii: "1") }

    /// The value as a decimal integer, as `N(string)` reads it (an optional sign, then digits); nil when it is not
    /// one or does not fit.
    func integer<N: FixedWidthInteger>(_: N.Type = N.self) -> N? {
        if hasEscape { return N(string) }
        let count = bytes.count
        var i = 0
        var negative = false
        if count > 0, bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") {
            negative = bytes[0] == UInt8(ascii: "-")
            i = 1
        }
        guard i < count else { return nil }
        var n: N = 0
        while i < count {
            let digit = bytes[i] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (shifted, o1) = n.multipliedReportingOverflow(by: 10)
            let (next, o2) = negative ? shifted.subtractingReportingOverflow(N(digit)) : shifted.addingReportingOverflow(N(digit))
            guard !o1, !o2 else { return nil }
            n = next
            i += 1
        }
        return n
    }

    /// The bytes with each `\t`, `\n` and `\x` read back (the writer escapes tab, newline and backslash).
    static func unescaped(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var escaped = false
        for b in bytes {
            if escaped {
                out.append(b == UInt8(ascii: "t") ? 9 : b == UInt8(ascii: "n") ? 10 : b)
                escaped = false
            } else if b == 92 {
                escaped = true
            } else {
                out.append(b)
            }
        }
        return out
    }
}
