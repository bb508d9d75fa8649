#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A consistent view of the recorder at one instant.
public struct StatusSnapshot: Sendable, Hashable {
    public var local: LocalAgentStatus
    /// Every peer, ordered by name then id.
    public var peers: [PeerStatus]
    public var takenAtMillis: Int64

    public init(local: LocalAgentStatus, peers: [PeerStatus], takenAtMillis: Int64) {
        self.local = local
        self.peers = peers
        self.takenAtMillis = takenAtMillis
    }
}

/// What changed since a subscriber last looked: the latest value of each changed peer, never intermediate ones.
public struct StatusChange: Sendable, Hashable {
    public var peers: [PeerStatus]
    public var removedPeerIDs: [String]
    /// Set when the local agent's status changed.
    public var local: LocalAgentStatus?

    public init(peers: [PeerStatus] = [], removedPeerIDs: [String] = [], local: LocalAgentStatus? = nil) {
        self.peers = peers
        self.removedPeerIDs = removedPeerIDs
        self.local = local
    }

    public var isEmpty: Bool { peers.isEmpty && removedPeerIDs.isEmpty && local == nil }
}

/// The wall clock in Unix milliseconds.
public func currentTimeMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
