import NIOCore
import NIOPosix
import STUN

/// Gathering: host sockets (own or on the shared fixed port), server-reflexive candidates from STUN servers,
/// relayed candidates from TURN allocations, and the gathering deadline.
extension ICEAgent {
    // MARK: Gathering

    func gatherOnLoop() -> EventLoopFuture<[Candidate]> {
        let network = configuration.hostNetwork ?? UDPHostNetwork(bufferBytes: configuration.socketBufferBytes)
        let addresses: [(interface: String, address: IPAddress)]
        do {
            addresses = try network.addresses(filter: configuration.hostFilter)
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        let hosts = configuration.relayOnly ? [] : addresses
        let ids = hosts.map { _ in makeEndpointID() }
        let binds: [EventLoopFuture<any DatagramTransport>] = zip(ids, hosts).map { id, entry in
            let receive: @Sendable (TransportAddress, ByteBuffer) -> Void = { [weak self] from, buffer in
                self?.receive(on: id, from: from, buffer: buffer)
            }
            if let mux = configuration.portMux {
                return mux.attach(address: entry.address, ufrag: localCredentials.ufrag, eventLoop: eventLoop, receive: receive)
                    .map { HostSocket.shared($0) }
            }
            return network.bind(entry.address, interface: entry.interface, eventLoop: eventLoop, receive: receive)
        }
        return EventLoopFuture.whenAllSucceed(binds, on: eventLoop).map { channels in
            guard self.state != .closed else {
                channels.forEach { _ = $0.close() }
                return []
            }
            for (index, (id, socket)) in zip(ids, channels).enumerated() {
                guard let local = socket.localAddress else {
                    _ = socket.close()
                    continue
                }
                // RFC 8421: IPv6 ahead of IPv4, then interface order.
                let localPreference = UInt16((local.ip.isIPv6 ? 65535 : 65535 - 1024) - index)
                let candidate = Candidate(
                    foundation: Candidate.foundation(type: .host, base: local.ip),
                    priority: Candidate.priority(type: .host, localPreference: localPreference),
                    address: local, type: .host)
                let endpoint = LocalEndpoint(id: id, transport: .host(socket), candidate: candidate)
                self.endpoints.append(endpoint)
                self.onEvent(.localCandidate(candidate))
                for remote in self.remoteCandidates { self.addPair(local: candidate, endpoint: id, remote: remote) }
            }
            self.startChecksIfReady()
            self.gatherServerReflexive()
            self.gatherRelayed(localAddresses: addresses.map(\.address))
            if self.outstandingGathers == 0 {
                self.finishGathering()
            } else {
                // A dead server costs at most the gathering timeout; checks on host candidates go on meanwhile.
                self.eventLoop.scheduleTask(in: self.configuration.gatheringTimeout.timeAmount) { [self] in
                    for (_, t) in self.gatherTransactions {
                        t.timer?.cancel()
                        self.onEvent(.stunServerResult(server: t.server, mapped: nil))
                    }
                    self.gatherTransactions.removeAll()
                    self.finishGathering()
                }
            }
            return self.localCandidates
        }
    }

    // MARK: Server-reflexive candidates

    func gatherServerReflexive() {
        for endpoint in endpoints {
            let base = endpoint.candidate
            for server in configuration.stunServers where server.ip.isIPv4 == base.address.ip.isIPv4 {
                var request = STUNMessageBuilder(type: .bindingRequest)
                if let software = configuration.software { request.append(.software, string: software) }
                request.appendFingerprint()
                let id = request.transactionID
                gatherTransactions[id] = GatherTransaction(endpoint: endpoint, server: server,
                                                           bytes: request.encoded,
                                                           exchange: STUNClientTransaction(configuration.retransmission.withoutLimit))
                sendGatherRequest(id)
            }
        }
        outstandingGathers += gatherTransactions.count
    }

    // MARK: Relayed candidates

    func gatherRelayed(localAddresses: [IPAddress]) {
        for server in configuration.turnServers {
            guard let local = localAddresses.first(where: { $0.isIPv4 == server.address.ip.isIPv4 }) else { continue }
            let id = makeEndpointID()
            let client = TURNClient(server: server, eventLoop: eventLoop, socketBufferBytes: configuration.socketBufferBytes, onData: { [weak self] peer, buffer in
                self?.receive(on: id, from: peer, buffer: buffer)
            }, onConnectionLost: { [weak self] reason in
                self?.relayLost(endpoint: id, server: server, reason: reason)
            })
            outstandingGathers += 1
            client.allocate(localAddress: local).whenComplete { [self] result in
                self.outstandingGathers -= 1
                switch result {
                case .success(let allocation) where self.state != .closed:
                    let relaysBefore = self.endpoints.filter { $0.relay != nil }.count
                    let candidate = Candidate(
                        foundation: Candidate.foundation(type: .relayed, base: local, server: server.address.description),
                        priority: Candidate.priority(type: .relayed, localPreference: UInt16(server.transport.localPreferenceBase - relaysBefore - 1)),
                        address: allocation.relayed, type: .relayed, relatedAddress: allocation.mapped)
                    self.endpoints.append(LocalEndpoint(id: id, transport: .relay(client), candidate: candidate))
                    self.onEvent(.relayAllocated(server: server, relayed: allocation.relayed))
                    self.onEvent(.localCandidate(candidate))
                    for remote in self.remoteCandidates { self.addPair(local: candidate, endpoint: id, remote: remote) }
                    self.startChecksIfReady()
                case .success:
                    _ = client.close()
                case .failure(let error):
                    self.onEvent(.relayFailed(server: server, reason: "\(error)"))
                    _ = client.close()
                }
                if self.outstandingGathers == 0, self.gatherTransactions.isEmpty { self.finishGathering() }
            }
        }
    }

    /// A stream relay's connection ended: its allocation is gone, so are the pairs on it (RFC 8656 §3.1).
    func relayLost(endpoint id: LocalEndpoint.ID, server: TURNServer, reason: String) {
        guard state != .closed, endpoint(id) != nil else { return }
        let onSelected = selectedPairID.flatMap { pair($0) }?.endpoint == id
        checklist.failPairs(on: id)
        onEvent(.relayLost(server: server, reason: reason, selectedPath: onSelected))
    }

    func sendGatherRequest(_ id: STUNTransactionID) {
        guard let t = gatherTransactions[id], state != .closed else { return }
        t.endpoint.sendSTUN(t.bytes, to: t.server)
        armGatherTimer(id, after: t.exchange.wait)
    }

    /// Gather requests have no count: the gathering deadline ends them.
    func armGatherTimer(_ id: STUNTransactionID, after wait: Duration) {
        gatherTransactions[id]?.timer = eventLoop.scheduleTask(in: wait.timeAmount) { [self] in
            guard var t = self.gatherTransactions[id], self.state != .closed, t.exchange.timerFired() == .retransmit else { return }
            self.gatherTransactions[id] = t
            t.endpoint.sendSTUN(t.bytes, to: t.server)
            self.armGatherTimer(id, after: t.exchange.wait)
        }
    }

    func handleGatherResponse(_ response: STUNMessage, from: TransportAddress) {
        guard let t = gatherTransactions[response.transactionID], from == t.server,
              response.type.messageClass == .successResponse, let mapped = response.xorAddress() ?? response.mappedAddress else { return }
        t.timer?.cancel()
        gatherTransactions[response.transactionID] = nil
        onEvent(.stunServerResult(server: t.server, mapped: mapped))
        // A mapped address equal to the base (no NAT) or already known is redundant (RFC 8445 §5.1.3).
        if mapped != t.endpoint.candidate.address, !reflexiveCandidates.contains(where: { $0.address == mapped }) {
            let localPreference = UInt16((t.endpoint.candidate.priority >> 8) & 0xFFFF)
            let candidate = Candidate(
                foundation: Candidate.foundation(type: .serverReflexive, base: t.endpoint.candidate.address.ip, server: t.server.description),
                priority: Candidate.priority(type: .serverReflexive, localPreference: localPreference),
                address: mapped, type: .serverReflexive, relatedAddress: t.endpoint.candidate.address)
            reflexiveCandidates.append(candidate)
            // Signalled to the remote, not paired here: its pairs would repeat the host pairs (RFC 8445 §6.1.2.4).
            onEvent(.localCandidate(candidate))
            if mapped.port != t.endpoint.candidate.address.port {
                // NetBird's extra srflx: the public address with the local port, which a router may forward
                // to this host (a fixed `hostPort`) even when its own mapping changes the port.
                let forwarded = TransportAddress(ip: mapped.ip, port: t.endpoint.candidate.address.port)
                if !reflexiveCandidates.contains(where: { $0.address == forwarded }) {
                    let extra = Candidate(
                        foundation: candidate.foundation,
                        priority: Candidate.priority(type: .serverReflexive, localPreference: localPreference &- 1),
                        address: forwarded, type: .serverReflexive, relatedAddress: t.endpoint.candidate.address)
                    reflexiveCandidates.append(extra)
                    onEvent(.localCandidate(extra))
                }
            }
        }
        outstandingGathers -= 1
        if outstandingGathers == 0 { finishGathering() }
    }

    func finishGathering() {
        guard !gatheringDone else { return }
        gatheringDone = true
        onEvent(.gatheringComplete)
    }
}
