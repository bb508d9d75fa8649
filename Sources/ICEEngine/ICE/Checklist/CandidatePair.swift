import STUN

/// The state of a candidate pair in the checklist (RFC 8445 §6.1.2.6).
public enum CandidatePairState: String, Sendable, Hashable {
    case frozen, waiting, inProgress = "in-progress", succeeded, failed
}

/// A local and a remote candidate checked together, with the counters webrtc-internals shows.
public struct CandidatePair: Sendable, Hashable, Identifiable {
    public let id: Int
    public var local: Candidate
    public var remote: Candidate
    /// The local endpoint the pair sends from: the base of its local candidate.
    var endpoint: LocalEndpoint.ID
    public var priority: UInt64
    /// New pairs start Frozen; one per foundation is unfrozen at a time (RFC 8445 §6.1.2.6).
    public var state: CandidatePairState = .frozen
    public var nominated = false
    /// Set on the controlled side when a check with USE-CANDIDATE arrived on this pair.
    var remoteNominated = false
    public var requestsSent = 0
    public var responsesReceived = 0
    public var requestsReceived = 0
    public var lastRoundTrip: Duration?

    init(id: Int, local: Candidate, remote: Candidate, endpoint: LocalEndpoint.ID, role: ICERole) {
        self.id = id
        self.local = local
        self.remote = remote
        self.endpoint = endpoint
        self.priority = 0
        updatePriority(role: role)
    }

    /// RFC 8445 §6.1.2.3: 2^32·MIN(G,D) + 2·MAX(G,D) + (G>D ? 1 : 0), G being the controlling side's priority.
    public static func priority(controlling g: UInt32, controlled d: UInt32) -> UInt64 {
        let g = UInt64(g), d = UInt64(d)
        return (min(g, d) << 32) + 2 * max(g, d) + (g > d ? 1 : 0)
    }

    /// Pairs with the same foundations share a fate: one success unfreezes the others.
    var foundation: String { local.foundation + "|" + remote.foundation }

    mutating func updatePriority(role: ICERole) {
        priority = role == .controlling
            ? Self.priority(controlling: local.priority, controlled: remote.priority)
            : Self.priority(controlling: remote.priority, controlled: local.priority)
    }
}

extension CandidatePair {
    /// Either end is a TURN relay.
    var isRelayed: Bool { local.type == .relayed || remote.type == .relayed }
}
