import Foundation
import NIOCore
import NIOPosix
import STUN

/// Socket settings of the UDP sockets that carry data (ICE host sockets, the shared port, TURN over UDP, the
/// mesh's local ports): vector reads (`recvmmsg`, many datagrams per wake-up) and kernel buffers sized for
/// bursts.
public enum UDPSocketTuning {
    /// Datagrams read per system call.
    public static let vectorReadCount = 32
    /// The largest datagram read whole (larger ones are truncated, as before: the default allocator's size).
    public static let maximumDatagramSize = 2048
    /// Kernel send and receive buffer asked for by default: 2 MiB holds 16 ms of a 1 Gbit/s burst.
    public static let defaultBufferBytes = 2 << 20

    /// Applies the read settings to a bootstrap, and a write queue as deep as the kernel buffer: writes queue
    /// in the channel until the round's flush, and NIO's default watermark (64 KiB, 46 datagrams of 1,400
    /// bytes) would call a channel full in the middle of one burst.
    ///
    /// With `receiveOffload` (sockets that hear another icestat, which writes with GSO) and where the kernel
    /// offers UDP GRO, a read may hold many datagrams of one flow coalesced, up to 64 KiB, and reports their
    /// segment size; ``DatagramHandler`` cuts them apart. Each read slot is then 64 KiB, so fewer are read at once.
    ///
    /// Without `vectorReads` (a lazy peer's local port, which mostly waits) the socket reads one datagram per
    /// call until ``setVectorReads(_:_:)`` says otherwise: NIO's `recvmmsg` vectors for 32 datagrams take about
    /// 11 KB per socket.
    package static func configure(_ bootstrap: DatagramBootstrap, bufferBytes: Int = defaultBufferBytes,
                          receiveOffload: Bool = false, vectorReads: Bool = true) -> DatagramBootstrap {
        let high = max(bufferBytes, 256 << 10)
        let configured = bootstrap.channelOption(.writeBufferWaterMark, value: .init(low: high / 2, high: high))
        if !vectorReads {
            return configured
                .channelOption(.datagramVectorReadMessageCount, value: 0)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: maximumDatagramSize))
        }
        guard receiveOffload, Self.receiveOffload else {
            return configured
                .channelOption(.datagramVectorReadMessageCount, value: vectorReadCount)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: vectorReadCount * maximumDatagramSize))
        }
        return configured
            .channelOption(.datagramReceiveOffload, value: true)
            .channelOption(.datagramReceiveSegmentSize, value: true)
            .channelOption(.datagramVectorReadMessageCount, value: coalescedReadCount)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: coalescedReadCount * coalescedReadBytes))
    }

    /// Switches a bound socket between vector reads (a peer that carries traffic) and single reads (one that
    /// waits); on the channel's event loop. The read slots grow before the vector and shrink after it, so that
    /// no vector read meets a small slot.
    package static func setVectorReads(_ on: Bool, _ channel: Channel) {
        guard let options = channel.syncOptions else { return }
        do {
            if on {
                try options.setOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: vectorReadCount * maximumDatagramSize))
                try options.setOption(.datagramVectorReadMessageCount, value: vectorReadCount)
            } else {
                try options.setOption(.datagramVectorReadMessageCount, value: 0)
                try options.setOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: maximumDatagramSize))
            }
        } catch {
            // A socket that refuses keeps reading as it did.
        }
    }

    /// Switches a bound socket to GRO reads where the kernel offers them: the larger read slots first, then
    /// GRO, so that no coalesced read meets a small slot. Called on the channel's event loop when the socket
    /// starts carrying data: 16 slots of 64 KiB per socket cost too much to give every socket that only
    /// checks (connecting 200 peers at once took 40 % longer).
    static func startCoalescedReads(_ channel: Channel) {
        guard receiveOffload, let options = channel.syncOptions else { return }
        do {
            try options.setOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: coalescedReadCount * coalescedReadBytes))
            try options.setOption(.datagramVectorReadMessageCount, value: coalescedReadCount)
            try options.setOption(.datagramReceiveSegmentSize, value: true)
            try options.setOption(.datagramReceiveOffload, value: true)
        } catch {
            // A socket that refuses keeps reading as before; the allocator's larger slots are harmless.
        }
    }

    /// Reads per system call on a GRO socket.
    static let coalescedReadCount = 16
    /// The room for one GRO read: as much as the kernel coalesces (64 KiB).
    static let coalescedReadBytes = 65_536

    /// Whether sockets that hear other agents use UDP GRO: where the kernel supports it, unless the
    /// environment says `ICESTAT_UDP_GRO=0`.
    static let receiveOffload: Bool = System.supportsUDPReceiveOffload
        && ProcessInfo.processInfo.environment["ICESTAT_UDP_GRO"] != "0"

    /// Sizes a bound channel's kernel buffers: `SO_RCVBUFFORCE`/`SO_SNDBUFFORCE` where the process may
    /// (root, or CAP_NET_ADMIN), past the system's `rmem_max`/`wmem_max`, else the plain options, which the
    /// kernel caps at those limits. A refusal keeps the system's default: never an error.
    package static func sizeBuffers(_ channel: Channel, bytes: Int) -> EventLoopFuture<Void> {
        guard bytes > 0 else { return channel.eventLoop.makeSucceededVoidFuture() }
        let value = SocketOptionValue(bytes)
        func set(_ force: Int32, _ plain: NIOBSDSocket.Option) -> EventLoopFuture<Void> {
            channel.setOption(.socketOption(.init(rawValue: force)), value: value)
                .flatMapError { _ in channel.setOption(.socketOption(plain), value: value) }
                .recover { _ in }
        }
        return set(SO_RCVBUFFORCE, .so_rcvbuf).and(set(SO_SNDBUFFORCE, .so_sndbuf)).map { _ in }
    }
}
