import ICEEngine
import StatusRecorder

/// A peer's reason in the words every front end shows: the same sentence in the report, the JSON, the YAML and
/// the dashboard, with the next direct attempt counted down from the moment it is shown.
extension PeerReason {
    /// - Parameters:
    ///   - peerName: the peer the reason is about (named in NAT explanations).
    ///   - nextAttemptAtMillis: when the next direct attempt is due (relayed reasons count down to it), or nil.
    ///   - now: Unix milliseconds at which it is shown.
    func words(peerName: String, nextAttemptAtMillis: Int64? = nil, now: Int64) -> String {
        switch self {
        case .lazyUntilTraffic: return "lazy: idle until traffic"
        case .lazyInactive(let seconds): return "lazy: idle after \(Self.duration(seconds)) without traffic"
        case .remoteOffline: return "remote offline"
        case .remoteIdle: return "remote went idle"
        case .agentStopped: return "agent stopped"
        case .removedFromConfig: return "removed from the config"
        case .networkChanged: return "network changed; reconnecting"
        case .consentLost(let ms): return "no consent response for \(Self.seconds(ms)); reconnecting"
        case .retrying(let attempt): return "retrying (attempt \(attempt))"
        case .relayConnectionLost(let transport, let server, let error):
            return "\(transport) connection to \(server) lost (\(error)); reconnecting"
        case .connectFailed(let noPair, let relay, let every):
            var s = noPair ? "no candidate pair (no usable local address or remote candidate)" : "ICE checks failed"
            switch relay {
            case .none: break
            case .notConfigured: s += "; no TURN server configured to relay through"
            case .unavailable(let server, let error): s += "; relay unavailable: \(server): \(error)"
            }
            return s + "; retrying every \(every) s"
        case .gatheringFailed(let error): return "gathering failed: \(error)"
        case .relayOnly: return "relayed: direct paths disabled (relay only)"
        case .directTimedOut(let transport, let udpFailed):
            let how = transport.map { udpFailed ? "; UDP to the TURN server failed; relayed over \($0)" : ", relayed over \($0)" }
            return "direct checks timed out" + (how ?? ", relayed") + Self.countdown(nextAttemptAtMillis, now: now)
        case .natNeedsRelay(let remote, let local):
            let theirs = Self.natWords(remote)
            let ours = remote == local ? " and so are we" : " and we are behind a \(Self.natWords(local))"
            return "\(peerName) is behind a \(theirs)\(ours): a direct path needs a relay" + Self.countdown(nextAttemptAtMillis, now: now)
        case .unrecognized(let code): return code
        }
    }

    private static func countdown(_ at: Int64?, now: Int64) -> String {
        guard let at else { return "" }
        // Whole seconds rounded up, as "Next retry: in N s" counts.
        return "; next direct attempt in \(max(0, (at - now + 999) / 1000)) s"
    }

    static func natWords(_ verdict: String) -> String { NATVerdict(rawValue: verdict)?.words ?? verdict }

    /// `3 s`, `2.5 s`.
    static func seconds(_ ms: Int64) -> String {
        let tenths = (ms + 50) / 100
        return ms % 1000 == 0 ? "\(ms / 1000) s" : "\(tenths / 10).\(tenths % 10) s"
    }

    /// `45 s`, `5 min`.
    static func duration(_ seconds: Int64) -> String {
        seconds % 60 == 0 && seconds >= 60 ? "\(seconds / 60) min" : "\(seconds) s"
    }
}

extension PeerStatus {
    /// The peer's reason in words at `now`, or nil.
    func reasonWords(now: Int64) -> String? {
        reason?.words(peerName: name, nextAttemptAtMillis: state == .connected ? nextRetryAtMillis : nil, now: now)
    }
}
