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
    /// Each peer's lines, by its slot in the recorder's table (a slot is an array index: no id is hashed to send
    /// a peer). A slot given to another peer is marked changed, so its bytes are written again before they are sent.
    private let encoded = Mutex<[[UInt8]?]>([])

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
        encoded.withLock { encoded in
            // The view is taken under the cache's lock: two requests at once must not each hold changes the other
            // has not written yet (a slot sent with the bytes of the peer it held before). The recorder never
            // calls into the cache, so this order of locks is the only one.
            let view = recorder.encodingView(subscriberID: subscriberID, eventLimit: limit)
            for (slot, peer) in view.changed {
                if slot >= encoded.count { encoded.append(contentsOf: repeatElement(nil, count: slot + 1 - encoded.count)) }
                var bytes: [UInt8] = []
                StatusWireFormat.appendPeer(peer, full: false, to: &bytes)
                encoded[slot] = bytes
            }
            if view.anyRemoved { Self.forgetEmptySlots(of: &encoded, keeping: view.order) }
            out.reserveCapacity(out.count + 256 + view.order.count * 200)
            encoded.withUnsafeBufferPointer { encoded in
                StatusWireFormat.appendSnapshot(local: view.local, agentEvents: view.agentEvents, peerEvents: view.peerEvents,
                                                leftoverEvents: view.leftoverEvents, peers: view.order, key: { $0 }, to: &out) { slot, out in
                    guard slot < encoded.count, let bytes = encoded[slot] else { return false }
                    out.append(contentsOf: bytes)
                    return true
                }
            }
        }
    }

    /// Drops the bytes of slots that hold no peer now (their peers were removed), so they are not kept.
    private static func forgetEmptySlots(of encoded: inout [[UInt8]?], keeping occupied: [Int]) {
        var held = [Bool](repeating: false, count: encoded.count)
        for slot in occupied where slot < held.count { held[slot] = true }
        for slot in encoded.indices where !held[slot] { encoded[slot] = nil }
    }
}

extension StatusRecorder {
    /// What a ``StatusWireCache`` needs, read under one lock: peers changed since it last looked (with their
    /// slots), whether any was removed, the display order (as slots), the local agent and the newest events of
    /// each log.
    struct EncodingView {
        var changed: [(slot: Int, peer: PeerStatus)]
        var anyRemoved: Bool
        var order: [Int]
        var local: LocalAgentStatus
        var agentEvents: [StatusEvent]
        /// The newest events of each peer in the table, by slot.
        var peerEvents: [Int: [StatusEvent]]
        /// The newest events of peers no longer in the table.
        var leftoverEvents: [StatusEvent]
    }

    func encodingView(subscriberID: Int, eventLimit: Int) -> EncodingView {
        state.withLock { s in
            let order = s.peers.orderedSlots()
            let marks = s.subscribers[subscriberID]?.takeMarks() ?? (dirty: SlotMarks(), counters: SlotMarks(), removed: [], local: false)
            var peerEvents: [Int: [StatusEvent]] = [:]
            var leftoverEvents: [StatusEvent] = []
            if eventLimit > 0 {
                for (id, log) in s.peerEvents {
                    let events = log.last(eventLimit)
                    guard !events.isEmpty else { continue }
                    if let slot = s.peers.slot(of: id) { peerEvents[slot] = events } else { leftoverEvents += events }
                }
            }
            return EncodingView(changed: marks.dirty.compactMap { slot in s.peers[slot: slot].map { (slot, $0) } },
                                anyRemoved: !marks.removed.isEmpty, order: order, local: s.local,
                                agentEvents: eventLimit > 0 ? s.agentEvents.last(eventLimit) : [], peerEvents: peerEvents,
                                leftoverEvents: leftoverEvents)
        }
    }
}
