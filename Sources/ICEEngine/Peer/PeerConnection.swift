import NIOCore
import StatusRecorder

/// The connection to one remote peer (NetBird's `Conn`): it owns the ICE agent of the current session, speaks
/// offer/answer/candidates through signaling, retries with backoff, and reports every change to the recorder.
///
/// The controlling side is the one with the greater public key. All state lives on `eventLoop`.
public final class PeerConnection: @unchecked Sendable {
    public let localKey: String
    public let remoteKey: String
    public let name: String
    public let eventLoop: EventLoop
    private let recorder: StatusRecorder?
    private let signaling: SignalingTransport
    private let configuration: ICEAgentConfiguration
    private let onData: @Sendable ([UInt8]) -> Void

    // Confined to `eventLoop`.
    private var agent: ICEAgent?
    private var session: UInt64 = 0
    private var remoteSession: UInt64?
    private var pendingCandidates: [UInt64: [Candidate]] = [:]
    private var isOpen = false
    private var attempt = 0
    private var retryTimer: Scheduled<Void>?
    private var connected = false
    /// During an ICE restart: the previous session's agent, still carrying data until the new one connects.
    private var draining: ICEAgent?

    /// Backoff between attempts after a failure: from 3 s, doubling, capped at 30 s (NetBird's guard).
    public var initialRetryDelay: Duration = .seconds(3)

    public init(localKey: String, remoteKey: String, name: String, recorder: StatusRecorder?,
                signaling: SignalingTransport, configuration: ICEAgentConfiguration, eventLoop: EventLoop,
                onData: @escaping @Sendable ([UInt8]) -> Void = { _ in }) {
        self.localKey = localKey
        self.remoteKey = remoteKey
        self.name = name
        self.recorder = recorder
        self.signaling = signaling
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.onData = onData
        recorder?.addPeer(id: remoteKey, name: name)
    }

    private var role: ICERole { localKey > remoteKey ? .controlling : .controlled }

    // MARK: Public API

    /// Starts connecting: Idle → Connecting, a new ICE session and an offer to the remote.
    public func open() {
        eventLoop.execute {
            guard !self.isOpen else { return }
            self.isOpen = true
            self.startSession(sendOffer: true)
        }
    }

