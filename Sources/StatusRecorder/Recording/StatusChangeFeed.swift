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
        /// The latency and traffic of peers of which nothing else changed, when asked for apart
        /// (``Counters/apart``), in no particular order.
        public var counters: [PeerCounters] = []
        /// Instead of `counters` when most peers' counters changed (``Counters/apart``): every peer's latency, in
        /// display order, which is the order a reader that applies every change of this feed holds the peers in
        /// once it has applied this one's `peers`. Matched by position: no id is copied or compared.
        public var latenciesInOrder: [Int64?] = []
        /// Peers of which only latency or traffic changed that the change leaves out (``Counters/counted``): a
        /// reader that shows those fields draws again, one that orders by them did not ask so.
        public var counterChanges = 0

        public init(peers: [PeerSummary] = [], removedPeerIDs: [String] = [], local: LocalAgentStatus? = nil) {
            self.peers = peers
            self.removedPeerIDs = removedPeerIDs
            self.local = local
        }

        public var isEmpty: Bool {
            peers.isEmpty && counters.isEmpty && latenciesInOrder.isEmpty && removedPeerIDs.isEmpty && local == nil && counterChanges == 0
        }
    }

    /// How a change hands over peers of which only latency or traffic changed.
    public enum Counters: Sendable {
        /// As summaries in ``Change/peers``, like any other change.
        case inPeers
        /// As ``PeerCounters`` in ``Change/counters`` (or, when most peers changed, every latency in
        /// ``Change/latenciesInOrder``): a few numbers per peer, for a reader that orders by them.
        case apart
        /// Only counted (``Change/counterChanges``), for a reader that neither orders nor filters by them.
        case counted
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
    /// - Parameter counters: how peers of which only latency or traffic changed are handed over; sparing a reader
    ///   that does not need their summaries reading thousands of them each second.
    public func take(counters: Counters = .inPeers) -> Change {
        recorder.drainSummaries(subscriberID: subscriberID, counters: counters) ?? Change()
    }
}

extension StatusRecorder {
    /// Starts a ``StatusChangeFeed``.
    public func changeFeed() -> StatusChangeFeed { StatusChangeFeed(recorder: self) }

    func drainSummaries(subscriberID: Int, counters delivery: StatusChangeFeed.Counters) -> StatusChangeFeed.Change? {
        state.withLock { s in
            guard let marks = s.subscribers[subscriberID]?.takeMarks() else { return nil }
            var change = StatusChangeFeed.Change(removedPeerIDs: Array(marks.removed), local: marks.local ? s.local : nil)
            if delivery == .counted { change.counterChanges = marks.counters.count }
            let wanted = marks.dirty.count + (delivery == .inPeers ? marks.counters.count : 0)
            if wanted * 2 > s.peers.count {
                change.peers = s.peers.orderedSummaries()
                change.isComplete = true
                return change
            }
            change.peers.reserveCapacity(wanted)
            for slot in marks.dirty {
                if let p = s.peers.summary(slot: slot) { change.peers.append(p) }
            }
            switch delivery {
            case .counted:
                break
            case .inPeers:
                for slot in marks.counters {
                    if let p = s.peers.summary(slot: slot) { change.peers.append(p) }
                }
            case .apart where marks.counters.count * 2 > s.peers.count:
                // Read in display order, a reader matches them to its rows by position, not by id.
                change.latenciesInOrder = s.peers.orderedLatencies()
            case .apart:
                change.counters.reserveCapacity(marks.counters.count)
                for slot in marks.counters {
                    if let c = s.peers.counters(slot: slot) { change.counters.append(c) }
                }
            }
            return change
        }
    }
}
