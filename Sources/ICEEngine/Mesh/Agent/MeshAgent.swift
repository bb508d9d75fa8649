import Logging
import NIOCore
import NIOPosix
import StatusRecorder
import Synchronization
import STUN
import ICE
import Signal

/// `icestat up`: one agent of the mesh. It registers with the signal server, keeps one ``PeerConnection``
/// per configured peer (eagerly, or lazily on traffic), carries datagrams between each peer's local port
/// and the remote agent, and records everything in a ``StatusRecorder`` for the status socket.
///
/// The peer list and the lazy settings can change while it runs (``reload(_:)``, NetBird's network map).
public final class MeshAgent: Sendable {
    /// The configuration it started with (a reload changes only the peers and the lazy settings).
    public let configuration: MeshConfiguration
    public let recorder: StatusRecorder
    private let peerTable: Mutex<[String: MeshPeer]>
    var peers: [String: MeshPeer] { peerTable.withLock { $0 } }
    /// The fixed port of `ice.port`, shared by every session.
    private let portMux: UDPPortMux?
    private let signal: SignalClient
    private let logger: Logger
    private let monitor: Mutex<(task: RepeatedTask?, addresses: Set<IPAddress>?)> = Mutex((nil, nil))
    private let group: EventLoopGroup
    /// The latest netcheck verdict, read by every peer connection for its offers and reasons.
    private let nat = NATVerdictBox()
    /// Counts netcheck runs, so that a slow run that a newer one replaced does not report.
    private let natRuns = Mutex(0)

    /// Why the agent could not start.
    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(configuration: MeshConfiguration, recorder: StatusRecorder, group: EventLoopGroup,
                logger: Logger = Logger(label: "icestat.agent")) {
        var configuration = configuration
        if let port = configuration.icePort {
            let mux = UDPPortMux(port: port, group: group, bufferBytes: configuration.ice.socketBufferBytes)
            configuration.ice.hostPort = port
            configuration.ice.portMux = mux
            portMux = mux
        } else {
            portMux = nil
        }
        self.configuration = configuration
        self.recorder = recorder
        self.logger = logger
        self.group = group
        let box = MeshAgentBox()
        signal = SignalClient(servers: configuration.signalServers, key: configuration.key,
                              eventLoop: group.next(), logger: logger) { event in box.agent?.handle(event) }
        var peers: [String: MeshPeer] = [:]
        let localKey = configuration.key.publicKeyBase64
        let ice = SharedConfiguration(configuration.ice)
        for peer in configuration.peers {
            peers[peer.publicKey] = MeshPeer(configuration: peer, mesh: configuration, localKey: localKey, ice: ice,
                                             recorder: recorder, signaling: signal, eventLoop: group.next())
        }
        for peer in peers.values { peer.connection.localNAT = { [nat] in nat.value.withLock { $0 } } }
        peerTable = Mutex(peers)
        let signalAddress = SignalClient.name(configuration.signalServers[0])
        recorder.updateLocal {
            $0 = LocalAgentStatus(
                publicKey: configuration.key.publicKeyBase64, name: configuration.name,
                startedAtMillis: currentTimeMillis(), lazyConnections: configuration.lazy,
                servers: [ServerStatus(kind: .signal, address: signalAddress, available: false, error: "connecting")]
                    + configuration.ice.stunServers.map { ServerStatus(kind: .stun, address: "stun:\($0)", available: false) }
                    + configuration.ice.turnServers.map { ServerStatus(kind: .turn, address: $0.url, available: false) })
        }
        box.agent = self
    }

    /// Binds every peer's local port (failing with the peer named if one cannot be bound) and connects to
    /// the signal server.
    public func start() async throws {
        if let portMux, !configuration.ice.relayOnly {
            let addresses = ((try? HostAddressGatherer.addresses(filter: configuration.ice.hostFilter)) ?? []).map(\.address)
            do {
                try await portMux.bind(addresses).get()
            } catch {
                throw StartError(description: "ice.port \(portMux.port): \(error)")
            }
        }
        for peer in peers.values.sorted(by: { $0.configuration.localPort < $1.configuration.localPort }) {
            do {
                try await peer.bind(host: configuration.listenHost).get()
            } catch {
                throw StartError(description: "peer \(peer.configuration.name): cannot listen on "
                                 + "\(configuration.listenHost):\(peer.configuration.localPort): \(error)")
            }
        }
        signal.start(watching: Array(peers.keys))
        startNetworkMonitor()
        checkNAT(because: "start")
    }

