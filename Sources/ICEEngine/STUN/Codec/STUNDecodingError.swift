/// Why bytes could not be decoded as a STUN message. Decoding never traps: every malformed input ends here.
public enum STUNDecodingError: Error, Sendable, Hashable {
    case tooShort(Int)
    case notSTUN
    case badMagicCookie
    case lengthMismatch(declared: Int, actual: Int)
    case lengthNotMultipleOfFour(Int)
    case truncatedAttribute(offset: Int)
    case attributeAfterFingerprint
    case attributeAfterIntegrity(UInt16)
    case badAttributeLength(type: UInt16, length: Int)
    case badAddressFamily(UInt8)
}
