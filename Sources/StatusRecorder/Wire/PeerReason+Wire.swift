/// A reason as the status stream and the JSON report carry it: a stable code and its facts as fields.
extension PeerReason {
    /// The stable name of the cause, for scripts (`reason_code` in JSON) and the wire.
    public var code: String {
        switch self {
        case .lazyUntilTraffic: "lazy-until-traffic"
        case .lazyInactive: "lazy-inactive"
        case .remoteOffline: "remote-offline"
        case .remoteIdle: "remote-idle"
        case .agentStopped: "agent-stopped"
        case .removedFromConfig: "removed-from-config"
        case .networkChanged: "network-changed"
        case .consentLost: "consent-lost"
        case .retrying: "retrying"
        case .relayConnectionLost: "relay-connection-lost"
        case .connectFailed: "connect-failed"
        case .gatheringFailed: "gathering-failed"
        case .relayOnly: "relay-only"
        case .directTimedOut: "direct-timed-out"
        case .natNeedsRelay: "nat-needs-relay"
        case .unrecognized(let code): code
        }
    }

    /// The code followed by the facts, each a plain string (the wire escapes them).
    var wireFields: [String] {
        switch self {
        case .lazyUntilTraffic, .remoteOffline, .remoteIdle, .agentStopped, .removedFromConfig, .networkChanged,
             .relayOnly, .unrecognized:
            [code]
        case .lazyInactive(let seconds): [code, String(seconds)]
        case .consentLost(let ms): [code, String(ms)]
        case .retrying(let attempt): [code, String(attempt)]
        case .relayConnectionLost(let transport, let server, let error): [code, transport, server, error]
        case .connectFailed(let noPair, let relay, let every):
            switch relay {
            case .none: [code, noPair ? "1" : "0", String(every), "none"]
            case .notConfigured: [code, noPair ? "1" : "0", String(every), "not-configured"]
            case .unavailable(let server, let error): [code, noPair ? "1" : "0", String(every), "unavailable", server, error]
            }
        case .gatheringFailed(let error): [code, error]
        case .directTimedOut(let transport, let udpFailed): [code, transport ?? "", udpFailed ? "1" : "0"]
        case .natNeedsRelay(let remote, let local): [code, remote, local]
        }
    }

    /// Reads ``wireFields``; a code this build does not know is kept as ``unrecognized(code:)``, and a known code
    /// with missing or bad facts is nil (a malformed line).
    init?(wireFields f: [String]) {
        guard let code = f.first, !code.isEmpty else { return nil }
        func int(_ i: Int) -> Int64? { i < f.count ? Int64(f[i]) : nil }
        func str(_ i: Int) -> String? { i < f.count ? f[i] : nil }
        switch code {
        case "lazy-until-traffic": self = .lazyUntilTraffic
        case "lazy-inactive": guard let s = int(1) else { return nil }; self = .lazyInactive(seconds: s)
        case "remote-offline": self = .remoteOffline
        case "remote-idle": self = .remoteIdle
        case "agent-stopped": self = .agentStopped
        case "removed-from-config": self = .removedFromConfig
        case "network-changed": self = .networkChanged
        case "consent-lost": guard let ms = int(1) else { return nil }; self = .consentLost(timeoutMillis: ms)
        case "retrying": guard let a = int(1) else { return nil }; self = .retrying(attempt: Int(a))
        case "relay-connection-lost":
            guard let t = str(1), let s = str(2), let e = str(3) else { return nil }
            self = .relayConnectionLost(transport: t, server: s, error: e)
        case "connect-failed":
            guard let every = int(2), let kind = str(3) else { return nil }
            let relay: RelayProblem
            switch kind {
            case "none": relay = .none
            case "not-configured": relay = .notConfigured
            case "unavailable":
                guard let s = str(4), let e = str(5) else { return nil }
                relay = .unavailable(server: s, error: e)
            default: return nil
            }
            self = .connectFailed(noCandidatePair: f[1] == "1", relay: relay, retryEverySeconds: every)
        case "gathering-failed": guard let e = str(1) else { return nil }; self = .gatheringFailed(error: e)
        case "relay-only": self = .relayOnly
        case "direct-timed-out":
            guard let t = str(1), let u = str(2) else { return nil }
            self = .directTimedOut(relayTransport: t.isEmpty ? nil : t, udpFailed: u == "1")
        case "nat-needs-relay":
            guard let r = str(1), let l = str(2) else { return nil }
            self = .natNeedsRelay(remoteVerdict: r, localVerdict: l)
        default: self = .unrecognized(code: code)
        }
    }
}
