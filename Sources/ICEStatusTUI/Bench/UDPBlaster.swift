import Dispatch
import ICEEngine
import ICEStatusTUI
import NIOCore
import NIOPosix
import Synchronization

/// A paced UDP sender and a counting receiver on loopback, for the data-plane bench: it sends fixed-size
/// datagrams at a set rate for a set time and counts what arrives. The same blaster measures the direct path
/// (sender to receiver) and the path through two icestat agents, so the two figures are comparable. The
/// receiver's kernel buffer is the one icestat gives its own sockets (``UDPSocketTuning/defaultBufferBytes``):
/// with a deeper one the bare path would absorb scheduling stalls that the agents' sockets cannot, and the
/// ratio would measure buffer depth rather than the data path.
final class UDPBlaster: Sendable {
    /// Where the sender's datagrams go: to a UDP port, or through a TURN client's channel to a peer.
    enum Route: Sendable {
        case port(Int)
        /// The client runs on ``senderLoop`` and has a channel bound to `peer`.
        case turn(TURNClient, peer: TransportAddress)
    }

    let receiverPort: Int
    /// The sender's event loop; a TURN client that the blaster sends through must run on it.
    var senderLoop: EventLoop { sender.eventLoop }
    private let sender: Channel
    private let receiver: Channel
    private let received = Atomic<Int>(0)

    /// Binds a sender and a receiver on 127.0.0.1, each on its own event loop (thread).
    init(group: EventLoopGroup) async throws {
        let counter = UDPBlastCounter()
        receiver = try await DatagramBootstrap(group: group.next())
            .channelOption(.datagramVectorReadMessageCount, value: 64)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 64 * 2048))
            .channelInitializer { $0.pipeline.addHandler(counter) }
            .bind(host: "127.0.0.1", port: 0).get()
        try await UDPSocketTuning.sizeBuffers(receiver, bytes: UDPSocketTuning.defaultBufferBytes).get()
        sender = try await DatagramBootstrap(group: group.next())
            .channelOption(.socketOption(.so_sndbuf), value: 8 << 20)
            .bind(host: "127.0.0.1", port: 0).get()
        receiverPort = receiver.localAddress!.port!
        counter.blaster = self
    }

    fileprivate func count(_ n: Int) { received.add(n, ordering: .relaxed) }

    /// Sends `rate` datagrams of `size` bytes per second by `route` for `seconds`, waits `drain` for the last
    /// ones, and returns how many were sent and how many arrived; `clean` when all arrived and the sender kept
    /// the pace (a sender slowed by a full socket buffer is not at the rate asked).
    func trial(rate: Int, size: Int, seconds: Double, via route: Route, drain: Duration = .milliseconds(300)) async throws -> UDPBlastTrial {
        let destination: SocketAddress? = if case .port(let port) = route { try SocketAddress(ipAddress: "127.0.0.1", port: port) } else { nil }
        received.store(0, ordering: .relaxed)
        let loop = sender.eventLoop
        let sender = self.sender
        let (sent, took) = try await loop.submit { () -> EventLoopFuture<(Int, Double)> in
            var filled = sender.allocator.buffer(capacity: size)
            filled.writeRepeatingByte(0x5A, count: size)
            let payload = filled
            let envelope = destination.map { AddressedEnvelope(remoteAddress: $0, data: payload) }
            let total = Int(Double(rate) * seconds)
            let start = DispatchTime.now().uptimeNanoseconds
            let state = UDPBlastState()
            let done = loop.makePromise(of: (Int, Double).self)
            loop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(1)) { task in
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                let due = min(total, Int(elapsed * Double(rate)))
                // The socket's buffer is full: wait rather than queue without bound (those sends come later).
                switch route {
                case .port:
                    while state.sent < due, sender.isWritable, let envelope {
                        for _ in 0..<min(64, due - state.sent) {
                            sender.write(envelope, promise: nil)
                            state.sent += 1
                        }
                        sender.flush()
                    }
                case .turn(let client, let peer):
                    // The client batches a loop round's datagrams into one flush; a full queue refuses more.
                    while state.sent < due, client.sendOnLoop(payload, to: peer) { state.sent += 1 }
                }
                if state.sent >= total || elapsed > seconds * 3 {
                    task.cancel()
                    done.succeed((state.sent, elapsed))
                }
            }
            return done.futureResult
        }.get().get()
        try await Task.sleep(for: drain)
        return UDPBlastTrial(rate: rate, sent: sent, received: received.load(ordering: .relaxed),
                             clean: received.load(ordering: .relaxed) >= sent && took <= seconds * 1.1 + 0.01)
    }

    /// The highest rate (datagrams per second) at which a trial loses nothing: doubling from `start`, then
    /// halving the gap between the last clean rate and the first lossy one.
    func highestCleanRate(size: Int, seconds: Double, via route: Route, start: Int = 20_000, ceiling: Int = 2_000_000,
                          onTrial: (UDPBlastTrial) -> Void = { _ in }) async throws -> Int {
        var good = 0
        var bad = ceiling
        var rate = start
        while rate < bad {
            let r = try await trial(rate: rate, size: size, seconds: seconds, via: route)
            onTrial(r)
            if r.clean { good = rate } else { bad = rate; break }
            rate *= 2
        }
        for _ in 0..<4 where bad - good > max(good / 16, 1000) {
            let mid = (good + bad) / 2
            let r = try await trial(rate: mid, size: size, seconds: seconds, via: route)
            onTrial(r)
            if r.clean { good = mid } else { bad = mid }
        }
        return good
    }

    func close() async {
        try? await sender.close()
        try? await receiver.close()
    }
}

/// One paced run of the blaster.
struct UDPBlastTrial {
    let rate: Int
    let sent: Int
    let received: Int
    let clean: Bool
}

/// The sender's progress, confined to its event loop.
private final class UDPBlastState: @unchecked Sendable {
    var sent = 0
}

private final class UDPBlastCounter: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    // Set once before the first datagram can arrive.
    weak var blaster: UDPBlaster?
    private var batch = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { batch += 1 }

    func channelReadComplete(context: ChannelHandlerContext) {
        blaster?.count(batch)
        batch = 0
    }
}
