import Crypto
import Foundation

/// Keys for MESSAGE-INTEGRITY (RFC 8489 §9).
public enum STUNCredentials {
    /// Short-term credential key: the password's bytes after OpaqueString preparation.
    public static func shortTermKey(password: String) -> [UInt8] {
        Array(OpaqueString.prepare(password).utf8)
    }

    /// Long-term credential key: MD5(username ":" realm ":" OpaqueString(password)).
    public static func longTermKey(username: String, realm: String, password: String) -> [UInt8] {
        let input = "\(username):\(realm):\(OpaqueString.prepare(password))"
        return Array(Insecure.MD5.hash(data: Array(input.utf8)))
    }
}

/// A working subset of the OpaqueString profile (RFC 8265) that covers what STUN passwords meet:
/// non-ASCII spaces become U+0020, characters commonly mapped to nothing are removed, then NFKC.
enum OpaqueString {
    static func prepare(_ s: String) -> String {
        if s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return s }
        var scalars = String.UnicodeScalarView()
        for scalar in s.unicodeScalars {
            switch scalar.value {
            case 0x00AD, 0x034F, 0x1806, 0x180B...0x180D, 0x200B...0x200D, 0x2060, 0xFE00...0xFE0F, 0xFEFF:
                continue
            case 0x00A0, 0x1680, 0x2000...0x200A, 0x202F, 0x205F, 0x3000:
                scalars.append(" ")
            default:
                scalars.append(scalar)
            }
        }
        return String(scalars).precomposedStringWithCompatibilityMapping
    }
}

extension STUNMessage {
    /// True when MESSAGE-INTEGRITY is present and its HMAC-SHA1 over the received bytes matches `key`.
    public func verifyMessageIntegrity(key: [UInt8]) -> Bool {
        guard let attr = attribute(.messageIntegrity) else { return false }
        let expected = Self.integrity(raw, upTo: attr.offset, valueLength: 20, key: key, sha256: false)
        return Self.constantTimeEqual(expected, attr.value)
    }

    /// True when MESSAGE-INTEGRITY-SHA256 is present and its (possibly truncated) HMAC-SHA256 matches `key`.
    public func verifyMessageIntegritySHA256(key: [UInt8]) -> Bool {
        guard let attr = attribute(.messageIntegritySHA256) else { return false }
        let expected = Self.integrity(raw, upTo: attr.offset, valueLength: attr.value.count, key: key, sha256: true)
        return Self.constantTimeEqual(Array(expected.prefix(attr.value.count)), attr.value)
    }

    /// Verifies whichever integrity attribute the message carries, preferring SHA-256 (RFC 8489 §9.1.4).
    public func verifyIntegrity(key: [UInt8]) -> Bool {
        if contains(.messageIntegritySHA256) { return verifyMessageIntegritySHA256(key: key) }
        return verifyMessageIntegrity(key: key)
    }

    /// True when FINGERPRINT is present, last, and matches the CRC-32 of the bytes before it.
    public var hasValidFingerprint: Bool {
        guard let attr = attribute(.fingerprint), attr.offset + 8 == raw.count else { return false }
        let crc = raw.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<attr.offset])) }
        return crc ^ Self.fingerprintXOR == Self.uint32(attr.value)
    }

    /// HMAC over `raw[0..<offset]` with the header length field set as if the integrity attribute ended the message.
    static func integrity(_ raw: [UInt8], upTo offset: Int, valueLength: Int, key: [UInt8], sha256: Bool) -> [UInt8] {
        let adjustedLength = offset - 20 + 4 + valueLength
        var header = Array(raw[0..<4])
        header[2] = UInt8(adjustedLength >> 8)
        header[3] = UInt8(adjustedLength & 0xFF)
        let symmetricKey = SymmetricKey(data: key)
        if sha256 {
            var mac = HMAC<SHA256>(key: symmetricKey)
            mac.update(data: header)
            raw.withUnsafeBytes { mac.update(data: UnsafeRawBufferPointer(rebasing: $0[4..<offset])) }
            return Array(mac.finalize())
        } else {
            var mac = HMAC<Insecure.SHA1>(key: symmetricKey)
            mac.update(data: header)
            raw.withUnsafeBytes { mac.update(data: UnsafeRawBufferPointer(rebasing: $0[4..<offset])) }
            return Array(mac.finalize())
        }
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<a.count { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}
