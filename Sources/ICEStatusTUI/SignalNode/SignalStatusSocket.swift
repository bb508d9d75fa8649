import Foundation
import NIOCore
import NIOPosix

/// The signal node's status socket: owner-only (0600 in a 0700 directory), like the agent's. A client connects
/// and reads one JSON document (``SignalNodeStatus``) until the node closes the connection.
package enum SignalStatusSocket {
    /// `signal-<port>.sock` beside the agent's default status socket.
    static func defaultPath(port: Int) -> String {
        ((StatusSocketPath.defaultPath as NSString).deletingLastPathComponent as NSString)
            .appendingPathComponent("signal-\(port).sock")
    }

    /// Serves `status()` on `path` until the returned channel is closed.
    static func serve(path: String, group: EventLoopGroup,
                      status: @escaping @Sendable () async -> SignalNodeStatus) async throws -> Channel {
        try StatusSocketPath.prepareDirectory(for: path)
        if FileManager.default.fileExists(atPath: path) {
            if (try? await fetch(path: path, group: group)) != nil { throw StatusSocketError.alreadyServing(path) }
            unlink(path) // stale socket of a node that died
        }
        let oldMask = umask(0o177)
        defer { umask(oldMask) }
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(Answer(status: status))
                }
            }
            .bind(unixDomainSocketPath: path)
            .get()
        chmod(path, 0o600)
        return channel
    }

    /// Reads the status of the node serving `path`.
    package static func fetch(path: String, group: EventLoopGroup) async throws -> SignalNodeStatus {
        let promise = group.next().makePromise(of: [UInt8].self)
        do {
            _ = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(Collect(promise: promise))
                    }
                }
                .connect(unixDomainSocketPath: path)
                .get()
        } catch {
            promise.fail(error)
            throw SignalStatusError.noNode(path)
        }
        let bytes = try await promise.futureResult.get()
        do {
            return try JSONDecoder().decode(SignalNodeStatus.self, from: Data(bytes))
        } catch {
            throw StatusSocketError.protocolError("the signal node's answer did not decode: \(error)")
        }
    }

    private final class Answer: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let status: @Sendable () async -> SignalNodeStatus
        init(status: @escaping @Sendable () async -> SignalNodeStatus) { self.status = status }

        func channelActive(context: ChannelHandlerContext) {
            let channel = context.channel, status = status
            Task {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                var data = (try? encoder.encode(await status())) ?? Data()
                data.append(10)
                try? await channel.writeAndFlush(ByteBuffer(bytes: data))
                try? await channel.close()
            }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
    }

    private final class Collect: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        private let promise: EventLoopPromise<[UInt8]>
        private var bytes: [UInt8] = []
        private var done = false
        init(promise: EventLoopPromise<[UInt8]>) { self.promise = promise }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            bytes += buffer.readBytes(length: buffer.readableBytes) ?? []
            if bytes.count > 1 << 20 { context.close(promise: nil) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            guard !done else { return }
            done = true
            promise.succeed(bytes)
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            if !done { promise.fail(error) }
            done = true
            context.close(promise: nil)
        }
    }
}

/// Failures of `icestat signal --status`.
enum SignalStatusError: Error, CustomStringConvertible {
    case noNode(String)

    var description: String {
        switch self {
        case .noNode(let path):
            "no icestat signal node is serving \(path).\nStart one with `icestat signal --listen ADDR:PORT`, or pass --status-socket PATH."
        }
    }
}
