import StatusRecorder

extension PeerStateMachine {
    /// What the peer connection does for an event, in order.
    package enum Action: Equatable, Sendable {
        /// A new ICE session with new credentials (and an offer, when asked). `keepPath`: the current session
        /// becomes the previous one and carries data until the new one connects; otherwise both are closed.
        case startSession(sendOffer: Bool, keepPath: Bool)
        /// Close the previous session, kept during a restart.
        case closeKeptPath
        /// Close both sessions, report the traffic counted so far and clear the candidate pairs.
        case closeSessions
        case armRetry(afterNanos: Int64)
        case cancelRetry
        case armDirectRetry(afterNanos: Int64)
        case cancelDirectRetry
        /// Tell the recorder the peer's state and reason.
        case report(PeerConnectionState, reason: PeerReason?)
        /// Tell the recorder the peer's reason, its state unchanged.
        case reportReason(PeerReason?)
        /// Tell the recorder when the next attempt starts (Unix milliseconds).
        case reportNextRetry(atMillis: Int64?)
        /// Log an event of the peer.
        case record(StatusEvent.Kind)
        /// Tell the owner (lazy connections, buffered data).
        case lifecycle(PeerConnection.Lifecycle)
    }
}
