import NIOCore
import NIOPosix
import STUN

/// Feeding the checklist: remote candidates and pairs, the pacing timer (RFC 8445 §6.1.4.2), nomination and
/// timeouts. The rules themselves are in ``Checklist`` and ``ControllingSelector``.
extension ICEAgent {
    // MARK: Pairs

    func pair(_ id: Int) -> CandidatePair? { checklist.pair(id) }

    func updatePair(_ id: Int, _ body: (inout CandidatePair) -> Void) { checklist.update(id, body) }

    func addRemoteCandidateOnLoop(_ candidate: Candidate) {
        guard state != .closed, configuration.remoteAddressFilter(candidate.address.ip) else { return }
        if let network = configuration.routedNetwork(containing: candidate.address.ip) {
            return onEvent(.remoteCandidateIgnored(candidate, network: network))
        }
        if let known = remoteCandidates.firstIndex(where: { $0.address == candidate.address }) {
            // A peer-reflexive candidate learned from a check is the signalled one arriving late: take its type.
            guard remoteCandidates[known].type == .peerReflexive, candidate.type != .peerReflexive else { return }
            remoteCandidates[known] = candidate
            checklist.replaceRemote(with: candidate, role: role)
            if let id = selectedPairID, let p = pair(id), p.remote.address == candidate.address {
                onEvent(selectedPairEvent(p))
            }
            return
        }
        remoteCandidates.append(candidate)
        for endpoint in endpoints {
            addPair(local: endpoint.candidate, endpoint: endpoint.id, remote: candidate)
        }
        startChecksIfReady()
    }

    @discardableResult
    func addPair(local: Candidate, endpoint id: LocalEndpoint.ID, remote: Candidate) -> Int? {
        switch checklist.add(local: local, endpoint: id, remote: remote, role: role) {
        case .refused:
            return nil
        case .existing(let pairID):
            return pairID
        case .added(let pairID):
            if let relay = endpoint(id)?.relay, relayPermissions.insert(RelayPermission(endpoint: id, peer: remote.address.ip)).inserted {
                // The relay forwards only from peers with a permission: install it before the first check.
                _ = relay.createPermission(peer: remote.address.ip)
            }
            return pairID
        }
    }

    func startChecksIfReady() {
        guard remoteCredentials != nil, !checklist.isEmpty, pacer == nil, state != .closed else { return }
        checkingStartedAt = .now()
        setState(.checking)
        pacer = eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: configuration.checkInterval.timeAmount) { [self] _ in
            self.tick()
        }
    }

    // MARK: Pacing (RFC 8445 §6.1.4.2)

    func tick() {
        guard state != .closed else { return }
        let now = NIODeadline.now()
        maybeNominate(now: now)
        checkTimeouts(now: now)
        if let next = checklist.nextCheck(selected: selectedPairID != nil) {
            sendCheck(pairID: next.pairID, useCandidate: next.useCandidate)
        }
    }

    func maybeNominate(now: NIODeadline) {
        guard role == .controlling, selectedPairID == nil, nominatingPairID == nil,
              let id = selector.pairToNominate(in: checklist, firstSuccessAt: firstSuccessAt, now: now) else { return }
        nominatingPairID = id
        checklist.triggerNomination(id)
    }

    var selector: ControllingSelector {
        ControllingSelector(nominationDelay: configuration.nominationDelay.timeAmount,
                            relayNominationDelay: configuration.relayNominationDelay.timeAmount)
    }

    func checkTimeouts(now: NIODeadline) {
        switch state {
        case .checking:
            if let started = checkingStartedAt, now - started >= configuration.checkingTimeout.timeAmount {
                setState(.failed)
            } else if remoteEndOfCandidates, checklist.allFailed {
                setState(.failed)
            }
        case .connected, .disconnected:
            guard let last = lastConsentResponseAt else { return }
            let silence = now - last
            if silence >= configuration.failedTimeout.timeAmount {
                consentTimer?.cancel()
                setState(.failed)
            } else if silence >= configuration.disconnectedTimeout.timeAmount, state == .connected {
                setState(.disconnected)
            }
        default:
            break
        }
    }
}
