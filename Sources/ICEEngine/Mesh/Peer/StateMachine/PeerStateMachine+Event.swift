import StatusRecorder

extension PeerStateMachine {
    /// What a peer connection hears: from its owner, from the remote through signaling, from its ICE sessions
    /// and from its timers.
    package enum Event: Equatable, Sendable {
        /// Start trying (the owner, or a lazy peer woken by traffic).
        case open
        /// Stop trying and release the sessions; the peer is Idle with this reason.
        case close(reason: PeerReason?)
        /// An ICE restart asked for by the owner: keeps the path while the new session tries.
        case restart
        /// The local addresses changed: restart now, with both backoffs from the start.
        case networkChanged
        /// Start the direct retries' backoff from the shortest delay again, with why a path would be relayed.
        case resetDirectBackoff(timedOut: PeerReason, impossible: PeerReason?)
        /// A direct attempt now, while relayed (`icestat ping`).
        case directAttemptAsked
        /// The remote's offer for a session not seen before. `remoteKnown`: the current session has met a
        /// remote session already (otherwise the offer is that session's remote, as in glare).
        case remoteOffer(remoteKnown: Bool)
        /// The current session started its checks.
        case sessionChecking
        /// The current session selected a pair: direct, or relayed with why.
        case pathSelected(Selection)
        /// The current session's selected pair works.
        case sessionConnected
        /// The current session's selected pair stopped answering for `timeoutMillis`.
        case sessionDisconnected(timeoutMillis: Int64)
        /// The current session failed: whether it had any pair, and what was wrong with the relays.
        case sessionFailed(noCandidatePair: Bool, relay: PeerReason.RelayProblem)
        /// The previous session's path, kept during a restart, stopped answering for `timeoutMillis`.
        case keptPathLost(timeoutMillis: Int64)
        /// The connection of the relay that the selected pair uses was lost (with it, the allocation).
        case selectedRelayLost(PeerReason)
        /// Why the path is relayed has changed (UDP to the TURN server failed since it was said).
        case relayedReasonChanged(PeerReason)
        case retryTimerFired
        case directRetryTimerFired
    }

    /// A selected pair, as far as the state is concerned.
    package enum Selection: Equatable, Sendable {
        case direct
        /// Relayed: the reason if direct checks timed out, and the reason if both NATs rule a direct path out.
        case relayed(timedOut: PeerReason, impossible: PeerReason?)
    }
}