    /// Stops trying and releases the session: → Idle.
    public func close(reason: String? = nil) -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            self.isOpen = false
            self.retryTimer?.cancel()
            self.connected = false
            self.recorder?.updateState(id: self.remoteKey, .idle, reason: reason)
            let closing = self.agent?.close() ?? self.eventLoop.makeSucceededVoidFuture()
            self.agent = nil
            self.remoteSession = nil
            return closing
        }
    }

    /// Sends application data over the selected path; counted in the recorder.
    public func send(_ bytes: [UInt8]) {
        eventLoop.execute {
            // During a restart the old path carries data until the new one is selected.
            guard let agent = self.connected ? self.agent : self.draining else { return }
            agent.send(bytes)
            self.recorder?.addTraffic(id: self.remoteKey, sent: UInt64(bytes.count))
        }
    }

    /// ICE restart: a new session with new credentials, while the current path keeps carrying data (and the
    /// peer stays Connected) until the new session selects a pair. Starts a plain new session if not connected.
    public func restart() {
        eventLoop.execute {
            guard self.isOpen else { return }
            self.startSession(sendOffer: true, keepingPath: self.connected)
        }
    }

    /// The candidate pairs of the current session.
    public func candidatePairs() -> EventLoopFuture<[CandidatePair]> {
        eventLoop.flatSubmit { self.agent?.candidatePairs() ?? self.eventLoop.makeSucceededFuture([]) }
    }

    /// Handles one message from the remote (called by the signaling transport, from any thread).
    public func handleSignal(_ message: SignalMessage) {
        eventLoop.execute { self.handleSignalOnLoop(message) }
    }

    // MARK: Sessions

    private func startSession(sendOffer: Bool, keepingPath: Bool = false) {
        retryTimer?.cancel()
        _ = draining?.close()
        draining = nil
        if keepingPath, connected {
            draining = agent
        } else {
            agent?.close().whenComplete { _ in }
        }
        var rng = SystemRandomNumberGenerator()
        session = rng.next()
        remoteSession = nil
        connected = false
        let mySession = session
        let newAgent = ICEAgent(role: role, configuration: configuration, eventLoop: eventLoop) { [weak self] event in
            self?.handleAgentEvent(event, session: mySession)
        }
        agent = newAgent
        if draining == nil {
            recorder?.updateState(id: remoteKey, .connecting, reason: attempt == 0 ? nil : "retrying (attempt \(attempt + 1))")
        }
        newAgent.gather().whenFailure { [weak self] error in
            self?.recorder?.updateReason(id: self?.remoteKey ?? "", "gathering failed: \(error)")
        }
        if sendOffer {
            signaling.send(.offer(newAgent.localCredentials, session: mySession), from: localKey, to: remoteKey)
        }
    }

    private func handleSignalOnLoop(_ message: SignalMessage) {
        switch message {
        case .offer(let credentials, let theirSession):
            if theirSession == remoteSession { return }
            // A new remote session: a fresh agent here too unless ours has not met a remote yet. If we are
            // connected this is the remote's ICE restart: keep our path until the new session connects.
            if !isOpen || agent == nil || remoteSession != nil {
                isOpen = true
                startSession(sendOffer: false, keepingPath: connected)
            }
            acceptRemote(credentials, session: theirSession)
            if let agent {
                signaling.send(.answer(agent.localCredentials, session: session), from: localKey, to: remoteKey)
            }
        case .answer(let credentials, let theirSession):
            guard isOpen, remoteSession == nil else { return }
            acceptRemote(credentials, session: theirSession)
        case .candidate(let text, let theirSession):
            guard let candidate = try? Candidate(sdp: text) else { return }
            if theirSession == remoteSession {
                agent?.addRemoteCandidate(candidate)
            } else if pendingCandidates.count < 4 || pendingCandidates[theirSession] != nil {
                // Trickle may outrun the offer or answer: keep them until the session is known.
                pendingCandidates[theirSession, default: []].append(candidate)
            }
        case .goIdle:
            _ = close(reason: "remote went idle")
        }
    }

    private func acceptRemote(_ credentials: ICECredentials, session theirSession: UInt64) {
        remoteSession = theirSession
        agent?.setRemoteCredentials(credentials)
        for candidate in pendingCandidates.removeValue(forKey: theirSession) ?? [] {
            agent?.addRemoteCandidate(candidate)
        }
        pendingCandidates.removeAll()
    }

    private func handleAgentEvent(_ event: ICEAgentEvent, session eventSession: UInt64) {
        guard isOpen else { return }
        if eventSession != session {
            // The draining session still delivers data (and it still counts) until it is closed.
            if case .data(let bytes) = event {
                recorder?.addTraffic(id: remoteKey, received: UInt64(bytes.count))
                onData(bytes)
            }
            return
        }
        switch event {
        case .localCandidate(let candidate):
            signaling.send(.candidate(candidate.sdpString, session: session), from: localKey, to: remoteKey)
        case .gatheringComplete, .stunServerResult, .relayAllocated, .relayFailed:
            break
        case .stateChanged(let state):
            handleAgentState(state)
            reportCandidatePairs()
        case .selectedPairChanged(let pair):
            let relayed = pair.local.type == .relayed || pair.remote.type == .relayed
            // Our relay when the local end is relayed; the remote's relay is its own business.
            let server = pair.local.type == .relayed ? configuration.turnServers.first.map { "turn:\($0.address)" } : nil
            recorder?.updatePath(
                id: remoteKey, type: relayed ? .relayed : .p2p,
                local: CandidateEndpoint(type: pair.local.type.rawValue, address: pair.local.address.description),
                remote: CandidateEndpoint(type: pair.remote.type.rawValue, address: pair.remote.address.description),
                relayServer: server)
            reportCandidatePairs()
        case .roundTrip(let rtt):
            recorder?.updateLatency(id: remoteKey, nanoseconds: rtt.nanoseconds)
            reportCandidatePairs()
        case .data(let bytes):
            recorder?.addTraffic(id: remoteKey, received: UInt64(bytes.count))
            onData(bytes)
        }
    }

    private func reportCandidatePairs() {
        guard let recorder, let agent else { return }
        let pairs = agent.checklistOnLoop.map { p in
            CandidatePairStatus(
                local: CandidateEndpoint(type: p.local.type.rawValue, address: p.local.address.description),
                remote: CandidateEndpoint(type: p.remote.type.rawValue, address: p.remote.address.description),
                state: p.state.rawValue, nominated: p.nominated, roundTripNanos: p.lastRoundTrip?.nanoseconds,
                requestsSent: p.requestsSent, responsesReceived: p.responsesReceived)
        }
        recorder.updateCandidatePairs(id: remoteKey, pairs)
    }

    private func handleAgentState(_ state: ICEConnectionState) {
        switch state {
        case .new, .closed:
            break
        case .checking:
            if draining == nil { recorder?.updateState(id: remoteKey, .connecting, reason: nil) }
        case .connected:
            connected = true
            attempt = 0
            recorder?.updateState(id: remoteKey, .connected, reason: nil)
            // A restart is complete: the old path is no longer needed.
            _ = draining?.close()
            draining = nil
        case .disconnected:
            connected = false
            recorder?.updateState(id: remoteKey, .connecting, reason: "no consent response for \(configuration.disconnectedTimeout)")
        case .failed:
            connected = false
            _ = draining?.close()
            draining = nil
            scheduleRetry(reason: "ICE checks failed")
        }
    }

    private func scheduleRetry(reason: String) {
        attempt += 1
        let base = initialRetryDelay.nanoseconds
        let delay = min(base << min(attempt - 1, 4), 30_000_000_000)
        let seconds = (delay + 500_000_000) / 1_000_000_000
        recorder?.updateState(id: remoteKey, .connecting, reason: "\(reason); retrying every \(seconds) s")
        recorder?.updateNextRetry(id: remoteKey, atMillis: currentTimeMillis() + delay / 1_000_000)
        retryTimer = eventLoop.scheduleTask(in: .nanoseconds(delay)) { [weak self] in
            guard let self, self.isOpen else { return }
            self.startSession(sendOffer: true)
        }
    }
}
