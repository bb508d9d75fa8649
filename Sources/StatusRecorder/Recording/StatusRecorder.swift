import Synchronization

/// The single source of truth for peer status: the engine writes field-specific updates from any thread or task;
/// front ends read consistent snapshots or subscribe to coalesced changes.
///
/// Updates never wait on subscribers: each subscriber owns a set of dirty peer ids that updates only mark, and a
/// wake-up signal that holds at most one pending value. A slow subscriber therefore skips intermediate values but
/// always ends up with the latest state.
public final class StatusRecorder: Sendable {
    struct Subscriber {
        /// The slots of changed peers.
        var dirtyPeers = SlotMarks()
        /// Peers of which only counters changed (``PeerCounters``), apart from `dirtyPeers` when `splitsCounters`.
        var counterPeers = SlotMarks()
        /// Removed peers, by id: a slot may hold another peer by the time they are read.
        var removedPeers: Set<String> = []
        var localDirty = false
        /// Events recorded since the last drain (bounded; subscriptions only).
        var events: [StatusEvent] = []
        let wake: AsyncStream<Void>.Continuation
        /// False for readers that fetch events from the logs themselves (``StatusChangeFeed``).
        var collectsEvents = true
        /// Whether a peer of which only latency or traffic changed is marked apart, to be taken as counters.
        var splitsCounters = false

        mutating func peerChanged(_ id: String, slot: Int, countersOnly: Bool = false, waking: Bool = true) {
            if countersOnly, splitsCounters {
                if !dirtyPeers.contains(slot) { counterPeers.insert(slot) }
            } else {
                dirtyPeers.insert(slot)
                counterPeers.remove(slot)
            }
            if !removedPeers.isEmpty { removedPeers.remove(id) }
            if waking { wake.yield() }
        }

        mutating func peerRemoved(_ id: String, slot: Int, waking: Bool = true) {
            dirtyPeers.remove(slot)
            counterPeers.remove(slot)
            removedPeers.insert(id)
            if waking { wake.yield() }
        }

        mutating func localChanged(waking: Bool = true) {
            localDirty = true
            if waking { wake.yield() }
        }

        mutating func recorded(_ event: StatusEvent) {
            if collectsEvents {
                events.append(event)
                if events.count > StatusRecorder.pendingEventLimit { events.removeFirst(StatusRecorder.pendingEventLimit / 4) }
            }
            wake.yield()
        }

        /// The marks, cleared.
        mutating func takeMarks() -> (dirty: SlotMarks, counters: SlotMarks, removed: Set<String>, local: Bool) {
            let marks = (dirtyPeers.take(), counterPeers.take(), removedPeers, localDirty)
            removedPeers = []
            localDirty = false
            return marks
        }

        /// The change since the last take, with full records (peers in display order), and clears the marks.
        mutating func takeChange(peers: PeerTable, local: LocalAgentStatus) -> StatusChange {
            var change = StatusChange(peers: dirtyPeers.compactMap { peers[slot: $0] }.sorted(by: StatusRecorder.displayOrder),
                                      removedPeerIDs: removedPeers.sorted(), local: localDirty ? local : nil, events: events)
            change.counters = counterPeers.compactMap { peers.counters(slot: $0) }
            events.removeAll()
            _ = dirtyPeers.take()
            _ = counterPeers.take()
            removedPeers.removeAll()
            localDirty = false
            return change
        }
    }

    struct State {
        var local = LocalAgentStatus()
        var peers = PeerTable()
        var subscribers: [Int: Subscriber] = [:]
        var nextSubscriberID = 0
        var peerEvents: [String: EventLog] = [:]
        var agentEvents: EventLog
        var nextEventSequence: UInt64 = 1
        let peerEventLimit: Int
        let derivesEvents: Bool

