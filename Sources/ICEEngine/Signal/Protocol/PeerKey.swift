import Crypto
import Foundation
import STUN
import ICE

/// A peer's identity: a Curve25519 key pair; peers are named by the base64 of the public key, as in WireGuard.
public struct PeerKey: Sendable {
    /// The 32 raw bytes of the private key.
    public let privateKeyBytes: [UInt8]
    /// The 32 raw bytes of the public key.
    public let publicKeyBytes: [UInt8]
    /// Base64 of the 32-byte public key.
    public let publicKeyBase64: String

    /// The X25519 private key.
    public var privateKey: Curve25519.KeyAgreement.PrivateKey {
        // The bytes came from a valid key, so this cannot fail.
        try! Curve25519.KeyAgreement.PrivateKey(rawRepresentation: privateKeyBytes)
    }
    /// Base64 of the 32-byte private key (the key file's content).
    public var privateKeyBase64: String { PeerKey.base64(privateKeyBytes) }

    /// A new random key pair.
    public init() {
        self.init(privateKey: Curve25519.KeyAgreement.PrivateKey())
    }

    public init(privateKey: Curve25519.KeyAgreement.PrivateKey) {
        privateKeyBytes = Array(privateKey.rawRepresentation)
        publicKeyBytes = Array(privateKey.publicKey.rawRepresentation)
        publicKeyBase64 = PeerKey.base64(publicKeyBytes)
    }

    /// The key pair of a base64 private key (as written by `icestat keygen`); nil when it is not 32 bytes.
    public init?(privateKeyBase64: String) {
        guard let raw = PeerKey.bytes(base64: privateKeyBase64),
              let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: raw) else { return nil }
        self.init(privateKey: key)
    }

    /// The 32 bytes of a base64 key, or nil if it is not one.
    public static func bytes(base64: String) -> [UInt8]? {
        guard let data = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)),
              data.count == 32 else { return nil }
        return Array(data)
    }

    /// Base64 of raw key bytes.
    public static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
}
