import NIOCore
import STUN

/// Consecutive datagrams to one destination, gathered for one UDP GSO write (`UDP_SEGMENT`): segments of
/// one size, the last one possibly shorter; the kernel cuts them apart again below the socket, so the
/// receiver sees the same datagrams. A run of one is written as it came, without a copy.
package struct SegmentRun {
    /// Segments in one write: the kernel's `UDP_MAX_SEGMENTS` (64).
    static let maximumSegments = 64
    /// Bytes in one write: below IPv4's largest UDP payload (65,507) with room for IPv6's larger header.
    package static let maximumBytes = 65_000

    let destination: SocketAddress
    let segmentSize: Int
    private(set) var count = 1
    private var first: ByteBuffer
    private var joined: ByteBuffer?
    /// A shorter segment ends a run: GSO allows only the last one to be short.
    private var closed = false

    init(_ data: ByteBuffer, to destination: SocketAddress) {
        self.destination = destination
        segmentSize = data.readableBytes
        first = data
        closed = data.readableBytes == 0
    }

    /// Adds `data` when it may follow in the same write; false when it needs a run of its own.
    mutating func append(_ data: ByteBuffer, to destination: SocketAddress, allocator: ByteBufferAllocator) -> Bool {
        let size = data.readableBytes
        guard !closed, size > 0, size <= segmentSize, count < Self.maximumSegments,
              (count + 1) * segmentSize <= Self.maximumBytes, destination == self.destination else { return false }
        if joined == nil {
            var buffer = allocator.buffer(capacity: min(Self.maximumSegments, Self.maximumBytes / segmentSize) * segmentSize)
            buffer.writeImmutableBuffer(first)
            joined = buffer
        }
        joined!.writeImmutableBuffer(data)
        count += 1
        closed = size < segmentSize
        return true
    }

    /// What to write: the one datagram, or the joined segments with their size for the kernel to cut at.
    var envelope: AddressedEnvelope<ByteBuffer> {
        guard let joined else { return AddressedEnvelope(remoteAddress: destination, data: first) }
        return AddressedEnvelope(remoteAddress: destination, data: joined,
                                 metadata: .init(ecnState: .transportNotCapable, packetInfo: nil, segmentSize: segmentSize))
    }

    /// The run's datagrams one by one (slices of the joined buffer), for a socket that refused GSO.
    var datagrams: [ByteBuffer] {
        guard let joined else { return [first] }
        var out: [ByteBuffer] = []
        joined.forEachSegment(size: segmentSize) { out.append($0) }
        return out
    }
}

extension ByteBuffer {
    /// Calls `body` with each `size`-byte slice of the readable bytes, in order, the last one possibly
    /// shorter: the datagrams of a GSO write or of a GRO read. No bytes are copied.
    func forEachSegment(size: Int, _ body: (ByteBuffer) -> Void) {
        var rest = self
        while rest.readableBytes > 0, let segment = rest.readSlice(length: Swift.min(size, rest.readableBytes)) { body(segment) }
    }
}