        /// Runs `body` on every subscriber in place. Looping over `subscribers.keys` while writing through
        /// `subscribers[key]` would keep the dictionary's storage referenced, so every write copied it and then
        /// the subscriber's whole set of dirty ids: with 10,000 peers, each update cost a 10,000-element copy.
        mutating func forEachSubscriber(_ body: (inout Subscriber) -> Void) {
            var i = subscribers.values.startIndex
            while i != subscribers.values.endIndex {
                body(&subscribers.values[i])
                subscribers.values.formIndex(after: &i)
            }
        }
    }

    let state: Mutex<State>
    let clock: @Sendable () -> Int64

    /// - Parameters:
    ///   - clock: Unix time in milliseconds; tests pass a fixed one.
    ///   - peerEventLimit: how many events each peer's log keeps.
    ///   - agentEventLimit: how many of the agent's own events its log keeps.
    ///   - derivesEvents: false for a mirror of another recorder, which imports that recorder's events instead
    ///     of logging its own for the changes it copies.
    public init(clock: @escaping @Sendable () -> Int64 = currentTimeMillis, peerEventLimit: Int = 100, agentEventLimit: Int = 500,
                derivesEvents: Bool = true) {
        self.clock = clock
        state = Mutex(State(agentEvents: EventLog(capacity: agentEventLimit), peerEventLimit: max(1, peerEventLimit),
                            derivesEvents: derivesEvents))
    }

    // MARK: Writing

    /// Adds a peer in Idle (or renames an existing one), with the reason it starts with, which is not an event.
    public func addPeer(id: String, name: String, reason: PeerReason? = nil) {
        let now = clock()
        mutatePeer(id) { peer in
            if peer == nil { peer = PeerStatus(id: id, name: name, stateChangedAtMillis: now) }
            peer?.name = name
            if let reason { peer?.reason = reason }
        }
    }

    public func removePeer(id: String) {
        state.withLock { s in
            guard let slot = s.peers.remove(id: id) else { return }
            s.peerEvents[id] = nil
            s.forEachSubscriber { $0.peerRemoved(id, slot: slot) }
        }
    }

    /// Sets the state and, when it changes, the time of change. Leaving Connected clears the path fields. A
    /// change of state or of reason is logged as an event.
    public func updateState(id: String, _ newState: PeerConnectionState, reason: PeerReason? = nil) {
        let now = clock()
        mutatePeerLogging(id) { peer -> StatusEvent.Kind? in
            guard peer != nil else { return nil }
            let old = peer!
            if peer!.state != newState {
                peer!.state = newState
                peer!.stateChangedAtMillis = now
                if newState != .connected {
                    peer!.connectionType = nil
                    peer!.localCandidate = nil
                    peer!.remoteCandidate = nil
                    peer!.relayServer = nil
                    peer!.relayTransport = nil
                }
            }
            peer!.reason = reason
            if newState == .connected { peer!.nextRetryAtMillis = nil }
            guard old.state != newState || (old.reason != reason && reason != nil) else { return nil }
            return .stateChanged(from: old.state, to: newState, reason: reason)
        }
    }

    /// Records the path of a connected peer: its type and the selected pair's two ends.
    public func updatePath(id: String, type: ConnectionType, local: CandidateEndpoint?, remote: CandidateEndpoint?,
                           relayServer: String? = nil, relayTransport: String? = nil) {
        mutatePeerLogging(id) { peer -> StatusEvent.Kind? in
            guard let old = peer else { return nil }
            peer?.connectionType = type
            peer?.localCandidate = local
            peer?.remoteCandidate = remote
            peer?.relayServer = relayServer
            peer?.relayTransport = relayTransport
            guard old.connectionType != type || old.localCandidate != local || old.remoteCandidate != remote
                    || old.relayServer != relayServer else { return nil }
            return .pathChanged(type: type, local: local, remote: remote, relayServer: relayServer)
        }
    }

