import Foundation
import NIOCore
import STUN

/// Writes to one channel in batches: each write is queued in the channel and one flush is scheduled for the
/// end of the event loop's current round, so everything written while the loop handles one wake-up (a vector
/// read of many datagrams, say) leaves together: one `sendmmsg` on a UDP socket, one `writev` on a stream.
/// Confined to the channel's event loop.
///
/// On a UDP channel, consecutive datagrams to one destination leave as one GSO write (`UDP_SEGMENT`) while
/// ``SegmentationOffload`` allows, each segment no larger than `largestSegment` (the interface's MTU).
///
/// A write is dropped, not queued without bound, while the channel's queue is over its high watermark: the
/// kernel's send buffer is full and the path takes less than is offered, as a router would drop.
package final class BatchedWriter: @unchecked Sendable {
    package let channel: Channel
    // Confined to `channel.eventLoop`.
    private var flushScheduled = false
    private let segmentation: Bool
    private let largestSegment: Int
    private var run: SegmentRun?

    /// `segmentationOffload` allows GSO writes (UDP only) of segments up to `largestSegment` bytes.
    package init(_ channel: Channel, segmentationOffload: Bool = true, largestSegment: Int = SegmentRun.maximumBytes) {
        self.channel = channel
        segmentation = segmentationOffload
        self.largestSegment = largestSegment
    }

    /// Queues a datagram for `destination` (a UDP channel); false when dropped (the send queue is full).
    @discardableResult
    package func send(_ data: ByteBuffer, to destination: SocketAddress) -> Bool {
        channel.eventLoop.assertInEventLoop()
        guard channel.isWritable else { return false }
        if segmentation, data.readableBytes <= largestSegment, SegmentationOffload.enabled {
            if run?.append(data, to: destination, allocator: channel.allocator) != true {
                writeRun()
                run = SegmentRun(data, to: destination)
            }
        } else {
            writeRun()
            channel.write(AddressedEnvelope(remoteAddress: destination, data: data), promise: nil)
        }
        scheduleFlush()
        return true
    }

    /// Hands the pending run to the channel.
    private func writeRun() {
        guard let run else { return }
        self.run = nil
        guard run.count > 1 else {
            channel.write(run.envelope, promise: nil)
            return
        }
        let promise = channel.eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenFailure { [self] error in
            // The kernel refused the write as a whole (nothing of it left), or the channel went first. After a
            // refusal NIO closes the socket; if it did not, the datagrams still go, plainly.
            guard let error = error as? IOError, [EIO, EINVAL].contains(error.errnoCode) else { return }
            SegmentationOffload.noteRefusal()
            guard channel.isActive else { return }
            for datagram in run.datagrams { channel.write(AddressedEnvelope(remoteAddress: run.destination, data: datagram), promise: nil) }
            scheduleFlush()
        }
        channel.write(run.envelope, promise: promise)
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
            self.writeRun()
            self.channel.flush()
        }
    }
}
