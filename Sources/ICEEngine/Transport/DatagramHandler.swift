import NIOCore

/// Hands every datagram of a UDP channel, with its source, to `receive`, on the channel's event loop. It is
/// the one inbound handler of the engine's UDP sockets: ICE host sockets, the shared fixed port, TURN over
/// UDP, the NAT tests and the STUN responder.
///
/// ICMP errors (ECONNREFUSED from a closed remote port) surface as errors on a UDP socket; they are not
/// fatal, so they are ignored and the socket stays open.
final class DatagramHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let receive: @Sendable (TransportAddress, [UInt8]) -> Void

    init(_ receive: @escaping @Sendable (TransportAddress, [UInt8]) -> Void) {
        self.receive = receive
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let from = TransportAddress(envelope.remoteAddress) else { return }
        receive(from, Array(envelope.data.readableBytesView))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {}
}
