import Logging
import NIOCore
import NIOPosix
import StatusRecorder
import Synchronization

/// `icestat up`: one agent of the mesh. It registers with the signal server, keeps one ``PeerConnection``
/// per configured peer (eagerly, or lazily on traffic), carries datagrams between each peer's local port
/// and the remote agent, and records everything in a ``StatusRecorder`` for the status socket.
public final class MeshAgent: Sendable {
    public let configuration: MeshConfiguration
    public let recorder: StatusRecorder
    private let peers: [String: MeshPeer]
    private let signal: SignalClient
    private let logger: Logger
    private let monitor: Mutex<(task: RepeatedTask?, addresses: Set<IPAddress>?)> = Mutex((nil, nil))
    private let group: EventLoopGroup

    /// Why the agent could not start.
    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(configuration: MeshConfiguration, recorder: StatusRecorder, group: EventLoopGroup,
                logger: Logger = Logger(label: "icestat.agent")) {
        self.configuration = configuration
        self.recorder = recorder
        self.logger = logger
        self.group = group
        let box = MeshAgentBox()
        signal = SignalClient(host: configuration.signalHost, port: configuration.signalPort, key: configuration.key,
                              eventLoop: group.next(), logger: logger) { event in box.agent?.handle(event) }
        var peers: [String: MeshPeer] = [:]
        for peer in configuration.peers {
            peers[peer.publicKey] = MeshPeer(configuration: peer, mesh: configuration, recorder: recorder,
                                             signaling: signal, eventLoop: group.next())
        }
        self.peers = peers
        let signalAddress = "\(configuration.signalHost):\(configuration.signalPort)"
        recorder.updateLocal {
            $0 = LocalAgentStatus(
                publicKey: configuration.key.publicKeyBase64, name: configuration.name,
                startedAtMillis: currentTimeMillis(), lazyConnections: configuration.lazy,
                servers: [ServerStatus(kind: .signal, address: signalAddress, available: false, error: "connecting")]
                    + configuration.ice.stunServers.map { ServerStatus(kind: .stun, address: "stun:\($0)", available: false) }
                    + configuration.ice.turnServers.map { ServerStatus(kind: .turn, address: "turn:\($0.address)", available: false) })
        }
        box.agent = self
    }

    /// Binds every peer's local port (failing with the peer named if one cannot be bound) and connects to
    /// the signal server.
    public func start() async throws {
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
    }

    /// Polls the host addresses the ICE filter allows; when they change, every active peer tries again at once
    /// (a new interface or address can make a direct path possible, or break the current one).
    private func startNetworkMonitor() {
        let filter = configuration.ice.hostFilter
        let read: @Sendable () -> Set<IPAddress> = { Set(((try? HostAddressGatherer.addresses(filter: filter)) ?? []).map(\.address)) }
        let initial = read()
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
            for peer in self.peers.values { peer.connection.networkChanged() }
        }
        monitor.withLock { $0 = (task, initial) }
    }

    /// Tells every active peer we are going, closes the connections (deleting TURN allocations) and the
    /// ports, then leaves the signal server.
    public func shutdown() async {
        monitor.withLock { $0.task?.cancel() }
        for peer in peers.values { try? await peer.shutdown().get() }
        try? await signal.stop().get()
    }

    private func handle(_ event: SignalClient.Event) {
        switch event {
        case .connected:
            setSignal(available: true, error: nil)
            for peer in peers.values { peer.connection.resetDirectBackoff() }
        case .disconnected(let reason):
            setSignal(available: false, error: reason)
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

    private func setSignal(available: Bool, error: String?) {
        recorder.updateLocal { local in
            guard let i = local.servers.firstIndex(where: { $0.kind == .signal }) else { return }
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
