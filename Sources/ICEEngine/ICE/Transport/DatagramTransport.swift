import NIOCore
import STUN

/// The socket under a host candidate, as the ICE agent uses it: the seam between the agent and the network.
/// ``HostSocket`` is the real one (a UDP channel, or an endpoint on a shared port); tests put an in-memory
/// network here to run agents in virtual time.
package protocol DatagramTransport: Sendable {
    /// The address the transport is bound to: the host candidate's.
    var localAddress: TransportAddress? { get }
    /// Queues one datagram, flushed with the event loop's round; false when dropped because the queue is full.
    /// `resolved` is `address` as NIO's address when the caller keeps it ready.
    func send(_ data: ByteBuffer, to address: TransportAddress, resolved: SocketAddress?) -> Bool
    /// The transport carries data from now on: read in large batches (GRO) where that is cheaper.
    func startCoalescedReads()
    /// Releases the transport; nil when there is nothing to wait for.
    func close() -> EventLoopFuture<Void>?
}

/// Where host candidates come from: the addresses that may carry them and how their transports open.
package protocol HostNetwork: Sendable {
    /// The usable (interface, address) pairs, in the order their candidates are preferred.
    func addresses(filter: HostCandidateFilter) throws -> [(interface: String, address: IPAddress)]
    /// Opens a transport on `address` (any port) whose datagrams reach `receive` on `eventLoop`.
    func bind(_ address: IPAddress, interface: String, eventLoop: EventLoop,
              receive: @escaping @Sendable (TransportAddress, ByteBuffer) -> Void) -> EventLoopFuture<any DatagramTransport>
}
