import ArgumentParser
import NIOCore
import NIOPosix
import Synchronization

/// `icestat ping PEER`: STUN Binding requests on the peer's selected pair, sent by the running agent, one line
/// per pong, then a summary.
struct PingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping",
        abstract: "Ping a peer over its current path: direct or relayed, and how fast.",
        discussion: """
            The running agent sends authenticated STUN Binding requests on the peer's selected candidate pair \
            and reports each pong with the path it took. An idle (lazy) peer is woken first, as traffic would \
            wake it. With --until-direct a relayed peer tries a direct path at once, and the ping stops at the \
            first direct pong; it exits 0 only then. Exits 1 when no pong came (or the peer is unknown or \
            offline), 2 when no agent answers.
            """)

    @Argument(help: "The peer's name or public key.")
    var peer: String

    @OptionGroup var socket: SocketOptions

    @Option(name: .customShort("c"), help: ArgumentHelp("How many pings (at most, with --until-direct).", valueName: "count"))
    var count: Int?

    @Option(name: .long, help: ArgumentHelp("Time between pings, in ms.", valueName: "ms"))
    var interval = 1000

    @Option(name: .long, help: ArgumentHelp("How long each ping waits for its pong, in ms.", valueName: "ms"))
    var timeout = 5000

    @Flag(name: .customLong("until-direct"), help: "While relayed, try a direct path now; stop at the first direct pong.")
    var untilDirect = false

    var request: PingRequest {
        PingRequest(peer: peer.trimmingCharacters(in: .whitespaces), count: count ?? (untilDirect ? 30 : 5),
                    intervalMillis: interval, timeoutMillis: timeout, untilDirect: untilDirect)
    }

    func validate() throws {
        if peer.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("name a peer") }
        if let count, !PingRequest.counts.contains(count) { throw ValidationError("-c must be between 1 and \(PingRequest.counts.upperBound)") }
        guard PingRequest.intervals.contains(interval) else { throw ValidationError("--interval must be between 10 and 60000 ms") }
        guard PingRequest.timeouts.contains(timeout) else { throw ValidationError("--timeout must be between 10 and 60000 ms") }
    }

    func run() async throws {
        let request = self.request
        let report = Mutex(PingReport(peer: request.peer, untilDirect: request.untilDirect))
        let ended = Mutex(false)
        let channel: Channel
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(PingLineHandler { line in
                            if line == .end { ended.withLock { $0 = true } }
                            if let text = report.withLock({ $0.take(line) }) { StandardOutput.write(Array((text + "\n").utf8)) }
                        })
                    }
                }
                .connect(unixDomainSocketPath: socket.path)
                .get()
        } catch {
            StandardOutput.error("icestat: \(StatusSocketError.noAgent(socket.path))")
            throw ExitCode(2)
        }
        try await channel.writeAndFlush(channel.allocator.buffer(string: StatusRequest.ping(request).line + "\n"))
        try? await channel.closeFuture.get()
        let final = report.withLock { $0 }
        if let failure = final.failure {
            StandardOutput.error("icestat: \(failure)")
            throw ExitCode(1)
        }
        guard ended.withLock({ $0 }) else {
            StandardOutput.error("icestat: the agent closed the connection")
            throw ExitCode(1)
        }
        StandardOutput.write(Array(final.summary.map { $0 + "\n" }.joined().utf8))
        if final.exitCode != 0 { throw ExitCode(final.exitCode) }
    }
}

/// Splits the agent's answer into ``PingLine``s.
final class PingLineHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private var pending: [UInt8] = []
    private let onLine: (PingLine) -> Void

    init(onLine: @escaping (PingLine) -> Void) {
        self.onLine = onLine
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending += buffer.readBytes(length: buffer.readableBytes) ?? []
        while let newline = pending.firstIndex(of: 10) {
            let text = String(decoding: pending[..<newline], as: UTF8.self)
            pending.removeFirst(newline + 1)
            guard let line = PingLine(line: Substring(text)) else {
                onLine(.failed("the agent sent a line this icestat does not read: \(text.prefix(80))"))
                context.close(promise: nil)
                return
            }
            onLine(line)
        }
        if pending.count > 65_536 { context.close(promise: nil) }
    }
}
