/// A subscription read without awaiting, for a reader with its own loop (the dashboard): ``signals`` yields (one
/// pending at most) when anything changed, and ``take(_:)`` returns the peers changed and removed since the last
/// take (every peer the first time), each as a ``PeerSummary``, so a reader of thousands of peers copies a few
/// fields of each and fetches whole records (``StatusRecorder/peer(id:)``) only for those it shows. Events are
/// not collected: such a reader asks the logs for the ones it shows.
public final class StatusChangeFeed: Sendable {
    /// What changed: the summaries of the changed peers (in no particular order), the removed ids, and the
    /// local agent if it changed. When most peers changed, it holds every peer instead, in display order
    /// (``isComplete``): reading them in order is cheaper than finding each changed one.
    public struct Change: Sendable {
        public var peers: [PeerSummary] = []
        /// `peers` is every peer, in display order (and `removedPeerIDs` those gone since the last take).
        public var isComplete = false
        public var removedPeerIDs: [String] = []
        public var local: LocalAgentStatus?
        /// Peers of which only latency or traffic changed that `peers` leaves out (``take(includingCounters:)``
        /// with false): a reader that shows those fields draws again, one that orders by them did not ask so.
        public var counterChanges = 0

        public init(peers: [PeerSummary] = [], removedPeerIDs: [String] = [], local: LocalAgentStatus? = nil) {
            self.peers = peers
            self.removedPeerIDs = removedPeerIDs
            self.local = local
        }

        public var isEmpty: Bool { peers.isEmpty && removedPeerIDs.isEmpty && local == nil && counterChanges == 0 }
    }

    private let recorder: StatusRecorder
    private let subscriberID: Int
    /// Wakes the reader; ends when the feed goes.
    public let signals: AsyncStream<Void>

    init(recorder: StatusRecorder) {
        self.recorder = recorder
        (subscriberID, signals) = recorder.addSubscriber { s, subscriber in
            subscriber.dirtyPeers = SlotMarks(s.peers.occupiedSlots)
            subscriber.localDirty = true
            subscriber.collectsEvents = false
            subscriber.splitsCounters = true
        }
    }

    deinit { recorder.removeSubscriber(id: subscriberID) }

    /// What changed since the last call.
    ///
    /// - Parameter includingCounters: whether a peer of which only latency or traffic changed is in
    ///   ``Change/peers``; without, such peers are only counted (``Change/counterChanges``), which spares a
    ///   reader that neither orders nor filters by them reading thousands of summaries each second.
    public func take(includingCounters: Bool = true) -> Change {
        recorder.drainSummaries(subscriberID: subscriberID, includingCounters: includingCounters) ?? Change()
    }
}

extension StatusRecorder {
    /// Starts a ``StatusChangeFeed``.
    public func changeFeed() -> StatusChangeFeed { StatusChangeFeed(recorder: self) }

    func drainSummaries(subscriberID: Int, includingCounters: Bool) -> StatusChangeFeed.Change? {
        state.withLock { s in
            guard let marks = s.subscribers[subscriberID]?.takeMarks() else { return nil }
            var change = StatusChangeFeed.Change(removedPeerIDs: Array(marks.removed), local: marks.local ? s.local : nil)
            if !includingCounters { change.counterChanges = marks.counters.count }
            let wanted = marks.dirty.count + (includingCounters ? marks.counters.count : 0)
            if wanted * 2 > s.peers.count {
                change.peers = s.peers.orderedSummaries()
                change.isComplete = true
                return change
            }
            change.peers.reserveCapacity(wanted)
            for slot in marks.dirty {
                if let p = s.peers.summary(slot: slot) { change.peers.append(p) }
            }
            guard includingCounters else { return change }
            for slot in marks.counters {
                if let p = s.peers.summary(slot: slot) { change.peers.append(p) }
            }
            return change
        }
    }
}
