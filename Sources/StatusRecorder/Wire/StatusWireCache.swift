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
            subscriber.dirtyPeers = Set(s.peers.ids)
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
            StatusWireFormat.appendLocal(view.local, to: &out)
            StatusWireFormat.appendEvents(view.agentEvents, to: &out)
            var peerEvents = view.peerEvents
            for id in view.order {
                guard let bytes = encoded[id] else { continue }
                out.append(contentsOf: bytes)
                if let events = peerEvents.removeValue(forKey: id) { StatusWireFormat.appendEvents(events, to: &out) }
            }
            StatusWireFormat.appendEvents(peerEvents.values.joined().sorted { $0.sequence < $1.sequence }, to: &out)
            out.append(contentsOf: ".\n".utf8)
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
            let order = s.peers.orderedIDs() // before `peers` shares the table, so caching the order copies nothing
            let (peers, local) = (s.peers, s.local)
            let change = s.subscribers[subscriberID]?.takeChange(peers: peers, local: local, ordered: false) ?? StatusChange()
            var peerEvents: [String: [StatusEvent]] = [:]
            if eventLimit > 0 {
                for (id, log) in s.peerEvents {
                    let events = log.last(eventLimit)
                    if !events.isEmpty { peerEvents[id] = events }
                }
            }
            return EncodingView(changed: change.peers, removed: change.removedPeerIDs, order: order, local: local,
                                agentEvents: eventLimit > 0 ? s.agentEvents.last(eventLimit) : [], peerEvents: peerEvents)
        }
    }
}
