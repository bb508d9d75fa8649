import STUN
import ICE

/// What two agents tell each other through the signal server about one ICE session.
///
/// `session` identifies the sender's ICE agent instance: a new value means the sender started a new agent
/// (first connection, retry or restart), so the receiver must start a new one too.
public enum SignalMessage: Sendable, Hashable {
    /// The sender's credentials; the receiver answers with its own. `nat` is the sender's NAT verdict, if its
    /// netcheck has one, so that both sides can say why a direct path cannot work.
    case offer(ICECredentials, session: UInt64, nat: NATVerdict? = nil)
    /// The receiver's credentials in reply to an offer.
    case answer(ICECredentials, session: UInt64, nat: NATVerdict? = nil)
    /// One trickled candidate, in RFC 8839 form.
    case candidate(String, session: UInt64)
    /// The sender is going idle (lazy) or away; the receiver stops trying.
    case goIdle
}

/// Carries signal messages to a peer, identified by its public key.
public protocol SignalingTransport: Sendable {
    func send(_ message: SignalMessage, from senderKey: String, to peerKey: String)
}

extension SignalMessage {
    /// The message's kind and session, for logs (never the credentials).
    public var kindName: String {
        switch self {
        case .offer(_, let session, _): "offer \(String(session, radix: 16))"
        case .answer(_, let session, _): "answer \(String(session, radix: 16))"
        case .candidate(_, let session): "candidate \(String(session, radix: 16))"
        case .goIdle: "go-idle"
        }
    }
}
