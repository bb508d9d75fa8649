import NIOCore
import StatusRecorder

/// The connection to one remote peer (NetBird's `Conn`): it owns the ICE agent of the current session, speaks
/// offer/answer/candidates through signaling, retries with backoff, and reports every change to the recorder.
///
/// The controlling side is the one with the greater public key. All state lives on `eventLoop`.
///
/// Paths: the ICE session holds direct (host, srflx, prflx) and relayed (TURN) pairs and prefers direct ones.
/// When it settles on a relayed pair, each side keeps retrying the direct path with ICE restarts
/// (backoff from 3 s, doubling, capped at a random 30–45 s, as NetBird); the relayed path carries data until a
/// restart selects a direct pair, so the switch loses nothing.
public final class PeerConnection: @unchecked Sendable {
    /// Lifecycle changes the owner may act on (lazy connections, buffered data), on `eventLoop`.
    public enum Lifecycle: Sendable, Equatable {
        /// Started trying: by `open()` or woken by the remote's offer.
        case opened
        case connected(relayed: Bool)
        /// Stopped trying: closed here or told by the remote.
        case closed
    }

    public let localKey: String
    public let remoteKey: String
    public let name: String
    public let eventLoop: EventLoop
    private let recorder: StatusRecorder?
    private let signaling: SignalingTransport
    private let configuration: ICEAgentConfiguration
    private let onData: @Sendable ([UInt8]) -> Void
    private let onLifecycle: @Sendable (Lifecycle) -> Void

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
    /// Set while the selected pair is relayed: why, shown as the peer's reason.
    private var relayedReason: String?
    private var directAttempt = 0
    private var directRetryTimer: Scheduled<Void>?
    private var directRetryAt: Int64?
    /// Refreshes the recorded candidate pairs while checks run (their states change without events); once
    /// connected, every consent round trip reports them instead.
    private var pairsReporter: RepeatedTask?
    /// Why the current session's TURN allocation failed, if it did.
    private var relayFailure: String?
    /// The latest UDP TURN allocation failed (so a stream relay is the fallback's fallback); kept across
    /// sessions, since a retry's stream relay is chosen before its UDP Allocate times out again.
    private var udpRelayFailed = false
    /// The TURN server the selected pair relays through, if ours is relayed.
    private var selectedRelay: TURNServer?
    /// Why the peer is reconnecting (its relay's connection was lost), shown until it is Connected again.
    private var reconnectReason: String?

    /// Backoff between attempts after a failure: from 3 s, doubling, capped at a random 30–45 s (NetBird's guard).
    public var initialRetryDelay: Duration = .seconds(3)
    /// This agent's NAT verdict (from its netcheck), sent in offers and answers; set by the owner before use.
    public var localNAT: @Sendable () -> NATVerdict? = { nil }
    /// The remote's NAT verdict, from its latest offer or answer. Confined to `eventLoop`.
    private var remoteNAT: NATVerdict?

    public init(localKey: String, remoteKey: String, name: String, recorder: StatusRecorder?,
                signaling: SignalingTransport, configuration: ICEAgentConfiguration, eventLoop: EventLoop,
                onData: @escaping @Sendable ([UInt8]) -> Void = { _ in },
                onLifecycle: @escaping @Sendable (Lifecycle) -> Void = { _ in }) {
        self.localKey = localKey
        self.remoteKey = remoteKey
        self.name = name
        self.recorder = recorder
        self.signaling = signaling
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.onData = onData
        self.onLifecycle = onLifecycle
        recorder?.addPeer(id: remoteKey, name: name)
    }

    private var role: ICERole { localKey > remoteKey ? .controlling : .controlled }

    // MARK: Public API

    /// Starts connecting: Idle → Connecting, a new ICE session and an offer to the remote.
    public func open() {
        eventLoop.execute {
            guard !self.isOpen else { return }
            self.isOpen = true
            self.attempt = 0
            self.onLifecycle(.opened)
            self.startSession(sendOffer: true)
        }
    }

