import NIOCore
import NIOPosix
import STUN

/// The machine's interfaces and one UDP socket per host candidate: what an agent uses unless told otherwise.
package struct UDPHostNetwork: HostNetwork {
    /// Kernel send and receive buffer for each socket (0 keeps the system's).
    package var bufferBytes: Int

    package init(bufferBytes: Int) { self.bufferBytes = bufferBytes }

    package func addresses(filter: HostCandidateFilter) throws -> [(interface: String, address: IPAddress)] {
        try HostAddressGatherer.addresses(filter: filter)
    }

    package func bind(_ address: IPAddress, interface: String, eventLoop: EventLoop,
              receive: @escaping @Sendable (TransportAddress, ByteBuffer) -> Void) -> EventLoopFuture<any DatagramTransport> {
        let bufferBytes = bufferBytes
        return UDPSocketTuning.configure(DatagramBootstrap(group: eventLoop), bufferBytes: bufferBytes)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DatagramHandler(buffers: receive))
                }
            }
            .bind(host: address.description, port: 0)
            .flatMap { channel in
                UDPSocketTuning.sizeBuffers(channel, bytes: bufferBytes).map {
                    // GSO segments stay within the interface's MTU; an unreadable MTU means no GSO there.
                    let largest = SegmentationOffload.largestSegment(onInterface: interface) ?? 0
                    return HostSocket.own(BatchedWriter(channel, largestSegment: largest))
                }
            }
    }
}
