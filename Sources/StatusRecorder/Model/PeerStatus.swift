/// Everything the recorder knows of one peer. Timestamps are Unix time in milliseconds; latency is in nanoseconds.
public struct PeerStatus: Sendable, Hashable {
    /// The peer's public key, its identity.
    public var id: String
    public var name: String
    public var state: PeerConnectionState = .idle
    /// When `state` last changed.
    public var stateChangedAtMillis: Int64
    /// Set while Connected.
    public var connectionType: ConnectionType?
    public var localCandidate: CandidateEndpoint?
    public var remoteCandidate: CandidateEndpoint?
    /// The TURN server in use when relayed.
    public var relayServer: String?
    /// How we reach that server: `udp`, `tcp` or `tls`.
    public var relayTransport: String?
    /// Latest round-trip time from a binding response on the selected pair.
    public var latencyNanos: Int64?
    /// Smoothed round-trip time (RFC 6298 weighting: 7/8 the previous value, 1/8 the new sample).
    public var smoothedLatencyNanos: Int64?
    public var bytesReceived: UInt64 = 0
    public var bytesSent: UInt64 = 0
    /// Datagrams of this peer the data plane dropped, by reason.
    public var drops = DatagramDrops()
    /// Last time data crossed the connection.
    public var lastActivityMillis: Int64?
    /// Why the peer is not Connected, or not P2P.
    public var reason: PeerReason?
    /// When the next connection attempt is due, while waiting to retry.
    public var nextRetryAtMillis: Int64?
    /// The latest round-trip times, oldest first (at most ``PeerStatus/historyLimit``).
    public var latencyHistoryNanos: [Int64] = []
    /// The current ICE session's candidate pairs, best first.
    public var candidatePairs: [CandidatePairStatus] = []
    /// Remote candidates ignored because they lie inside a routed network (distinct ones, all sessions).
    public var ignoredCandidateCount = 0
    /// The first of those, as `ADDRESS (TYPE) in NETWORK` (at most ``PeerStatus/ignoredCandidateLimit``).
    public var ignoredCandidates: [String] = []

    /// How many round-trip samples the history keeps.
    public static let historyLimit = 60
    /// How many ignored candidates are listed by address.
    public static let ignoredCandidateLimit = 8

    public init(id: String, name: String, stateChangedAtMillis: Int64) {
        self.id = id
        self.name = name
        self.stateChangedAtMillis = stateChangedAtMillis
    }
}
