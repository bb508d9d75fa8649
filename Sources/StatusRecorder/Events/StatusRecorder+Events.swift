/// The event logs: one per peer, one for the agent, and what each subscriber has not seen yet.
extension StatusRecorder {
    /// How many events a new subscription starts with.
    public static let initialEventLimit = 500
    /// How many events a subscriber that does not drain may fall behind by before the oldest are dropped.
    static let pendingEventLimit = 4096

    /// Logs an event of a peer (which must exist) or, with `peerID` nil, of the agent.
    public func recordEvent(peerID: String? = nil, _ kind: StatusEvent.Kind) {
        let now = clock()
        state.withLock { s in
            if let peerID {
                guard let peer = s.peers[peerID] else { return }
                s.record(kind, peerID: peerID, peerName: peer.name, at: now)
            } else {
                s.record(kind, peerID: nil, peerName: nil, at: now)
            }
        }
    }

    /// The newest `limit` events, oldest first: of one peer (by id), or with `peerID` nil, of the agent and
    /// every peer merged in the order they happened.
    public func events(limit: Int, peerID: String? = nil) -> [StatusEvent] {
        state.withLock { $0.mergedEvents(limit: limit, peerID: peerID) }
    }

    /// The newest `limit` events of each log (the agent's and every peer's), merged oldest first.
    public func eventsOfEachLog(limit: Int) -> [StatusEvent] {
        guard limit > 0 else { return [] }
        return state.withLock { s in
            var all = s.agentEvents.last(limit)
            for log in s.peerEvents.values { all += log.last(limit) }
            return all.sorted { $0.sequence < $1.sequence }
        }
    }

    /// The agent's events that a change of its status means: servers that became available or failed, and a
    /// new NAT verdict.
    static func localEvents(before: LocalAgentStatus, after: LocalAgentStatus) -> [StatusEvent.Kind] {
        var kinds: [StatusEvent.Kind] = []
        for server in after.servers {
            // A server newly listed (the agent starting, or a reload) has no outcome yet unless it is available.
            // The agent has one signal entry, whose address follows the server it is on or tries next.
            let old = before.servers.first { $0.kind == server.kind && ($0.address == server.address || server.kind == .signal) }
            guard old != nil || server.available else { continue }
            guard old?.available != server.available || old?.error != server.error else { continue }
            if server.available {
                kinds.append(.serverAvailable(kind: server.kind, address: server.address))
            } else if server.error != nil {
                kinds.append(.serverUnavailable(kind: server.kind, address: server.address, error: server.error))
            }
        }
        if let nat = after.nat, nat.verdict != before.nat?.verdict {
            kinds.append(.natVerdictChanged(from: before.nat?.verdict, to: nat.verdict))
        }
        return kinds
    }
}

extension StatusRecorder.State {
    mutating func record(_ kind: StatusEvent.Kind, peerID: String?, peerName: String?, at now: Int64) {
        store(StatusEvent(sequence: nextEventSequence, atMillis: now, peerID: peerID, peerName: peerName, kind: kind))
    }

    mutating func store(_ event: StatusEvent) {
        nextEventSequence = max(nextEventSequence, event.sequence + 1)
        if let peerID = event.peerID {
            peerEvents[peerID, default: EventLog(capacity: peerEventLimit)].append(event)
        } else {
            agentEvents.append(event)
        }
        forEachSubscriber { $0.recorded(event) }
    }

    func mergedEvents(limit: Int, peerID: String?) -> [StatusEvent] {
        if let peerID { return peerEvents[peerID]?.last(limit) ?? [] }
        var all = agentEvents.last(limit)
        for log in peerEvents.values { all += log.last(limit) }
        all.sort { $0.sequence < $1.sequence }
        return Array(all.suffix(limit))
    }
}
