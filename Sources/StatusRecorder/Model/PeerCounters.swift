/// The fields of a peer that change all the time without changing what the peer is doing: its latency and its
/// traffic. A change of nothing else travels as these few fields (``StatusChange/counters``), so a mirror of
/// 10,000 peers whose latency moves every second reads a number or two per peer, not whole records.
public struct PeerCounters: Sendable, Hashable {
    public var id: String
    public var latencyNanos: Int64?
    public var smoothedLatencyNanos: Int64?
    public var bytesReceived: UInt64 = 0
    public var bytesSent: UInt64 = 0
    public var lastActivityMillis: Int64?

    public init(id: String) { self.id = id }

    public init(_ p: borrowing PeerStatus) {
        id = p.id
        latencyNanos = p.latencyNanos
        smoothedLatencyNanos = p.smoothedLatencyNanos
        bytesReceived = p.bytesReceived
        bytesSent = p.bytesSent
        lastActivityMillis = p.lastActivityMillis
    }

    /// Sets these fields of `peer` (the same peer); its latency history is extended with a new latency, as a
    /// mirror does. Returns whether anything changed.
    @discardableResult
    public func apply(to peer: inout PeerStatus) -> Bool {
        let latencyMoved = latencyNanos != peer.latencyNanos
        guard latencyMoved || smoothedLatencyNanos != peer.smoothedLatencyNanos || bytesReceived != peer.bytesReceived
                || bytesSent != peer.bytesSent || lastActivityMillis != peer.lastActivityMillis else { return false }
        if latencyMoved, let latency = latencyNanos {
            peer.latencyHistoryNanos.append(latency)
            if peer.latencyHistoryNanos.count > PeerStatus.historyLimit { peer.latencyHistoryNanos.removeFirst() }
        }
        peer.latencyNanos = latencyNanos
        peer.smoothedLatencyNanos = smoothedLatencyNanos
        peer.bytesReceived = bytesReceived
        peer.bytesSent = bytesSent
        peer.lastActivityMillis = lastActivityMillis
        return true
    }
}
