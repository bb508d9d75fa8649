import NIOCore
import STUN

/// What sends and receives for one local candidate: one of the session's host UDP sockets, or a TURN
/// allocation (over UDP, TCP or TLS to its server). A pair names its endpoint by ``id``, an identity given
/// before the transport exists, so the receive path knows where a datagram came in without any ordering.
///
/// Confined to the agent's event loop.
final class LocalEndpoint {
    typealias ID = Int

    enum Transport {
        case host(any DatagramTransport)
        case relay(TURNClient)
    }

    let id: ID
    let transport: Transport
    /// The candidate this endpoint is the base of: a host or a relayed candidate.
    let candidate: Candidate
    /// Whether the socket reads with GRO already (switched on its first data on the selected pair).
    private(set) var readsCoalesced = false

    init(id: ID, transport: Transport, candidate: Candidate) {
        self.id = id
        self.transport = transport
        self.candidate = candidate
    }

    /// The TURN client, when this endpoint is a relayed candidate's.
    var relay: TURNClient? {
        if case .relay(let client) = transport { return client }
        return nil
    }

    /// Queues one datagram of data (flushed with the loop's round); false when its queue is full.
    func send(_ data: ByteBuffer, to address: TransportAddress, resolved: SocketAddress?) -> Bool {
        switch transport {
        case .host(let socket): socket.send(data, to: address, resolved: resolved)
        case .relay(let client): client.sendOnLoop(data, to: address)
        }
    }

    /// Sends a STUN message (a check, a response, a Binding request to a STUN server).
    func sendSTUN(_ bytes: [UInt8], to address: TransportAddress) {
        switch transport {
        case .host(let socket):
            var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            _ = socket.send(buffer, to: address, resolved: nil)
        case .relay(let client):
            client.send(bytes, to: address)
        }
    }

    /// A host socket that carries data reads with GRO from now on; relays read plainly.
    func carriesData() {
        guard !readsCoalesced, case .host(let socket) = transport else { return }
        readsCoalesced = true
        socket.startCoalescedReads()
    }

    func close() -> EventLoopFuture<Void>? {
        switch transport {
        case .host(let socket): socket.close()
        case .relay(let client): client.close()
        }
    }
}
