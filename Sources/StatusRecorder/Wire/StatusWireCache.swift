import Synchronization

/// A recorder's snapshot as the status socket sends it, kept encoded: each peer's lines are written once and
/// again only after that peer changes, so answering `--detail` for 10,000 peers is mostly a copy.
///
/// The bytes are those of ``StatusWireFormat/appendSnapshot(_:full:to:)`` for a snapshot without histories and
/// candidate pairs, with the newest events of each log.
public final class StatusWireCache: Sendable {
    private let recorder: StatusRecorder
    private let subscriberID: Int
    /// Kept: the subscriber lasts as long as its stream (and the cache removes it when it goes).
    private let subscription: AsyncStream<Void>
    private let encoded = Mutex<[String: [UInt8]]>([:])

    public init(recorder: StatusRecorder) {
        self.recorder = recorder
        (subscriberID, subscription) = recorder.addSubscriber { s, subscriber in
            subscriber.dirtyPeers = SlotMarks(s.peers.occupiedSlots)
            subscriber.collectsEvents = false
        }
    }

    deinit { recorder.removeSubscriber(id: subscriberID) }

    /// Appends the current snapshot as one batch, with the newest `events` events of each log (the agent's and
    /// each peer's, the agent's after its lines and a peer's after that peer's).
    public func appendSnapshot(events limit: Int, to out: inout [UInt8]) {
        let view = recorder.encodingView(subscriberID: subscriberID, eventLimit: limit)
        encoded.withLock { encoded in
            for id in view.removed { encoded[id] = nil }
            for peer in view.changed {
                var bytes: [UInt8] = []
                StatusWireFormat.appendPeer(peer, full: false, to: &bytes)
                encoded[peer.id] = bytes
            }
            out.reserveCapacity(out.count + 256 + view.order.count * 200)
            StatusWireFormat.appendSnapshot(local: view.local, agentEvents: view.agentEvents, peerEvents: view.peerEvents,
                                            peers: view.order, id: { $0 }, to: &out) { id, out in
                guard let bytes = encoded[id] else { return false }
                out.append(contentsOf: bytes)
                return true
            }
        }
    }
}

extension StatusRecorder {
    /// What a ``StatusWireCache`` needs, read under one lock: peers changed since it last looked, the removed
    /// ones, the display order, the local agent and the newest events of each log.
    struct EncodingView {
        var changed: [PeerStatus]
        var removed: [String]
        var order: [String]
        var local: LocalAgentStatus
        var agentEvents: [StatusEvent]
        var peerEvents: [String: [StatusEvent]]
    }

    func encodingView(subscriberID: Int, eventLimit: Int) -> EncodingView {
        state.withLock { s in
            let order = s.peers.orderedIDs()
            let marks = s.subscribers[subscriberID]?.takeMarks() ?? (dirty: SlotMarks(), counters: SlotMarks(), removed: [], local: false)
            var peerEvents: [String: [StatusEvent]] = [:]
            if eventLimit > 0 {
                for (id, log) in s.peerEvents {
                    let events = log.last(eventLimit)
                    if !events.isEmpty { peerEvents[id] = events }
                }
            }
            return EncodingView(changed: marks.dirty.compactMap { s.peers[slot: $0] }, removed: Array(marks.removed), order: order, local: s.local,
                                agentEvents: eventLimit > 0 ? s.agentEvents.last(eventLimit) : [], peerEvents: peerEvents)
        }
    }
}
