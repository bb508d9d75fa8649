/// One attribute of a decoded STUN message: its type, its value and where it stood in the raw bytes.
/// The value is a slice of the received message, not a copy.
public struct STUNAttribute: Sendable, Hashable {
    public var type: STUNAttributeType
    /// Offset of the attribute's header in the message it was decoded from (0 for built attributes).
    public var offset: Int
    let bytes: ArraySlice<UInt8>

    public init(type: STUNAttributeType, value: [UInt8], offset: Int = 0) {
        self.init(type: type, bytes: value[...], offset: offset)
    }

    init(type: STUNAttributeType, bytes: ArraySlice<UInt8>, offset: Int) {
        self.type = type
        self.bytes = bytes
        self.offset = offset
    }

    /// The value's bytes (without padding).
    public var value: [UInt8] { Array(bytes) }
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
