import Crypto
import Foundation

/// A peer's identity: a Curve25519 key pair; peers are named by the base64 of the public key, as in WireGuard.
public struct PeerKey: Sendable {
    /// The 32 raw bytes of the private key.
    public let privateKeyBytes: [UInt8]
    /// Base64 of the 32-byte public key.
    public let publicKeyBase64: String

    /// A new random key pair.
    public init() {
        let key = Curve25519.KeyAgreement.PrivateKey()
        privateKeyBytes = Array(key.rawRepresentation)
        publicKeyBase64 = key.publicKey.rawRepresentation.base64EncodedString()
    }
}
