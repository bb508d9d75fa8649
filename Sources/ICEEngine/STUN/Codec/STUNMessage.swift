/// A decoded STUN message (RFC 8489).
///
/// Decoding keeps the received bytes so that MESSAGE-INTEGRITY and FINGERPRINT are verified over exactly what
/// arrived, never over a re-encoding. Unknown comprehension-optional attributes are skipped; unknown
/// comprehension-required ones are listed in ``unknownRequiredAttributes`` for the caller to answer with 420.
public struct STUNMessage: Sendable {
    public static let magicCookie: UInt32 = 0x2112_A442
    static let fingerprintXOR: UInt32 = 0x5354_554E

    public var type: STUNMessageType
    public var transactionID: STUNTransactionID
    public var unknownRequiredAttributes: [UInt16]
    /// Where each kept attribute lies in `raw`: plain integers, so decoding retains nothing per attribute.
    private let spans: [AttributeSpan]

    private struct AttributeSpan {
        var type: STUNAttributeType
        var offset: Int
        var length: Int
    }

    /// The kept attributes, in order; their values are slices of `raw`.
    public var attributes: [STUNAttribute] { spans.map(attribute(at:)) }
    /// The bytes the message was decoded from.
    public let raw: [UInt8]

    /// Quick test used to demultiplex STUN from ChannelData and application data on one socket (RFC 7983).
    public static func looksLikeSTUN(_ bytes: some Collection<UInt8>) -> Bool {
        guard bytes.count >= 20, let first = bytes.first, first & 0xC0 == 0 else { return false }
        let i = bytes.index(bytes.startIndex, offsetBy: 4)
        var cookie: UInt32 = 0
        var j = i
        for _ in 0..<4 { cookie = cookie << 8 | UInt32(bytes[j]); j = bytes.index(after: j) }
        return cookie == magicCookie
    }

    /// Decodes one whole STUN message from a datagram.
    public init(decoding bytes: [UInt8]) throws(STUNDecodingError) {
        let count = bytes.count
        guard count >= 20 else { throw .tooShort(count) }
        guard bytes[0] & 0xC0 == 0 else { throw .notSTUN }
        let cookie = UInt32(bytes[4]) << 24 | UInt32(bytes[5]) << 16 | UInt32(bytes[6]) << 8 | UInt32(bytes[7])
        guard cookie == Self.magicCookie else { throw .badMagicCookie }
        let length = Int(bytes[2]) << 8 | Int(bytes[3])
        guard length % 4 == 0 else { throw .lengthNotMultipleOfFour(length) }
        guard length + 20 == count else { throw .lengthMismatch(declared: length, actual: count - 20) }

        self.type = STUNMessageType(rawValue: UInt16(bytes[0]) << 8 | UInt16(bytes[1]))
        self.transactionID = bytes.withUnsafeBytes { STUNTransactionID(bytes: UnsafeRawBufferPointer(rebasing: $0[8..<20])) }
        self.raw = bytes

        var spans: [AttributeSpan] = []
        spans.reserveCapacity(8)
        var unknown: [UInt16] = []
        var offset = 20
        var sawIntegrity = false
        var sawFingerprint = false
        while offset < count {
            guard offset + 4 <= count else { throw .truncatedAttribute(offset: offset) }
            let rawType = UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
            let valueLength = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            let valueStart = offset + 4
            let padded = (valueLength + 3) & ~3
            guard valueStart + padded <= count else { throw .truncatedAttribute(offset: offset) }
            if sawFingerprint { throw .attributeAfterFingerprint }
            let type = STUNAttributeType(rawValue: rawType)
            if sawIntegrity, type != .fingerprint, type != .messageIntegritySHA256 {
                // RFC 8489 §14.5: everything after MESSAGE-INTEGRITY but FINGERPRINT (and MI-SHA256) is ignored.
                offset = valueStart + padded
                continue
            }
            try Self.checkLength(type, valueLength)
            switch type {
            case .messageIntegrity, .messageIntegritySHA256: sawIntegrity = true
            case .fingerprint: sawFingerprint = true
            default: break
            }
            if type.isComprehensionRequired, !STUNAttributeType.isKnownRequired(rawType) {
                unknown.append(rawType)
            } else if type.isComprehensionRequired || Self.isKnownOptional(rawType) {
                spans.append(AttributeSpan(type: type, offset: offset, length: valueLength))
            }
            offset = valueStart + padded
        }
        self.spans = spans
        self.unknownRequiredAttributes = unknown
    }

    private static func isKnownOptional(_ type: UInt16) -> Bool {
        switch type {
        case 0x8002, 0x8003, 0x8022, 0x8023, 0x8028, 0x8029, 0x802A, 0x802B, 0x802C: true
        default: false
        }
    }

