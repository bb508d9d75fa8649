/// A recorder as the mirror of another one: what a status-stream reader (the dashboard of a remote agent) applies.
extension StatusRecorder {
    /// Applies a batch read from another recorder's status stream, under one lock, waking each subscriber once.
    /// A peer that comes without a latency history (changes carry none) keeps this recorder's, extended with its
    /// latency when that is new. Events keep their sequence and time.
    public func mirror(_ change: StatusChange) {
        state.withLock { s in
            var changed = false
            if let local = change.local, local != s.local {
                s.local = local
                s.forEachSubscriber { $0.localChanged(waking: false) }
                changed = true
            }
            for peer in change.peers {
                guard let slot = s.peers.slot(of: peer.id) else {
                    let slot = s.peers.insert(peer)
                    s.forEachSubscriber { $0.peerChanged(peer.id, slot: slot, waking: false) }
                    changed = true
                    continue
                }
                // In place: one lookup, and the old record is neither copied nor handed out.
                let updated = s.peers.modify(slot: slot) { current in
                    var incoming = peer
                    if incoming.latencyHistoryNanos.isEmpty {
                        incoming.latencyHistoryNanos = current.latencyHistoryNanos
                        if let latency = incoming.latencyNanos, latency != current.latencyNanos {
                            incoming.latencyHistoryNanos.append(latency)
                            if incoming.latencyHistoryNanos.count > PeerStatus.historyLimit { incoming.latencyHistoryNanos.removeFirst() }
                        }
                    }
                    // A new latency is the usual change: no need to compare the rest.
                    guard incoming.latencyNanos != current.latencyNanos || incoming != current else { return false }
                    current = incoming
                    return true
                }
                guard updated else { continue }
                s.forEachSubscriber { $0.peerChanged(peer.id, slot: slot, waking: false) }
                changed = true
            }
            for counters in change.counters {
                guard let slot = s.peers.slot(of: counters.id), s.peers.modify(slot: slot, { counters.apply(to: &$0) }) else { continue }
                s.forEachSubscriber { $0.peerChanged(counters.id, slot: slot, countersOnly: true, waking: false) }
                changed = true
            }
            for id in change.removedPeerIDs {
                guard let slot = s.peers.remove(id: id) else { continue }
                s.peerEvents[id] = nil
                s.forEachSubscriber { $0.peerRemoved(id, slot: slot, waking: false) }
                changed = true
            }
            for e in change.events { s.store(e) }
            if changed { s.forEachSubscriber { $0.wake.yield() } }
        }
    }
}
