import NIOCore
import NIOPosix
import STUN

/// The checklist: pairs, their freezing by foundation, pacing (RFC 8445 §6.1.4.2), nomination and timeouts.
extension ICEAgent {
    // MARK: Pairs

    func pair(_ id: Int) -> CandidatePair? { pairs.first { $0.id == id } }

    func updatePair(_ id: Int, _ body: (inout CandidatePair) -> Void) {
        guard let i = pairs.firstIndex(where: { $0.id == id }) else { return }
        body(&pairs[i])
    }

    func addRemoteCandidateOnLoop(_ candidate: Candidate) {
        guard state != .closed, configuration.remoteAddressFilter(candidate.address.ip) else { return }
        if let network = configuration.routedNetwork(containing: candidate.address.ip) {
            return onEvent(.remoteCandidateIgnored(candidate, network: network))
        }
        if let known = remoteCandidates.firstIndex(where: { $0.address == candidate.address }) {
            // A peer-reflexive candidate learned from a check is the signalled one arriving late: take its type.
            guard remoteCandidates[known].type == .peerReflexive, candidate.type != .peerReflexive else { return }
            remoteCandidates[known] = candidate
            for i in pairs.indices where pairs[i].remote.address == candidate.address {
                pairs[i].remote = candidate
                pairs[i].updatePriority(role: role)
            }
            pairs.sort { $0.priority > $1.priority }
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
        guard local.address.ip.isIPv4 == remote.address.ip.isIPv4, pairs.count < configuration.maxPairs else { return nil }
        if let existing = pairs.first(where: { $0.endpoint == id && $0.remote.address == remote.address }) {
            return existing.id
        }
        if let relay = endpoint(id)?.relay, relayPermissions.insert(RelayPermission(endpoint: id, peer: remote.address.ip)).inserted {
            // The relay forwards only from peers with a permission: install it before the first check.
            _ = relay.createPermission(peer: remote.address.ip)
        }
        let pair = CandidatePair(id: nextPairID, local: local, remote: remote, endpoint: id, role: role)
        nextPairID += 1
        pairs.append(pair)
        pairs.sort { $0.priority > $1.priority }
        // Trickled pairs join the checklist by the same rule (RFC 8838 §10).
        unfreezeOnePerFoundation()
        return pair.id
    }

    func startChecksIfReady() {
        guard remoteCredentials != nil, !pairs.isEmpty, pacer == nil, state != .closed else { return }
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
        if !triggered.isEmpty {
            let next = triggered.removeFirst()
            sendCheck(pairID: next.pairID, useCandidate: next.useCandidate)
            return
        }
        guard selectedPairID == nil else { return }
        unfreezeOnePerFoundation()
        // Waiting pairs first, by priority; with none left, the best frozen pair (RFC 8445 §6.1.4.2).
        if let next = pairs.first(where: { $0.state == .waiting }) ?? pairs.first(where: { $0.state == .frozen }) {
            sendCheck(pairID: next.id, useCandidate: false)
        }
    }

    func maybeNominate(now: NIODeadline) {
        guard role == .controlling, selectedPairID == nil, nominatingPairID == nil, let first = firstSuccessAt else { return }
        let pending = pairs.contains { $0.state == .waiting || $0.state == .inProgress || $0.state == .frozen }
        let best = pairs.first { $0.state == .succeeded }
        guard let best else { return }
        // Nominate at once if the best possible pair already works, else give better pairs a short while.
        let bestIsTop = pairs.first?.id == best.id
        guard bestIsTop || !pending || now - first >= configuration.nominationDelay.timeAmount else { return }
        // Prefer direct paths: a relayed pair waits a while for a direct one still being checked.
        let relayed = best.local.type == .relayed || best.remote.type == .relayed
        let directPending = pairs.contains { ($0.state == .waiting || $0.state == .inProgress || $0.state == .frozen)
            && $0.local.type != .relayed && $0.remote.type != .relayed }
        if relayed, directPending, now - first < configuration.relayNominationDelay.timeAmount { return }
        nominatingPairID = best.id
        triggered.insert((best.id, true), at: 0)
    }

    func checkTimeouts(now: NIODeadline) {
        switch state {
        case .checking:
            if let started = checkingStartedAt, now - started >= configuration.checkingTimeout.timeAmount {
                setState(.failed)
            } else if remoteEndOfCandidates, !pairs.isEmpty, pairs.allSatisfy({ $0.state == .failed }) {
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

    /// For each foundation with no pair waiting, in progress or succeeded, the highest-priority frozen pair
    /// becomes Waiting (RFC 8445 §6.1.2.6): one check per foundation goes first, the rest follow its fate.
    func unfreezeOnePerFoundation() {
        var active = Set<String>()
        for p in pairs where p.state == .waiting || p.state == .inProgress || p.state == .succeeded { active.insert(p.foundation) }
        for i in pairs.indices where pairs[i].state == .frozen && !active.contains(pairs[i].foundation) {
            pairs[i].state = .waiting // pairs are sorted by priority, so this is the foundation's best
            active.insert(pairs[i].foundation)
        }
    }

    /// A success unfreezes the pairs that share its foundation (RFC 8445 §7.2.5.3.3).
    func unfreeze(foundation: String) {
        for i in pairs.indices where pairs[i].state == .frozen && pairs[i].foundation == foundation { pairs[i].state = .waiting }
    }
}
