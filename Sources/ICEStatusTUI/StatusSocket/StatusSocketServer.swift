import Foundation
import NIOCore
import NIOPosix
import StatusRecorder

/// Serves a recorder on a Unix domain socket that only its owner may use (mode 0600 in a 0700 directory).
///
/// A client sends one request line (``StatusRequest``): a snapshot, a watch (a full snapshot, then one coalesced
/// batch per change, at most every `watchInterval`), or the event log. See ``StatusWireFormat``.
package final class StatusSocketServer: Sendable {
    package let path: String
    private let channel: Channel

    private init(path: String, channel: Channel) {
        self.path = path
        self.channel = channel
    }

    /// - Parameter pingTarget: the running engine, which answers `ping` requests; without one they are refused.
    package static func start(path: String, recorder: StatusRecorder, group: EventLoopGroup, pingTarget: (any PingTarget)? = nil,
                      watchInterval: Duration = .milliseconds(100)) async throws -> StatusSocketServer {
        try StatusSocketPath.prepareDirectory(for: path)
        if FileManager.default.fileExists(atPath: path) {
            if (try? await StatusSocketClient.fetchSnapshot(path: path, group: group)) != nil {
                throw StatusSocketError.alreadyServing(path)
            }
            unlink(path) // stale socket of a process that died
        }
        let cache = StatusWireCache(recorder: recorder)
        let oldMask = umask(0o177)
        defer { umask(oldMask) }
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(
                        StatusRequestHandler(recorder: recorder, cache: cache, pingTarget: pingTarget, watchInterval: watchInterval))
                }
            }
            .bind(unixDomainSocketPath: path)
            .get()
        chmod(path, 0o600)
        return StatusSocketServer(path: path, channel: channel)
    }

    package func close() async {
        try? await channel.close()
        unlink(path)
    }
}

/// Answers one client's request line.
final class StatusRequestHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let recorder: StatusRecorder
    private let cache: StatusWireCache
    private let pingTarget: (any PingTarget)?
    private let watchInterval: Duration
    private var request: [UInt8] = []
    private var watchTask: Task<Void, Never>?

    init(recorder: StatusRecorder, cache: StatusWireCache, pingTarget: (any PingTarget)?, watchInterval: Duration) {
        self.recorder = recorder
        self.cache = cache
        self.pingTarget = pingTarget
        self.watchInterval = watchInterval
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard watchTask == nil else { return }
        var buffer = unwrapInboundIn(data)
        request += buffer.readBytes(length: buffer.readableBytes) ?? []
        guard let newline = request.firstIndex(of: 10) else {
            if request.count > 256 { context.close(promise: nil) } // not a client of ours
            return
        }
        let line = String(decoding: request[..<newline], as: UTF8.self)
        let channel = context.channel
        switch StatusRequest(line: line) {
        case .snapshot(let full, let events):
            var out: [UInt8] = []
            StatusWireFormat.appendHeader(to: &out)
            if full {
                var snapshot = recorder.snapshot()
                snapshot.events = recorder.eventsOfEachLog(limit: events)
                StatusWireFormat.appendSnapshot(snapshot, full: true, to: &out)
            } else {
                cache.appendSnapshot(events: events, to: &out) // only peers changed since the last request are encoded
            }
            context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(bytes: out))).whenComplete { _ in
                channel.close(promise: nil)
            }
        case .watch(let counters):
            startWatching(channel: channel, splittingCounters: counters)
        case .events(let limit, let follow, let peer):
            sendEvents(limit: limit, follow: follow, peer: peer, channel: channel)
        case .ping(let request):
            ping(request, channel: channel)
        case nil:
            var out = Array("E\tunknown request\n".utf8)
            out += Array(".\n".utf8)
            context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(bytes: out))).whenComplete { _ in
                channel.close(promise: nil)
            }
        }
    }

    /// Runs a ping session and writes each of its lines as it comes; closes when it ends or the client goes.
    private func ping(_ request: PingRequest, channel: Channel) {
        let target = pingTarget
        let recorder = self.recorder
        watchTask = Task {
            defer { channel.close(promise: nil) }
            func write(_ line: PingLine) async throws {
                try await channel.writeAndFlush(channel.allocator.buffer(string: line.encoded))
            }
            guard let target else {
                try? await write(.failed("this agent does not answer pings"))
                return
            }
            try? await PingSession(request: request, target: target, recorder: recorder).run(write)
        }
    }

    /// The newest events as one batch; when following, each later event as it comes (and at most one batch per
    /// `watchInterval`), until the client hangs up.
    private func sendEvents(limit: Int, follow: Bool, peer: String?, channel: Channel) {
        let recorder = self.recorder
        let interval = watchInterval
        func matches(_ e: StatusEvent) -> Bool { peer == nil || e.peerID == peer || e.peerName == peer }
        let id = peer.flatMap { p in recorder.snapshot().peers.first { $0.id == p || $0.name == p }?.id }
        let backlog = peer == nil ? recorder.events(limit: limit) : id.map { recorder.events(limit: limit, peerID: $0) } ?? []
        var out: [UInt8] = []
        StatusWireFormat.appendHeader(to: &out)
        StatusWireFormat.appendEvents(backlog, to: &out)
        out += Array(".\n".utf8)
        let written = channel.writeAndFlush(channel.allocator.buffer(bytes: out))
        guard follow else {
            written.whenComplete { _ in channel.close(promise: nil) }
            return
        }
        let after = backlog.last?.sequence ?? 0
        watchTask = Task {
            for await change in recorder.subscribe() {
                let events = change.events.filter { $0.sequence > after && matches($0) }
                guard !events.isEmpty else { continue }
                var out: [UInt8] = []
                StatusWireFormat.appendEvents(events, to: &out)
                out += Array(".\n".utf8)
                do {
                    try await channel.writeAndFlush(channel.allocator.buffer(bytes: out))
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
            }
        }
    }

    private func startWatching(channel: Channel, splittingCounters: Bool) {
        let recorder = self.recorder
        let interval = watchInterval
        watchTask = Task {
            var first = true
            for await change in recorder.subscribe(splittingCounters: splittingCounters) {
                var out: [UInt8] = []
                if first { StatusWireFormat.appendHeader(to: &out) }
                first = false
                StatusWireFormat.appendChange(change, to: &out)
                // Waiting for the write is the backpressure: meanwhile the recorder coalesces further changes.
                do {
                    try await channel.writeAndFlush(channel.allocator.buffer(bytes: out))
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        watchTask?.cancel()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
