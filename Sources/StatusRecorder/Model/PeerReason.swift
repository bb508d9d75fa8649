/// Why a peer is not Connected, or is Connected but relayed. The engine records the cause with its facts; each
/// front end words it, so a countdown (the next direct attempt) is computed when shown, never frozen when written.
public enum PeerReason: Sendable, Hashable {
    // Idle
    /// Lazy connections: the remote is online, and the peer waits for traffic.
    case lazyUntilTraffic
    /// Lazy connections: the connection went idle after this long without traffic.
    case lazyInactive(seconds: Int64)
    /// The remote is not on the signal server.
    case remoteOffline
    /// The remote told us it stopped (its own inactivity timer, or it is shutting down).
    case remoteIdle
    /// This agent is stopping.
    case agentStopped
    /// The peer was taken out of the config.
    case removedFromConfig

    // Connecting
    /// The local addresses changed: a new session is on its way.
    case networkChanged
    /// The selected path stopped answering consent checks for this long.
    case consentLost(timeoutMillis: Int64)
    /// A session after a failed one (`attempt` counts from 1 for the first session).
    case retrying(attempt: Int)
    /// The stream (TCP or TLS) connection to the TURN server carrying the path was lost.
    case relayConnectionLost(transport: String, server: String, error: String)
    /// The last session found no working path; the next one starts every `retryEverySeconds`.
    case connectFailed(noCandidatePair: Bool, relay: RelayProblem, retryEverySeconds: Int64)
    /// Candidate gathering failed.
    case gatheringFailed(error: String)

    // Connected, relayed
    /// The config allows only relayed paths.
    case relayOnly
    /// The direct checks did not succeed; the path goes through our TURN server (over `relayTransport` when that
    /// is a stream, after UDP to the server failed when `udpFailed`).
    case directTimedOut(relayTransport: String?, udpFailed: Bool)
    /// Both NAT verdicts rule a direct path out (``NATStatus/verdict`` values of the remote and of this agent).
    case natNeedsRelay(remoteVerdict: String, localVerdict: String)

    /// A reason this build does not know (recorded by a newer agent), by its code.
    case unrecognized(code: String)

    /// What the relay did for a failed session.
    public enum RelayProblem: Sendable, Hashable {
        /// A TURN server is configured and no error was seen.
        case none
        /// No TURN server is configured.
        case notConfigured
        /// The relay could not be used: the server and its error.
        case unavailable(server: String, error: String)
    }
}
