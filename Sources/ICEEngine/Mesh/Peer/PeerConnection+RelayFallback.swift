import NIOCore
import StatusRecorder
import STUN
import ICE
import Signal

/// Relay fallback: the reason a peer is relayed, direct retries with NetBird's backoff, and retries after failure.
extension PeerConnection {
    // MARK: Relay fallback

    /// Leaves the relayed state: no scheduled direct attempt, no relayed reason.
    func endRelayFallback() {
        directRetryTimer?.cancel()
        directRetryTimer = nil
        directRetryAt = nil
        relayedReason = nil
    }

    /// A pair was selected: a direct one ends the fallback; a relayed one schedules the next direct attempt.
    /// Both sides do: a side may see the other's relay only as a peer-reflexive address and take the path
    /// for direct, so the side that knows it is relayed must be able to try again.
    func pathSelected(relayed: Bool) {
        guard relayed else {
            endRelayFallback()
            directAttempt = 0
            recorder?.updateNextRetry(id: remoteKey, atMillis: nil)
            if connected { recorder?.updateReason(id: remoteKey, nil) }
            return
        }
        let canTryDirect = !configuration.relayOnly
        relayedReason = configuration.relayOnly ? "relayed: direct paths disabled (relay only)"
            : "direct checks timed out, relayed"
        if canTryDirect {
            scheduleDirectRetry()
        } else if connected {
            recorder?.updateReason(id: remoteKey, relayedReason)
        }
    }

    /// Why the peer is relayed, with the time left to the next direct attempt, as `scheduleDirectRetry` words it.
    func rewordRelayedReason() {
        guard let at = directRetryAt else { return }
        let left = max(0, at - currentTimeMillis()) * 1_000_000
        relayedReason = "\(natExplanation ?? "direct checks timed out\(relayNote)"); next direct attempt in \(wholeSeconds(left)) s"
        recorder?.updateReason(id: remoteKey, relayedReason)
    }

    /// How the path is relayed, for reasons: over UDP plainly, over a stream relay with why.
    var relayNote: String {
        guard let relay = selectedRelay, relay.transport.isStream else { return ", relayed" }
        return udpRelayFailed ? "; UDP to the TURN server failed; relayed over \(relay.transport.label)" : ", relayed over \(relay.transport.label)"
    }

    /// The verdict worth telling the remote: a known one.
    var sharedNAT: NATVerdict? {
        let verdict = localNAT()
        return verdict == .unknown ? nil : verdict
    }

    /// Why no direct path can work, from both sides' NAT verdicts; nil when they allow one or are not known.
    var natExplanation: String? {
        guard let local = localNAT(), let remote = remoteNAT, NATVerdict.directPathImpossible(local, remote) else { return nil }
        return local == remote
            ? "\(name) is behind a \(remote.words) and so are we: a direct path needs a relay"
            : "\(name) is behind a \(remote.words) and we are behind a \(local.words): a direct path needs a relay"
    }

    func scheduleDirectRetry() {
        directRetryTimer?.cancel()
        // When both NATs rule a direct path out, only a change (ours or theirs: a network change resets the
        // backoff) can make one work: retry at the longest interval straight away.
        let impossible = natExplanation
        let delay = impossible == nil ? backoff(attempt: directAttempt) : backoff(attempt: 5)
        directAttempt += 1
        relayedReason = "\(impossible ?? "direct checks timed out\(relayNote)"); next direct attempt in \(wholeSeconds(delay)) s"
        directRetryAt = currentTimeMillis() + delay / 1_000_000
        if connected {
            recorder?.updateReason(id: remoteKey, relayedReason)
            recorder?.updateNextRetry(id: remoteKey, atMillis: directRetryAt)
        }
        directRetryTimer = eventLoop.scheduleTask(in: .nanoseconds(delay)) { [weak self] in
            guard let self, self.isOpen, self.connected, self.relayedReason != nil else { return }
            self.directRetryTimer = nil
            self.startSession(sendOffer: true, keepingPath: true)
        }
    }

    /// NetBird's guard backoff: from `initialRetryDelay`, doubling, capped at a random 30–45 s.
    func backoff(attempt: Int) -> Int64 {
        let base = initialRetryDelay.nanoseconds
        let cap = Int64.random(in: 30_000_000_000...45_000_000_000)
        return min(base << min(attempt, 5), cap)
    }

    func scheduleRetry(reason: String) {
        attempt += 1
        let delay = backoff(attempt: attempt - 1)
        recorder?.updateState(id: remoteKey, .connecting, reason: "\(reason); retrying every \(wholeSeconds(delay)) s")
        recorder?.updateNextRetry(id: remoteKey, atMillis: currentTimeMillis() + delay / 1_000_000)
        retryTimer = eventLoop.scheduleTask(in: .nanoseconds(delay)) { [weak self] in
            guard let self, self.isOpen else { return }
            self.startSession(sendOffer: true)
        }
    }
}
