import NIOCore
import STUN

/// The socket a host candidate sends from: the session's own UDP channel, or its endpoint on a shared fixed
/// port (``UDPPortMux``).
enum HostSocket: DatagramTransport {
    case own(BatchedWriter)
    case shared(UDPPortMux.Endpoint)

    var localAddress: TransportAddress? {
        switch self {
        case .own(let writer): writer.channel.localAddress.flatMap(TransportAddress.init)
        case .shared(let endpoint): endpoint.localAddress.flatMap(TransportAddress.init)
        }
    }

    /// Queues a datagram (flushed with the rest of the event loop's round); false when dropped because the
    /// send queue is full. `resolved` is `address` as NIO's address, when the caller keeps it ready.
    func send(_ data: ByteBuffer, to address: TransportAddress, resolved: SocketAddress?) -> Bool {
        switch self {
        case .own(let writer):
            guard let destination = resolved ?? (try? address.socketAddress()) else { return false }
            return writer.send(data, to: destination)
        case .shared(let endpoint):
            return endpoint.send(data, to: address)
        }
    }

    /// Switches an own socket to GRO reads (``UDPSocketTuning/startCoalescedReads(_:)``); the shared port
    /// reads so from the start.
    func startCoalescedReads() {
        if case .own(let writer) = self { UDPSocketTuning.startCoalescedReads(writer.channel) }
    }

    func close() -> EventLoopFuture<Void>? {
        switch self {
        case .own(let writer): return writer.channel.close()
        case .shared(let endpoint):
            endpoint.detach()
            return nil
        }
    }
}
