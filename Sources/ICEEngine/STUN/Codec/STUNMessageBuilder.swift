/// Encodes a STUN message attribute by attribute; integrity and fingerprint are appended last.
public struct STUNMessageBuilder: Sendable {
    private var bytes: [UInt8]
    public let transactionID: STUNTransactionID

    public init(type: STUNMessageType, transactionID: STUNTransactionID = .random()) {
        self.transactionID = transactionID
        let t = type.rawValue
        bytes = [UInt8(t >> 8), UInt8(t & 0xFF), 0, 0, 0x21, 0x12, 0xA4, 0x42] + transactionID.bytes
        bytes.reserveCapacity(128)
    }

    private mutating func setLength(_ length: Int) {
        bytes[2] = UInt8(length >> 8)
        bytes[3] = UInt8(length & 0xFF)
    }

    /// Appends an attribute, padding its value with zeros to a 4-byte boundary.
    public mutating func append(_ type: STUNAttributeType, _ value: [UInt8]) {
        precondition(value.count <= 0xFFFF)
        bytes += [UInt8(type.rawValue >> 8), UInt8(type.rawValue & 0xFF), UInt8(value.count >> 8), UInt8(value.count & 0xFF)]
        bytes += value
        let pad = (4 - value.count % 4) % 4
        if pad > 0 { bytes += [UInt8](repeating: 0, count: pad) }
        setLength(bytes.count - 20)
    }

    public mutating func append(_ type: STUNAttributeType, string: String) { append(type, Array(string.utf8)) }

    public mutating func append(_ type: STUNAttributeType, uint32 v: UInt32) {
        append(type, [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)])
    }

    public mutating func append(_ type: STUNAttributeType, uint64 v: UInt64) {
        append(type, (0..<8).map { UInt8(truncatingIfNeeded: v >> UInt64(56 - 8 * $0)) })
    }

    public mutating func appendXORAddress(_ type: STUNAttributeType = .xorMappedAddress, _ address: TransportAddress) {
        append(type, STUNAddressCoding.encode(address, xorKey: STUNAddressCoding.xorKey(transactionID)))
    }

    /// A plain address attribute (MAPPED-ADDRESS, OTHER-ADDRESS, RESPONSE-ORIGIN).
    public mutating func appendPlainAddress(_ type: STUNAttributeType, _ address: TransportAddress) {
        append(type, STUNAddressCoding.encode(address, xorKey: nil))
    }

    /// CHANGE-REQUEST (RFC 5780 §7.2).
    public mutating func appendChangeRequest(ip: Bool, port: Bool) {
        append(.changeRequest, [0, 0, 0, (ip ? 0x04 : 0) | (port ? 0x02 : 0)])
    }

    public mutating func appendErrorCode(_ code: Int, reason: String) {
        append(.errorCode, [0, 0, UInt8(code / 100), UInt8(code % 100)] + Array(reason.utf8))
    }

    /// Appends MESSAGE-INTEGRITY (HMAC-SHA1) computed with `key`.
    public mutating func appendMessageIntegrity(key: [UInt8]) {
        appendMessageIntegrity(key: STUNIntegrityKey(key))
    }

    /// Appends MESSAGE-INTEGRITY (HMAC-SHA1) with a prepared key.
    public mutating func appendMessageIntegrity(key: STUNIntegrityKey) {
        let offset = bytes.count
        setLength(offset - 20 + 24)
        append(.messageIntegrity, STUNMessage.integrity(bytes, upTo: offset, valueLength: 20, key: key))
    }

    /// Appends MESSAGE-INTEGRITY-SHA256 (full 32 bytes) computed with `key`.
    public mutating func appendMessageIntegritySHA256(key: [UInt8]) {
        let offset = bytes.count
        let mac = STUNMessage.integritySHA256(bytes, upTo: offset, valueLength: 32, key: key)
        append(.messageIntegritySHA256, mac)
    }

    /// Appends FINGERPRINT; nothing may follow it.
    public mutating func appendFingerprint() {
        let offset = bytes.count
        setLength(offset - 20 + 8)
        let crc = bytes.withUnsafeBytes { CRC32.checksum($0) } ^ STUNMessage.fingerprintXOR
        append(.fingerprint, uint32: crc)
    }

    /// The encoded message.
    public var encoded: [UInt8] { bytes }
}
