/// Encoding of (XOR-)MAPPED-ADDRESS style attribute values (RFC 8489 §14.1, §14.2).
enum STUNAddressCoding {
    /// The XOR key: magic cookie, then the transaction id (used for IPv6).
    static func xorKey(_ id: STUNTransactionID) -> [UInt8] {
        [0x21, 0x12, 0xA4, 0x42] + id.bytes
    }

    static func decode(_ v: [UInt8], xorKey: [UInt8]?) -> TransportAddress? {
        guard v.count >= 8 else { return nil }
        let family = v[1]
        var port = UInt16(v[2]) << 8 | UInt16(v[3])
        let addressLength: Int
        switch family {
        case 0x01: addressLength = 4
        case 0x02: addressLength = 16
        default: return nil
        }
        guard v.count == 4 + addressLength else { return nil }
        var address = Array(v[4..<(4 + addressLength)])
        if let key = xorKey {
            port ^= 0x2112
            for i in 0..<addressLength { address[i] ^= key[i] }
        }
        guard let ip = IPAddress(bytes: address) else { return nil }
        return TransportAddress(ip: ip, port: port)
    }

    static func encode(_ address: TransportAddress, xorKey: [UInt8]?) -> [UInt8] {
        var port = address.port
        var bytes = address.ip.bytes
        if let key = xorKey {
            port ^= 0x2112
            for i in 0..<bytes.count { bytes[i] ^= key[i] }
        }
        return [0, address.ip.isIPv4 ? 0x01 : 0x02, UInt8(port >> 8), UInt8(port & 0xFF)] + bytes
    }
}