    /// Records the latest round-trip time, folds it into the smoothed one and appends it to the history.
    public func updateLatency(id: String, nanoseconds: Int64) {
        mutatePeer(id, countersOnly: true) { peer in
            peer?.latencyNanos = nanoseconds
            let previous = peer?.smoothedLatencyNanos
            peer?.smoothedLatencyNanos = previous.map { $0 + (nanoseconds - $0) / 8 } ?? nanoseconds
            peer?.latencyHistoryNanos.append(nanoseconds)
            if let n = peer?.latencyHistoryNanos.count, n > PeerStatus.historyLimit {
                peer?.latencyHistoryNanos.removeFirst(n - PeerStatus.historyLimit)
            }
        }
    }

    /// Replaces the candidate pairs of the peer's current ICE session.
    public func updateCandidatePairs(id: String, _ pairs: [CandidatePairStatus]) {
        mutatePeer(id) { $0?.candidatePairs = pairs }
    }

    /// Sets (or clears) when the next connection attempt is due.
    public func updateNextRetry(id: String, atMillis: Int64?) {
        mutatePeer(id) { $0?.nextRetryAtMillis = atMillis }
    }

    /// Adds to the traffic counters and stamps the last activity.
    public func addTraffic(id: String, received: UInt64 = 0, sent: UInt64 = 0) {
        addTraffic(id: id, received: received, sent: sent, drops: DatagramDrops())
    }

    /// Adds a batch of traffic and drops (the data plane reports a few times a second, not per datagram); the
    /// last activity moves only when bytes moved.
    public func addTraffic(id: String, received: UInt64, sent: UInt64, drops: DatagramDrops) {
        let now = clock()
        mutatePeer(id, countersOnly: drops.isEmpty) { peer in
            peer?.bytesReceived &+= received
            peer?.bytesSent &+= sent
            if received > 0 || sent > 0 { peer?.lastActivityMillis = now }
            if !drops.isEmpty { peer?.drops.add(drops) }
        }
    }

    /// Counts a remote candidate that was ignored (inside a routed network), once per distinct description.
    public func addIgnoredCandidate(id: String, _ description: String) {
        mutatePeer(id) { peer in
            guard peer != nil, !peer!.ignoredCandidates.contains(description) else { return }
            peer!.ignoredCandidateCount += 1
            if peer!.ignoredCandidates.count < PeerStatus.ignoredCandidateLimit { peer!.ignoredCandidates.append(description) }
        }
    }

    /// Sets the reason a peer is not Connected or not P2P (nil clears it). A new reason is logged as an event.
    public func updateReason(id: String, _ reason: PeerReason?) {
        mutatePeerLogging(id) { peer -> StatusEvent.Kind? in
            guard let old = peer else { return nil }
            peer?.reason = reason
            guard let reason, reason != old.reason else { return nil }
            return .stateChanged(from: old.state, to: old.state, reason: reason)
        }
    }

    /// Replaces a whole peer record (used by mirrors of a remote recorder).
    public func replacePeer(_ peer: PeerStatus) {
        mutatePeer(peer.id) { $0 = peer }
    }

    /// Updates the local agent's status.
    /// Server outcomes and NAT verdicts that change are logged as the agent's events.
    public func updateLocal(_ body: (inout LocalAgentStatus) -> Void) {
        state.withLock { s in
            let before = s.local
            body(&s.local)
            guard s.local != before else { return }
            if s.derivesEvents {
                let now = clock()
                for kind in Self.localEvents(before: before, after: s.local) { s.record(kind, peerID: nil, peerName: nil, at: now) }
            }
            s.forEachSubscriber { $0.localChanged() }
        }
    }

    /// `countersOnly`: the change touches only ``PeerCounters`` fields (and the latency history).
    private func mutatePeer(_ id: String, countersOnly: Bool = false, _ body: (inout PeerStatus?) -> Void) {
        mutatePeerLogging(id, countersOnly: countersOnly) { peer -> StatusEvent.Kind? in
            body(&peer)
            return nil
        }
    }