    /// Stops trying and releases the session: → Idle.
    public func close(reason: String? = nil) -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            let wasOpen = self.isOpen
            self.isOpen = false
            self.retryTimer?.cancel()
            self.endRelayFallback()
            self.pairsReporter?.cancel()
            self.connected = false
            self.recorder?.updateState(id: self.remoteKey, .idle, reason: reason)
            self.recorder?.updateNextRetry(id: self.remoteKey, atMillis: nil)
            self.recorder?.updateCandidatePairs(id: self.remoteKey, [])
            let closing = self.agent?.close() ?? self.eventLoop.makeSucceededVoidFuture()
            let drained = self.draining?.close() ?? self.eventLoop.makeSucceededVoidFuture()
            self.agent = nil
            self.draining = nil
            self.remoteSession = nil
            if wasOpen { self.onLifecycle(.closed) }
            return closing.and(drained).map { _ in }
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

    /// Starts the next direct attempt from the shortest backoff again (signal reconnected, network changed).
    public func resetDirectBackoff() {
        eventLoop.execute {
            self.directAttempt = 0
            if self.relayedReason != nil, self.directRetryTimer != nil { self.scheduleDirectRetry() }
        }
    }

    /// The local addresses changed (NetBird's network monitor): the current candidates may be stale and a direct
    /// path may have become possible, so try again now with the shortest backoff. A relayed or connected peer
    /// restarts ICE keeping its path; a peer waiting to retry starts its next session at once.
    public func networkChanged() {
        eventLoop.execute {
            guard self.isOpen else { return }
            self.directAttempt = 0
            self.attempt = 0
            self.directRetryTimer?.cancel()
            self.directRetryTimer = nil
            self.startSession(sendOffer: true, keepingPath: self.connected)
            if self.connected == false, self.draining == nil {
                self.recorder?.updateState(id: self.remoteKey, .connecting, reason: "network changed; reconnecting")
            }
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
        relayFailure = nil
        remoteSession = nil
        connected = false
        let mySession = session
        let newAgent = ICEAgent(role: role, configuration: configuration, eventLoop: eventLoop) { [weak self] event in
            self?.handleAgentEvent(event, session: mySession)
        }
        agent = newAgent
        pairsReporter?.cancel()
        pairsReporter = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(500), delay: .seconds(1)) { [weak self] task in
            guard let self, self.agent === newAgent, self.isOpen else { task.cancel(); return }
            if !self.connected { self.reportCandidatePairs() }
        }
        if draining == nil {
            recorder?.updateState(id: remoteKey, .connecting, reason: attempt == 0 ? reconnectReason : "retrying (attempt \(attempt + 1))")
        }
        newAgent.gather().whenFailure { [weak self] error in
            self?.recorder?.updateReason(id: self?.remoteKey ?? "", "gathering failed: \(error)")
        }
        if sendOffer {
            signaling.send(.offer(newAgent.localCredentials, session: mySession, nat: sharedNAT), from: localKey, to: remoteKey)
        }
    }

