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
    /// Events that came with the snapshot (the status socket's on request), oldest first.
    public var events: [StatusEvent]

    public init(local: LocalAgentStatus, peers: [PeerStatus], takenAtMillis: Int64, events: [StatusEvent] = []) {
        self.local = local
        self.peers = peers
        self.takenAtMillis = takenAtMillis
        self.events = events
    }
}

/// What changed since a subscriber last looked: the latest value of each changed peer, never intermediate ones.
public struct StatusChange: Sendable, Hashable {
    public var peers: [PeerStatus]
    /// Peers of which only latency or traffic changed, for a subscriber that takes those apart
    /// (``StatusRecorder/subscribe(splittingCounters:)``); a peer is in `peers` or here, never both.
    public var counters: [PeerCounters]
    public var removedPeerIDs: [String]
    /// Set when the local agent's status changed.
    public var local: LocalAgentStatus?
    /// Events recorded since, oldest first.
    public var events: [StatusEvent]

    public init(peers: [PeerStatus] = [], counters: [PeerCounters] = [], removedPeerIDs: [String] = [],
                local: LocalAgentStatus? = nil, events: [StatusEvent] = []) {
        self.peers = peers
        self.counters = counters
        self.removedPeerIDs = removedPeerIDs
        self.local = local
        self.events = events
    }

    public var isEmpty: Bool { peers.isEmpty && counters.isEmpty && removedPeerIDs.isEmpty && local == nil && events.isEmpty }
}

/// The wall clock in Unix milliseconds.
public func currentTimeMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
