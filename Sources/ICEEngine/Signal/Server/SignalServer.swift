import Crypto
import Logging
import NIOCore
import NIOPosix
import Synchronization
import STUN
import ICE

/// `icestat signal`: the relay through which agents exchange sealed offers, answers and candidates.
///
/// Agents register under their public key after proving they hold its private key, and ask for presence
/// notices about their peers. The server routes sealed bodies by key without reading them. A malformed,
/// oversized or out-of-order frame closes that one connection; a client that does not read has a bounded
/// send buffer and is dropped when it fills, so it never stalls the others. Every such decision is logged.
public final class SignalServer: Sendable {
    /// What the server has done since it started, for logs and tests.
    public struct Counters: Sendable, Hashable {
        public var registered = 0
        public var delivered = 0
        public var undeliverable = 0
        public var rejectedFrames = 0
        public var failedProofs = 0
        public var droppedSlowClients = 0
    }

    public let channel: Channel
    let registry: SignalServerRegistry

    /// The address the server listens on (with the real port when 0 was asked for).
    public var localAddress: SocketAddress? { channel.localAddress }
    public var counters: Counters { registry.counters }

    private init(channel: Channel, registry: SignalServerRegistry) {
        self.channel = channel
        self.registry = registry
    }

    /// Starts listening on `host:port`.
    public static func start(host: String, port: Int, group: EventLoopGroup,
                             logger: Logger = Logger(label: "icestat.signal"),
                             sendBufferLimit: Int = 256 * 1024) async throws -> SignalServer {
        let registry = SignalServerRegistry(logger: logger)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: sendBufferLimit / 2, high: sendBufferLimit))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(SignalFrameDecoder()),
                        MessageToByteHandler(SignalFrameEncoder()),
                        SignalServerConnection(registry: registry),
                    ])
                }
            }
            .bind(host: host, port: port).get()
        logger.info("signal server listening on \(channel.localAddress?.description ?? "?")")
        return SignalServer(channel: channel, registry: registry)
    }

    /// Stops listening and closes every agent connection.
    public func stop() async {
        // Agents are not told that their peers went away: the peers did not, only the server did.
        registry.stopping()
        try? await channel.close()
        for connection in registry.allChannels() { try? await connection.close() }
    }
}

/// Who is registered and who watches whom; shared by all connections of one server.
final class SignalServerRegistry: Sendable {
    private struct State {
        var sessions: [[UInt8]: Channel] = [:]
        /// key → the keys that asked for its presence.
        var watchers: [[UInt8]: Set<[UInt8]>] = [:]
        var counters = SignalServer.Counters()
        var stopping = false
    }

    private let state = Mutex(State())
    let logger: Logger

    init(logger: Logger) { self.logger = logger }

    var counters: SignalServer.Counters { state.withLock { $0.counters } }

    func count(_ body: (inout SignalServer.Counters) -> Void) { state.withLock { body(&$0.counters) } }

    func stopping() { state.withLock { $0.stopping = true } }

    func allChannels() -> [Channel] { state.withLock { Array($0.sessions.values) } }

    /// Registers `key` on `channel`, replacing an older connection of the same key, and tells its watchers.
    func register(_ key: [UInt8], channel: Channel) {
        let (previous, watchers) = state.withLock { s -> (Channel?, Set<[UInt8]>) in
            let previous = s.sessions.updateValue(channel, forKey: key)
            s.counters.registered += 1
            return (previous, s.watchers[key] ?? [])
        }
        if let previous, previous !== channel {
            logger.info("\(SignalServerRegistry.name(key)): replaced by a new connection")
            previous.writeAndFlush(SignalFrame.error("replaced by a new connection of the same key"))
                .whenComplete { _ in previous.close(promise: nil) }
        }
        notify(watchers, about: key, online: true)
    }

    /// Removes `key` if `channel` still holds it, and tells its watchers.
    func unregister(_ key: [UInt8], channel: Channel, watching: [[UInt8]]) {
        let watchers = state.withLock { s -> Set<[UInt8]>? in
            for watched in watching {
                s.watchers[watched]?.remove(key)
                if s.watchers[watched]?.isEmpty == true { s.watchers[watched] = nil }
            }
            guard s.sessions[key] === channel else { return nil }
            s.sessions[key] = nil
            return s.stopping ? nil : s.watchers[key] ?? []
        }
        if let watchers { notify(watchers, about: key, online: false) }
    }

    /// Records that `watcher` wants presence of `keys`, and answers with those online now.
    func subscribe(_ watcher: [UInt8], to keys: [[UInt8]]) -> [[UInt8]] {
        state.withLock { s in
            for key in keys { s.watchers[key, default: []].insert(watcher) }
            return keys.filter { s.sessions[$0] != nil }
        }
    }

