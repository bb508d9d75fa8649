import NIOCore
import NIOPosix
import STUN

/// Connectivity checks: sending and retransmitting them, answering authenticated ones, role conflicts and
/// peer-reflexive candidates, and demultiplexing STUN from data.
extension ICEAgent {
    // MARK: Sending checks

    @discardableResult
    func sendCheck(pairID: Int, useCandidate: Bool, isConsent: Bool = false) -> STUNTransactionID? {
        guard let remote = remoteCredentials, let pair = pair(pairID) else { return nil }
        var builder = STUNMessageBuilder(type: .bindingRequest)
        builder.append(.username, string: "\(remote.ufrag):\(localCredentials.ufrag)")
        let prflxPriority = Candidate.priority(type: .peerReflexive, localPreference: UInt16((pair.local.priority >> 8) & 0xFFFF))
        builder.append(.priority, uint32: prflxPriority)
        if role == .controlling {
            builder.append(.iceControlling, uint64: tieBreaker)
            if useCandidate { builder.append(.useCandidate, []) }
        } else {
            builder.append(.iceControlled, uint64: tieBreaker)
        }
        if let software = configuration.software { builder.append(.software, string: software) }
        builder.appendMessageIntegrity(key: remoteKey ?? STUNIntegrityKey(STUNCredentials.shortTermKey(password: remote.pwd)))
        builder.appendFingerprint()
        let bytes = builder.encoded
        var transaction = CheckTransaction(pairID: pairID, bytes: bytes, sentAt: .now(),
                                           exchange: STUNClientTransaction(configuration.retransmission), useCandidate: useCandidate,
                                           isConsent: isConsent, sentAsControlling: role == .controlling)
        let id = builder.transactionID
        if !isConsent {
            transaction.timer = scheduleRetransmission(id, after: transaction.exchange.wait)
            updatePair(pairID) { p in
                if p.state != .succeeded { p.state = .inProgress }
            }
        } else {
            // Consent checks are not retransmitted; a stale entry is dropped after the failed timeout.
            transaction.timer = eventLoop.scheduleTask(in: configuration.failedTimeout.timeAmount) { [self] in
                self.transactions.removeValue(forKey: id)?.reply?.fail(ICEPingError.timedOut)
            }
        }
        transactions[id] = transaction
        updatePair(pairID) { $0.requestsSent += 1 }
        write(bytes, from: pair.endpoint, to: pair.remote.address)
        return id
    }

    func scheduleRetransmission(_ id: STUNTransactionID, after delay: Duration) -> Scheduled<Void> {
        eventLoop.scheduleTask(in: delay.timeAmount) { [self] in
            self.retransmit(id)
        }
    }

    func retransmit(_ id: STUNTransactionID) {
        guard var t = transactions[id], let pair = pair(t.pairID), state != .closed else { return }
        guard t.exchange.timerFired() == .retransmit else {
            transactions[id] = nil
            updatePair(t.pairID) { p in
                if p.state == .inProgress { p.state = .failed }
            }
            if nominatingPairID == t.pairID { nominatingPairID = nil }
            return
        }
        t.timer = scheduleRetransmission(id, after: t.exchange.wait)
        transactions[id] = t
        updatePair(t.pairID) { $0.requestsSent += 1 }
        write(t.bytes, from: pair.endpoint, to: pair.remote.address)
    }

    // MARK: Receiving

    /// A datagram on one of our endpoints. STUN is told from data by its first bytes (RFC 7983) before
    /// anything is parsed or copied; data goes on as read.
    func receive(on endpointID: LocalEndpoint.ID, from: TransportAddress, buffer: ByteBuffer) {
        guard state != .closed else { return }
        guard STUNMessage.looksLikeSTUN(buffer.readableBytesView) else {
            // Data is accepted from any remote candidate we pair with, even before selection: the remote may
            // already have selected and started sending (RFC 8445 §12.1). Strangers' datagrams are dropped.
            // The selected pair is tested first, so the common case costs no search of the checklist.
            let selected = selectedPath.flatMap { $0.endpoint.id == endpointID && $0.remote == from ? $0.endpoint : nil }
            if selected != nil || checklist.hasPair(remote: from, endpoint: endpointID) {
                // A socket that carries data reads with GRO from now on; sockets that only check stay cheap.
                selected?.carriesData()
                onEvent(.data(buffer))
            } else {
                droppedDatagrams += 1
            }
            return
        }
        receiveSTUN(on: endpointID, from: from, bytes: Array(buffer.readableBytesView))
    }

