import NIOCore
import NIOPosix
import StatusRecorder
import Synchronization
import STUN
import ICE
import Signal

/// One peer of a mesh agent: its ``PeerConnection`` plus the local UDP port that feeds it (the data plane)
/// and, with lazy connections, the activity and inactivity rules that open and close it.
///
/// Datagrams that arrive on the local port while the peer is not connected are kept (bounded) and sent once
/// it is; datagrams from the remote go to the last local sender, else to the configured service. All state
/// lives on the connection's event loop. A config reload may rename the peer, change its service, move its
/// port or switch lazy connections, all without touching the connection.
final class MeshPeer: @unchecked Sendable {
    private let current: Mutex<MeshPeerConfiguration>
    /// The peer's configuration now (a reload may change all but the key).
    var configuration: MeshPeerConfiguration { current.withLock { $0 } }
    let connection: PeerConnection
    private let pendingLimit: Int
    private let socketBufferBytes: Int
    private let recorder: StatusRecorder
    private let signaling: SignalingTransport
    private let localKey: String
    var eventLoop: EventLoop { connection.eventLoop }

    // Confined to `eventLoop`.
    private var lazy: Bool
    private var inactivityThreshold: Duration
    private var socket: BatchedWriter?
    private var active = false
    /// Asked to open, not yet opened: one wake-up per burst of traffic.
    private var opening = false
    private var connected = false
    private var remoteOnline = false
    private var pending: [ByteBuffer] = []
    private var lastAppSender: SocketAddress?
    private var lastActivity = NIODeadline.now()
    private var inactivityTimer: RepeatedTask?

    /// - Parameters:
    ///   - localKey: this agent's public key, and `ice` its ICE configuration: both made once per agent and
    ///     shared by its peers.
    init(configuration: MeshPeerConfiguration, mesh: MeshConfiguration, localKey: String, ice: SharedConfiguration,
         recorder: StatusRecorder, signaling: SignalingTransport, eventLoop: EventLoop) {
        current = Mutex(configuration)
        lazy = mesh.lazy
        inactivityThreshold = mesh.inactivityThreshold
        pendingLimit = mesh.pendingLimit
        socketBufferBytes = mesh.ice.socketBufferBytes
        self.recorder = recorder
        self.signaling = signaling
        self.localKey = localKey
        let box = MeshPeerBox()
        connection = PeerConnection(localKey: localKey, remoteKey: configuration.publicKey,
                                    name: configuration.name, recorder: recorder, signaling: signaling,
                                    configuration: ice, eventLoop: eventLoop,
                                    onData: { box.peer?.fromRemote($0) },
                                    onLifecycle: { box.peer?.lifecycle($0) })
        box.peer = self
        recorder.addPeer(id: configuration.publicKey, name: configuration.name, reason: .remoteOffline)
    }

    /// Binds the local port.
    func bind(host: String) -> EventLoopFuture<Void> {
        MeshPort.bind(host: host, port: configuration.localPort, bufferBytes: socketBufferBytes, on: eventLoop).flatMap { self.adopt($0) }
    }

