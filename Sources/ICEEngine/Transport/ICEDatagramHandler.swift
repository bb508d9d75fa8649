import NIOCore

/// Hands every datagram from one of an agent's sockets to the agent, on the agent's event loop.
final class ICEDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let socketIndex: Int
    private let agent: ICEAgent

    init(socketIndex: Int, agent: ICEAgent) {
        self.socketIndex = socketIndex
        self.agent = agent
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let from = TransportAddress(envelope.remoteAddress) else { return }
        let bytes = envelope.data.getBytes(at: envelope.data.readerIndex, length: envelope.data.readableBytes) ?? []
        agent.receive(socketIndex: socketIndex, from: from, bytes: bytes)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ICMP errors (ECONNREFUSED on a closed peer port) surface here; they are not fatal for UDP.
    }
}