    /// Polls the host addresses the ICE filter allows; when they change, every active peer tries again at once
    /// (a new interface or address can make a direct path possible, or break the current one).
    private func startNetworkMonitor() {
        let filter = configuration.ice.hostFilter
        let read: @Sendable () -> Set<IPAddress> = { Set(((try? HostAddressGatherer.addresses(filter: filter)) ?? []).map(\.address)) }
        let initial = read()
        if initial.isEmpty, !configuration.ice.relayOnly {
            let skipped = filter.excludedInterfacePrefixes.map { $0 + "*" }.joined(separator: ", ")
            logger.warning("no local address may be a host candidate (interfaces \(skipped) are left out unless ice.interfaces or ice.addresses names them): peers can be reached only through a TURN relay")
        }
        let period = TimeAmount.nanoseconds(configuration.networkCheckInterval.nanoseconds)
        let task = group.next().scheduleRepeatedTask(initialDelay: period, delay: period) { [weak self] _ in
            guard let self else { return }
            let now = read()
            let before = self.monitor.withLock { state -> Set<IPAddress>? in
                defer { state.addresses = now }
                return state.addresses
            }
            guard let before, before != now else { return }
            let added = now.subtracting(before).map(\.description).sorted(), removed = before.subtracting(now).map(\.description).sorted()
            self.logger.info("network changed (added \(added), removed \(removed)): reconnecting active peers")
            self.nat.value.withLock { $0 = nil }
            self.checkNAT(because: "network change")
            self.recorder.recordEvent(.networkChanged)
            for peer in self.peers.values { peer.connection.networkChanged() }
        }
        monitor.withLock { $0 = (task, initial) }
    }

    /// Runs netcheck against the configured STUN servers in the background (connections never wait for it)
    /// and records the verdict; peers send it in their offers and use both sides' to say why a path is relayed.
    private func checkNAT(because why: String) {
        let servers = configuration.ice.stunServers
        guard !servers.isEmpty else { return }
        let run = natRuns.withLock { n in n += 1; return n }
        var check = NATCheck(stunServers: servers.map { NATCheck.STUN(url: "stun:\($0)", address: $0) })
        check.timeout = .seconds(1)
        let everything = HostCandidateFilter(excludedInterfacePrefixes: [], includeLoopback: true)
        check.localAddresses = Set(((try? HostAddressGatherer.addresses(filter: everything)) ?? []).map(\.address))
        let group = self.group
        Task { [weak self] in
            let report = await check.run(group: group)
            guard let self, self.natRuns.withLock({ $0 == run }) else { return }
            let verdict = report.verdict
            self.nat.value.withLock { $0 = verdict }
            self.recorder.updateLocal {
                $0.nat = NATStatus(verdict: verdict.rawValue, mapping: report.mapping.rawValue, filtering: report.filtering.rawValue,
                                   publicIPv4: report.publicIPv4?.description, publicIPv6: report.publicIPv6?.description,
                                   checkedAtMillis: currentTimeMillis())
            }
            self.logger.info("netcheck (\(why)): \(verdict.rawValue), mapping \(report.mapping.rawValue), filtering \(report.filtering.rawValue)")
        }
    }

    /// Tells every active peer we are going, closes the connections (deleting TURN allocations) and the
    /// ports, then leaves the signal server.
    public func shutdown() async {
        monitor.withLock { $0.task?.cancel() }
        for peer in peers.values { try? await peer.shutdown().get() }
        try? await signal.stop().get()
        try? await portMux?.close().get()
    }

    // MARK: Reload

    /// Why a reload changed nothing.
    public struct ReloadError: Error, CustomStringConvertible {
        public var description: String
    }

    private let reloading = Mutex(false)

