import Crypto
import Logging
import NIOCore
import NIOPosix
import STUN
import ICE

/// An agent's connection to `icestat signal`, and the ``SignalingTransport`` its peer connections use.
///
/// It registers with a proof of its key, asks for presence of its peers, seals every outgoing message for its
/// receiver and opens, authenticates and replay-checks every incoming one; anything that fails is dropped and
/// counted. A lost connection is re-established with backoff (0.5 s doubling to 5 s) and re-registered; with
/// several servers (nodes of one cluster), each failure or loss moves on to the next one in the list.
/// All state lives on `eventLoop`.
public final class SignalClient: SignalingTransport, @unchecked Sendable {
    /// What the client received and refused, for status and tests.
    public struct Counters: Sendable, Hashable {
        public var received = 0
        public var sent = 0
        public var unsent = 0
        public var rejectedForged = 0
        public var rejectedReplayed = 0
        public var rejectedMalformed = 0
        /// Messages the server could not pass on (another node unreachable, too big to cross nodes).
        public var refusedByServer = 0
    }

    /// Events the owner handles, on `eventLoop`.
    public enum Event: Sendable {
        /// Registered with `server` ("HOST:PORT").
        case connected(server: String)
        /// Lost or could not reach `server`; `next` is the one tried next.
        case disconnected(server: String, reason: String, next: String)
        case message(from: String, SignalMessage)
        case presence(key: String, online: Bool)
    }

    /// The servers, in the order they are tried.
    public let servers: [(host: String, port: Int)]
    public let eventLoop: EventLoop
    private let key: PeerKey
    private let logger: Logger
    private let onEvent: @Sendable (Event) -> Void

    // Confined to `eventLoop`.
    private var channel: Channel?
    private var registered = false
    private var stopped = false
    private var subscriptions: [[UInt8]] = []
    private var sealers: [[UInt8]: SignalSealer] = [:]
    private var replayGuard = SignalReplayGuard()
    private var lastSequence: UInt64 = 0
    private var backoff: Duration = .milliseconds(500)
    private var reconnectTimer: Scheduled<Void>?
    private var countersOnLoop = Counters()
    /// Index in `servers` of the one in use or tried next.
    private var current = 0
    private var host: String { servers[current].host }
    private var port: Int { servers[current].port }
    private var serverName: String { Self.name(servers[current]) }

    public convenience init(host: String, port: Int, key: PeerKey, eventLoop: EventLoop,
                            logger: Logger = Logger(label: "icestat.signal-client"),
                            onEvent: @escaping @Sendable (Event) -> Void) {
        self.init(servers: [(host, port)], key: key, eventLoop: eventLoop, logger: logger, onEvent: onEvent)
    }

    /// - Parameter servers: at least one; nodes of one cluster, tried in turn.
    public init(servers: [(host: String, port: Int)], key: PeerKey, eventLoop: EventLoop,
                logger: Logger = Logger(label: "icestat.signal-client"),
                onEvent: @escaping @Sendable (Event) -> Void) {
        precondition(!servers.isEmpty, "a signal client needs a server")
        self.servers = servers
        self.key = key
        self.eventLoop = eventLoop
        self.logger = logger
        self.onEvent = onEvent
    }

    /// Connects (and keeps reconnecting), asking for presence notices about `peers` (base64 keys).
    public func start(watching peers: [String]) {
        eventLoop.execute {
            self.subscriptions = peers.compactMap { PeerKey.bytes(base64: $0) }
            self.connect()
        }
    }

    /// Changes the peers whose presence is watched. Added keys are subscribed at once when registered (the
    /// server answers with those online); removed keys are no longer asked for after the next registration.
    public func watch(added: [String], removed: [String]) {
        eventLoop.execute {
            let gone = Set(removed.compactMap { PeerKey.bytes(base64: $0) })
            let new = added.compactMap { PeerKey.bytes(base64: $0) }
            self.subscriptions.removeAll { gone.contains($0) }
            self.subscriptions += new
            guard self.registered, let channel = self.channel, !new.isEmpty else { return }
            self.subscribe(new, on: channel)
        }
    }

