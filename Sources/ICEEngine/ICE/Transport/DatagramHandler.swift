import NIOCore
import STUN

/// Hands every datagram of a UDP channel, with its source, to `receive`, on the channel's event loop. It is
/// the one inbound handler of the engine's UDP sockets: ICE host sockets, the shared fixed port, TURN over
/// UDP, the NAT tests and the STUN responder.
///
/// Data sockets take the datagram as it was read (a slice of the vector read's buffer, not copied); the
/// control-only sockets (NAT tests, the STUN responder) take it as bytes.
///
/// ICMP errors (ECONNREFUSED from a closed remote port) surface as errors on a UDP socket; they are not
/// fatal, so they are ignored and the socket stays open.
final class DatagramHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let receive: @Sendable (TransportAddress, ByteBuffer) -> Void

    init(buffers receive: @escaping @Sendable (TransportAddress, ByteBuffer) -> Void) {
        self.receive = receive
    }

    convenience init(_ receive: @escaping @Sendable (TransportAddress, [UInt8]) -> Void) {
        self.init(buffers: { from, buffer in receive(from, Array(buffer.readableBytesView)) })
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let from = TransportAddress(envelope.remoteAddress) else { return }
        // A GRO read: datagrams of one size (the last may be shorter) in one buffer; each goes on alone.
        guard let size = envelope.metadata?.segmentSize, size > 0, envelope.data.readableBytes > size else {
            receive(from, envelope.data)
            return
        }
        envelope.data.forEachSegment(size: size) { receive(from, $0) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {}
}
