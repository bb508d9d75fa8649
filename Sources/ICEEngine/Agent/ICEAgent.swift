import NIOCore
import NIOPosix

/// Which socket index a TURN client's data belongs to, known only once its allocation succeeds.
private final class RelaySlot: @unchecked Sendable {
    // Written and read on the agent's event loop only.
    var socketIndex: Int?
}

/// One ICE session with one remote agent, over real UDP sockets (RFC 8445, one component, UDP).
///
/// All state lives on `eventLoop`; public methods may be called from anywhere and hop onto it.
/// Events go to `onEvent`, on the event loop, in the order they happen.
public final class ICEAgent: @unchecked Sendable {
    public let localCredentials: ICECredentials
    public let eventLoop: EventLoop
    public let configuration: ICEAgentConfiguration
    private let onEvent: @Sendable (ICEAgentEvent) -> Void

    // Everything below is confined to `eventLoop`.
    private(set) var role: ICERole
    let tieBreaker: UInt64
    private var remoteCredentials: ICECredentials? {
        didSet { remoteKey = remoteCredentials.map { STUNIntegrityKey(STUNCredentials.shortTermKey(password: $0.pwd)) } }
    }
    /// Prepared integrity keys: ours signs responses and checks requests; the remote's the reverse.
    private let localKey: STUNIntegrityKey
    private var remoteKey: STUNIntegrityKey?
    private var sockets: [HostSocket] = []
    private var localCandidates: [Candidate] = []
    private var remoteCandidates: [Candidate] = []
    private var pairs: [CandidatePair] = []
    private var nextPairID = 0
    private var triggered: [(pairID: Int, useCandidate: Bool)] = []
    private var transactions: [STUNTransactionID: CheckTransaction] = [:]
    private var gatherTransactions: [STUNTransactionID: GatherTransaction] = [:]
    private var reflexiveCandidates: [Candidate] = []
    /// Local addresses learned from check responses (behind a NAT), never signalled.
    private var localPeerReflexive: [Candidate] = []
    /// TURN clients with an allocation; relay `i` sends for socket index `sockets.count + i`.
    private var relays: [TURNClient] = []
    private var relayPermissions: Set<String> = []
    /// STUN transactions and TURN allocations still running.
    private var outstandingGathers = 0
    private var gatheringDone = false
    private var state: ICEConnectionState = .new
    private var selectedPairID: Int?
    private var nominatingPairID: Int?
    private var firstSuccessAt: NIODeadline?
    private var checkingStartedAt: NIODeadline?
    private var lastConsentResponseAt: NIODeadline?
    private var remoteEndOfCandidates = false
    private var pacer: RepeatedTask?
    private var consentTimer: Scheduled<Void>?
    private var rng = SystemRandomNumberGenerator()

    /// Datagrams dropped because they failed to decode or authenticate.
    private(set) var droppedDatagrams = 0

    private struct CheckTransaction {
        var pairID: Int
        var bytes: [UInt8]
        var sentAt: NIODeadline
        var retransmissions: Int
        var rto: Duration
        var useCandidate: Bool
        var isConsent: Bool
        var sentAsControlling: Bool
        var timer: Scheduled<Void>?
    }

    /// A Binding request to a STUN server for one of our sockets (RFC 8489 §6.2.1 retransmissions).
    private struct GatherTransaction {
        var socketIndex: Int
        var base: Candidate
        var server: TransportAddress
        var bytes: [UInt8]
        var rto: Duration
        var timer: Scheduled<Void>?
    }

    /// Creates an agent with fresh random credentials and tie-breaker.
    public init(role: ICERole, configuration: ICEAgentConfiguration = ICEAgentConfiguration(),
                eventLoop: EventLoop, onEvent: @escaping @Sendable (ICEAgentEvent) -> Void) {
        self.role = role
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.onEvent = onEvent
        self.localCredentials = .random()
        self.localKey = STUNIntegrityKey(STUNCredentials.shortTermKey(password: localCredentials.pwd))
        var rng = SystemRandomNumberGenerator()
        self.tieBreaker = rng.next()
    }

    // MARK: Public API

    /// Binds one UDP socket per allowed local address and reports host candidates (as events too).
    public func gather() -> EventLoopFuture<[Candidate]> {
        eventLoop.flatSubmit { self.gatherOnLoop() }
    }

