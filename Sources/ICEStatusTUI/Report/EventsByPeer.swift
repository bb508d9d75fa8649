import StatusRecorder

/// A snapshot's events split into each peer's and the agent's own, each oldest first.
struct EventsByPeer {
    var peers: [String: [StatusEvent]] = [:]
    var agent: [StatusEvent] = []

    init(_ events: [StatusEvent]) {
        for e in events {
            if let id = e.peerID { peers[id, default: []].append(e) } else { agent.append(e) }
        }
    }
}
