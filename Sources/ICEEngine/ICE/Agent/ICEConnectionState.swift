import STUN

/// The state of an ICE agent as its caller sees it.
public enum ICEConnectionState: String, Sendable, Hashable {
    /// Created; nothing gathered or checked yet.
    case new
    /// Checks are running; no pair is selected yet.
    case checking
    /// A pair is selected and consent is fresh.
    case connected
    /// The selected pair stopped answering; it may come back.
    case disconnected
    /// No pair works (checks exhausted, or consent lost for good).
    case failed
    /// Closed by the caller; sockets released.
    case closed
}

/// Which side of the ICE session this agent plays (RFC 8445 §6.1.1).
public enum ICERole: String, Sendable, Hashable {
    case controlling
    case controlled
}
