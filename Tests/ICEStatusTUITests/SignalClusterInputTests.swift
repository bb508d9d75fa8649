import ICETestSupport
import ICEEngine
import Foundation
import NIOPosix
import Testing
@testable import ICEStatBench
@testable import ICEStatusTUI

/// Bad input at a cluster node: refused as on a single node, and nothing of it crosses to the other nodes.
@Suite("Signal cluster input", .serialized, .timeLimit(.minutes(2)))
struct SignalClusterInputTests {
    @Test func forgedReplayedMalformedOversizedAndUnprovenFramesAreRefusedAndNothingCrosses() async throws {
        let pg = try ThrowawayPostgres()
        let mesh = try MeshFixture()
        for n in 1...2 { try mesh.startNode(n, cluster: pg.url) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let a = PeerKey(), b = PeerKey(), mallory = PeerKey()
        func client(_ key: PeerKey, node: Int, watching: PeerKey) -> (SignalClient, SignalInbox) {
            let inbox = SignalInbox()
            let c = SignalClient(host: "127.0.0.1", port: mesh.nodePort(node), key: key, eventLoop: group.next()) { inbox.record($0) }
            c.start(watching: [watching.publicKeyBase64])
            return (c, inbox)
        }
        // a on node 1, b on node 2.
        let (ca, ia) = client(a, node: 1, watching: b)
        let (cb, ib) = client(b, node: 2, watching: a)
        #expect(await eventually(seconds: 10) { ia.presence.last.map { $0 == (b.publicKeyBase64, true) } == true
            && ib.presence.last.map { $0 == (a.publicKeyBase64, true) } == true })

        // Forged: Mallory, registered on node 1 under her own key, sends b a body she did not seal: it crosses
        // (the nodes cannot open sealed bodies) and b refuses it.
        let m = try await RawSignalConnection(port: mesh.nodePort(1), group: group)
        try await m.register(mallory)
        try await m.send(.send(to: b.publicKeyBytes, body: [UInt8](repeating: 0xAB, count: 60)))
        // Replayed: a message sealed by a, sent twice by a twin of a on node 1 (which replaces a's connection).
        let captured = try SignalSealer(privateKey: a.privateKey, peerKey: b.publicKeyBytes)
            .seal(.candidate("candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host", session: 3), sequence: SignalReplayGuard.nowMicros())
        let twin = try await RawSignalConnection(port: mesh.nodePort(1), group: group)
        try await twin.register(a)
        try await twin.send(.send(to: b.publicKeyBytes, body: captured))
        try await twin.send(.send(to: b.publicKeyBytes, body: captured))
        #expect(try await eventually(seconds: 5) {
            let c = try await cb.counters().get()
            return c.rejectedForged == 1 && c.rejectedReplayed == 1 && c.received == 1
        })
        // Too big to cross nodes (NOTIFY carries 8000 bytes): refused to its sender, with the reason.
        try await twin.send(.send(to: b.publicKeyBytes, body: [UInt8](repeating: 7, count: 7000)))
        let refusal = await twin.next()
        guard case .refused(let to, let why)? = refusal else { Issue.record("no refusal but \(String(describing: refusal))"); return }
        #expect(to == b.publicKeyBytes)
        #expect(why == "a sealed message of 7000 bytes is too big to cross nodes (PostgreSQL NOTIFY carries at most 8000 bytes)")
        await twin.close()

        // Malformed, oversized, out of order, and a wrong proof, all on node 1: each closes only its connection.
        let errors = await SignalBadInput.closingErrors(try await SignalBadInput.send(port: mesh.nodePort(1), group: group, victim: b.publicKeyBytes))
        #expect(errors["garbage"] == "malformed frame: unknown frame type")
        #expect(errors["huge"] == "oversized frame: 65536 bytes (limit 16384)")
        #expect(errors["early"] == "unexpected frame: send in this phase")
        #expect(errors["liar"]??.hasPrefix("registration proof did not verify") == true, "\(errors)")

        // a's own client comes back on node 1 and still reaches b on node 2.
        #expect(await eventually(seconds: 8) { ia.connectedCount >= 2 })
        ca.send(.goIdle, from: a.publicKeyBase64, to: b.publicKeyBase64)
        #expect(await eventually(seconds: 5) { ib.messages.count == 2 })
        // Exactly the four sealed bodies crossed (forged, replayed twice, goIdle): none for the bad frames,
        // and the one too big was refused before it.
        let one = mesh.nodeStatus(1), two = mesh.nodeStatus(2)
        #expect(one["forwardedToOtherNodes"] as? Int == 4 && one["refused"] as? Int == 1, "\(one)")
        #expect(one["rejectedFrames"] as? Int == 4 && one["failedProofs"] as? Int == 1, "\(one)")
        #expect(two["receivedFromOtherNodes"] as? Int == 4 && two["forwardedToOtherNodes"] as? Int == 0, "\(two)")
        #expect(two["rejectedFrames"] as? Int == 0, "\(two)")
        await m.close()
        try await ca.stop().get()
        try await cb.stop().get()
        try await group.shutdownGracefully()
    }
}