    /// Routes a sealed body; false when the destination is not connected.
    func route(_ body: [UInt8], from sender: [UInt8], to receiver: [UInt8]) -> Bool {
        guard let destination = state.withLock({ $0.sessions[receiver] }) else {
            count { $0.undeliverable += 1 }
            return false
        }
        guard destination.isWritable else {
            // Dropped at once, so the rest of its traffic is refused here rather than queued.
            let watchers = state.withLock { s -> Set<[UInt8]>? in
                guard s.sessions[receiver] === destination else { return nil }
                s.sessions[receiver] = nil
                s.counters.droppedSlowClients += 1
                return s.watchers[receiver] ?? []
            }
            if let watchers {
                logger.warning("\(SignalServerRegistry.name(receiver)): dropped: send buffer full (client not reading)")
                destination.close(promise: nil)
                notify(watchers, about: receiver, online: false)
            }
            return false
        }
        count { $0.delivered += 1 }
        destination.writeAndFlush(SignalFrame.deliver(from: sender, body: body), promise: nil)
        return true
    }

    private func notify(_ watchers: Set<[UInt8]>, about key: [UInt8], online: Bool) {
        let channels = state.withLock { s in watchers.compactMap { s.sessions[$0] } }
        for channel in channels where channel.isWritable {
            channel.writeAndFlush(SignalFrame.presence(key: key, online: online), promise: nil)
        }
    }

    /// A short printable form of a key for logs: the first 8 base64 characters.
    static func name(_ key: [UInt8]) -> String { String(PeerKey.base64(key).prefix(8)) }
}

/// One agent's connection: registration, then subscriptions and routing.
final class SignalServerConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = SignalFrame
    typealias OutboundOut = SignalFrame

    private enum Phase {
        case awaitingHello
        case awaitingProof(key: [UInt8], server: Curve25519.KeyAgreement.PrivateKey, nonce: [UInt8])
        case registered(key: [UInt8])
    }

    private let registry: SignalServerRegistry
    // Confined to the channel's event loop.
    private var phase = Phase.awaitingHello
    private var watching: [[UInt8]] = []
    private var registrationTimer: Scheduled<Void>?
    private var peerName = "?"
    private var closing = false

    init(registry: SignalServerRegistry) { self.registry = registry }

    func channelActive(context: ChannelHandlerContext) {
        peerName = context.remoteAddress?.description ?? "?"
        let channel = context.channel
        registrationTimer = context.eventLoop.scheduleTask(in: .seconds(10)) { [registry, peerName] in
            registry.logger.info("\(peerName): closed: did not register within 10 s")
            channel.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        registrationTimer?.cancel()
        if case .registered(let key) = phase {
            registry.unregister(key, channel: context.channel, watching: watching)
            registry.logger.debug("\(SignalServerRegistry.name(key)): disconnected")
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard !closing else { return }
        switch (phase, frame) {
        case (.awaitingHello, .hello(let key)):
            let server = Curve25519.KeyAgreement.PrivateKey()
            var rng = SystemRandomNumberGenerator()
            let nonce = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
            phase = .awaitingProof(key: key, server: server, nonce: nonce)
            context.writeAndFlush(wrapOutboundOut(.challenge(serverKey: Array(server.publicKey.rawRepresentation),
                                                               nonce: nonce)), promise: nil)
        case (.awaitingProof(let key, let server, let nonce), .proof(let mac)):
            guard SignalRegistration.verify(mac: mac, agentKey: key, serverPrivate: server, nonce: nonce) else {
                registry.count { $0.failedProofs += 1 }
                reject(context, "registration proof did not verify for key \(SignalServerRegistry.name(key))")
                return
            }
            registrationTimer?.cancel()
            phase = .registered(key: key)
            context.writeAndFlush(wrapOutboundOut(.welcome), promise: nil)
            registry.register(key, channel: context.channel)
            registry.logger.debug("\(SignalServerRegistry.name(key)): registered from \(peerName)")
        case (.registered(let key), .subscribe(let keys)):
            watching += keys
            for online in registry.subscribe(key, to: keys) {
                context.write(wrapOutboundOut(.presence(key: online, online: true)), promise: nil)
            }
            context.flush()
        case (.registered(let key), .send(let to, let body)):
            if !registry.route(body, from: key, to: to) {
                context.writeAndFlush(wrapOutboundOut(.presence(key: to, online: false)), promise: nil)
            }
        default:
            reject(context, SignalProtocolError.unexpected("\(frame.kindName) in this phase").description)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        reject(context, "\(error)")
    }

    private func reject(_ context: ChannelHandlerContext, _ why: String) {
        guard !closing else { return }
        closing = true
        registry.count { $0.rejectedFrames += 1 }
        let who: String
        if case .registered(let key) = phase { who = SignalServerRegistry.name(key) } else { who = peerName }
        registry.logger.warning("\(who): closed: \(why)")
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.error(why))).whenComplete { _ in channel.close(promise: nil) }
    }
}

extension SignalFrame {
    var kindName: String {
        switch self {
        case .hello: "hello"
        case .challenge: "challenge"
        case .proof: "proof"
        case .welcome: "welcome"
        case .subscribe: "subscribe"
        case .presence: "presence"
        case .send: "send"
        case .deliver: "deliver"
        case .error: "error"
        }
    }
}
