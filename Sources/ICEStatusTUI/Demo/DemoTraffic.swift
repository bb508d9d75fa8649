import NIOCore
import NIOPosix

/// The demo's applications: one UDP socket that sends to the local agent's peer ports (and takes the echoes
/// back), and per remote an echo service that the remote agent delivers to.
final class DemoTraffic: Sendable {
    let app: Channel
    private let payload = ByteBuffer(string: "icestat demo ................................................")

    private init(app: Channel) {
        self.app = app
    }

    static func start(group: EventLoopGroup) async throws -> DemoTraffic {
        let app = try await DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(DiscardHandler()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return DemoTraffic(app: app)
    }

    /// An echo service on 127.0.0.1: it sends every datagram back where it came from.
    static func echo(group: EventLoopGroup) async throws -> Channel {
        try await DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(EchoHandler()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    /// `count` datagrams to a local port of the agent.
    func send(to port: Int, count: Int = 1) {
        guard let address = try? SocketAddress(ipAddress: "127.0.0.1", port: port) else { return }
        for _ in 0..<count {
            app.write(AddressedEnvelope(remoteAddress: address, data: payload), promise: nil)
        }
        app.flush()
    }

    func close() async {
        try? await app.close()
    }
}

private final class DiscardHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
    func errorCaught(context: ChannelHandlerContext, error: Error) {}
}

private final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let datagram = unwrapInboundIn(data)
        context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: datagram.remoteAddress, data: datagram.data)), promise: nil)
    }
    // An ICMP error for an echo (the agent's port closed while it restarts) is no reason to stop.
    func errorCaught(context: ChannelHandlerContext, error: Error) {}
}
