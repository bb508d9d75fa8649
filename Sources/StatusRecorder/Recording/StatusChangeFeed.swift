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

        public init(peers: [PeerSummary] = [], removedPeerIDs: [String] = [], local: LocalAgentStatus? = nil) {
            self.peers = peers
            self.removedPeerIDs = removedPeerIDs
            self.local = local
        }

        public var isEmpty: Bool { peers.isEmpty && removedPeerIDs.isEmpty && local == nil }
    }

    private let recorder: StatusRecorder
    private let subscriberID: Int
    /// Wakes the reader; ends when the feed goes.
    public let signals: AsyncStream<Void>

    init(recorder: StatusRecorder) {
        self.recorder = recorder
        (subscriberID, signals) = recorder.addSubscriber { s, subscriber in
            subscriber.dirtyPeers = Set(s.peers.ids)
            subscriber.localDirty = true
            subscriber.collectsEvents = false
        }
    }

    deinit { recorder.removeSubscriber(id: subscriberID) }

    /// What changed since the last call.
    public func take() -> Change {
        recorder.drainSummaries(subscriberID: subscriberID) ?? Change()
    }
}

extension StatusRecorder {
    /// Starts a ``StatusChangeFeed``.
    public func changeFeed() -> StatusChangeFeed { StatusChangeFeed(recorder: self) }

    func drainSummaries(subscriberID: Int) -> StatusChangeFeed.Change? {
        state.withLock { s in
            guard let marks = s.subscribers[subscriberID]?.takeMarks() else { return nil }
            var change = StatusChangeFeed.Change(removedPeerIDs: Array(marks.removed), local: marks.local ? s.local : nil)
            if marks.dirty.count * 2 > s.peers.count {
                change.peers = s.peers.orderedSummaries()
                change.isComplete = true
                return change
            }
            change.peers.reserveCapacity(marks.dirty.count)
            for id in marks.dirty {
                if let p = s.peers.summary(id) { change.peers.append(p) }
            }
            return change
        }
    }
}
