import StatusRecorder

/// A report format written record by record: each peer as it arrives, the agent's part once all have.
protocol ReportFormatter {
    /// One peer that passed the filter, with its events (oldest first).
    mutating func peer(_ peer: PeerStatus, events: [StatusEvent])
    /// The whole report, in the pieces to write in order, once every peer is in.
    mutating func finish(local: LocalAgentStatus, agentEvents: [StatusEvent], total: Int, connected: Int) -> [ReportBytes]
}

/// Reads the snapshot batch of a status stream into a ``ReportFormatter`` as it comes: a peer is formatted once
/// its lines and events are in, so no copy of the whole snapshot is built first. The report is whole only at
/// the batch's end (``output``); a stream cut before it leaves none.
///
/// Version 2 streams put a peer's events after it. Version 1 streams put every event at the end, so their batch
/// is collected first and then formatted in the same order.
struct ReportStream<Formatter: ReportFormatter>: StatusStreamSink {
    private var formatter: Formatter
    private let filter: PeerFilter
    private var streamsRecords = false
    private var local = LocalAgentStatus()
    private var agentEvents: [StatusEvent] = []
    /// The peer being read, and whether it passed the filter.
    private var open: (peer: PeerStatus, events: [StatusEvent], kept: Bool)?
    /// A version 1 batch, kept whole.
    private var collected = StatusChange()
    private var total = 0
    private var connected = 0
    /// The report, once the batch has ended.
    private(set) var output: [ReportBytes]?

    init(_ formatter: Formatter, filter: PeerFilter) {
        self.formatter = formatter
        self.filter = filter
    }

    mutating func header(version: Int) { streamsRecords = version >= 2 }

    mutating func local(_ local: LocalAgentStatus) { self.local = local }

    mutating func peer(_ peer: PeerStatus) {
        guard streamsRecords else { return collected.peers.append(peer) }
        close()
        open = (peer, [], filter.matches(peer))
    }

    mutating func event(_ event: StatusEvent) {
        guard let id = event.peerID else { return agentEvents.append(event) }
        guard streamsRecords else { return collected.events.append(event) }
        // Events of a peer filtered out, or no longer in the snapshot, are not shown.
        if open?.peer.id == id, open?.kept == true { open?.events.append(event) }
    }

    mutating func removed(peerID: String) {}

    mutating func batchEnd() {
        guard output == nil else { return }
        if streamsRecords {
            close()
        } else {
            let events = EventsByPeer(collected.events)
            for peer in collected.peers where filter.matches(peer) { format(peer, events: events.peers[peer.id] ?? []) }
        }
        output = formatter.finish(local: local, agentEvents: agentEvents, total: total, connected: connected)
    }

    private mutating func close() {
        if let open = open.take(), open.kept { format(open.peer, events: open.events) }
    }

    private mutating func format(_ peer: PeerStatus, events: [StatusEvent]) {
        total += 1
        if peer.state == .connected { connected += 1 }
        formatter.peer(peer, events: events)
    }
}
