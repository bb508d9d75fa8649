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
        relayedReason = configuration.relayOnly ? .relayOnly : directTimedOut
        if canTryDirect {
            scheduleDirectRetry()
        } else {
            if connected { recorder?.updateReason(id: remoteKey, relayedReason) }
            recorder?.recordEvent(peerID: remoteKey, .relayFallback(nextDirectAtMillis: nil))
        }
    }

    /// Why the peer is relayed, again: UDP to the TURN server may have failed since it was said.
    func rewordRelayedReason() {
        guard directRetryAt != nil else { return }
        relayedReason = natNeedsRelay ?? directTimedOut
        recorder?.updateReason(id: remoteKey, relayedReason)
    }

    /// The direct checks timed out, with how the path is relayed: over UDP plainly, over a stream relay with why.
    var directTimedOut: PeerReason {
        guard let relay = selectedRelay, relay.transport.isStream else { return .directTimedOut(relayTransport: nil, udpFailed: false) }
        return .directTimedOut(relayTransport: relay.transport.label, udpFailed: udpRelayFailed)
    }

    /// The verdict worth telling the remote: a known one.
    var sharedNAT: NATVerdict? {
        let verdict = localNAT()
        return verdict == .unknown ? nil : verdict
    }

    /// Why no direct path can work, from both sides' NAT verdicts; nil when they allow one or are not known.
    var natNeedsRelay: PeerReason? {
        guard let local = localNAT(), let remote = remoteNAT, NATVerdict.directPathImpossible(local, remote) else { return nil }
        return .natNeedsRelay(remoteVerdict: remote.rawValue, localVerdict: local.rawValue)
    }

    func scheduleDirectRetry() {
        directRetryTimer?.cancel()
        // When both NATs rule a direct path out, only a change (ours or theirs: a network change resets the
        // backoff) can make one work: retry at the longest interval straight away.
        let impossible = natNeedsRelay
        let delay = impossible == nil ? backoff(attempt: directAttempt) : backoff(attempt: 5)
        directAttempt += 1
        relayedReason = impossible ?? directTimedOut
        directRetryAt = currentTimeMillis() + delay / 1_000_000
        if connected {
            recorder?.updateReason(id: remoteKey, relayedReason)
            recorder?.updateNextRetry(id: remoteKey, atMillis: directRetryAt)
        }
        recorder?.recordEvent(peerID: remoteKey, .relayFallback(nextDirectAtMillis: directRetryAt))
        directRetryTimer = eventLoop.scheduleTask(in: .nanoseconds(delay)) { [weak self] in
            guard let self, self.isOpen, self.connected, self.relayedReason != nil else { return }
            self.directRetryTimer = nil
            self.recorder?.recordEvent(peerID: self.remoteKey, .iceRestart(.directAttempt))
            self.startSession(sendOffer: true, keepingPath: true)
        }
    }

    /// NetBird's guard backoff: from `initialRetryDelay`, doubling, capped at a random 30–45 s.
    func backoff(attempt: Int) -> Int64 {
        let base = initialRetryDelay.nanoseconds
        let cap = Int64.random(in: 30_000_000_000...45_000_000_000)
        return min(base << min(attempt, 5), cap)
    }

    func scheduleRetry(noCandidatePair: Bool, relay: PeerReason.RelayProblem) {
        attempt += 1
        let delay = backoff(attempt: attempt - 1)
        recorder?.updateState(id: remoteKey, .connecting, reason: .connectFailed(
            noCandidatePair: noCandidatePair, relay: relay, retryEverySeconds: wholeSeconds(delay)))
        recorder?.updateNextRetry(id: remoteKey, atMillis: currentTimeMillis() + delay / 1_000_000)
        retryTimer = eventLoop.scheduleTask(in: .nanoseconds(delay)) { [weak self] in
            guard let self else { return }
            self.retryTimer = nil
            guard self.isOpen else { return }
            self.startSession(sendOffer: true)
        }
    }
}
