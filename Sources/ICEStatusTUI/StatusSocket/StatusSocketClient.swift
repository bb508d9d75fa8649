import NIOCore
import NIOPosix
import StatusRecorder

/// Reads a status socket: a one-shot snapshot, or a live mirror of the remote recorder.
package enum StatusSocketClient {
    /// Connects, asks for a snapshot (with the newest `events` of each log) and returns it.
    package static func fetchSnapshot(path: String, group: EventLoopGroup, full: Bool = false, events: Int = 0) async throws -> StatusSnapshot {
        let promise = group.next().makePromise(of: StatusChange.self)
        let channel: Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(StatusStreamHandler(onBatch: { promise.succeed($0) },
                                                                                          onEnd: { promise.fail($0) }))
                    }
                }
                .connect(unixDomainSocketPath: path)
                .get()
        } catch {
            promise.fail(error)
            throw StatusSocketError.noAgent(path)
        }
        let request = StatusRequest.snapshot(full: full, events: events)
        channel.writeAndFlush(channel.allocator.buffer(string: request.line + "\n"), promise: nil)
        let batch = try await promise.futureResult.get()
        channel.close(promise: nil)
        return StatusSnapshot(local: batch.local ?? LocalAgentStatus(), peers: batch.peers, takenAtMillis: currentTimeMillis(),
                              events: batch.events)
    }

    /// Asks for the event log (``StatusRequest/events(limit:follow:peer:)``) and hands each batch of events to
    /// `onEvents` until the agent ends the stream (at once unless following); returns why it ended.
    static func events(path: String, group: EventLoopGroup, request: StatusRequest,
                       onEvents: @escaping @Sendable ([StatusEvent]) -> Void) async throws -> Channel {
        let channel: Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(StatusStreamHandler(onBatch: { onEvents($0.events) },
                                                                                          onEnd: { _ in }))
                    }
                }
                .connect(unixDomainSocketPath: path)
                .get()
        } catch {
            throw StatusSocketError.noAgent(path)
        }
        try await channel.writeAndFlush(channel.allocator.buffer(string: request.line + "\n"))
        return channel
    }

    /// Mirrors the agent's recorder into `mirror` until the connection ends; returns once the first batch (the
    /// whole snapshot) is mirrored. Asks for counters apart (`watch counters`); an agent older than that refuses
    /// the request, and is asked again with a plain `watch`.
    static func watch(path: String, group: EventLoopGroup, into mirror: StatusRecorder) async throws -> Channel {
        do {
            return try await watch(path: path, group: group, request: .watch(counters: true), into: mirror)
        } catch StatusSocketError.refused {
            return try await watch(path: path, group: group, request: .watch(counters: false), into: mirror)
        }
    }

    private static func watch(path: String, group: EventLoopGroup, request: StatusRequest, into mirror: StatusRecorder) async throws -> Channel {
        let first = group.next().makePromise(of: Void.self)
        let channel: Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(StatusStreamHandler(onBatch: { change in
                            mirror.mirror(change) // a batch at once: readers see it whole
                            first.succeed(())
                        }, onEnd: { first.fail($0) }))
                    }
                }
                .connect(unixDomainSocketPath: path)
                .get()
        } catch {
            first.fail(error)
            throw StatusSocketError.noAgent(path)
        }
        try await channel.writeAndFlush(channel.allocator.buffer(string: request.line + "\n"))
        do {
            try await first.futureResult.get()
        } catch {
            channel.close(promise: nil)
            throw error
        }
        return channel
    }
}

/// Decodes the status stream into batches.
final class StatusStreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var decoder = StatusWireDecoder()
    private var started = false
    private let onBatch: (StatusChange) -> Void
    private let onEnd: (Error) -> Void

    init(onBatch: @escaping (StatusChange) -> Void, onEnd: @escaping (Error) -> Void) {
        self.onBatch = onBatch
        self.onEnd = onEnd
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        // An agent that does not know the request answers one `E` line instead of a stream.
        if !started, buffer.readableBytes > 0 {
            started = true
            if buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) == UInt8(ascii: "E") {
                let line = buffer.getString(at: buffer.readerIndex, length: buffer.readableBytes) ?? ""
                let reason = line.split(separator: "\n").first.map { $0.split(separator: "\t").dropFirst().joined(separator: " ") }
                onEnd(StatusSocketError.refused(reason ?? ""))
                context.close(promise: nil)
                return
            }
        }
        do {
            let batches = try buffer.withUnsafeReadableBytes { try decoder.feed($0) }
            batches.forEach(onBatch)
        } catch {
            onEnd(StatusSocketError.protocolError("\(error)"))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        onEnd(StatusSocketError.protocolError("the agent closed the connection"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        onEnd(error)
        context.close(promise: nil)
    }
}
