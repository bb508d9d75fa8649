import NIOCore

/// Writes to one channel in batches: each write is queued in the channel and one flush is scheduled for the
/// end of the event loop's current round, so everything written while the loop handles one wake-up (a vector
/// read of many datagrams, say) leaves together: one `sendmmsg` on a UDP socket, one `writev` on a stream.
/// Confined to the channel's event loop.
///
/// A write is dropped, not queued without bound, while the channel's queue is over its high watermark: the
/// kernel's send buffer is full and the path takes less than is offered, as a router would drop.
final class BatchedWriter: @unchecked Sendable {
    let channel: Channel
    // Confined to `channel.eventLoop`.
    private var flushScheduled = false

    init(_ channel: Channel) {
        self.channel = channel
    }

    /// Queues a datagram for `destination` (a UDP channel); false when dropped (the send queue is full).
    @discardableResult
    func send(_ data: ByteBuffer, to destination: SocketAddress) -> Bool {
        channel.eventLoop.assertInEventLoop()
        guard channel.isWritable else { return false }
        channel.write(AddressedEnvelope(remoteAddress: destination, data: data), promise: nil)
        scheduleFlush()
        return true
    }

    /// Queues bytes on a stream channel; false when dropped (the send queue is full). `force` queues even
    /// then: control messages (a TURN refresh) must not be lost to a burst of data.
    @discardableResult
    func send(_ data: ByteBuffer, force: Bool = false) -> Bool {
        channel.eventLoop.assertInEventLoop()
        guard force || channel.isWritable else { return false }
        channel.write(data, promise: nil)
        scheduleFlush()
        return true
    }

    private func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        channel.eventLoop.execute {
            self.flushScheduled = false
            self.channel.flush()
        }
    }
}
