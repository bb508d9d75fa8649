/// The tests' one hex decoder, for byte-exact vectors.
package enum Hex {
    /// The bytes of a string of hex digit pairs; traps on anything else, since vectors are fixed test data.
    package static func decode(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count / 2)
        var i = s.startIndex
        while i < s.endIndex {
            let j = s.index(i, offsetBy: 2)
            out.append(UInt8(s[i..<j], radix: 16)!)
            i = j
        }
        return out
    }
}
