import NIOCore
import StatusRecorder
import STUN
import ICE
import Signal

/// Sessions: starting an ICE session (and restarts that keep the path), offer/answer/candidates from the
/// remote, the agent's events, and what the recorder is told of them.
extension PeerConnection {
    // MARK: Sessions

    func startSession(sendOffer: Bool, keepingPath: Bool = false) {
        retryTimer?.cancel()
        retryTimer = nil
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
            recorder?.updateState(id: remoteKey, .connecting, reason: attempt == 0 ? reconnectReason : .retrying(attempt: attempt + 1))
        }
        newAgent.gather().whenFailure { [weak self] error in
            self?.recorder?.updateReason(id: self?.remoteKey ?? "", .gatheringFailed(error: "\(error)"))
        }
        if sendOffer {
            signaling.send(.offer(newAgent.localCredentials, session: mySession, nat: sharedNAT), from: localKey, to: remoteKey)
        }
    }

    func handleSignalOnLoop(_ message: SignalMessage) {
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
                if connected { recorder?.recordEvent(peerID: remoteKey, .iceRestart(.remoteRestart)) }
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
            _ = close(reason: .remoteIdle)
        }
    }

    func acceptRemote(_ credentials: ICECredentials, session theirSession: UInt64) {
        remoteSession = theirSession
        agent?.setRemoteCredentials(credentials)
        for candidate in pendingCandidates.removeValue(forKey: theirSession) ?? [] {
            agent?.addRemoteCandidate(candidate)
        }
        pendingCandidates.removeAll()
    }

    func handleAgentEvent(_ event: ICEAgentEvent, session eventSession: UInt64) {
        guard isOpen else { return }
        if eventSession != session {
            // The draining session still delivers data (and it still counts) until it is closed.
            if case .data(let buffer) = event {
                countReceived(buffer.readableBytes)
                onData(buffer)
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
                noteConsentLost()
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
            relayFailure = (server.url, reason)
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
            reconnectReason = .relayConnectionLost(transport: server.transport.label, server: server.url, error: reason)
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
        case .data(let buffer):
            countReceived(buffer.readableBytes)
            onData(buffer)
        }
    }

    /// The latest outcome of a STUN or TURN server the agent has listed in the local status.
    func reportServer(_ kind: ServerStatus.Kind, _ address: String, available: Bool, error: String?) {
        recorder?.updateLocal { local in
            guard let i = local.servers.firstIndex(where: { $0.kind == kind && $0.address == address }) else { return }
            local.servers[i].available = available
            local.servers[i].error = error
        }
    }

    func reportCandidatePairs() {
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

    func handleAgentState(_ state: ICEConnectionState) {
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
            if consentLost {
                consentLost = false
                recorder?.recordEvent(peerID: remoteKey, .consentRegained)
            }
            onLifecycle(.connected(relayed: relayedReason != nil))
            // A restart is complete: the old path is no longer needed.
            _ = draining?.close()
            draining = nil
        case .disconnected:
            // The path stopped answering: look for another one now (the relay, if the direct path is gone) in a
            // new session, rather than wait for this one to fail; the old agent keeps trying meanwhile.
            endRelayFallback()
            noteConsentLost()
            recorder?.recordEvent(peerID: remoteKey, .iceRestart(.consentLost))
            startSession(sendOffer: true, keepingPath: true)
            connected = false
        case .failed:
            connected = false
            endRelayFallback()
            _ = draining?.close()
            draining = nil
            let noPairs = agent?.checklistOnLoop.isEmpty ?? true
            let relay: PeerReason.RelayProblem = configuration.turnServers.isEmpty ? .notConfigured
                : relayFailure.map { .unavailable(server: $0.server, error: $0.error) } ?? .none
            scheduleRetry(noCandidatePair: noPairs, relay: relay)
        }
    }

    /// The path stopped answering: logged, and the peer is Connecting with that reason.
    func noteConsentLost() {
        let ms = configuration.disconnectedTimeout.nanoseconds / 1_000_000
        consentLost = true
        recorder?.recordEvent(peerID: remoteKey, .consentLost(timeoutMillis: ms))
        recorder?.updateState(id: remoteKey, .connecting, reason: .consentLost(timeoutMillis: ms))
    }

    /// Nanoseconds as whole seconds, rounded, for reasons.
    func wholeSeconds(_ nanoseconds: Int64) -> Int64 { (nanoseconds + 500_000_000) / 1_000_000_000 }
}