    func receiveSTUN(on endpointID: LocalEndpoint.ID, from: TransportAddress, bytes: [UInt8]) {
        guard let message = try? STUNMessage(decoding: bytes), message.type.method == .binding else {
            droppedDatagrams += 1
            return
        }
        if message.contains(.fingerprint), !message.hasValidFingerprint {
            droppedDatagrams += 1
            return
        }
        if message.type.messageClass != .request, gatherTransactions[message.transactionID] != nil {
            return handleGatherResponse(message, from: from)
        }
        switch message.type.messageClass {
        case .request: handleRequest(message, on: endpointID, from: from)
        case .successResponse, .errorResponse: handleResponse(message, from: from)
        case .indication: break
        }
    }

    func handleRequest(_ request: STUNMessage, on endpointID: LocalEndpoint.ID, from: TransportAddress) {
        // Only authenticated checks are answered (RFC 8445 §7.3, RFC 8489 §9.1.3); others are dropped silently.
        // Nor are checks from inside a routed network: that path would run through the mesh's own tunnel.
        guard configuration.remoteAddressFilter(from.ip), configuration.routedNetwork(containing: from.ip) == nil,
              let username = request.username, username.hasPrefix(localCredentials.ufrag + ":"),
              request.verifyMessageIntegrity(key: localKey),
              let priority = request.priority, request.unknownRequiredAttributes.isEmpty else {
            droppedDatagrams += 1
            return
        }
        if let remote = remoteCredentials, username != "\(localCredentials.ufrag):\(remote.ufrag)" {
            droppedDatagrams += 1
            return
        }
        // Role conflict (RFC 8445 §7.3.1.1).
        if let theirs = request.iceControlling, role == .controlling {
            if tieBreaker >= theirs {
                respondRoleConflict(request, on: endpointID, to: from)
                return
            }
            switchRole(to: .controlled)
        } else if let theirs = request.iceControlled, role == .controlled {
            if tieBreaker >= theirs {
                switchRole(to: .controlling)
            } else {
                respondRoleConflict(request, on: endpointID, to: from)
                return
            }
        }

        var response = STUNMessageBuilder(type: .bindingSuccess, transactionID: request.transactionID)
        response.appendXORAddress(.xorMappedAddress, from)
        response.appendMessageIntegrity(key: localKey)
        response.appendFingerprint()
        write(response.encoded, from: endpointID, to: from)

        guard let endpoint = endpoint(endpointID) else { return }
        // A source we have not been told of is a peer-reflexive remote candidate (RFC 8445 §7.3.1.3).
        var remote = remoteCandidates.first { $0.address == from }
        if remote == nil {
            let prflx = Candidate(foundation: Candidate.foundation(type: .peerReflexive, base: from.ip),
                                  priority: priority, address: from, type: .peerReflexive)
            remoteCandidates.append(prflx)
            remote = prflx
        }
        guard let remote, let pairID = addPair(local: endpoint.candidate, endpoint: endpointID, remote: remote) else { return }
        updatePair(pairID) { $0.requestsReceived += 1 }
        if role == .controlled, request.useCandidate {
            updatePair(pairID) { $0.remoteNominated = true }
        }
        guard let p = pair(pairID) else { return }
        if p.state == .succeeded {
            if role == .controlled, ControlledSelector.selects(p), selectedPairID != pairID { select(pairID) }
        } else {
            checklist.triggerAnswer(pairID)
        }
        if pacer == nil { startChecksIfReady() }
    }

    func respondRoleConflict(_ request: STUNMessage, on endpointID: LocalEndpoint.ID, to: TransportAddress) {
        var response = STUNMessageBuilder(type: .bindingError, transactionID: request.transactionID)
        response.appendErrorCode(STUNErrorCode.roleConflict, reason: "Role Conflict")
        response.appendMessageIntegrity(key: localKey)
        response.appendFingerprint()
        write(response.encoded, from: endpointID, to: to)
    }

