import NIOCore
import StatusRecorder
import STUN
import ICE
import Signal

/// Sessions: offer/answer/candidates from the remote, the agent's events, and what the recorder is told of
/// them; lifecycle events go to the state machine.
extension PeerConnection {
    // MARK: Sessions

    func handleSignalOnLoop(_ message: SignalMessage) {
        switch message {
        case .offer(let credentials, let theirSession, let nat):
            if let nat { remoteNAT = nat }
            if theirSession == remoteSession { return }
            // A new remote session: a fresh agent here too unless ours has not met a remote yet. If we are
            // connected this is the remote's ICE restart: keep our path until the new session connects.
            apply(.remoteOffer(remoteKnown: remoteSession != nil))
            acceptRemote(credentials, session: theirSession)
            if let agent {
                signaling.send(.answer(agent.localCredentials, session: session, nat: sharedNAT), from: localKey, to: remoteKey)
            }
        case .answer(let credentials, let theirSession, let nat):
            if let nat { remoteNAT = nat }
            guard machine.isOpen, remoteSession == nil else { return }
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
            guard machine.isOpen else { return }
            apply(.close(reason: .remoteIdle))
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
        guard machine.isOpen else { return }
        if eventSession != session {
            // The draining session still delivers data (and it still counts) until it is closed.
            if case .data(let buffer) = event {
                countReceived(buffer.readableBytes)
                onData(buffer)
            } else if case .relayFailed(let server, _) = event, server.transport == .udp {
                // An earlier session's UDP Allocate timing out still tells how UDP to the server fares.
                udpRelayFailed = true
                rewordRelayedReason()
            } else if case .stateChanged(let state) = event, state == .disconnected || state == .failed {
                // The path kept during a restart stopped answering before the new session connected.
                apply(.keptPathLost(timeoutMillis: disconnectedTimeoutMillis))
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
                rewordRelayedReason()
            }
            reportServer(.turn, server.url, available: false, error: reason)
        case .relayLost(let server, let reason, let selectedPath):
            reportServer(.turn, server.url, available: false, error: "connection lost: \(reason)")
            guard selectedPath else { return }
            apply(.selectedRelayLost(.relayConnectionLost(transport: server.transport.label, server: server.url, error: reason)))
        case .stateChanged(let state):
            handleAgentState(state)
            reportCandidatePairs()
        case .selectedPairChanged(let pair):
            let relayed = pair.local.type == .relayed || pair.remote.type == .relayed
            // Our relay when the local end is relayed; the remote's relay is its own business.
            selectedRelay = pair.local.type == .relayed ? pair.relay : nil
            apply(.pathSelected(relayed ? .relayed(timedOut: directTimedOut, impossible: natNeedsRelay) : .direct))
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
            apply(.sessionChecking)
        case .connected:
            apply(.sessionConnected)
        case .disconnected:
            apply(.sessionDisconnected(timeoutMillis: disconnectedTimeoutMillis))
        case .failed:
            let noPairs = agent?.checklistOnLoop.isEmpty ?? true
            let relay: PeerReason.RelayProblem = configuration.turnServers.isEmpty ? .notConfigured
                : relayFailure.map { .unavailable(server: $0.server, error: $0.error) } ?? .none
            apply(.sessionFailed(noCandidatePair: noPairs, relay: relay))
        }
    }

    /// How long a path may stay silent before consent is lost, for reasons.
    var disconnectedTimeoutMillis: Int64 { configuration.disconnectedTimeout.nanoseconds / 1_000_000 }
}