    /// Sets the remote's ufrag and password; checks start once candidates are known too.
    public func setRemoteCredentials(_ credentials: ICECredentials) {
        eventLoop.execute {
            guard self.state != .closed else { return }
            let first = self.remoteCredentials == nil
            self.remoteCredentials = credentials
            self.startChecksIfReady()
            if first {
                // Without a single pair (no usable local address, no remote candidate) checks never start:
                // fail after the same time a checklist would have had, rather than wait for ever.
                self.eventLoop.scheduleTask(in: self.configuration.checkingTimeout.timeAmount) { [weak self] in
                    guard let self, self.pacer == nil, self.state == .new else { return }
                    self.setState(.failed)
                }
            }
        }
    }

    /// Adds a remote candidate (trickle: any time, in any order with the credentials).
    public func addRemoteCandidate(_ candidate: Candidate) {
        eventLoop.execute { self.addRemoteCandidateOnLoop(candidate) }
    }

    /// Tells the agent the remote will send no more candidates: once every pair has failed, the agent fails.
    public func setRemoteEndOfCandidates() {
        eventLoop.execute { self.remoteEndOfCandidates = true }
    }

    /// Sends application data on the selected pair; dropped if none is selected.
    public func send(_ bytes: [UInt8]) {
        eventLoop.execute {
            guard let id = self.selectedPairID, let pair = self.pair(id) else { return }
            self.write(bytes, socket: pair.socketIndex, to: pair.remote.address)
        }
    }

    /// The current checklist, for display.
    public func candidatePairs() -> EventLoopFuture<[CandidatePair]> {
        eventLoop.submit { self.pairs }
    }

    /// The checklist, read on the agent's event loop by its owner.
    var checklistOnLoop: [CandidatePair] {
        eventLoop.preconditionInEventLoop()
        return pairs
    }

    /// The current role: a role conflict may have changed the one the agent started with.
    public func currentRole() -> EventLoopFuture<ICERole> {
        eventLoop.submit { self.role }
    }

    /// The current state.
    public func currentState() -> EventLoopFuture<ICEConnectionState> {
        eventLoop.submit { self.state }
    }

