import StatusRecorder

/// The states of one peer connection and the rules between them, as a value: ``PeerConnection`` feeds it
/// events (from its owner, the remote and its ICE sessions) and carries out the actions it returns, in order.
/// It owns no agent, socket, timer or clock; the time and the backoff's random cap come in with each event.
///
/// Sessions: at most two ICE sessions exist. The current one is trying or connected; during a restart that
/// keeps the path (``State/restarting(_:)``) the previous one still carries data until the new one connects.
package struct PeerStateMachine: Sendable {
    /// Where the connection is.
    package enum State: Equatable, Sendable {
        /// Not trying; no session.
        case idle
        /// The current session is trying and no path carries data. `attempt` counts the failures since the
        /// last success (0 on the first try); `selected` is a pair the session has just selected.
        case connecting(attempt: Int, selected: Path?)
        /// The current session's selected pair carries data and has consent.
        case connected(Path)
        /// A new session is trying while the previous session's path carries data (an ICE restart, a direct
        /// attempt while relayed, or consent lost with the old session still checking).
        case restarting(Path)
        /// The session failed; the next starts when the retry timer fires.
        case waitingToRetry(attempt: Int)
    }

    /// What is known of the path that carries data.
    package struct Path: Equatable, Sendable {
        /// Why the path is relayed; nil when it is direct (or not known to be relayed).
        package var relayed: PeerReason?
        /// When the next direct attempt starts, in Unix milliseconds, while relayed.
        package var directRetryAt: Int64?

        package static let direct = Path(relayed: nil, directRetryAt: nil)

        package init(relayed: PeerReason?, directRetryAt: Int64?) {
            (self.relayed, self.directRetryAt) = (relayed, directRetryAt)
        }
    }

    /// What an event is handled with besides the state: the time and the backoff's bounds.
    package struct Inputs: Sendable {
        package var nowMillis: Int64
        /// The first retry's delay, in nanoseconds; each later one doubles it.
        package var initialRetryDelay: Int64
        /// This event's cap on the backoff, in nanoseconds (NetBird draws it at random from 30–45 s).
        package var retryCap: Int64

        package init(nowMillis: Int64, initialRetryDelay: Int64, retryCap: Int64) {
            (self.nowMillis, self.initialRetryDelay, self.retryCap) = (nowMillis, initialRetryDelay, retryCap)
        }
    }

    package internal(set) var state: State = .idle
    /// Direct attempts made since the last direct path (or reset): the direct retry's backoff step.
    package internal(set) var directAttempt = 0
    /// The direct-retry timer is armed (it is cancelled, but the deadline kept, by a network change).
    package internal(set) var directRetryArmed = false
    /// Why the peer is reconnecting after its relay's connection was lost, until it is Connected again.
    package internal(set) var reconnectReason: PeerReason?
    /// Consent was lost; the next Connected is logged as consent regained.
    package internal(set) var consentLost = false
    /// Only relayed paths are allowed (configuration): no direct attempts.
    let relayOnly: Bool

    package init(relayOnly: Bool) {
        self.relayOnly = relayOnly
    }

    /// Trying or connected: not ``State/idle``.
    package var isOpen: Bool { state != .idle }

    /// True while a path carries data: connected, or restarting with the previous path.
    package var hasPath: Bool {
        switch state {
        case .connected, .restarting: true
        case .idle, .connecting, .waitingToRetry: false
        }
    }

    /// A session is trying or connected: not idle, and not waiting after a failure.
    var hasLiveSession: Bool {
        switch state {
        case .connecting, .connected, .restarting: true
        case .idle, .waitingToRetry: false
        }
    }

    var isConnected: Bool {
        if case .connected = state { return true }
        return false
    }

    /// The path selected or kept, in the states that have one.
    var path: Path? {
        get {
            switch state {
            case .connecting(_, let selected): selected
            case .connected(let path), .restarting(let path): path
            case .idle, .waitingToRetry: nil
            }
        }
        set {
            switch state {
            case .connecting(let attempt, _): state = .connecting(attempt: attempt, selected: newValue)
            case .connected: state = .connected(newValue ?? .direct)
            case .restarting: state = .restarting(newValue ?? .direct)
            case .idle, .waitingToRetry: break
            }
        }
    }

    /// Failures since the last success, in the states that count them.
    var attempt: Int {
        switch state {
        case .connecting(let attempt, _), .waitingToRetry(let attempt): attempt
        case .idle, .connected, .restarting: 0
        }
    }

    /// Handles one event and returns what to do, in order.
    package mutating func handle(_ event: Event, _ inputs: Inputs) -> [Action] {
        var actions: [Action] = []
        apply(event, inputs, into: &actions)
        return actions
    }

    /// NetBird's guard backoff: from the initial delay, doubling, capped.
    static func backoff(attempt: Int, _ inputs: Inputs) -> Int64 {
        min(inputs.initialRetryDelay << min(attempt, 5), inputs.retryCap)
    }
}