    /// Applies `body` and logs the event it returns (for a peer that exists after it).
    private func mutatePeerLogging(_ id: String, countersOnly: Bool = false, _ body: (inout PeerStatus?) -> StatusEvent.Kind?) {
        state.withLock { s in
            let slot = s.peers.slot(of: id)
            let before = slot.flatMap { s.peers[slot: $0] }
            var peer = before
            if let kind = body(&peer), let p = peer, s.derivesEvents { s.record(kind, peerID: id, peerName: p.name, at: clock()) }
            guard peer != before else { return }
            switch (slot, peer) {
            case (let slot?, let peer?):
                _ = s.peers.modify(slot: slot) { $0 = peer; return true }
                s.forEachSubscriber { $0.peerChanged(id, slot: slot, countersOnly: countersOnly) }
            case (nil, let peer?):
                let slot = s.peers.insert(peer)
                s.forEachSubscriber { $0.peerChanged(id, slot: slot) }
            case (let slot?, nil):
                s.peers.remove(id: id)
                s.peerEvents[id] = nil
                s.forEachSubscriber { $0.peerRemoved(id, slot: slot) }
            case (nil, nil):
                break
            }
        }
    }

    // MARK: Reading

    /// One peer's current record.
    public func peer(id: String) -> PeerStatus? {
        state.withLock { $0.peers[id] }
    }

    /// A consistent snapshot of everything, peers ordered by name then id.
    public func snapshot() -> StatusSnapshot {
        let (local, peers) = state.withLock { ($0.local, $0.peers.ordered()) }
        return StatusSnapshot(local: local, peers: peers, takenAtMillis: clock())
    }

    static func displayOrder(_ a: PeerStatus, _ b: PeerStatus) -> Bool {
        a.name != b.name ? a.name < b.name : a.id < b.id
    }

    /// Starts a subscription. Its first element is the current state of every peer and the latest events (at
    /// most ``initialEventLimit``); later elements carry only what changed, and every event, since the previous one. The subscription ends when its iterating task is cancelled.
    ///
    /// - Parameter splittingCounters: a peer of which only latency or traffic changed comes in
    ///   ``StatusChange/counters`` rather than as a whole record in ``StatusChange/peers``.
    public func subscribe(splittingCounters: Bool = false) -> StatusSubscription {
        let (id, stream) = addSubscriber { s, subscriber in
            subscriber.splitsCounters = splittingCounters
            subscriber.dirtyPeers = SlotMarks(s.peers.occupiedSlots)
            subscriber.localDirty = true
            subscriber.events = s.mergedEvents(limit: Self.initialEventLimit, peerID: nil)
        }
        return StatusSubscription(recorder: self, subscriberID: id, wake: stream)
    }

    /// Registers a subscriber set up by `configure`, woken once at once and removed when its stream ends.
    func addSubscriber(_ configure: (State, inout Subscriber) -> Void) -> (id: Int, stream: AsyncStream<Void>) {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { s in
            let id = s.nextSubscriberID
            s.nextSubscriberID += 1
            var subscriber = Subscriber(wake: continuation)
            configure(s, &subscriber)
            s.subscribers[id] = subscriber
            return id
        }
        continuation.yield()
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
        }
        return (id, stream)
    }

    /// Takes what changed for one subscriber and clears its dirty marks.
    func drain(subscriberID: Int) -> StatusChange? {
        state.withLock { s in
            // In place: the marks are read and cleared without a copy of the subscriber.
            let (peers, local) = (s.peers, s.local)
            return s.subscribers[subscriberID]?.takeChange(peers: peers, local: local)
        }
    }

    func removeSubscriber(id: Int) {
        let subscriber = state.withLock { $0.subscribers.removeValue(forKey: id) }
        subscriber?.wake.finish()
    }

    /// Number of live subscriptions.
    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }
}
