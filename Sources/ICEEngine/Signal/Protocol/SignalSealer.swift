import Crypto
import Foundation
import STUN
import ICE

/// End-to-end protection of signal messages between two agents: ChaChaPoly under a key derived (HKDF-SHA256)
/// from X25519 of their static keys, with both keys and the direction bound as associated data. The server
/// that relays the sealed bytes can neither read them (ICE credentials stay private) nor forge or alter them.
///
/// Every sealed message carries a sequence number that grows across restarts (it starts from the wall clock
/// in microseconds); ``SignalReplayGuard`` turns that into replay rejection on the receiving side.
public struct SignalSealer: Sendable {
    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }
    private let ownKey: [UInt8]
    private let peerKey: [UInt8]
    private static let salt = Data("icestat-signal-e2e-v1".utf8)

    public init(privateKey: Curve25519.KeyAgreement.PrivateKey, peerKey: [UInt8]) throws(SignalProtocolError) {
        ownKey = Array(privateKey.publicKey.rawRepresentation)
        self.peerKey = peerKey
        do {
            let shared = try privateKey.sharedSecretFromKeyAgreement(
                with: Curve25519.KeyAgreement.PublicKey(rawRepresentation: peerKey))
            let info = ownKey.lexicographicallyPrecedes(peerKey) ? ownKey + peerKey : peerKey + ownKey
            keyBytes = shared.hkdfDerivedSymmetricKey(using: SHA256.self, salt: Self.salt, sharedInfo: Data(info),
                                                      outputByteCount: 32).withUnsafeBytes { Array($0) }
        } catch {
            throw .authentication("unusable peer key")
        }
    }

    /// Seals `message` from us to the peer.
    public func seal(_ message: SignalMessage, sequence: UInt64) throws -> [UInt8] {
        var plain = [UInt8]()
        plain.reserveCapacity(64)
        for shift in stride(from: 56, through: 0, by: -8) { plain.append(UInt8(truncatingIfNeeded: sequence >> UInt64(shift))) }
        message.encode(into: &plain)
        let box = try ChaChaPoly.seal(plain, using: key, authenticating: ownKey + peerKey)
        return Array(box.combined)
    }

    /// Opens a body sealed by the peer for us: its sequence number and message.
    public func open(_ body: [UInt8]) throws(SignalProtocolError) -> (sequence: UInt64, message: SignalMessage) {
        let plain: [UInt8]
        do {
            plain = Array(try ChaChaPoly.open(ChaChaPoly.SealedBox(combined: body), using: key,
                                              authenticating: peerKey + ownKey))
        } catch {
            throw .authentication("message not sealed by the claimed sender")
        }
        guard plain.count >= 8 else { throw .malformed("short sealed message") }
        let sequence = plain[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return (sequence, try SignalMessage(decoding: plain[8...]))
    }
}

/// Rejects replayed signal messages: a sender's sequence numbers must grow, and after a restart of ours a
/// message must be newer than our start minus `tolerance` (sequence numbers start from the sender's clock).
public struct SignalReplayGuard: Sendable {
    private var highest: [[UInt8]: UInt64] = [:]
    private let floor: UInt64

    public init(startMicros: UInt64 = SignalReplayGuard.nowMicros(), tolerance: Duration = .seconds(120)) {
        floor = startMicros &- UInt64(tolerance.components.seconds) * 1_000_000
    }

    /// Whether a message with `sequence` from `sender` is new; records it if so.
    public mutating func accept(sequence: UInt64, from sender: [UInt8]) -> Bool {
        guard sequence > floor, sequence > highest[sender, default: 0] else { return false }
        highest[sender] = sequence
        return true
    }

    public static func nowMicros() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1_000
    }
}