    /// Takes `port` as the local port (a reload moved it), closing the one before.
    func adopt(_ port: MeshPort) -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            let old = self.socket?.channel
            // Loopback (the usual bind) takes segments of any size; another address those that fit IPv6's minimum MTU.
            let loopback = port.channel.localAddress.flatMap(TransportAddress.init)?.ip.isLoopback ?? false
            self.socket = BatchedWriter(port.channel, largestSegment: loopback ? SegmentRun.maximumBytes : 1232)
            if self.active { UDPSocketTuning.setVectorReads(true, port.channel) }
            port.target.peer = self
            self.current.withLock { $0.localPort = port.port }
            return old?.close().recover { _ in } ?? self.eventLoop.makeSucceededVoidFuture()
        }
    }

    /// A reload changed the name or the service (the key and the connection stay).
    func update(name: String, service: SocketAddress?) {
        current.withLock {
            $0.name = name
            $0.service = service
        }
        recorder.addPeer(id: configuration.publicKey, name: name)
    }

    /// A reload switched lazy connections on or off, or changed the inactivity threshold (NetBird applies the
    /// lazy option to every peer at once): an idle peer that should now be connected opens, an active one
    /// that is now lazy starts counting its inactivity.
    func setLazy(_ lazy: Bool, inactivityThreshold: Duration) {
        eventLoop.execute {
            let changed = self.lazy != lazy || self.inactivityThreshold != inactivityThreshold
            self.lazy = lazy
            self.inactivityThreshold = inactivityThreshold
            guard changed else { return }
            if lazy {
                if self.active { self.startInactivityTimer() }
                else if self.remoteOnline { self.recorder.updateReason(id: self.configuration.publicKey, .lazyUntilTraffic) }
            } else {
                self.inactivityTimer?.cancel()
                self.inactivityTimer = nil
                if !self.active, self.remoteOnline { self.connection.open() }
            }
        }
    }

    /// Presence from the signal server.
    func remotePresence(online: Bool) {
        eventLoop.execute {
            self.remoteOnline = online
            if !online {
                if self.active { _ = self.connection.close(reason: .remoteOffline) }
                else { self.recorder.updateReason(id: self.configuration.publicKey, .remoteOffline) }
            } else if !self.active {
                if self.lazy {
                    self.recorder.updateReason(id: self.configuration.publicKey, .lazyUntilTraffic)
                } else {
                    self.connection.open()
                }
            }
        }
    }

    /// Tells the remote we stop, and releases the connection and the local port.
    func shutdown(reason: PeerReason = .agentStopped) -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            self.inactivityTimer?.cancel()
            if self.active { self.signaling.send(.goIdle, from: self.localKey, to: self.configuration.publicKey) }
            let closed = self.connection.close(reason: reason)
            let socket = self.socket?.channel.close() ?? self.eventLoop.makeSucceededVoidFuture()
            return closed.and(socket.recover { _ in }).map { _ in }
        }
    }

    // MARK: Data plane

    /// A datagram from a local application, for the remote (as read: a slice of the port's vector read).
    func fromApp(_ buffer: ByteBuffer, sender: SocketAddress) {
        if lastAppSender != sender { lastAppSender = sender }
        lastActivity = .now()
        if connected {
            connection.sendOnLoop(buffer)
            return
        }
        // While the remote is away no connection can start: the datagram is lost, and counted.
        guard active || remoteOnline else { return connection.noteDrop(.noPath) }
        if pending.count >= pendingLimit {
            pending.removeFirst()
            connection.noteDrop(.bufferFull)
        }
        // Kept compact: a slice would hold the whole read buffer it came from.
        pending.append(ByteBuffer(bytes: buffer.readableBytesView))
        openOnTraffic()
    }

    /// Traffic for the peer (or a ping) while it is not active: a lazy wake-up.
    func openOnTraffic() {
        eventLoop.assertInEventLoop()
        guard !active, !opening else { return }
        opening = true
        recorder.recordEvent(peerID: configuration.publicKey, .lazyWake)
        connection.open()
    }

    /// Whether the remote is on the signal server; read on the event loop.
    var remoteOnlineOnLoop: Bool {
        eventLoop.assertInEventLoop()
        return remoteOnline
    }

    /// A datagram from the remote, for the local application or service.
    private func fromRemote(_ buffer: ByteBuffer) {
        eventLoop.assertInEventLoop()
        lastActivity = .now()
        guard let socket, let destination = lastAppSender ?? configuration.service else { return connection.noteDrop(.noDestination) }
        if !socket.send(buffer, to: destination) { connection.noteDrop(.sendQueueFull) }
    }

    /// The local port reported an error for a datagram sent to a local application (an ICMP error).
    fileprivate func localSendFailed() {
        connection.noteDrop(.sendFailed)
    }

    // MARK: Lifecycle

    private func lifecycle(_ change: PeerConnection.Lifecycle) {
        switch change {
        case .opened:
            active = true
            opening = false
            if let channel = socket?.channel { UDPSocketTuning.setVectorReads(true, channel) }
            lastActivity = .now()
            if lazy { startInactivityTimer() }
        case .connected:
            connected = true
            for buffer in pending { connection.sendOnLoop(buffer) }
            pending.removeAll()
        case .closed:
            active = false
            opening = false
            connected = false
            if let channel = socket?.channel { UDPSocketTuning.setVectorReads(false, channel) }
            inactivityTimer?.cancel()
            inactivityTimer = nil
            // What was kept for a connection that did not come is lost: counted.
            for _ in pending { connection.noteDrop(.noPath) }
            pending.removeAll()
        }
    }

    private func startInactivityTimer() {
        inactivityTimer?.cancel()
        let period = TimeAmount.nanoseconds(max(200_000_000, inactivityThreshold.nanoseconds / 10))
        inactivityTimer = eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { [weak self] _ in
            guard let self, self.active else { return }
            let idleFor = NIODeadline.now() - self.lastActivity
            guard idleFor.nanoseconds >= self.inactivityThreshold.nanoseconds else { return }
            self.signaling.send(.goIdle, from: self.localKey, to: self.configuration.publicKey)
            _ = self.connection.close(reason: .lazyInactive(seconds: self.inactivityThreshold.components.seconds))
        }
    }
}

/// Lets the connection's callbacks reach the peer that owns the connection (created after it).
private final class MeshPeerBox: @unchecked Sendable {
    // Written once in MeshPeer.init, before any callback can run.
    weak var peer: MeshPeer?
}

/// A bound local port, not yet (or no longer) the port of a peer: a reload binds new ports before it changes
/// anything, so that a port in use leaves the running config untouched.
struct MeshPort: Sendable {
    let channel: Channel
    let port: Int
    let target: MeshPortTarget

    static func bind(host: String, port: Int, bufferBytes: Int, on eventLoop: EventLoop) -> EventLoopFuture<MeshPort> {
        let target = MeshPortTarget()
        // Single reads until the peer is active (a lazy peer's port mostly waits).
        return UDPSocketTuning.configure(DatagramBootstrap(group: eventLoop), bufferBytes: bufferBytes, vectorReads: false)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(MeshPortHandler(target: target))
                }
            }
            .bind(host: host, port: port)
            .flatMap { channel in UDPSocketTuning.sizeBuffers(channel, bytes: bufferBytes).map { channel } }
            .map { MeshPort(channel: $0, port: port, target: target) }
    }
}

/// The peer a port feeds, set when the peer adopts the port.
final class MeshPortTarget: @unchecked Sendable {
    // Written on the peer's event loop, which is the port's.
    weak var peer: MeshPeer?
}

/// Hands datagrams from local applications to the peer.
private final class MeshPortHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let target: MeshPortTarget

    init(target: MeshPortTarget) { self.target = target }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        target.peer?.fromApp(envelope.data, sender: envelope.remoteAddress)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ICMP errors (a closed local service) must not close the port; they are counted as failed sends.
        target.peer?.localSendFailed()
    }
}
