import StatusRecorder

/// The rules: one function per event, each changing the state and listing the actions in the order that the
/// recorder and the owner must see them.
extension PeerStateMachine {
    mutating func apply(_ event: Event, _ inputs: Inputs, into actions: inout [Action]) {
        switch event {
        case .open:
            guard !isOpen else { return }
            actions.append(.lifecycle(.opened))
            startSession(sendOffer: true, keepPath: false, attempt: 0, into: &actions)
        case .close(let reason):
            close(reason: reason, into: &actions)
        case .restart:
            guard isOpen else { return }
            startSession(sendOffer: true, keepPath: true, attempt: attempt, into: &actions)
        case .networkChanged:
            guard isOpen else { return }
            directAttempt = 0
            cancelDirectRetry(into: &actions)
            if isConnected { actions.append(.record(.iceRestart(.networkChanged))) }
            startSession(sendOffer: true, keepPath: true, attempt: 0, into: &actions)
            if !hasPath { actions.append(.report(.connecting, reason: .networkChanged)) }
        case .resetDirectBackoff(let timedOut, let impossible):
            directAttempt = 0
            if path?.relayed != nil, directRetryArmed { scheduleDirectRetry(impossible: impossible, timedOut: timedOut, inputs, into: &actions) }
        case .directAttemptAsked:
            guard isConnected, path?.relayed != nil, !relayOnly else { return }
            cancelDirectRetry(into: &actions)
            actions.append(.record(.iceRestart(.directAttempt)))
            startSession(sendOffer: true, keepPath: true, attempt: 0, into: &actions)
        case .remoteOffer(let remoteKnown):
            // A session that has not met a remote yet takes the offer's; otherwise the remote restarted.
            guard !isOpen || remoteKnown else { return }
            if !isOpen { actions.append(.lifecycle(.opened)) }
            if isConnected { actions.append(.record(.iceRestart(.remoteRestart))) }
            startSession(sendOffer: false, keepPath: true, attempt: attempt, into: &actions)
        case .sessionChecking:
            guard case .connecting = state else { return }
            actions.append(.report(.connecting, reason: reconnectReason))
        case .pathSelected(let selection):
            // A failed session selects nothing; only a trying or connected one has a path to set.
            guard hasLiveSession else { return }
            pathSelected(selection, inputs, into: &actions)
        case .sessionConnected:
            sessionConnected(into: &actions)
        case .sessionDisconnected(let timeoutMillis):
            guard isConnected else { return }
            // The path stopped answering: look for another one now (the relay, if the direct path is gone) in
            // a new session, rather than wait for this one to fail; the old session keeps checking meanwhile.
            endRelayFallback(into: &actions)
            noteConsentLost(timeoutMillis: timeoutMillis, into: &actions)
            actions.append(.record(.iceRestart(.consentLost)))
            startSession(sendOffer: true, keepPath: true, attempt: 0, into: &actions)
        case .sessionFailed(let noCandidatePair, let relay):
            guard isOpen else { return }
            if case .waitingToRetry = state { return }
            sessionFailed(noCandidatePair: noCandidatePair, relay: relay, inputs, into: &actions)
        case .keptPathLost(let timeoutMillis):
            // Whatever the new session will do, the peer is no longer connected.
            guard case .restarting = state else { return }
            actions.append(.closeKeptPath)
            state = .connecting(attempt: 0, selected: nil)
            endRelayFallback(into: &actions)
            noteConsentLost(timeoutMillis: timeoutMillis, into: &actions)
        case .selectedRelayLost(let reason):
            // The allocation went with the connection: a new session makes a new one (or finds another path).
            guard isConnected else { return }
            endRelayFallback(into: &actions)
            reconnectReason = reason
            startSession(sendOffer: true, keepPath: false, attempt: 0, into: &actions)
        case .relayedReasonChanged(let reason):
            guard case .connected(var path) = state, path.directRetryAt != nil else { return }
            path.relayed = reason
            state = .connected(path)
            actions.append(.reportReason(reason))
        case .retryTimerFired:
            guard case .waitingToRetry(let attempt) = state else { return }
            state = .connecting(attempt: attempt, selected: nil)   // the timer has fired: nothing to cancel
            startSession(sendOffer: true, keepPath: false, attempt: attempt, into: &actions)
        case .directRetryTimerFired:
            guard directRetryArmed else { return }
            directRetryArmed = false
            guard isConnected, path?.relayed != nil else { return }
            actions.append(.record(.iceRestart(.directAttempt)))
            startSession(sendOffer: true, keepPath: true, attempt: 0, into: &actions)
        }
    }

