import Foundation
import ICETestSupport
import NIOCore
import NIOPosix
import StatusRecorder
import Synchronization
import Testing
@testable import ICEStatusTUI

/// The dashboard's mirror of an agent: it asks for counters apart, mirrors latencies from `U` lines, and falls
/// back to a plain watch with an agent older than that.
struct StatusWatchTests {
    private func socketPath(_ name: String) -> String {
        let dir = NSTemporaryDirectory() + "icestat-watch-\(getpid())-\(name)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return dir + "/status.sock"
    }

    @Test func aMirrorFollowsTheAgentsLatenciesThroughCounterLines() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let source = StatusRecorder()
        source.addPeer(id: "k1", name: "alpha")
        source.updateState(id: "k1", .connected)
        let path = socketPath("counters")
        let server = try await StatusSocketServer.start(path: path, recorder: source, group: group, watchInterval: .milliseconds(10))
        let mirror = StatusRecorder(derivesEvents: false)
        let channel = try await StatusSocketClient.watch(path: path, group: group, into: mirror)
        #expect(mirror.peer(id: "k1")?.state == .connected) // the snapshot is mirrored before watch returns
        for n in 1...5 {
            source.updateLatency(id: "k1", nanoseconds: Int64(n) * 1_000)
            let mirrored = await eventually(seconds: 5) { mirror.peer(id: "k1")?.latencyNanos == Int64(n) * 1_000 }
            #expect(mirrored)
        }
        #expect(mirror.peer(id: "k1")?.smoothedLatencyNanos == source.peer(id: "k1")?.smoothedLatencyNanos)
        #expect(mirror.peer(id: "k1")?.state == .connected)
        try await channel.close()
        await server.close()
    }

    /// An agent from before `watch counters` answers it with an error line and hangs up; the client asks again
    /// with `watch` and mirrors that stream.
    @Test func anOlderAgentIsWatchedWithAPlainWatch() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let path = socketPath("old")
        unlink(path)
        let requests = RequestLog()
        let server = try await ServerBootstrap(group: group)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture { try child.pipeline.syncOperations.addHandler(OlderAgent(requests: requests)) }
            }
            .bind(unixDomainSocketPath: path)
            .get()
        let mirror = StatusRecorder(derivesEvents: false)
        let channel = try await StatusSocketClient.watch(path: path, group: group, into: mirror)
        #expect(requests.lines.withLock { $0 } == ["watch counters", "watch"])
        #expect(mirror.peer(id: "k9")?.name == "bob")
        try await channel.close()
        try await server.close()
    }
}

/// Answers as an agent that knows only `watch`: one peer, then nothing.
private final class OlderAgent: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let requests: RequestLog

    init(requests: RequestLog) { self.requests = requests }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let line = (buffer.readString(length: buffer.readableBytes) ?? "").trimmingCharacters(in: .newlines)
        requests.lines.withLock { $0.append(line) }
        let channel = context.channel
        if line == "watch" {
            var out: [UInt8] = []
            StatusWireFormat.appendHeader(to: &out)
            StatusWireFormat.appendChange(StatusChange(peers: [PeerStatus(id: "k9", name: "bob", stateChangedAtMillis: 1)]), to: &out)
            context.writeAndFlush(NIOAny(channel.allocator.buffer(bytes: out)), promise: nil)
        } else {
            context.writeAndFlush(NIOAny(channel.allocator.buffer(string: "E\tunknown request\n.\n"))).whenComplete { _ in
                channel.close(promise: nil)
            }
        }
    }
}

/// The request lines an ``OlderAgent`` was sent, in order.
private final class RequestLog: Sendable {
    let lines = Mutex<[String]>([])
}
