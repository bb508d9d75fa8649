/// The class of a STUN message (RFC 8489 §5).
public enum STUNMessageClass: UInt16, Sendable, Hashable {
    case request = 0b00
    case indication = 0b01
    case successResponse = 0b10
    case errorResponse = 0b11
}

/// A STUN method (RFC 8489 §18.2, RFC 8656 §17).
public struct STUNMethod: RawRepresentable, Sendable, Hashable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue & 0x0FFF }

    public static let binding = STUNMethod(rawValue: 0x001)
    public static let allocate = STUNMethod(rawValue: 0x003)
    public static let refresh = STUNMethod(rawValue: 0x004)
    public static let send = STUNMethod(rawValue: 0x006)
    public static let data = STUNMethod(rawValue: 0x007)
    public static let createPermission = STUNMethod(rawValue: 0x008)
    public static let channelBind = STUNMethod(rawValue: 0x009)
}

/// A STUN message type: a method and a class, interleaved on the wire as RFC 8489 §5 describes.
public struct STUNMessageType: Sendable, Hashable, CustomStringConvertible {
    public var method: STUNMethod
    public var messageClass: STUNMessageClass

    public init(method: STUNMethod, messageClass: STUNMessageClass) {
        self.method = method
        self.messageClass = messageClass
    }

    /// Decodes the 14-bit type field; the two top bits must already be known to be zero.
    public init(rawValue: UInt16) {
        let m = rawValue
        let method = (m & 0x000F) | ((m & 0x00E0) >> 1) | ((m & 0x3E00) >> 2)
        let c = ((m & 0x0010) >> 4) | ((m & 0x0100) >> 7)
        self.method = STUNMethod(rawValue: method)
        self.messageClass = STUNMessageClass(rawValue: c)!
    }

    public var rawValue: UInt16 {
        let m = method.rawValue
        let c = messageClass.rawValue
        return (m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2) | ((c & 0b01) << 4) | ((c & 0b10) << 7)
    }

    public static let bindingRequest = STUNMessageType(method: .binding, messageClass: .request)
    public static let bindingSuccess = STUNMessageType(method: .binding, messageClass: .successResponse)
    public static let bindingError = STUNMessageType(method: .binding, messageClass: .errorResponse)
    public static let bindingIndication = STUNMessageType(method: .binding, messageClass: .indication)

    public var description: String {
        let name: String
        switch method {
        case .binding: name = "Binding"
        case .allocate: name = "Allocate"
        case .refresh: name = "Refresh"
        case .send: name = "Send"
        case .data: name = "Data"
        case .createPermission: name = "CreatePermission"
        case .channelBind: name = "ChannelBind"
        default: name = "Method(0x\(String(method.rawValue, radix: 16)))"
        }
        switch messageClass {
        case .request: return "\(name) request"
        case .indication: return "\(name) indication"
        case .successResponse: return "\(name) success response"
        case .errorResponse: return "\(name) error response"
        }
    }
}