    /// Stops timers, closes sockets and moves to Closed.
    public func close() -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            self.pacer?.cancel()
            self.consentTimer?.cancel()
            for t in self.transactions.values { t.timer?.cancel() }
            for t in self.gatherTransactions.values { t.timer?.cancel() }
            self.transactions.removeAll()
            self.gatherTransactions.removeAll()
            self.setState(.closed)
            let closes = self.sockets.compactMap { $0.close() } + self.relays.map { $0.close() }
            self.sockets.removeAll()
            self.relays.removeAll()
            return EventLoopFuture.andAllComplete(closes, on: self.eventLoop)
        }
    }

    // MARK: Gathering

    private func gatherOnLoop() -> EventLoopFuture<[Candidate]> {
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
                mux.attach(address: entry.address, ufrag: localCredentials.ufrag, eventLoop: eventLoop) { [weak self] from, bytes in
                    self?.receive(socketIndex: index, from: from, bytes: bytes)
                }.map { HostSocket.shared($0) }
            }
        } else {
            binds = hosts.enumerated().map { index, entry in
                DatagramBootstrap(group: eventLoop)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(DatagramHandler { [weak self] in self?.receive(socketIndex: index, from: $0, bytes: $1) })
                        }
                    }
                    .bind(host: entry.address.description, port: 0)
                    .map { HostSocket.own($0) }
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

    private func gatherServerReflexive() {
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

    private func gatherRelayed(localAddresses: [IPAddress]) {
        for server in configuration.turnServers {
            guard let local = localAddresses.first(where: { $0.isIPv4 == server.address.ip.isIPv4 }) else { continue }
            let slot = RelaySlot()
            let client = TURNClient(server: server, eventLoop: eventLoop, onData: { [weak self] peer, bytes in
                guard let self, let index = slot.socketIndex else { return }
                self.receive(socketIndex: index, from: peer, bytes: bytes)
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
    private func relayLost(socketIndex: Int, server: TURNServer, reason: String) {
        guard state != .closed else { return }
        let onSelected = selectedPairID.flatMap { pair($0) }?.socketIndex == socketIndex
        for i in pairs.indices where pairs[i].socketIndex == socketIndex { pairs[i].state = .failed }
        onEvent(.relayLost(server: server, reason: reason, selectedPath: onSelected))
    }

    private func relay(for socketIndex: Int) -> TURNClient? {
        let i = socketIndex - sockets.count
        return i >= 0 && i < relays.count ? relays[i] : nil
    }

    private func sendGatherRequest(_ id: STUNTransactionID) {
        guard var t = gatherTransactions[id], state != .closed else { return }
        write(t.bytes, socket: t.socketIndex, to: t.server, checkFilter: false)
        let delay = t.rto
        t.rto = min(t.rto * 2, configuration.maxRTO)
        t.timer = eventLoop.scheduleTask(in: delay.timeAmount) { [self] in self.sendGatherRequest(id) }
        gatherTransactions[id] = t
    }

    private func handleGatherResponse(_ response: STUNMessage, from: TransportAddress) {
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

    private func finishGathering() {
        guard !gatheringDone else { return }
        gatheringDone = true
        onEvent(.gatheringComplete)
    }

    // MARK: Pairs

    private func pair(_ id: Int) -> CandidatePair? { pairs.first { $0.id == id } }

    private func updatePair(_ id: Int, _ body: (inout CandidatePair) -> Void) {
        guard let i = pairs.firstIndex(where: { $0.id == id }) else { return }
        body(&pairs[i])
    }

    private func addRemoteCandidateOnLoop(_ candidate: Candidate) {
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
                onEvent(.selectedPairChanged(SelectedPair(local: p.local, remote: p.remote, relay: relay(for: p.socketIndex)?.configuration)))
            }
            return
        }
        remoteCandidates.append(candidate)
        for (index, local) in localCandidates.enumerated() {
            addPair(local: local, socketIndex: index, remote: candidate)
        }
        startChecksIfReady()
    }

    @discardableResult
    private func addPair(local: Candidate, socketIndex: Int, remote: Candidate) -> Int? {
        guard local.address.ip.isIPv4 == remote.address.ip.isIPv4, pairs.count < configuration.maxPairs else { return nil }
        if let existing = pairs.first(where: { $0.socketIndex == socketIndex && $0.remote.address == remote.address }) {
            return existing.id
        }
        if let relay = relay(for: socketIndex), relayPermissions.insert("\(socketIndex)|\(remote.address.ip)").inserted {
            // The relay forwards only from peers with a permission: install it before the first check.
            _ = relay.createPermission(peer: remote.address.ip)
        }
        let pair = CandidatePair(id: nextPairID, local: local, remote: remote, socketIndex: socketIndex, role: role)
        nextPairID += 1
        pairs.append(pair)
        pairs.sort { $0.priority > $1.priority }
        // Trickled pairs join the checklist by the same rule (RFC 8838 §10).
        unfreezeOnePerFoundation()
        return pair.id
    }

    private func startChecksIfReady() {
        guard remoteCredentials != nil, !pairs.isEmpty, pacer == nil, state != .closed else { return }
        checkingStartedAt = .now()
        setState(.checking)
        pacer = eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: configuration.checkInterval.timeAmount) { [self] _ in
            self.tick()
        }
    }

    // MARK: Pacing (RFC 8445 §6.1.4.2)

    private func tick() {
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

    private func maybeNominate(now: NIODeadline) {
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

    private func checkTimeouts(now: NIODeadline) {
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
    private func unfreezeOnePerFoundation() {
        var active = Set<String>()
        for p in pairs where p.state == .waiting || p.state == .inProgress || p.state == .succeeded { active.insert(p.foundation) }
        for i in pairs.indices where pairs[i].state == .frozen && !active.contains(pairs[i].foundation) {
            pairs[i].state = .waiting // pairs are sorted by priority, so this is the foundation's best
            active.insert(pairs[i].foundation)
        }
    }

    /// A success unfreezes the pairs that share its foundation (RFC 8445 §7.2.5.3.3).
    private func unfreeze(foundation: String) {
        for i in pairs.indices where pairs[i].state == .frozen && pairs[i].foundation == foundation { pairs[i].state = .waiting }
    }

    // MARK: Sending checks

    private func sendCheck(pairID: Int, useCandidate: Bool, isConsent: Bool = false) {
        guard let remote = remoteCredentials, let pair = pair(pairID) else { return }
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
        var transaction = CheckTransaction(pairID: pairID, bytes: bytes, sentAt: .now(), retransmissions: 0,
                                           rto: configuration.initialRTO, useCandidate: useCandidate,
                                           isConsent: isConsent, sentAsControlling: role == .controlling)
        let id = builder.transactionID
        if !isConsent {
            transaction.timer = scheduleRetransmission(id, after: transaction.rto)
            updatePair(pairID) { p in
                if p.state != .succeeded { p.state = .inProgress }
            }
        } else {
            // Consent checks are not retransmitted; a stale entry is dropped after the failed timeout.
            transaction.timer = eventLoop.scheduleTask(in: configuration.failedTimeout.timeAmount) { [self] in
                self.transactions[id] = nil
            }
        }
        transactions[id] = transaction
        updatePair(pairID) { $0.requestsSent += 1 }
        write(bytes, socket: pair.socketIndex, to: pair.remote.address)
    }

    private func scheduleRetransmission(_ id: STUNTransactionID, after delay: Duration) -> Scheduled<Void> {
        eventLoop.scheduleTask(in: delay.timeAmount) { [self] in
            self.retransmit(id)
        }
    }

    private func retransmit(_ id: STUNTransactionID) {
        guard var t = transactions[id], let pair = pair(t.pairID), state != .closed else { return }
        if t.retransmissions >= configuration.maxRetransmissions {
            transactions[id] = nil
            updatePair(t.pairID) { p in
                if p.state == .inProgress { p.state = .failed }
            }
            if nominatingPairID == t.pairID { nominatingPairID = nil }
            return
        }
        t.retransmissions += 1
        t.rto = min(t.rto * 2, configuration.maxRTO)
        t.timer = scheduleRetransmission(id, after: t.rto)
        transactions[id] = t
        updatePair(t.pairID) { $0.requestsSent += 1 }
        write(t.bytes, socket: pair.socketIndex, to: pair.remote.address)
    }

    /// Sends from one of our sockets. Peers must pass the remote address filter; configured servers need not.
    private func write(_ bytes: [UInt8], socket: Int, to address: TransportAddress, checkFilter: Bool = true) {
        if let relay = relay(for: socket) {
            guard !checkFilter || configuration.remoteAddressFilter(address.ip) else { return }
            return relay.send(bytes, to: address)
        }
        guard socket < sockets.count, !checkFilter || configuration.remoteAddressFilter(address.ip) else { return }
        sockets[socket].send(bytes, to: address)
    }

    // MARK: Receiving

    func receive(socketIndex: Int, from: TransportAddress, bytes: [UInt8]) {
        guard state != .closed else { return }
        guard STUNMessage.looksLikeSTUN(bytes) else {
            // Data is accepted from any remote candidate we pair with, even before selection: the remote may
            // already have selected and started sending (RFC 8445 §12.1). Strangers' datagrams are dropped.
            if pairs.contains(where: { $0.remote.address == from && $0.socketIndex == socketIndex }) {
                onEvent(.data(bytes))
            } else {
                droppedDatagrams += 1
            }
            return
        }
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
        case .request: handleRequest(message, socketIndex: socketIndex, from: from)
        case .successResponse, .errorResponse: handleResponse(message, from: from)
        case .indication: break
        }
    }

    private func handleRequest(_ request: STUNMessage, socketIndex: Int, from: TransportAddress) {
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
                respondRoleConflict(request, socketIndex: socketIndex, to: from)
                return
            }
            switchRole(to: .controlled)
        } else if let theirs = request.iceControlled, role == .controlled {
            if tieBreaker >= theirs {
                switchRole(to: .controlling)
            } else {
                respondRoleConflict(request, socketIndex: socketIndex, to: from)
                return
            }
        }

        var response = STUNMessageBuilder(type: .bindingSuccess, transactionID: request.transactionID)
        response.appendXORAddress(.xorMappedAddress, from)
        response.appendMessageIntegrity(key: localKey)
        response.appendFingerprint()
        write(response.encoded, socket: socketIndex, to: from)

        guard socketIndex < localCandidates.count else { return }
        // A source we have not been told of is a peer-reflexive remote candidate (RFC 8445 §7.3.1.3).
        var remote = remoteCandidates.first { $0.address == from }
        if remote == nil {
            let prflx = Candidate(foundation: Candidate.foundation(type: .peerReflexive, base: from.ip),
                                  priority: priority, address: from, type: .peerReflexive)
            remoteCandidates.append(prflx)
            remote = prflx
        }
        guard let remote, let pairID = addPair(local: localCandidates[socketIndex], socketIndex: socketIndex, remote: remote) else { return }
        updatePair(pairID) { $0.requestsReceived += 1 }
        if role == .controlled, request.useCandidate {
            updatePair(pairID) { $0.remoteNominated = true }
        }
        guard let p = pair(pairID) else { return }
        if p.state == .succeeded {
            if role == .controlled, p.remoteNominated, selectedPairID != pairID { select(pairID) }
        } else if p.state != .inProgress, !triggered.contains(where: { $0.pairID == pairID }) {
            triggered.append((pairID, false))
        }
        if pacer == nil { startChecksIfReady() }
    }

    private func respondRoleConflict(_ request: STUNMessage, socketIndex: Int, to: TransportAddress) {
        var response = STUNMessageBuilder(type: .bindingError, transactionID: request.transactionID)
        response.appendErrorCode(STUNErrorCode.roleConflict, reason: "Role Conflict")
        response.appendMessageIntegrity(key: localKey)
        response.appendFingerprint()
        write(response.encoded, socket: socketIndex, to: to)
    }

    private func switchRole(to newRole: ICERole) {
        guard role != newRole else { return }
        role = newRole
        for i in pairs.indices { pairs[i].updatePriority(role: newRole) }
        pairs.sort { $0.priority > $1.priority }
        nominatingPairID = nil
    }

    private func handleResponse(_ response: STUNMessage, from: TransportAddress) {
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
            return
        }
        if response.type.messageClass == .errorResponse {
            if response.errorCode?.code == STUNErrorCode.roleConflict {
                switchRole(to: t.sentAsControlling ? .controlled : .controlling)
                updatePair(pair.id) { $0.state = .waiting }
                triggered.append((pair.id, false))
            } else if !t.isConsent {
                updatePair(pair.id) { $0.state = .failed }
            }
            return
        }
        let now = NIODeadline.now()
        // Karn's rule: a retransmitted request gives no trustworthy round trip.
        let rtt: Duration? = t.retransmissions == 0 ? .nanoseconds((now - t.sentAt).nanoseconds) : nil
        updatePair(pair.id) { p in
            p.state = .succeeded
            p.responsesReceived += 1
            if let rtt { p.lastRoundTrip = rtt }
        }
        unfreeze(foundation: pair.foundation)
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
            } else if role == .controlled, self.pair(pair.id)?.remoteNominated == true {
                select(pair.id)
            } else if role == .controlling, nominatingPairID == nil {
                // When the best possible pair just succeeded, nominate it now rather than a Ta later: the
                // nomination takes the place of the next paced check, so the check rate does not rise.
                maybeNominate(now: now)
                if let id = nominatingPairID, let first = triggered.first, first.pairID == id, first.useCandidate {
                    triggered.removeFirst()
                    sendCheck(pairID: id, useCandidate: true)
                }
            }
        }
    }

    /// The remote saw our check come from another address (a NAT between us): that address is a
    /// peer-reflexive local candidate with the same base, and the valid pair uses it (RFC 8445 §7.2.5.3.1).
    private func learnLocalPeerReflexive(_ mapped: TransportAddress, pairID: Int) {
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
        updatePair(pairID) { p in
            p.local = candidate
            p.updatePriority(role: role)
        }
        pairs.sort { $0.priority > $1.priority }
    }

    // MARK: Selection and consent (RFC 7675)

    private func select(_ pairID: Int) {
        guard let p = pair(pairID), state != .failed else { return }
        selectedPairID = pairID
        updatePair(pairID) { $0.nominated = true }
        lastConsentResponseAt = .now()
        triggered.removeAll()
        if let relay = relay(for: p.socketIndex) {
            // The chosen relayed path uses a channel: 4 bytes of overhead instead of a Send indication's 36.
            _ = relay.bindChannel(peer: p.remote.address)
        }
        onEvent(.selectedPairChanged(SelectedPair(local: p.local, remote: p.remote, relay: relay(for: p.socketIndex)?.configuration)))
        setState(.connected)
        // Report the round trip the pair's last check measured; without one (its checks were retransmitted),
        // measure it now with a consent check rather than at the first scheduled one.
        if let rtt = self.pair(pairID)?.lastRoundTrip {
            onEvent(.roundTrip(rtt))
        } else {
            sendCheck(pairID: pairID, useCandidate: false, isConsent: true)
        }
        scheduleConsent()
    }

    private func scheduleConsent() {
        consentTimer?.cancel()
        let mean = Double(configuration.consentInterval.nanoseconds)
        let jittered = Int64(mean * Double.random(in: 0.8...1.2, using: &rng))
        consentTimer = eventLoop.scheduleTask(in: .nanoseconds(jittered)) { [self] in
            guard let id = self.selectedPairID, self.state == .connected || self.state == .disconnected else { return }
            self.sendCheck(pairID: id, useCandidate: false, isConsent: true)
            self.scheduleConsent()
        }
    }

    private func setState(_ new: ICEConnectionState) {
        guard state != new, state != .closed else { return }
        state = new
        if new == .failed || new == .closed {
            pacer?.cancel()
            if new == .failed { consentTimer?.cancel() }
        }
        onEvent(.stateChanged(new))
    }
}