    private static func checkLength(_ type: STUNAttributeType, _ length: Int) throws(STUNDecodingError) {
        let ok: Bool
        switch type {
        case .messageIntegrity: ok = length == 20
        case .messageIntegritySHA256: ok = length >= 16 && length <= 32 && length % 4 == 0
        case .fingerprint, .priority, .lifetime, .channelNumber, .requestedTransport: ok = length == 4
        case .iceControlled, .iceControlling: ok = length == 8
        case .useCandidate, .dontFragment: ok = length == 0
        case .username: ok = length <= 513
        case .errorCode: ok = length >= 4 && length <= 763 + 4
        case .mappedAddress, .xorMappedAddress, .xorPeerAddress, .xorRelayedAddress, .alternateServer,
             .otherAddress, .responseOrigin:
            ok = length == 8 || length == 20
        case .changeRequest, .responsePort: ok = length == 4
        default: ok = true
        }
        guard ok else { throw .badAttributeLength(type: type.rawValue, length: length) }
    }

    // MARK: Attribute access

    public func attribute(_ type: STUNAttributeType) -> STUNAttribute? {
        for span in spans where span.type == type { return attribute(at: span) }
        return nil
    }

    public func contains(_ type: STUNAttributeType) -> Bool { spans.contains { $0.type == type } }

    private func attribute(at span: AttributeSpan) -> STUNAttribute {
        STUNAttribute(type: span.type, bytes: raw[span.offset + 4..<span.offset + 4 + span.length], offset: span.offset)
    }

    public var username: String? { attribute(.username).map { String(decoding: $0.bytes, as: UTF8.self) } }
    public var software: String? { attribute(.software).map { String(decoding: $0.bytes, as: UTF8.self) } }
    public var realm: String? { attribute(.realm).map { String(decoding: $0.bytes, as: UTF8.self) } }
    public var nonce: String? { attribute(.nonce).map { String(decoding: $0.bytes, as: UTF8.self) } }
    public var priority: UInt32? { attribute(.priority).map { Self.uint32($0.bytes) } }
    public var lifetime: UInt32? { attribute(.lifetime).map { Self.uint32($0.bytes) } }
    public var iceControlling: UInt64? { attribute(.iceControlling).map { Self.uint64($0.bytes) } }
    public var iceControlled: UInt64? { attribute(.iceControlled).map { Self.uint64($0.bytes) } }
    public var useCandidate: Bool { contains(.useCandidate) }
    public var data: [UInt8]? { attribute(.data)?.value }
    public var channelNumber: UInt16? {
        attribute(.channelNumber).map { a in UInt16(a.bytes[a.bytes.startIndex]) << 8 | UInt16(a.bytes[a.bytes.startIndex + 1]) }
    }

    public var errorCode: STUNErrorCode? {
        guard let v = attribute(.errorCode)?.bytes, v.count >= 4 else { return nil }
        let s = v.startIndex
        let code = Int(v[s + 2] & 0x07) * 100 + Int(v[s + 3])
        return STUNErrorCode(code: code, reason: String(decoding: v[(s + 4)...], as: UTF8.self))
    }

    /// XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS or XOR-RELAYED-ADDRESS, un-XORed.
    public func xorAddress(_ type: STUNAttributeType = .xorMappedAddress) -> TransportAddress? {
        guard let v = attribute(type)?.value else { return nil }
        let key = STUNAddressCoding.xorKey(transactionID)
        return STUNAddressCoding.decode(v, xorKey: key)
    }

    /// A plain (not XOR-ed) address attribute: MAPPED-ADDRESS, OTHER-ADDRESS, RESPONSE-ORIGIN.
    public func plainAddress(_ type: STUNAttributeType) -> TransportAddress? {
        attribute(type).flatMap { STUNAddressCoding.decode($0.value, xorKey: nil) }
    }

    /// CHANGE-REQUEST's flags (RFC 5780 §7.2): change IP (0x04), change port (0x02).
    public var changeRequest: (ip: Bool, port: Bool)? {
        guard let v = attribute(.changeRequest)?.value, v.count == 4 else { return nil }
        return (v[3] & 0x04 != 0, v[3] & 0x02 != 0)
    }

    /// RESPONSE-PORT (RFC 5780 §7.5).
    public var responsePort: UInt16? {
        guard let v = attribute(.responsePort)?.value, v.count == 4 else { return nil }
        return UInt16(v[0]) << 8 | UInt16(v[1])
    }

    public var mappedAddress: TransportAddress? {
        attribute(.mappedAddress).flatMap { STUNAddressCoding.decode($0.value, xorKey: nil) }
    }

    static func uint32(_ v: ArraySlice<UInt8>) -> UInt32 {
        let s = v.startIndex
        return UInt32(v[s]) << 24 | UInt32(v[s + 1]) << 16 | UInt32(v[s + 2]) << 8 | UInt32(v[s + 3])
    }

    static func uint64(_ v: ArraySlice<UInt8>) -> UInt64 {
        v.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}
