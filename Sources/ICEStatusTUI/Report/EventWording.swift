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
    static func timestamp(_ millis: Int64) -> String {
        let seconds = millis / 1000
        let days = seconds / 86400, rest = seconds % 86400
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func p(_ n: Int64, _ w: Int = 2) -> String { String(repeating: "0", count: max(0, w - String(n).count)) + String(n) }
        return "\(y)-\(p(m))-\(p(d)) \(p(rest / 3600)):\(p(rest % 3600 / 60)):\(p(rest % 60)).\(p(millis % 1000, 3))"
    }

    /// One line: time, who (the peer's name or `agent`), what.
    var line: String {
        "\(Self.timestamp(atMillis))  \(peerName ?? (peerID == nil ? "agent" : peerID!))  \(words)"
    }
}
