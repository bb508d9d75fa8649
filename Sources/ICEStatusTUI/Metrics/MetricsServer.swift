import NIOCore
import NIOHTTP1
import NIOPosix
import StatusRecorder

/// `metrics_listen`: serves ``AgentMetrics`` as Prometheus text at `GET /metrics`, and keeps them current from
/// the recorder's change stream while it runs.
final class MetricsServer: Sendable {
    private let channel: Channel
    private let follower: Task<Void, Never>

    /// Where it listens (the bound port when 0 was asked for).
    var address: SocketAddress? { channel.localAddress }

    private init(channel: Channel, follower: Task<Void, Never>) {
        self.channel = channel
        self.follower = follower
    }

    static func start(host: String, port: Int, recorder: StatusRecorder, metrics: AgentMetrics,
                      group: EventLoopGroup) async throws -> MetricsServer {
        let follower = Task {
            for await change in recorder.subscribe() { metrics.apply(change) }
        }
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 16)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { child in
                    child.eventLoop.makeCompletedFuture {
                        try child.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try child.pipeline.syncOperations.addHandler(MetricsHTTPHandler(recorder: recorder, metrics: metrics))
                    }
                }
                .bind(host: host, port: port)
                .get()
            return MetricsServer(channel: channel, follower: follower)
        } catch {
            follower.cancel()
            throw error
        }
    }

    func close() async {
        follower.cancel()
        try? await channel.close()
    }
}

/// Answers one scrape: `GET /metrics` with the text exposition, 404 elsewhere, 405 for other methods.
final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let recorder: StatusRecorder
    private let metrics: AgentMetrics
    private var head: HTTPRequestHead?

    init(recorder: StatusRecorder, metrics: AgentMetrics) {
        self.recorder = recorder
        self.metrics = metrics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
            let (status, contentType, body): (HTTPResponseStatus, String, [UInt8])
            if head.method != .GET && head.method != .HEAD {
                (status, contentType, body) = (.methodNotAllowed, "text/plain; charset=utf-8", Array("only GET\n".utf8))
            } else if path == "/metrics" {
                (status, contentType, body) = (.ok, "text/plain; version=0.0.4; charset=utf-8", metrics.render(recorder.snapshot()))
            } else {
                (status, contentType, body) = (.notFound, "text/plain; charset=utf-8", Array("not found: try /metrics\n".utf8))
            }
            var headers = HTTPHeaders([("Content-Type", contentType), ("Content-Length", String(body.count)), ("Connection", "close")])
            if status == .methodNotAllowed { headers.add(name: "Allow", value: "GET, HEAD") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            if head.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil) }
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