    /// A new session; the path is kept only when connected. Without a kept path the peer is Connecting.
    mutating func startSession(sendOffer: Bool, keepPath: Bool, attempt: Int, into actions: inout [Action]) {
        if case .waitingToRetry = state { actions.append(.cancelRetry) }
        let keeps = keepPath && isConnected
        if keeps {
            state = .restarting(path ?? .direct)
        } else {
            // A previous path's direct retry has nothing left to retry.
            if directRetryArmed { cancelDirectRetry(into: &actions) }
            state = .connecting(attempt: attempt, selected: nil)
            actions.append(.report(.connecting, reason: attempt == 0 ? reconnectReason : .retrying(attempt: attempt + 1)))
        }
        actions.append(.startSession(sendOffer: sendOffer, keepPath: keeps))
    }

    mutating func close(reason: PeerReason?, into actions: inout [Action]) {
        let wasOpen = isOpen
        if case .waitingToRetry = state { actions.append(.cancelRetry) }
        endRelayFallback(into: &actions)
        state = .idle
        consentLost = false
        actions.append(.closeSessions)
        actions.append(.report(.idle, reason: reason))
        actions.append(.reportNextRetry(atMillis: nil))
        if wasOpen { actions.append(.lifecycle(.closed)) }
    }

    mutating func sessionConnected(into actions: inout [Action]) {
        let path: Path
        switch state {
        case .connecting(_, let selected): path = selected ?? .direct
        case .restarting(let kept): path = kept
        case .idle, .connected, .waitingToRetry: return
        }
        let wasRestarting = hasPath
        state = .connected(path)
        reconnectReason = nil
        actions.append(.report(.connected, reason: path.relayed))
        if path.relayed != nil, let at = path.directRetryAt { actions.append(.reportNextRetry(atMillis: at)) }
        if consentLost {
            consentLost = false
            actions.append(.record(.consentRegained))
        }
        actions.append(.lifecycle(.connected(relayed: path.relayed != nil)))
        // A restart is complete: the old path is no longer needed.
        if wasRestarting { actions.append(.closeKeptPath) }
    }

    mutating func sessionFailed(noCandidatePair: Bool, relay: PeerReason.RelayProblem, _ inputs: Inputs,
                                into actions: inout [Action]) {
        let failures = attempt + 1
        endRelayFallback(into: &actions)
        if case .restarting = state { actions.append(.closeKeptPath) }
        state = .waitingToRetry(attempt: failures)
        let delay = Self.backoff(attempt: failures - 1, inputs)
        actions.append(.report(.connecting, reason: .connectFailed(
            noCandidatePair: noCandidatePair, relay: relay, retryEverySeconds: (delay + 500_000_000) / 1_000_000_000)))
        actions.append(.reportNextRetry(atMillis: inputs.nowMillis + delay / 1_000_000))
        actions.append(.armRetry(afterNanos: delay))
    }

    /// The path stopped answering: logged, and the peer is Connecting with that reason.
    mutating func noteConsentLost(timeoutMillis: Int64, into actions: inout [Action]) {
        consentLost = true
        actions.append(.record(.consentLost(timeoutMillis: timeoutMillis)))
        actions.append(.report(.connecting, reason: .consentLost(timeoutMillis: timeoutMillis)))
    }
}
