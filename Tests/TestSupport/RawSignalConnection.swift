import NIOCore
import NIOPosix
import Signal

/// A hand-driven connection to a signal server: sends any frame or raw bytes and collects what comes back,
/// to play a misbehaving agent in tests.
package final class RawSignalConnection: @unchecked Sendable {
    package let channel: Channel
    private let inbox: AsyncStream<SignalFrame>
    private var iterator: AsyncStream<SignalFrame>.AsyncIterator
    private let closed: EventLoopPromise<Void>

    package init(port: Int, group: EventLoopGroup, autoRead: Bool = true) async throws {
        let (stream, continuation) = AsyncStream.makeStream(of: SignalFrame.self)
        inbox = stream
        iterator = stream.makeAsyncIterator()
        let closed = group.next().makePromise(of: Void.self)
        self.closed = closed
        channel = try await ClientBootstrap(group: group)
            .channelOption(.autoRead, value: autoRead)
            .channelOption(.socketOption(.so_rcvbuf), value: 4096)
            .channelInitializer { channel in
                channel.closeFuture.whenComplete { _ in continuation.finish(); closed.succeed() }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(SignalFrameDecoder()),
                        MessageToByteHandler(SignalFrameEncoder()),
                        Collector(continuation: continuation),
                    ])
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
    }

    package func send(_ frame: SignalFrame) async throws { try await channel.writeAndFlush(frame) }

    /// Writes several frames with one flush: they leave together, with no await between them.
    package func send(_ frames: [SignalFrame]) async throws {
        for frame in frames.dropLast() { channel.write(frame, promise: nil) }
        if let last = frames.last { try await channel.writeAndFlush(last) }
    }

    /// Writes raw bytes, below the frame encoder.
    package func sendRaw(_ bytes: [UInt8]) async throws {
        try await channel.pipeline.context(handlerType: MessageToByteHandler<SignalFrameEncoder>.self).flatMap { ctx in
            ctx.writeAndFlush(NIOAny(ByteBuffer(bytes: bytes)))
        }.get()
    }

    /// The next frame, or nil when the connection closed.
    package func next() async -> SignalFrame? { await iterator.next() }

    /// Registers as `key` with a valid proof.
    package func register(_ key: PeerKey) async throws {
        try await send(.hello(publicKey: key.publicKeyBytes))
        let first = await next()
        guard case .challenge(let serverKey, let nonce)? = first else { throw SignalProtocolError.unexpected("no challenge but \(String(describing: first))") }
        try await send(.proof(mac: try SignalRegistration.proof(privateKey: key.privateKey, serverKey: serverKey, nonce: nonce)))
        let second = await next()
        guard case .welcome? = second else { throw SignalProtocolError.unexpected("no welcome but \(String(describing: second))") }
    }

    package var isClosed: EventLoopFuture<Void> { closed.futureResult }

    package func close() async { try? await channel.close() }

    private final class Collector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = SignalFrame
        let continuation: AsyncStream<SignalFrame>.Continuation
        init(continuation: AsyncStream<SignalFrame>.Continuation) { self.continuation = continuation }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { continuation.yield(unwrapInboundIn(data)) }
        func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
    }
}
