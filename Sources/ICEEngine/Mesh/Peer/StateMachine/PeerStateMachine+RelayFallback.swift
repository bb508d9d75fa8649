import StatusRecorder

/// Relay fallback: a relayed path retries the direct one with NetBird's backoff. Both sides do: a side may see
/// the other's relay only as a peer-reflexive address and take the path for direct, so the side that knows it
/// is relayed must be able to try again.
extension PeerStateMachine {
    mutating func pathSelected(_ selection: Selection, _ inputs: Inputs, into actions: inout [Action]) {
        switch selection {
        case .direct:
            endRelayFallback(into: &actions)
            directAttempt = 0
            actions.append(.reportNextRetry(atMillis: nil))
            if isConnected { actions.append(.reportReason(nil)) }
        case .relayed(let timedOut, let impossible):
            if relayOnly {
                path = Path(relayed: .relayOnly, directRetryAt: nil)
                if isConnected { actions.append(.reportReason(.relayOnly)) }
                actions.append(.record(.relayFallback(nextDirectAtMillis: nil)))
            } else {
                path = Path(relayed: timedOut, directRetryAt: nil)
                scheduleDirectRetry(impossible: impossible, timedOut: timedOut, inputs, into: &actions)
            }
        }
    }

    /// Arms the next direct attempt. When both NATs rule a direct path out, only a change (ours or theirs: a
    /// network change resets the backoff) can make one work, so it waits the longest interval at once.
    mutating func scheduleDirectRetry(impossible: PeerReason?, timedOut: PeerReason, _ inputs: Inputs,
                                      into actions: inout [Action]) {
        if directRetryArmed { actions.append(.cancelDirectRetry) }
        let delay = Self.backoff(attempt: impossible == nil ? directAttempt : 5, inputs)
        directAttempt += 1
        let reason = impossible ?? timedOut
        let at = inputs.nowMillis + delay / 1_000_000
        path = Path(relayed: reason, directRetryAt: at)
        if isConnected {
            actions.append(.reportReason(reason))
            actions.append(.reportNextRetry(atMillis: at))
        }
        actions.append(.record(.relayFallback(nextDirectAtMillis: at)))
        directRetryArmed = true
        actions.append(.armDirectRetry(afterNanos: delay))
    }

    /// Leaves the relayed state: no direct attempt armed, no relayed reason.
    mutating func endRelayFallback(into actions: inout [Action]) {
        cancelDirectRetry(into: &actions)
        if path != nil { path = .direct }
    }

    mutating func cancelDirectRetry(into actions: inout [Action]) {
        guard directRetryArmed else { return }
        directRetryArmed = false
        actions.append(.cancelDirectRetry)
    }
}
