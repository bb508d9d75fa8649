import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
@testable import STUN
@testable import ICE
@testable import Signal
@testable import Mesh

/// UDP GSO on the way out (``BatchedWriter`` joining a burst into ``SegmentRun``s) and GRO on the way in
/// (``DatagramHandler`` cutting coalesced reads apart), over real sockets on loopback: the receiver sees the
/// datagrams the sender wrote, in order, whatever the kernel coalesced.
@Suite(.serialized)
struct SegmentationOffloadTests {
    private static let destination = try! SocketAddress(ipAddress: "127.0.0.1", port: 9)
    private static let other = try! SocketAddress(ipAddress: "127.0.0.1", port: 10)

    private static func datagram(_ size: Int, _ fill: UInt8) -> ByteBuffer { ByteBuffer(bytes: [UInt8](repeating: fill, count: size)) }

    @Test func aRunTakesSameSizedDatagramsToOneDestinationAndEndsAtAShorterOne() {
        var run = SegmentRun(Self.datagram(1400, 1), to: Self.destination)
        let allocator = ByteBufferAllocator()
        // Same size: joins; larger: its own run; another destination: its own run; shorter: joins and ends the run.
        let taken = [run.append(Self.datagram(1400, 2), to: Self.destination, allocator: allocator),
                     run.append(Self.datagram(1401, 3), to: Self.destination, allocator: allocator),
                     run.append(Self.datagram(1400, 3), to: Self.other, allocator: allocator),
                     run.append(Self.datagram(600, 3), to: Self.destination, allocator: allocator),
                     run.append(Self.datagram(600, 4), to: Self.destination, allocator: allocator)]
        #expect(taken == [true, false, false, true, false])
        #expect(run.count == 3 && run.envelope.metadata?.segmentSize == 1400 && run.envelope.data.readableBytes == 3400)
        #expect(run.datagrams == [Self.datagram(1400, 1), Self.datagram(1400, 2), Self.datagram(600, 3)])
    }

    @Test func aRunOfOneIsTheDatagramItselfAndARunStopsAtTheKernelsLimits() {
        let single = SegmentRun(Self.datagram(100, 7), to: Self.destination)
        #expect(single.envelope.metadata == nil && single.envelope.data == Self.datagram(100, 7) && single.datagrams.count == 1)
        let allocator = ByteBufferAllocator()
        var small = SegmentRun(Self.datagram(100, 0), to: Self.destination)
        while small.append(Self.datagram(100, 0), to: Self.destination, allocator: allocator) {}
        #expect(small.count == SegmentRun.maximumSegments)
        var large = SegmentRun(Self.datagram(1400, 0), to: Self.destination)
        while large.append(Self.datagram(1400, 0), to: Self.destination, allocator: allocator) {}
        #expect(large.count == SegmentRun.maximumBytes / 1400 && large.envelope.data.readableBytes <= SegmentRun.maximumBytes)
        #expect(!single.datagrams.isEmpty)
    }

    /// A burst of `sizes` from a writer to a receiver; what the receiver got (in order) and how many of its
    /// reads were coalesced by GRO.
    private func burst(_ sizes: [Int], segmentation: Bool, receiveOffload: Bool, refuseGSO: Bool = false,
                       switchedOn: Bool = false) async throws
        -> (received: [ByteBuffer], coalescedReads: Int) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let received = NIOLockedValueBox<[ByteBuffer]>([])
        let coalesced = NIOLockedValueBox(0)
        let receiver = try await UDPSocketTuning.configure(DatagramBootstrap(group: group), receiveOffload: receiveOffload)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(CoalescedReadCounter(coalesced))
                    try channel.pipeline.syncOperations.addHandler(DatagramHandler(buffers: { _, b in received.withLockedValue { $0.append(b) } }))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        try await UDPSocketTuning.sizeBuffers(receiver, bytes: 4 << 20).get()
        if switchedOn { try await receiver.eventLoop.submit { UDPSocketTuning.startCoalescedReads(receiver) }.get() }
        let sender = try await UDPSocketTuning.configure(DatagramBootstrap(group: group)).bind(host: "127.0.0.1", port: 0).get()
        if refuseGSO {
            // A socket without UDP checksums may not use GSO: the kernel refuses such writes with EINVAL.
            try await sender.setOption(.socketOption(.init(rawValue: SO_NO_CHECK)), value: 1).get()
        }
        let writer = BatchedWriter(sender, segmentationOffload: segmentation)
        let to = receiver.localAddress!
        try await sender.eventLoop.submit {
            for (i, size) in sizes.enumerated() { writer.send(Self.datagram(size, UInt8(i % 251)), to: to) }
        }.get()
        for _ in 0..<200 where received.withLockedValue({ $0.count }) < sizes.count { try await Task.sleep(for: .milliseconds(10)) }
        try? await sender.close()
        try await receiver.close()
        try await group.shutdownGracefully()
        return (received.withLockedValue { $0 }, coalesced.withLockedValue { $0 })
    }

    private static let sizes = Array(repeating: 1400, count: 100) + [20] + Array(repeating: 1200, count: 50) + [1400, 60, 60]
    private static func expected() -> [ByteBuffer] { sizes.enumerated().map { datagram($1, UInt8($0 % 251)) } }

    @Test(arguments: [false, true], [false, true])
    func everyDatagramArrivesWholeAndInOrder(segmentation: Bool, receiveOffload: Bool) async throws {
        let (received, coalesced) = try await burst(Self.sizes, segmentation: segmentation, receiveOffload: receiveOffload)
        #expect(received == Self.expected())
        let kernelCoalesces = segmentation && receiveOffload && System.supportsUDPSegmentationOffload && System.supportsUDPReceiveOffload
        // On loopback a GSO write reaches a GRO socket as it was written: whole runs in one read.
        #expect(kernelCoalesces ? coalesced > 0 : coalesced == 0, "\(coalesced) coalesced reads")
    }

    @Test func aSocketSwitchedToGROWhileOpenReadsCoalescedAndWhole() async throws {
        // How an ICE host socket starts GRO: bound plain, switched when data first arrives on the selected pair.
        let (received, coalesced) = try await burst(Self.sizes, segmentation: true, receiveOffload: false, switchedOn: true)
        #expect(received == Self.expected())
        let kernelCoalesces = System.supportsUDPSegmentationOffload && UDPSocketTuning.receiveOffload
        #expect(kernelCoalesces ? coalesced > 0 : coalesced == 0, "\(coalesced) coalesced reads")
    }

    @Test(.enabled(if: System.supportsUDPSegmentationOffload))
    func afterTheKernelRefusesAGSOWriteTheProcessWritesPlainly() async throws {
        defer { SegmentationOffload.reset() }
        // The refused write was the burst's first; NIO closes a socket on such an error, so nothing left.
        let refused = try await burst(Self.sizes, segmentation: true, receiveOffload: true, refuseGSO: true)
        #expect(refused.received == [] && !SegmentationOffload.enabled)
        let after = try await burst(Self.sizes, segmentation: true, receiveOffload: true, refuseGSO: true)
        #expect(after.received == Self.expected() && after.coalescedReads == 0)
    }
}

/// Counts reads that GRO coalesced (a segment size is reported and the read holds more than one segment).
private final class CoalescedReadCounter: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias InboundOut = AddressedEnvelope<ByteBuffer>
    private let count: NIOLockedValueBox<Int>

    init(_ count: NIOLockedValueBox<Int>) { self.count = count }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        if let size = envelope.metadata?.segmentSize, envelope.data.readableBytes > size { count.withLockedValue { $0 += 1 } }
        context.fireChannelRead(data)
    }
}
