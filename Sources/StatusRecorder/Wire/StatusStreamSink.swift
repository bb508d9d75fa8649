/// Takes a status stream record by record, as ``StatusWireDecoder`` completes each: for a reader that formats
/// records as they arrive instead of first collecting the batch.
///
/// A peer comes with its reason, drops, history and candidate pairs; the local agent with its servers and NAT.
/// In a snapshot (version 2), the agent's events come after the agent and a peer's after that peer.
public protocol StatusStreamSink {
    /// The stream's version line was read.
    mutating func header(version: Int)
    mutating func local(_ local: LocalAgentStatus)
    mutating func peer(_ peer: PeerStatus)
    /// A peer of which only latency or traffic changed (change batches of a watch only).
    mutating func counters(_ counters: PeerCounters)
    mutating func event(_ event: StatusEvent)
    mutating func removed(peerID: String)
    /// The batch is whole.
    mutating func batchEnd()
}

extension StatusStreamSink {
    public mutating func header(version: Int) {}
    /// Snapshots carry none: a reader of snapshots has nothing to do with them.
    public mutating func counters(_ counters: PeerCounters) {}
}

/// Collects each batch as a ``StatusChange`` (events oldest first).
struct StatusChangeCollector: StatusStreamSink {
    var current = StatusChange()
    var batches: [StatusChange] = []
    private var eventsInOrder = true

    mutating func local(_ local: LocalAgentStatus) { current.local = local }
    mutating func peer(_ peer: PeerStatus) { current.peers.append(peer) }
    mutating func counters(_ counters: PeerCounters) { current.counters.append(counters) }
    mutating func removed(peerID: String) { current.removedPeerIDs.append(peerID) }

    mutating func event(_ event: StatusEvent) {
        if let last = current.events.last, last.sequence > event.sequence { eventsInOrder = false }
        current.events.append(event)
    }

    mutating func batchEnd() {
        // A snapshot groups events by peer; a change lists them as they happened.
        if !eventsInOrder { current.events.sort { $0.sequence < $1.sequence } }
        batches.append(current)
        current = StatusChange()
        eventsInOrder = true
    }
}
