/// An event as the status stream carries it: its kind's code, then the kind's facts.
extension StatusEvent.Kind {
    /// The stable name of the kind (the `kind` of `--json` and of `events --json` lines).
    public var code: String {
        switch self {
        case .stateChanged: "state"
        case .pathChanged: "path"
        case .iceRestart: "ice-restart"
        case .consentLost: "consent-lost"
        case .consentRegained: "consent-regained"
        case .relayFallback: "relay-fallback"
        case .lazyWake: "lazy-wake"
        case .serverAvailable: "server-available"
        case .serverUnavailable: "server-unavailable"
        case .networkChanged: "network-changed"
        case .natVerdictChanged: "nat-verdict"
        }
    }

    var wireFields: [String] {
        switch self {
        case .stateChanged(let from, let to, let reason):
            [code, from.rawValue, to.rawValue] + (reason?.wireFields ?? [])
        case .pathChanged(let type, let local, let remote, let relay):
            [code, type.rawValue, local?.type ?? "", local?.address ?? "", remote?.type ?? "", remote?.address ?? "", relay ?? ""]
        case .iceRestart(let cause): [code, cause.rawValue]
        case .consentLost(let ms): [code, String(ms)]
        case .consentRegained, .lazyWake, .networkChanged: [code]
        case .relayFallback(let at): [code, at.map { String($0) } ?? ""]
        case .serverAvailable(let kind, let address): [code, kind.rawValue, address]
        case .serverUnavailable(let kind, let address, let error): [code, kind.rawValue, address, error ?? ""]
        case .natVerdictChanged(let from, let to): [code, from ?? "", to]
        }
    }

    /// Reads ``wireFields``; nil for a kind this build does not know (a newer agent's) or a malformed one.
    init?(wireFields f: ArraySlice<String>) {
        let f = Array(f)
        guard let code = f.first else { return nil }
        func endpoint(_ i: Int) -> CandidateEndpoint? { f[i].isEmpty && f[i + 1].isEmpty ? nil : CandidateEndpoint(type: f[i], address: f[i + 1]) }
        switch code {
        case "state":
            guard f.count >= 3, let from = PeerConnectionState(rawValue: f[1]), let to = PeerConnectionState(rawValue: f[2]) else { return nil }
            var reason: PeerReason?
            if f.count > 3 {
                guard let r = PeerReason(wireFields: Array(f[3...])) else { return nil }
                reason = r
            }
            self = .stateChanged(from: from, to: to, reason: reason)
        case "path":
            guard f.count >= 7, let type = ConnectionType(rawValue: f[1]) else { return nil }
            self = .pathChanged(type: type, local: endpoint(2), remote: endpoint(4), relayServer: f[6].isEmpty ? nil : f[6])
        case "ice-restart":
            guard f.count >= 2, let cause = StatusEvent.RestartCause(rawValue: f[1]) else { return nil }
            self = .iceRestart(cause)
        case "consent-lost":
            guard f.count >= 2, let ms = Int64(f[1]) else { return nil }
            self = .consentLost(timeoutMillis: ms)
        case "consent-regained": self = .consentRegained
        case "lazy-wake": self = .lazyWake
        case "network-changed": self = .networkChanged
        case "relay-fallback":
            guard f.count >= 2 else { return nil }
            self = .relayFallback(nextDirectAtMillis: Int64(f[1]))
        case "server-available":
            guard f.count >= 3, let kind = ServerStatus.Kind(rawValue: f[1]) else { return nil }
            self = .serverAvailable(kind: kind, address: f[2])
        case "server-unavailable":
            guard f.count >= 4, let kind = ServerStatus.Kind(rawValue: f[1]) else { return nil }
            self = .serverUnavailable(kind: kind, address: f[2], error: f[3].isEmpty ? nil : f[3])
        case "nat-verdict":
            guard f.count >= 3 else { return nil }
            self = .natVerdictChanged(from: f[1].isEmpty ? nil : f[1], to: f[2])
        default: return nil
        }
    }
}
