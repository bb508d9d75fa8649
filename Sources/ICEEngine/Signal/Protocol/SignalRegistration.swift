import Crypto
import Foundation
import STUN
import ICE

/// The proof that an agent holds the private key of the public key it registers: an HMAC of the server's
/// nonce under a key derived from X25519 between the agent's key and the server's one-time key. Only the two
/// ends of that exchange can compute it, and the one-time key makes each proof good for one connection.
public enum SignalRegistration {
    private static let salt = Data("icestat-signal-register-v1".utf8)

    /// The agent's side: the proof to send for a `challenge`.
    public static func proof(privateKey: Curve25519.KeyAgreement.PrivateKey, serverKey: [UInt8],
                             nonce: [UInt8]) throws(SignalProtocolError) -> [UInt8] {
        let mac = try authenticationKey(ownPrivate: privateKey, otherPublic: serverKey,
                                        agentKey: Array(privateKey.publicKey.rawRepresentation), serverKey: serverKey)
        return Array(HMAC<SHA256>.authenticationCode(for: nonce, using: mac))
    }

    /// The server's side: whether `mac` proves possession of `agentKey`'s private key.
    public static func verify(mac: [UInt8], agentKey: [UInt8], serverPrivate: Curve25519.KeyAgreement.PrivateKey,
                              nonce: [UInt8]) -> Bool {
        let serverKey = Array(serverPrivate.publicKey.rawRepresentation)
        guard let key = try? authenticationKey(ownPrivate: serverPrivate, otherPublic: agentKey,
                                               agentKey: agentKey, serverKey: serverKey) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: nonce, using: key)
    }

    private static func authenticationKey(ownPrivate: Curve25519.KeyAgreement.PrivateKey, otherPublic: [UInt8],
                                          agentKey: [UInt8], serverKey: [UInt8]) throws(SignalProtocolError) -> SymmetricKey {
        do {
            let other = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: otherPublic)
            // Throws for low-order keys, whose shared secret would be predictable.
            let shared = try ownPrivate.sharedSecretFromKeyAgreement(with: other)
            return shared.hkdfDerivedSymmetricKey(using: SHA256.self, salt: salt,
                                                  sharedInfo: Data(agentKey + serverKey), outputByteCount: 32)
        } catch {
            throw .authentication("unusable public key")
        }
    }
}