    private func handleSignalOnLoop(_ message: SignalMessage) {
        switch message {
        case .offer(let credentials, let theirSession, let nat):
            if let nat { remoteNAT = nat }
            if theirSession == remoteSession { return }
            // A new remote session: a fresh agent here too unless ours has not met a remote yet. If we are
            // connected this is the remote's ICE restart: keep our path until the new session connects.
            if !isOpen || agent == nil || remoteSession != nil {
                if !isOpen {
                    isOpen = true
                    attempt = 0
                    onLifecycle(.opened)
                }
                startSession(sendOffer: false, keepingPath: connected)
            }
            acceptRemote(credentials, session: theirSession)
            if let agent {
                signaling.send(.answer(agent.localCredentials, session: session, nat: sharedNAT), from: localKey, to: remoteKey)
            }
        case .answer(let credentials, let theirSession, let nat):
            if let nat { remoteNAT = nat }
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
            guard isOpen else { return }
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
            } else if case .relayFailed(let server, _) = event, server.transport == .udp {
                // An earlier session's UDP Allocate timing out still tells how UDP to the server fares.
                udpRelayFailed = true
                if connected, selectedRelay?.transport.isStream == true, directRetryAt != nil { rewordRelayedReason() }
            } else if case .stateChanged(let state) = event, state == .disconnected || state == .failed, draining != nil {
                // The path kept during a restart stopped answering before the new session connected: the peer
                // is no longer connected, whatever the new session will do.
                _ = draining?.close()
                draining = nil
                endRelayFallback()
                recorder?.updateState(id: remoteKey, .connecting, reason: consentLostReason)
            }
            return
        }
        switch event {
        case .localCandidate(let candidate):
            signaling.send(.candidate(candidate.sdpString, session: session), from: localKey, to: remoteKey)
        case .gatheringComplete:
            break
        case .stunServerResult(let server, let mapped):
            reportServer(.stun, "stun:\(server)", available: mapped != nil, error: mapped == nil ? "no response" : nil)
        case .relayAllocated(let server, _):
            if server.transport == .udp { udpRelayFailed = false }
            reportServer(.turn, server.url, available: true, error: nil)
        case .relayFailed(let server, let reason):
            relayFailure = "\(server.url): \(reason)"
            if server.transport == .udp {
                udpRelayFailed = true
                // Known only now (UDP that is dropped costs the whole timeout): reword a stream relay's reason.
                if connected, selectedRelay?.transport.isStream == true, directRetryAt != nil { rewordRelayedReason() }
            }
            reportServer(.turn, server.url, available: false, error: reason)
        case .relayLost(let server, let reason, let selectedPath):
            reportServer(.turn, server.url, available: false, error: "connection lost: \(reason)")
            guard selectedPath, connected else { return }
            // The allocation went with the connection: a new session makes a new one (or finds another path).
            endRelayFallback()
            connected = false
            reconnectReason = "\(server.transport.label) connection to \(server.url) lost (\(reason)); reconnecting"
            startSession(sendOffer: true)
        case .stateChanged(let state):
            handleAgentState(state)
            reportCandidatePairs()
        case .selectedPairChanged(let pair):
            let relayed = pair.local.type == .relayed || pair.remote.type == .relayed
            // Our relay when the local end is relayed; the remote's relay is its own business.
            selectedRelay = pair.local.type == .relayed ? pair.relay : nil
            pathSelected(relayed: relayed)
            recorder?.updatePath(
                id: remoteKey, type: relayed ? .relayed : .p2p,
                local: CandidateEndpoint(type: pair.local.type.rawValue, address: pair.local.address.description),
                remote: CandidateEndpoint(type: pair.remote.type.rawValue, address: pair.remote.address.description),
                relayServer: selectedRelay?.url, relayTransport: selectedRelay?.transport.rawValue)
            reportCandidatePairs()
        case .remoteCandidateIgnored(let candidate, let network):
            recorder?.addIgnoredCandidate(id: remoteKey, "\(candidate.address) (\(candidate.type.rawValue)) in \(network)")
        case .roundTrip(let rtt):
            recorder?.updateLatency(id: remoteKey, nanoseconds: rtt.nanoseconds)
            reportCandidatePairs()
        case .data(let bytes):
            recorder?.addTraffic(id: remoteKey, received: UInt64(bytes.count))
            onData(bytes)
        }
    }

    /// The latest outcome of a STUN or TURN server the agent has listed in the local status.
    private func reportServer(_ kind: ServerStatus.Kind, _ address: String, available: Bool, error: String?) {
        recorder?.updateLocal { local in
            guard let i = local.servers.firstIndex(where: { $0.kind == kind && $0.address == address }) else { return }
            local.servers[i].available = available
            local.servers[i].error = error
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
            if draining == nil { recorder?.updateState(id: remoteKey, .connecting, reason: reconnectReason) }
        case .connected:
            connected = true
            attempt = 0
            reconnectReason = nil
            recorder?.updateState(id: remoteKey, .connected, reason: relayedReason)
            if relayedReason != nil, let at = directRetryAt { recorder?.updateNextRetry(id: remoteKey, atMillis: at) }
            onLifecycle(.connected(relayed: relayedReason != nil))
            // A restart is complete: the old path is no longer needed.
            _ = draining?.close()
            draining = nil
        case .disconnected:
            // The path stopped answering: look for another one now (the relay, if the direct path is gone) in a
            // new session, rather than wait for this one to fail; the old agent keeps trying meanwhile.
            endRelayFallback()
            startSession(sendOffer: true, keepingPath: true)
            connected = false
            recorder?.updateState(id: remoteKey, .connecting, reason: consentLostReason)
        case .failed:
            connected = false
            endRelayFallback()
            _ = draining?.close()
            draining = nil
            let noPairs = agent?.checklistOnLoop.isEmpty ?? true
            var reason = noPairs ? "no candidate pair (no usable local address or remote candidate)" : "ICE checks failed"
            if configuration.turnServers.isEmpty {
                reason += "; no TURN server configured to relay through"
            } else if let relayFailure {
                reason += "; relay unavailable: \(relayFailure)"
            }
            scheduleRetry(reason: reason)
        }
    }

    private var consentLostReason: String {
        let ms = configuration.disconnectedTimeout.nanoseconds / 1_000_000
        let timeout = ms % 1000 == 0 ? "\(ms / 1000) s" : String(format: "%.1f s", Double(ms) / 1000)
        return "no consent response for \(timeout); reconnecting"
    }

    /// Nanoseconds as whole seconds, rounded, for reasons.
    private func wholeSeconds(_ nanoseconds: Int64) -> Int64 { (nanoseconds + 500_000_000) / 1_000_000_000 }

    // MARK: Relay fallback

    /// Leaves the relayed state: no scheduled direct attempt, no relayed reason.
    private func endRelayFallback() {
        directRetryTimer?.cancel()
        directRetryTimer = nil
        directRetryAt = nil
        relayedReason = nil
    }

    /// A pair was selected: a direct one ends the fallback; a relayed one schedules the next direct attempt.
    /// Both sides do: a side may see the other's relay only as a peer-reflexive address and take the path
    /// for direct, so the side that knows it is relayed must be able to try again.
    private func pathSelected(relayed: Bool) {
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
    private func rewordRelayedReason() {
        guard let at = directRetryAt else { return }
        let left = max(0, at - currentTimeMillis()) * 1_000_000
        relayedReason = "\(natExplanation ?? "direct checks timed out\(relayNote)"); next direct attempt in \(wholeSeconds(left)) s"
        recorder?.updateReason(id: remoteKey, relayedReason)
    }

    /// How the path is relayed, for reasons: over UDP plainly, over a stream relay with why.
    private var relayNote: String {
        guard let relay = selectedRelay, relay.transport.isStream else { return ", relayed" }
        return udpRelayFailed ? "; UDP to the TURN server failed; relayed over \(relay.transport.label)" : ", relayed over \(relay.transport.label)"
    }

    /// The verdict worth telling the remote: a known one.
    private var sharedNAT: NATVerdict? {
        let verdict = localNAT()
        return verdict == .unknown ? nil : verdict
    }

    /// Why no direct path can work, from both sides' NAT verdicts; nil when they allow one or are not known.
    private var natExplanation: String? {
        guard let local = localNAT(), let remote = remoteNAT, NATVerdict.directPathImpossible(local, remote) else { return nil }
        return local == remote
            ? "\(name) is behind a \(remote.words) and so are we: a direct path needs a relay"
            : "\(name) is behind a \(remote.words) and we are behind a \(local.words): a direct path needs a relay"
    }

    private func scheduleDirectRetry() {
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
    private func backoff(attempt: Int) -> Int64 {
        let base = initialRetryDelay.nanoseconds
        let cap = Int64.random(in: 30_000_000_000...45_000_000_000)
        return min(base << min(attempt, 5), cap)
    }

    private func scheduleRetry(reason: String) {
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
