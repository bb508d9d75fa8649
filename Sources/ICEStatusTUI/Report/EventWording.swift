import StatusRecorder

/// Events in words, one line each: the report's "Events:", `icestat events` and the dashboard's event view.
extension StatusEvent {
    /// What happened, without the time or the peer: `Connecting → Connected`, `path: P2P host 10.0.0.1:4000 ↔ …`.
    var words: String {
        let name = peerName ?? peerID ?? ""
        switch kind {
        case .stateChanged(let from, let to, let reason):
            let why = reason.map { ": " + $0.words(peerName: name, now: atMillis) } ?? ""
            return from == to ? "\(to.rawValue)\(why)" : "\(from.rawValue) → \(to.rawValue)\(why)"
        case .pathChanged(let type, let local, let remote, let relay):
            func end(_ e: CandidateEndpoint?) -> String { e.map { "\($0.type) \($0.address)" } ?? "-" }
            return "path: \(type.rawValue) \(end(local)) ↔ \(end(remote))" + (relay.map { " via \($0)" } ?? "")
        case .iceRestart(let cause):
            let why = switch cause {
            case .directAttempt: "direct attempt while relayed"
            case .remoteRestart: "the remote started a new session"
            case .consentLost: "the path stopped answering"
            case .networkChanged: "the network changed"
            }
            return "ICE restart, keeping the path: \(why)"
        case .consentLost(let ms): return "consent lost: no response for \(PeerReason.seconds(ms))"
        case .consentRegained: return "consent regained"
        case .relayFallback(let at):
            guard let at else { return "relayed (relay only)" }
            return "relayed; next direct attempt in \(max(0, (at - atMillis + 999) / 1000)) s"
        case .lazyWake: return "lazy: traffic arrived, connecting"
        case .serverAvailable(let kind, let address):
            return kind == .signal ? "signal connected: \(address)" : "\(Self.label(kind)) server available: \(address)"
        case .serverUnavailable(let kind, let address, let error):
            let why = error.map { " (\($0))" } ?? ""
            return kind == .signal ? "signal lost: \(address)\(why)" : "\(Self.label(kind)) server failed: \(address)\(why)"
        case .networkChanged: return "network changed: reconnecting active peers"
        case .natVerdictChanged(let from, let to):
            return "NAT: \(PeerReason.natWords(to))" + (from.map { " (was \(PeerReason.natWords($0)))" } ?? "")
        }
    }

    private static func label(_ kind: ServerStatus.Kind) -> String {
        switch kind {
        case .signal: "signal"
        case .stun: "STUN"
        case .turn: "TURN"
        }
    }

    /// `2026-12-02 15:04:05.123` in UTC, as logs write it.
    static func timestamp(_ millis: Int64) -> String { UTCTime(millis: millis).text(separator: 32, zone: false) }

    /// One line: time, who (the peer's name or `agent`), what.
    var line: String {
        "\(Self.timestamp(atMillis))  \(peerName ?? (peerID == nil ? "agent" : peerID!))  \(words)"
    }
}
