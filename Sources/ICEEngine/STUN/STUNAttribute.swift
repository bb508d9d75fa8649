/// One attribute of a decoded STUN message: its type, its value and where it stood in the raw bytes.
public struct STUNAttribute: Sendable, Hashable {
    public var type: STUNAttributeType
    public var value: [UInt8]
    /// Offset of the attribute's header in the message it was decoded from (0 for built attributes).
    public var offset: Int

    public init(type: STUNAttributeType, value: [UInt8], offset: Int = 0) {
        self.type = type
        self.value = value
        self.offset = offset
    }
}

/// The ERROR-CODE attribute's content (RFC 8489 §14.8).
public struct STUNErrorCode: Sendable, Hashable {
    public var code: Int
    public var reason: String

    public init(code: Int, reason: String) {
        self.code = code
        self.reason = reason
    }

    public static let badRequest = 400
    public static let unauthorized = 401
    public static let unknownAttribute = 420
    public static let staleNonce = 438
    public static let roleConflict = 487
}
