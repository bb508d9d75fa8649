/// A peer's connection state as operators see it (NetBird's Idle / Connecting / Connected).
public enum PeerConnectionState: String, Sendable, Hashable, CaseIterable, Comparable {
    /// Not trying: lazy and unused, or the remote is away.
    case idle = "Idle"
    /// Actively trying to reach the peer.
    case connecting = "Connecting"
    /// A path works and consent is fresh.
    case connected = "Connected"

    private var order: Int {
        switch self {
        case .idle: 0
        case .connecting: 1
        case .connected: 2
        }
    }

    public static func < (a: Self, b: Self) -> Bool { a.order < b.order }
}

/// How a connected peer is reached.
public enum ConnectionType: String, Sendable, Hashable, CaseIterable {
    /// Directly, over host, server-reflexive or peer-reflexive candidates.
    case p2p = "P2P"
    /// Through a TURN relay.
    case relayed = "Relayed"
}
