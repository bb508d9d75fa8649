import Foundation
import NIOCore
import NIOPosix
import StatusRecorder
import Testing
@testable import ICEStatusTUI

/// The one-shot reports read the status stream as it comes: a whole report from a whole batch, and from a stream
/// cut short or garbled, an error and nothing presented as the report.
@Suite(.serialized) struct ReportStreamTests {
    /// A status socket that answers any request with `bytes`, then closes.
    private func serve(_ bytes: [UInt8], _ body: (String) async throws -> Void) async throws {
        let path = Harness.temporarySocket()
        try StatusSocketPath.prepareDirectory(for: path)
        let group = MultiThreadedEventLoopGroup.singleton
        let server = try await ServerBootstrap(group: group)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(AnswerOnce(bytes: bytes))
                }
            }
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true)
            .get()
        do {
            try await body(path)
        } catch {
            try? await server.close()
            throw error
        }
        try await server.close()
    }

    private func stream(_ snapshot: StatusSnapshot) -> [UInt8] {
        var bytes: [UInt8] = []
        StatusWireFormat.appendHeader(to: &bytes)
        StatusWireFormat.appendSnapshot(snapshot, full: false, to: &bytes)
        return bytes
    }

    @Test func aWholeStreamGivesEveryPeersBlockAndTheSummary() async throws {
        let snapshot = Fixtures.snapshot()
        try await serve(stream(snapshot)) { path in
            let result = try Harness.icestat(["--detail", "--socket", path, "--events", "0"])
            #expect(result.status == 0)
            let text = result.stdout
            #expect(text.hasPrefix("Peers detail:\n"))
            for p in snapshot.peers { #expect(text.contains("\n \(p.name):\n  Public key: \(p.id)\n")) }
            #expect(text.contains("Peers count: \(snapshot.peers.count { $0.state == .connected })/\(snapshot.peers.count) Connected\n"))
        }
    }

    @Test func aStreamCutShortIsAnErrorAndNoReport() async throws {
        let whole = stream(Fixtures.snapshot())
        let cut = Array(whole.prefix(whole.count - 40))
        try await serve(cut) { path in
            var sink = ReportStream(DetailReport(now: 0), filter: PeerFilter())
            #expect(throws: StatusSocketError.self) {
                try StatusSocketReader.read(path: path, request: .snapshot(full: false, events: 0), into: &sink) { $0.output != nil }
            }
            #expect(sink.output == nil)
            for format in ["--detail", "--json", "--yaml"] {
                let result = try Harness.icestat([format, "--socket", path])
                #expect(result.status == 2)
                #expect(result.stdout == "")
                #expect(result.stderr == "icestat: status socket: the agent closed the connection after \(cut.count) bytes, before the report was complete\n")
            }
        }
    }

    @Test func aGarbledStreamIsAnErrorAndNoReport() async throws {
        var bytes = stream(Fixtures.snapshot())
        let text = String(decoding: bytes, as: UTF8.self)
        let line = text.split(separator: "\n").first { $0.hasPrefix("P\t") }!
        var fields = line.split(separator: "\t", omittingEmptySubsequences: false)
        fields[4] = "yesterday" // state-changed-at
        let garbled = fields.joined(separator: "\t")
        bytes = Array(text.replacingOccurrences(of: String(line), with: garbled).utf8)
        try await serve(bytes) { path in
            let result = try Harness.icestat(["--json", "--socket", path])
            #expect(result.status == 2)
            #expect(result.stdout == "")
            #expect(result.stderr == "icestat: status socket: malformed status line: \(garbled.prefix(80))\n")
        }
    }
}

/// Writes its bytes to whoever connects, then closes.
private final class AnswerOnce: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let bytes: [UInt8]
    init(bytes: [UInt8]) { self.bytes = bytes }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(bytes: bytes))).whenComplete { _ in channel.close(promise: nil) }
    }
}
