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

/// A MESSAGE-INTEGRITY (HMAC-SHA1) key with its HMAC key schedule computed once: the hash states after the
/// inner and outer padded key blocks (RFC 2104). An agent signs and checks every packet with the same two keys,
/// so this saves two hash blocks and the key set-up per message.
public struct STUNIntegrityKey: @unchecked Sendable {
    // Value types from swift-crypto; copied (copy-on-write) for each message, never shared mutably.
    private let inner: Insecure.SHA1
    private let outer: Insecure.SHA1

    public init(_ key: [UInt8]) {
        var block = key.count > 64 ? Array(Insecure.SHA1.hash(data: key)) : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        var inner = Insecure.SHA1()
        inner.update(data: block.map { $0 ^ 0x36 })
        var outer = Insecure.SHA1()
        outer.update(data: block.map { $0 ^ 0x5C })
        self.inner = inner
        self.outer = outer
    }

    /// HMAC-SHA1 of `header` followed by `body`.
    func mac(header: [UInt8], body: UnsafeRawBufferPointer) -> [UInt8] {
        header.withUnsafeBytes { Array(digest(header: $0, body: body)) }
    }

    /// HMAC-SHA1 of `header` followed by `body`, without copying either.
    func digest(header: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer) -> Insecure.SHA1Digest {
        var i = inner
        i.update(bufferPointer: header)
        i.update(bufferPointer: body)
        let innerDigest = i.finalize()
        var o = outer
        innerDigest.withUnsafeBytes { o.update(bufferPointer: $0) }
        return o.finalize()
    }
}

extension STUNMessage {
    /// True when MESSAGE-INTEGRITY is present and its HMAC-SHA1 over the received bytes matches `key`.
    public func verifyMessageIntegrity(key: [UInt8]) -> Bool {
        verifyMessageIntegrity(key: STUNIntegrityKey(key))
    }

    /// The same with a prepared key, for agents that check many messages with one key.
    public func verifyMessageIntegrity(key: STUNIntegrityKey) -> Bool {
        guard let attr = attribute(.messageIntegrity), attr.bytes.count == 20 else { return false }
        // The length field as if MESSAGE-INTEGRITY ended the message (RFC 8489 §14.5), on the stack.
        let adjusted = attr.offset - 20 + 4 + 20
        let header = (raw[0], raw[1], UInt8(truncatingIfNeeded: adjusted >> 8), UInt8(truncatingIfNeeded: adjusted))
        let digest = withUnsafeBytes(of: header) { h in
            raw.withUnsafeBytes { key.digest(header: h, body: UnsafeRawBufferPointer(rebasing: $0[4..<attr.offset])) }
        }
        return digest.withUnsafeBytes { d in attr.bytes.withUnsafeBytes { Self.constantTimeEqual(d, $0) } }
    }

    /// HMAC-SHA1 over `raw[0..<offset]` with the length field adjusted, using a prepared key.
    static func integrity(_ raw: [UInt8], upTo offset: Int, valueLength: Int, key: STUNIntegrityKey) -> [UInt8] {
        let adjustedLength = offset - 20 + 4 + valueLength
        let header = [raw[0], raw[1], UInt8(adjustedLength >> 8), UInt8(adjustedLength & 0xFF)]
        return raw.withUnsafeBytes { key.mac(header: header, body: UnsafeRawBufferPointer(rebasing: $0[4..<offset])) }
    }

    /// True when MESSAGE-INTEGRITY-SHA256 is present and its (possibly truncated) HMAC-SHA256 matches `key`.
    public func verifyMessageIntegritySHA256(key: [UInt8]) -> Bool {
        guard let attr = attribute(.messageIntegritySHA256) else { return false }
        let expected = Self.integritySHA256(raw, upTo: attr.offset, valueLength: attr.bytes.count, key: key)
        return Self.constantTimeEqual(expected.prefix(attr.bytes.count), attr.bytes)
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
        return crc ^ Self.fingerprintXOR == Self.uint32(attr.bytes)
    }

    /// HMAC-SHA256 over `raw[0..<offset]` with the length field set as if the integrity attribute ended the message.
    static func integritySHA256(_ raw: [UInt8], upTo offset: Int, valueLength: Int, key: [UInt8]) -> [UInt8] {
        let adjustedLength = offset - 20 + 4 + valueLength
        let header = [raw[0], raw[1], UInt8(adjustedLength >> 8), UInt8(adjustedLength & 0xFF)]
        var mac = HMAC<SHA256>(key: SymmetricKey(data: key))
        mac.update(data: header)
        raw.withUnsafeBytes { mac.update(data: UnsafeRawBufferPointer(rebasing: $0[4..<offset])) }
        return Array(mac.finalize())
    }

    static func constantTimeEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<a.count { diff |= a[i] ^ b[i] }
        return diff == 0
    }

    static func constantTimeEqual(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for (x, y) in zip(a, b) { diff |= x ^ y }
        return diff == 0
    }
}
