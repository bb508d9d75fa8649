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
        /// Bodies handed to the backplane for another node, and those that came from one and were delivered.
        public var forwarded = 0
        public var receivedFromCluster = 0
        /// Bodies refused to their sender (the backplane could not take them), and bodies from other nodes
        /// whose receiver had left.
        public var refused = 0
        public var droppedFromCluster = 0
    }

    public let channel: Channel
    let registry: SignalServerRegistry

    /// The address the server listens on (with the real port when 0 was asked for).
    public var localAddress: SocketAddress? { channel.localAddress }
    public var counters: Counters { registry.counters }
    /// The number of agents registered on this node.
    public var sessionCount: Int { registry.sessionCount }
    /// The cluster this node belongs to, if any.
    public var backplane: (any SignalBackplane)? { registry.backplane }

    private init(channel: Channel, registry: SignalServerRegistry) {
        self.channel = channel
        self.registry = registry
    }

    /// Starts listening on `host:port`; with `backplane`, as one node of a cluster.
    public static func start(host: String, port: Int, group: EventLoopGroup,
                             logger: Logger = Logger(label: "icestat.signal"),
                             sendBufferLimit: Int = 256 * 1024,
                             backplane: (any SignalBackplane)? = nil) async throws -> SignalServer {
        let registry = SignalServerRegistry(logger: logger, backplane: backplane)
        backplane?.attach(registry)
        let channel = try await ServerBootstrap(group: group)
            // Deep enough for a whole node's agents arriving at once (another node died); the kernel caps it at somaxconn.
            .serverChannelOption(.backlog, value: 4096)
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
        await registry.backplane?.stop()
    }
}