    /// Applies a new peer list and lazy settings: added peers get their port (Idle when lazy), removed ones are
    /// closed (the remote told) and leave the status, a peer whose key stays keeps its connection even when its
    /// name, service or port changes. New ports are bound first: if one cannot be, nothing changes.
    public func reload(_ change: MeshPeerListChange) async throws -> MeshPeerListChange.Outcome {
        guard reloading.withLock({ busy in defer { busy = true }; return !busy }) else {
            throw ReloadError(description: "a reload is already in progress")
        }
        defer { reloading.withLock { $0 = false } }
        let before = peers
        var outcome = MeshPeerListChange.Outcome()
        let wanted = Dictionary(change.peers.map { ($0.publicKey, $0) }, uniquingKeysWith: { a, _ in a })
        let heldPorts = Set(before.values.map(\.configuration.localPort))
        let removedKeys = before.keys.filter { wanted[$0] == nil }

        // 1. Ports for new and moved peers. A port one of ours holds now is taken over after it is released.
        var loops: [String: EventLoop] = [:]
        var bound: [String: MeshPort] = [:]
        for peer in change.peers {
            let existing = before[peer.publicKey]
            guard existing == nil || existing!.configuration.localPort != peer.localPort else { continue }
            let loop = existing?.eventLoop ?? group.next()
            loops[peer.publicKey] = loop
            if heldPorts.contains(peer.localPort) { continue }
            do {
                bound[peer.publicKey] = try await MeshPort.bind(host: configuration.listenHost, port: peer.localPort, bufferBytes: configuration.ice.socketBufferBytes, on: loop).get()
            } catch {
                for port in bound.values { try? await port.channel.close() }
                throw ReloadError(description: "peer \(peer.name): cannot listen on \(configuration.listenHost):\(peer.localPort): \(error)")
            }
        }

        // 2. Removed peers: the remote is told, the connection closed, the port released, the status gone.
        for key in removedKeys {
            guard let peer = before[key] else { continue }
            outcome.removed.append(peer.configuration.name)
            try? await peer.shutdown(reason: .removedFromConfig).get()
            peerTable.withLock { $0[key] = nil }
            recorder.removePeer(id: key)
        }

        // 3. Kept peers: name, service and port change in place.
        for peer in change.peers {
            guard let existing = before[peer.publicKey] else { continue }
            let old = existing.configuration
            if old.name != peer.name || old.service != peer.service {
                existing.update(name: peer.name, service: peer.service)
                outcome.updated.append(peer.name)
            }
            if old.localPort != peer.localPort {
                if let port = try await port(for: peer, bound: bound, loops: loops) { try await existing.adopt(port).get() }
                outcome.moved.append(peer.name)
            }
        }

        // 4. New peers, then their presence.
        var lazyMesh = configuration
        lazyMesh.lazy = change.lazy
        lazyMesh.inactivityThreshold = change.inactivityThreshold
        var added: [String] = []
        let localKey = configuration.key.publicKeyBase64
        let ice = SharedConfiguration(configuration.ice)
        for peer in change.peers where before[peer.publicKey] == nil {
            guard let port = try await port(for: peer, bound: bound, loops: loops) else { continue }
            let mesh = MeshPeer(configuration: peer, mesh: lazyMesh, localKey: localKey, ice: ice, recorder: recorder,
                                signaling: signal, eventLoop: loops[peer.publicKey]!)
            mesh.connection.localNAT = { [nat] in nat.value.withLock { $0 } }
            try await mesh.adopt(port).get()
            peerTable.withLock { $0[peer.publicKey] = mesh }
            added.append(peer.publicKey)
            outcome.added.append(peer.name)
        }
        signal.watch(added: added, removed: removedKeys)

        // 5. Lazy settings, for every peer.
        let lazyChanged = recorder.snapshot().local.lazyConnections != change.lazy
        outcome.lazyChanged = lazyChanged
        for peer in peers.values { peer.setLazy(change.lazy, inactivityThreshold: change.inactivityThreshold) }
        recorder.updateLocal {
            $0.name = change.name
            $0.lazyConnections = change.lazy
            $0.configError = nil
        }
        return outcome
    }

    /// The port bound for `peer` in step 1, or bound now if its port was one of ours until this reload.
    private func port(for peer: MeshPeerConfiguration, bound: [String: MeshPort], loops: [String: EventLoop]) async throws -> MeshPort? {
        if let port = bound[peer.publicKey] { return port }
        do {
            return try await MeshPort.bind(host: configuration.listenHost, port: peer.localPort, bufferBytes: configuration.ice.socketBufferBytes, on: loops[peer.publicKey]!).get()
        } catch {
            // Freed by this reload yet taken at once by someone else: the rest of the reload still applies.
            logger.error("reload: peer \(peer.name): cannot listen on \(configuration.listenHost):\(peer.localPort): \(error)")
            recorder.updateLocal { $0.configError = "peer \(peer.name): cannot listen on port \(peer.localPort)" }
            return nil
        }
    }

    /// Shows why the last reload was refused (nil clears it); the agent runs on with what it had.
    public func reportConfigError(_ error: String?) {
        recorder.updateLocal { $0.configError = error }
    }

    private func handle(_ event: SignalClient.Event) {
        switch event {
        case .connected(let server):
            setSignal(server: server, available: true, error: nil)
            for peer in peers.values { peer.connection.resetDirectBackoff() }
        case .disconnected(let server, let reason, let next):
            setSignal(server: server, available: false, error: next == server ? reason : "\(reason); trying \(next) next")
        case .message(let from, let message):
            guard let peer = peers[from] else {
                logger.warning("signal: dropped a message from \(from.prefix(8)), not a configured peer")
                return
            }
            logger.trace("signal: \(message.kindName) from \(peer.configuration.name)")
            peer.connection.handleSignal(message)
        case .presence(let key, let online):
            peers[key]?.remotePresence(online: online)
        }
    }

    private func setSignal(server: String, available: Bool, error: String?) {
        recorder.updateLocal { local in
            guard let i = local.servers.firstIndex(where: { $0.kind == .signal }) else { return }
            local.servers[i].address = server
            local.servers[i].available = available
            local.servers[i].error = error
        }
    }
}

/// Lets the signal client's callback reach the agent, which is created after the client.
private final class MeshAgentBox: @unchecked Sendable {
    // Written once in MeshAgent.init, before the client starts.
    weak var agent: MeshAgent?
}

/// The agent's NAT verdict, shared with its peer connections.
private final class NATVerdictBox: Sendable {
    let value = Mutex<NATVerdict?>(nil)
}
