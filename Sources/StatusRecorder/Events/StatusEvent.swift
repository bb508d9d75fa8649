/// Something that happened to a peer or to the agent, kept in the recorder's bounded logs. Typed: the front
/// ends word it.
public struct StatusEvent: Sendable, Hashable {
    /// Recorder-wide order of recording (starts at 1).
    public var sequence: UInt64
    /// Unix time in milliseconds.
    public var atMillis: Int64
    /// The peer's public key, or nil for the agent's own events.
    public var peerID: String?
    /// The peer's name when it was recorded.
    public var peerName: String?
    public var kind: Kind

    public init(sequence: UInt64, atMillis: Int64, peerID: String? = nil, peerName: String? = nil, kind: Kind) {
        self.sequence = sequence
        self.atMillis = atMillis
        self.peerID = peerID
        self.peerName = peerName
        self.kind = kind
    }

    public enum Kind: Sendable, Hashable {
        // A peer's
        /// The state changed, or the reason for it did.
        case stateChanged(from: PeerConnectionState, to: PeerConnectionState, reason: PeerReason?)
        /// A connected peer's path: new, or another pair (direct ↔ relayed included).
        case pathChanged(type: ConnectionType, local: CandidateEndpoint?, remote: CandidateEndpoint?, relayServer: String?)
        /// A new ICE session started while the current path is kept until it connects.
        case iceRestart(RestartCause)
        /// The selected path stopped answering consent checks for this long.
        case consentLost(timeoutMillis: Int64)
        /// Connected again after consent was lost.
        case consentRegained
        /// The path is relayed; the next direct attempt is due then (nil: none, relay only).
        case relayFallback(nextDirectAtMillis: Int64?)
        /// Traffic for an idle lazy peer arrived on its local port: connecting.
        case lazyWake

        // The agent's
        /// A signal, STUN or TURN server answered (again).
        case serverAvailable(kind: ServerStatus.Kind, address: String)
        /// A server failed or was lost.
        case serverUnavailable(kind: ServerStatus.Kind, address: String, error: String?)
        /// The local addresses changed.
        case networkChanged
        /// The netcheck verdict changed (``NATStatus/verdict`` values; nil before the first).
        case natVerdictChanged(from: String?, to: String)
    }

    /// Why a session was restarted while the path was kept.
    public enum RestartCause: String, Sendable, Hashable, CaseIterable {
        /// The scheduled direct attempt of a relayed peer.
        case directAttempt = "direct-attempt"
        /// The remote started a new session.
        case remoteRestart = "remote-restart"
        /// The path stopped answering.
        case consentLost = "consent-lost"
        /// The local addresses changed.
        case networkChanged = "network-changed"
    }
}