    func switchRole(to newRole: ICERole) {
        guard role != newRole else { return }
        role = newRole
        checklist.reprioritize(role: newRole)
        nominatingPairID = nil
    }

    func handleResponse(_ response: STUNMessage, from: TransportAddress) {
        guard let remoteKey, let t = transactions[response.transactionID],
              let pair = pair(t.pairID) else { return }
        guard response.verifyMessageIntegrity(key: remoteKey) else {
            droppedDatagrams += 1
            return
        }
        t.timer?.cancel()
        transactions[response.transactionID] = nil
        // Responses must come from where the request went (RFC 8445 §7.2.5.2.1).
        guard pair.remote.address == from else {
            if !t.isConsent { updatePair(pair.id) { $0.state = .failed } }
            t.reply?.fail(ICEPingError.answeredFromElsewhere(from))
            return
        }
        if response.type.messageClass == .errorResponse {
            t.reply?.fail(ICEPingError.errorResponse(code: response.errorCode?.code ?? 0))
            if response.errorCode?.code == STUNErrorCode.roleConflict {
                switchRole(to: t.sentAsControlling ? .controlled : .controlling)
                checklist.retryAfterRoleConflict(pair.id)
            } else if !t.isConsent {
                updatePair(pair.id) { $0.state = .failed }
            }
            return
        }
        let now = NIODeadline.now()
        let elapsed = Duration.nanoseconds((now - t.sentAt).nanoseconds)
        let rtt = t.exchange.roundTrip(elapsed: elapsed)
        t.reply?.succeed(rtt ?? elapsed)
        updatePair(pair.id) { p in
            p.state = .succeeded
            p.responsesReceived += 1
            if let rtt { p.lastRoundTrip = rtt }
        }
        checklist.unfreeze(foundation: pair.foundation)
        if !t.isConsent, let mapped = response.xorAddress(), mapped != pair.local.address, pair.local.type != .relayed {
            learnLocalPeerReflexive(mapped, pairID: pair.id)
        }
        if firstSuccessAt == nil { firstSuccessAt = now }
        if pair.id == selectedPairID {
            lastConsentResponseAt = now
            if state == .disconnected { setState(.connected) }
            if let rtt { onEvent(.roundTrip(rtt)) }
        }
        if selectedPairID == nil || selectedPairID != pair.id {
            if role == .controlling, t.useCandidate {
                select(pair.id)
            } else if role == .controlled, let p = self.pair(pair.id), ControlledSelector.selects(p) {
                select(pair.id)
            } else if role == .controlling, nominatingPairID == nil {
                // When the best possible pair just succeeded, nominate it now rather than a Ta later: the
                // nomination takes the place of the next paced check, so the check rate does not rise.
                maybeNominate(now: now)
                if let id = nominatingPairID, checklist.takeNomination(of: id) {
                    sendCheck(pairID: id, useCandidate: true)
                }
            }
        }
    }

    /// The remote saw our check come from another address (a NAT between us): that address is a
    /// peer-reflexive local candidate with the same base, and the valid pair uses it (RFC 8445 §7.2.5.3.1).
    func learnLocalPeerReflexive(_ mapped: TransportAddress, pairID: Int) {
        guard let pair = pair(pairID) else { return }
        let candidate: Candidate
        if let known = (localCandidates + reflexiveCandidates + localPeerReflexive).first(where: { $0.address == mapped }) {
            candidate = known
        } else {
            candidate = Candidate(
                foundation: Candidate.foundation(type: .peerReflexive, base: pair.local.address.ip),
                priority: Candidate.priority(type: .peerReflexive, localPreference: UInt16((pair.local.priority >> 8) & 0xFFFF)),
                address: mapped, type: .peerReflexive, relatedAddress: pair.local.address)
            localPeerReflexive.append(candidate)
        }
        checklist.replaceLocal(of: pairID, with: candidate, role: role)
    }
}
