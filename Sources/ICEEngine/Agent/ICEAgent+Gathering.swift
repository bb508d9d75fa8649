import NIOCore
import NIOPosix

/// Gathering: host sockets (own or on the shared fixed port), server-reflexive candidates from STUN servers,
/// relayed candidates from TURN allocations, and the gathering deadline.
extension ICEAgent {
    // MARK: Gathering

    func gatherOnLoop() -> EventLoopFuture<[Candidate]> {
        let addresses: [(interface: String, address: IPAddress)]
        do {
            addresses = try HostAddressGatherer.addresses(filter: configuration.hostFilter)
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        let hosts = configuration.relayOnly ? [] : addresses
        let binds: [EventLoopFuture<HostSocket>]
        if let mux = configuration.portMux {
            binds = hosts.enumerated().map { index, entry in
                mux.attach(address: entry.address, ufrag: localCredentials.ufrag, eventLoop: eventLoop) { [weak self] from, buffer in
                    self?.receive(socketIndex: index, from: from, buffer: buffer)
                }.map { HostSocket.shared($0) }
            }
        } else {
            let bufferBytes = configuration.socketBufferBytes
            binds = hosts.enumerated().map { index, entry in
                UDPSocketTuning.configure(DatagramBootstrap(group: eventLoop), bufferBytes: bufferBytes)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(DatagramHandler(buffers: { [weak self] in self?.receive(socketIndex: index, from: $0, buffer: $1) }))
                        }
                    }
                    .bind(host: entry.address.description, port: 0)
                    .flatMap { channel in UDPSocketTuning.sizeBuffers(channel, bytes: bufferBytes).map {
                        // GSO segments stay within the interface's MTU; an unreadable MTU means no GSO there.
                        let largest = SegmentationOffload.largestSegment(onInterface: entry.interface) ?? 0
                        return HostSocket.own(BatchedWriter(channel, largestSegment: largest))
                    } }
            }
        }
        return EventLoopFuture.whenAllSucceed(binds, on: eventLoop).map { channels in
            guard self.state != .closed else {
                channels.forEach { _ = $0.close() }
                return []
            }
            self.sockets = channels
            for (index, socket) in channels.enumerated() {
                guard let local = socket.localAddress else { continue }
                // RFC 8421: IPv6 ahead of IPv4, then interface order.
                let localPreference = UInt16((local.ip.isIPv6 ? 65535 : 65535 - 1024) - index)
                let candidate = Candidate(
                    foundation: Candidate.foundation(type: .host, base: local.ip),
                    priority: Candidate.priority(type: .host, localPreference: localPreference),
                    address: local, type: .host)
                self.localCandidates.append(candidate)
                self.onEvent(.localCandidate(candidate))
                for remote in self.remoteCandidates { self.addPair(local: candidate, socketIndex: index, remote: remote) }
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
        for (index, base) in localCandidates.enumerated() {
            for server in configuration.stunServers where server.ip.isIPv4 == base.address.ip.isIPv4 {
                var request = STUNMessageBuilder(type: .bindingRequest)
                if let software = configuration.software { request.append(.software, string: software) }
                request.appendFingerprint()
                let id = request.transactionID
                gatherTransactions[id] = GatherTransaction(socketIndex: index, base: base, server: server,
                                                           bytes: request.encoded, rto: configuration.initialRTO)
                sendGatherRequest(id)
            }
        }
        outstandingGathers += gatherTransactions.count
    }

    // MARK: Relayed candidates

    func gatherRelayed(localAddresses: [IPAddress]) {
        for server in configuration.turnServers {
            guard let local = localAddresses.first(where: { $0.isIPv4 == server.address.ip.isIPv4 }) else { continue }
            let slot = RelaySlot()
            let client = TURNClient(server: server, eventLoop: eventLoop, socketBufferBytes: configuration.socketBufferBytes, onData: { [weak self] peer, buffer in
                guard let self, let index = slot.socketIndex else { return }
                self.receive(socketIndex: index, from: peer, buffer: buffer)
            }, onConnectionLost: { [weak self] reason in
                guard let self, let index = slot.socketIndex else { return }
                self.relayLost(socketIndex: index, server: server, reason: reason)
            })
            outstandingGathers += 1
            client.allocate(localAddress: local).whenComplete { [self] result in
                self.outstandingGathers -= 1
                switch result {
                case .success(let allocation) where self.state != .closed:
                    let index = self.sockets.count + self.relays.count
                    slot.socketIndex = index
                    self.relays.append(client)
                    let candidate = Candidate(
                        foundation: Candidate.foundation(type: .relayed, base: local, server: server.address.description),
                        priority: Candidate.priority(type: .relayed, localPreference: UInt16(server.transport.localPreferenceBase - self.relays.count)),
                        address: allocation.relayed, type: .relayed, relatedAddress: allocation.mapped)
                    self.localCandidates.append(candidate)
                    self.onEvent(.relayAllocated(server: server, relayed: allocation.relayed))
                    self.onEvent(.localCandidate(candidate))
                    for remote in self.remoteCandidates { self.addPair(local: candidate, socketIndex: index, remote: remote) }
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
    func relayLost(socketIndex: Int, server: TURNServer, reason: String) {
        guard state != .closed else { return }
        let onSelected = selectedPairID.flatMap { pair($0) }?.socketIndex == socketIndex
        for i in pairs.indices where pairs[i].socketIndex == socketIndex { pairs[i].state = .failed }
        onEvent(.relayLost(server: server, reason: reason, selectedPath: onSelected))
    }

    func relay(for socketIndex: Int) -> TURNClient? {
        let i = socketIndex - sockets.count
        return i >= 0 && i < relays.count ? relays[i] : nil
    }

    func sendGatherRequest(_ id: STUNTransactionID) {
        guard var t = gatherTransactions[id], state != .closed else { return }
        write(t.bytes, socket: t.socketIndex, to: t.server, checkFilter: false)
        let delay = t.rto
        t.rto = min(t.rto * 2, configuration.maxRTO)
        t.timer = eventLoop.scheduleTask(in: delay.timeAmount) { [self] in self.sendGatherRequest(id) }
        gatherTransactions[id] = t
    }

    func handleGatherResponse(_ response: STUNMessage, from: TransportAddress) {
        guard let t = gatherTransactions[response.transactionID], from == t.server,
              response.type.messageClass == .successResponse, let mapped = response.xorAddress() ?? response.mappedAddress else { return }
        t.timer?.cancel()
        gatherTransactions[response.transactionID] = nil
        onEvent(.stunServerResult(server: t.server, mapped: mapped))
        // A mapped address equal to the base (no NAT) or already known is redundant (RFC 8445 §5.1.3).
        if mapped != t.base.address, !reflexiveCandidates.contains(where: { $0.address == mapped }) {
            let localPreference = UInt16((t.base.priority >> 8) & 0xFFFF)
            let candidate = Candidate(
                foundation: Candidate.foundation(type: .serverReflexive, base: t.base.address.ip, server: t.server.description),
                priority: Candidate.priority(type: .serverReflexive, localPreference: localPreference),
                address: mapped, type: .serverReflexive, relatedAddress: t.base.address)
            reflexiveCandidates.append(candidate)
            // Signalled to the remote, not paired here: its pairs would repeat the host pairs (RFC 8445 §6.1.2.4).
            onEvent(.localCandidate(candidate))
            if mapped.port != t.base.address.port {
                // NetBird's extra srflx: the public address with the local port, which a router may forward
                // to this host (a fixed `hostPort`) even when its own mapping changes the port.
                let forwarded = TransportAddress(ip: mapped.ip, port: t.base.address.port)
                if !reflexiveCandidates.contains(where: { $0.address == forwarded }) {
                    let extra = Candidate(
                        foundation: candidate.foundation,
                        priority: Candidate.priority(type: .serverReflexive, localPreference: localPreference &- 1),
                        address: forwarded, type: .serverReflexive, relatedAddress: t.base.address)
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