    /// Closes the connection for good.
    public func stop() -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            self.stopped = true
            self.reconnectTimer?.cancel()
            return self.channel?.close() ?? self.eventLoop.makeSucceededVoidFuture()
        }.recover { _ in }
    }

    /// A copy of the counters.
    public func counters() -> EventLoopFuture<Counters> { eventLoop.submit { self.countersOnLoop } }

    /// Seals and sends; dropped (and counted) while not registered: peer connections retry on their own.
    public func send(_ message: SignalMessage, from senderKey: String, to peerKey: String) {
        eventLoop.execute {
            guard self.registered, let channel = self.channel, let receiver = PeerKey.bytes(base64: peerKey),
                  let sealer = self.sealer(for: receiver) else {
                self.countersOnLoop.unsent += 1
                return
            }
            self.lastSequence = max(self.lastSequence + 1, SignalReplayGuard.nowMicros())
            guard let body = try? sealer.seal(message, sequence: self.lastSequence) else { return }
            self.countersOnLoop.sent += 1
            channel.writeAndFlush(SignalFrame.send(to: receiver, body: body), promise: nil)
        }
    }

    // MARK: Connection

    private func connect() {
        guard !stopped else { return }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(5))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(SignalFrameDecoder()),
                        MessageToByteHandler(SignalFrameEncoder()),
                        SignalClientHandler(client: self),
                    ])
                }
            }
        bootstrap.connect(host: host, port: port).whenComplete { result in
            switch result {
            case .success(let channel):
                if self.stopped { channel.close(promise: nil); return }
                self.channel = channel
                channel.writeAndFlush(SignalFrame.hello(publicKey: self.key.publicKeyBytes), promise: nil)
            case .failure(let error):
                self.connectionLost("cannot connect to \(self.serverName): \(error)")
            }
        }
    }

    /// "HOST:PORT", with brackets for IPv6.
    public static func name(_ server: (host: String, port: Int)) -> String {
        server.host.contains(":") ? "[\(server.host)]:\(server.port)" : "\(server.host):\(server.port)"
    }

    fileprivate func connectionLost(_ reason: String) {
        let wasRegistered = registered
        registered = false
        channel = nil
        let lost = serverName
        current = (current + 1) % servers.count
        if wasRegistered || backoff == .milliseconds(500) || servers.count > 1 {
            let next = servers.count > 1 ? "; trying \(serverName) next" : ""
            logger.info("signal: \(reason)\(next)")
            onEvent(.disconnected(server: lost, reason: reason, next: serverName))
        }
        guard !stopped else { return }
        reconnectTimer = eventLoop.scheduleTask(in: backoff.timeAmount) { self.connect() }
        backoff = min(backoff * 2, .seconds(5))
    }

    fileprivate func handle(_ frame: SignalFrame, on channel: Channel) {
        switch frame {
        case .challenge(let serverKey, let nonce):
            guard let mac = try? SignalRegistration.proof(privateKey: key.privateKey, serverKey: serverKey, nonce: nonce) else {
                channel.close(promise: nil)
                return
            }
            channel.writeAndFlush(SignalFrame.proof(mac: mac), promise: nil)
        case .welcome:
            registered = true
            backoff = .milliseconds(500)
            subscribe(subscriptions, on: channel)
            logger.info("signal: registered with \(serverName)")
            onEvent(.connected(server: serverName))
        case .presence(let peer, let online):
            onEvent(.presence(key: PeerKey.base64(peer), online: online))
        case .deliver(let from, let body):
            receive(body, from: from)
        case .error(let text):
            logger.warning("signal server: \(text)")
        case .refused(let to, let reason):
            countersOnLoop.refusedByServer += 1
            logger.warning("signal: the server could not pass a message on to \(PeerKey.base64(to).prefix(8)): \(reason)")
        case .hello, .proof, .subscribe, .send:
            countersOnLoop.rejectedMalformed += 1
        }
    }

    private func subscribe(_ keys: [[UInt8]], on channel: Channel) {
        // As many 32-byte keys per frame as fit after the type byte.
        let perFrame = (SignalFrame.maxLength - 1) / 32
        for start in stride(from: 0, to: keys.count, by: perFrame) {
            channel.write(SignalFrame.subscribe(keys: Array(keys[start..<min(keys.count, start + perFrame)])), promise: nil)
        }
        channel.flush()
    }

    private func receive(_ body: [UInt8], from sender: [UInt8]) {
        let name = String(PeerKey.base64(sender).prefix(8))
        guard let sealer = sealer(for: sender) else {
            countersOnLoop.rejectedForged += 1
            return
        }
        do {
            let (sequence, message) = try sealer.open(body)
            guard replayGuard.accept(sequence: sequence, from: sender) else {
                countersOnLoop.rejectedReplayed += 1
                logger.warning("signal: dropped a replayed message from \(name)")
                return
            }
            countersOnLoop.received += 1
            onEvent(.message(from: PeerKey.base64(sender), message))
        } catch SignalProtocolError.authentication(let why) {
            countersOnLoop.rejectedForged += 1
            logger.warning("signal: dropped a message from \(name): \(why)")
        } catch {
            countersOnLoop.rejectedMalformed += 1
            logger.warning("signal: dropped a message from \(name): \(error)")
        }
    }

    private func sealer(for peer: [UInt8]) -> SignalSealer? {
        if let sealer = sealers[peer] { return sealer }
        guard sealers.count < 100_000, let sealer = try? SignalSealer(privateKey: key.privateKey, peerKey: peer) else {
            return nil
        }
        sealers[peer] = sealer
        return sealer
    }
}

/// Hands frames and the end of the connection to the client, on the client's loop (the channel's loop).
private final class SignalClientHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = SignalFrame
    private let client: SignalClient
    private var lastError: String?

    init(client: SignalClient) { self.client = client }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        client.handle(unwrapInboundIn(data), on: context.channel)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        lastError = "\(error)"
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        client.connectionLost(lastError.map { "connection lost: \($0)" } ?? "connection closed by the server")
    }
}
