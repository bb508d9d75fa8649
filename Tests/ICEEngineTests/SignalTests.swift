import ICETestSupport
import Crypto
import NIOCore
import NIOPosix
import Synchronization
import Testing
@testable import STUN
@testable import ICE
@testable import Signal
@testable import Mesh

@Suite("Signal protocol") struct SignalProtocolTests {
    @Test func framesRoundTrip() throws {
        let k = [UInt8](repeating: 7, count: 32)
        let frames: [SignalFrame] = [.hello(publicKey: k), .challenge(serverKey: k, nonce: k), .proof(mac: k), .welcome,
                                     .subscribe(keys: [k, k]), .presence(key: k, online: true), .send(to: k, body: [1, 2, 3]),
                                     .deliver(from: k, body: []), .error("nope"), .refused(to: k, reason: "database away")]
        for frame in frames {
            var buffer = ByteBuffer()
            frame.encode(into: &buffer)
            #expect(try SignalFrame(decoding: buffer) == frame)
        }
    }

    @Test func malformedFramesAreRefused() {
        let cases: [([UInt8], SignalProtocolError)] = [
            ([], .malformed("unknown frame type")),
            ([99], .malformed("unknown frame type")),
            ([1] + [UInt8](repeating: 0, count: 31), .malformed("truncated key")),
            ([4, 0], .malformed("trailing bytes")),
            ([5] + [UInt8](repeating: 0, count: 33), .malformed("bad subscription list")),
            ([6] + [UInt8](repeating: 0, count: 32) + [2], .malformed("bad presence flag")),
        ]
        for (bytes, error) in cases {
            #expect(throws: error) { try SignalFrame(decoding: ByteBuffer(bytes: bytes)) }
        }
    }

    @Test func sealedMessagesOpenOnlyForTheirReceiverAndUnaltered() throws {
        let a = PeerKey(), b = PeerKey(), m = PeerKey()
        let ab = try SignalSealer(privateKey: a.privateKey, peerKey: b.publicKeyBytes)
        let ba = try SignalSealer(privateKey: b.privateKey, peerKey: a.publicKeyBytes)
        let message = SignalMessage.offer(ICECredentials(ufrag: "abcd", pwd: "0123456789abcdefghijklmn"), session: 42)
        let body = try ab.seal(message, sequence: 9)
        let opened = try ba.open(body)
        #expect(opened.sequence == 9 && opened.message == message)
        // The credentials are not in the clear.
        #expect(!body.indices.contains { body[$0...].starts(with: Array("0123456789abcdef".utf8)) })
        var altered = body
        altered[20] ^= 1
        #expect(throws: SignalProtocolError.authentication("message not sealed by the claimed sender")) { try ba.open(altered) }
        // Sealed by someone else (M) but claimed to be from A: B opens it with its A key and fails.
        let mb = try SignalSealer(privateKey: m.privateKey, peerKey: b.publicKeyBytes)
        #expect(throws: SignalProtocolError.authentication("message not sealed by the claimed sender")) { try ba.open(try mb.seal(message, sequence: 10)) }
        // A reflected message (A's own, sent back to A) does not open either: the direction is bound.
        #expect(throws: SignalProtocolError.authentication("message not sealed by the claimed sender")) { try ab.open(body) }
        for m in [SignalMessage.answer(ICECredentials(ufrag: "u", pwd: "p"), session: 1),
                  .offer(ICECredentials(ufrag: "u", pwd: "p"), session: 2, nat: .symmetric),
                  .answer(ICECredentials(ufrag: "u", pwd: "p"), session: 3, nat: .portRestrictedCone), .candidate("candidate:1 1 udp 1 127.0.0.1 9 typ host", session: .max), .goIdle] {
            #expect(try ba.open(try ab.seal(m, sequence: 1)).message == m)
        }
    }

    @Test func offersCarryTheNATVerdictAndOptionalFieldsStayCompatible() throws {
        var bytes: [UInt8] = []
        SignalMessage.offer(ICECredentials(ufrag: "uf", pwd: "pw"), session: 5, nat: .fullCone).encode(into: &bytes)
        #expect(try SignalMessage(decoding: bytes[...]) == .offer(ICECredentials(ufrag: "uf", pwd: "pw"), session: 5, nat: .fullCone))
        // An older agent's offer (no optional field) reads with no verdict.
        var old: [UInt8] = []
        SignalMessage.offer(ICECredentials(ufrag: "uf", pwd: "pw"), session: 5).encode(into: &old)
        #expect(old.count == bytes.count - 12)
        #expect(try SignalMessage(decoding: old[...]) == .offer(ICECredentials(ufrag: "uf", pwd: "pw"), session: 5, nat: nil))
        // A newer one's unknown field is skipped; an unknown verdict word is no verdict.
        let newer = bytes + [9, 0, 3] + Array("abc".utf8)
        #expect(try SignalMessage(decoding: newer[...]) == .offer(ICECredentials(ufrag: "uf", pwd: "pw"), session: 5, nat: .fullCone))
        var odd: [UInt8] = []
        SignalMessage.offer(ICECredentials(ufrag: "uf", pwd: "pw"), session: 5).encode(into: &odd)
        odd += [1, 0, 4] + Array("cone".utf8)
        #expect(try SignalMessage(decoding: odd[...]) == .offer(ICECredentials(ufrag: "uf", pwd: "pw"), session: 5, nat: nil))
        // A truncated optional field is malformed, as any truncation is.
        #expect(throws: SignalProtocolError.self) { try SignalMessage(decoding: (old + [1, 0, 9])[...]) }
    }

    @Test func replayGuardWantsGrowingSequencesAndNothingFromBeforeStart() {
        let start: UInt64 = 1_000_000_000_000
        var guardian = SignalReplayGuard(startMicros: start, tolerance: .seconds(120))
        let a = [UInt8](repeating: 1, count: 32), b = [UInt8](repeating: 2, count: 32)
        var results: [Bool] = []
        results.append(guardian.accept(sequence: start, from: a))
        results.append(guardian.accept(sequence: start, from: a))
        results.append(guardian.accept(sequence: start - 1, from: a))
        results.append(guardian.accept(sequence: start - 1, from: b))
        results.append(guardian.accept(sequence: start - 121_000_000, from: [3]))
        results.append(guardian.accept(sequence: start - 119_000_000, from: [3]))
        #expect(results == [true, false, false, true, false, true])
    }

    @Test func registrationProofIsBoundToTheKeyAndTheChallenge() throws {
        let agent = PeerKey(), other = PeerKey(), server = Curve25519.KeyAgreement.PrivateKey()
        let nonce = [UInt8](repeating: 5, count: 32)
        let mac = try SignalRegistration.proof(privateKey: agent.privateKey, serverKey: Array(server.publicKey.rawRepresentation), nonce: nonce)
        #expect(SignalRegistration.verify(mac: mac, agentKey: agent.publicKeyBytes, serverPrivate: server, nonce: nonce))
        #expect(!SignalRegistration.verify(mac: mac, agentKey: other.publicKeyBytes, serverPrivate: server, nonce: nonce))
        #expect(!SignalRegistration.verify(mac: mac, agentKey: agent.publicKeyBytes, serverPrivate: server, nonce: [UInt8](repeating: 6, count: 32)))
        #expect(!SignalRegistration.verify(mac: mac, agentKey: agent.publicKeyBytes, serverPrivate: Curve25519.KeyAgreement.PrivateKey(), nonce: nonce))
        // A low-order public key (all zeros) cannot register.
        #expect(!SignalRegistration.verify(mac: mac, agentKey: [UInt8](repeating: 0, count: 32), serverPrivate: server, nonce: nonce))
    }
}

@Suite("Signal server and client", .serialized, .timeLimit(.minutes(1)))
struct SignalServerTests {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    func client(_ key: PeerKey, port: Int, watching: [PeerKey]) -> (SignalClient, SignalInbox) {
        let inbox = SignalInbox()
        let c = SignalClient(host: "127.0.0.1", port: port, key: key, eventLoop: group.next()) { inbox.record($0) }
        c.start(watching: watching.map(\.publicKeyBase64))
        return (c, inbox)
    }

    @Test func agentsExchangeSealedMessagesAndLearnPresence() async throws {
        let server = try await SignalServer.start(host: "127.0.0.1", port: 0, group: group)
        let port = server.localAddress!.port!
        let a = PeerKey(), b = PeerKey()
        let (ca, ia) = client(a, port: port, watching: [b])
        #expect(await eventually(seconds: 5) { ia.connectedCount == 1 })
        let (cb, ib) = client(b, port: port, watching: [a])
        #expect(await eventually(seconds: 5) { ib.connectedCount == 1 })
        // B learns A is online from its subscription's answer; A is told when B registers.
        #expect(await eventually(seconds: 5) { ia.presence.map(\.0) == [b.publicKeyBase64] && ib.presence.map(\.0) == [a.publicKeyBase64] })
        let offer = SignalMessage.offer(ICECredentials(ufrag: "uf", pwd: "pw"), session: 7)
        ca.send(offer, from: a.publicKeyBase64, to: b.publicKeyBase64)
        cb.send(.goIdle, from: b.publicKeyBase64, to: a.publicKeyBase64)
        #expect(await eventually(seconds: 5) { ib.messages.count == 1 && ia.messages.count == 1 })
        #expect(ib.messages.first?.0 == a.publicKeyBase64 && ib.messages.first?.1 == offer)
        #expect(ia.messages.first?.1 == .goIdle)
        try await cb.stop().get()
        #expect(await eventually(seconds: 5) { ia.presence.last.map { $0.0 == b.publicKeyBase64 && !$0.1 } == true })
        try await ca.stop().get()
        await server.stop()
        try await group.shutdownGracefully()
    }

    @Test func forgedReplayedMalformedOversizedAndUnprovenInputIsRefusedWithoutDisturbingOthers() async throws {
        let server = try await SignalServer.start(host: "127.0.0.1", port: 0, group: group)
        let port = server.localAddress!.port!
        let a = PeerKey(), b = PeerKey(), mallory = PeerKey()
        let (ca, ia) = client(a, port: port, watching: [b])
        let (cb, ib) = client(b, port: port, watching: [a])
        #expect(await eventually(seconds: 5) { ia.connectedCount == 1 && ib.connectedCount == 1 })

        // Forged: Mallory (registered under her own key) sends A a body she did not seal with A: refused.
        let m = try await RawSignalConnection(port: port, group: group)
        try await m.register(mallory)
        try await m.send(.send(to: a.publicKeyBytes, body: [UInt8](repeating: 0xAB, count: 60)))
        // Replayed: a message sealed by B (as a compromised relay would hold it) delivered twice.
        let captured = try SignalSealer(privateKey: b.privateKey, peerKey: a.publicKeyBytes)
            .seal(.candidate("candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host", session: 3), sequence: SignalReplayGuard.nowMicros())
        let twin = try await RawSignalConnection(port: port, group: group)
        try await twin.register(b)   // replaces B's connection
        // Both at once: B's own client registers again half a second after it was replaced, and closes the twin.
        try await twin.send([.send(to: a.publicKeyBytes, body: captured), .send(to: a.publicKeyBytes, body: captured)])
        #expect(try await eventually(seconds: 5) {
            let c = try await ca.counters().get()
            return c.rejectedForged == 1 && c.rejectedReplayed == 1 && c.received == 1
        })
        await twin.close()

        // Malformed, oversized, out of order, and a wrong proof: each closes only its own connection.
        let errors = await SignalBadInput.closingErrors(try await SignalBadInput.send(port: port, group: group, victim: a.publicKeyBytes))
        #expect(errors["garbage"] == "malformed frame: unknown frame type")
        #expect(errors["huge"] == "oversized frame: 65536 bytes (limit 16384)")
        #expect(errors["early"] == "unexpected frame: send in this phase")
        #expect(errors["liar"]??.hasPrefix("registration proof did not verify") == true, "\(errors)")
        let counters = server.counters
        #expect(counters.rejectedFrames == 4 && counters.failedProofs == 1)

        // B's own client comes back (its twin replaced and then left) and A and B still talk.
        #expect(await eventually(seconds: 8) { ib.connectedCount >= 2 })
        cb.send(.goIdle, from: b.publicKeyBase64, to: a.publicKeyBase64)
        #expect(await eventually(seconds: 5) { ia.messages.count == 2 })
        await m.close()
        try await ca.stop().get()
        try await cb.stop().get()
        await server.stop()
        try await group.shutdownGracefully()
    }

    @Test func aClientThatDoesNotReadIsDroppedAndOthersKeepFlowing() async throws {
        let server = try await SignalServer.start(host: "127.0.0.1", port: 0, group: group, sendBufferLimit: 64 * 1024)
        let port = server.localAddress!.port!
        let slow = PeerKey(), sender = PeerKey(), a = PeerKey(), b = PeerKey()
        let sleeper = try await RawSignalConnection(port: port, group: group)
        try await sleeper.register(slow)
        try await sleeper.channel.setOption(.autoRead, value: false).get()
        let flood = try await RawSignalConnection(port: port, group: group)
        try await flood.register(sender)
        let (ca, ia) = client(a, port: port, watching: [b])
        let (cb, _) = client(b, port: port, watching: [a])
        #expect(await eventually(seconds: 5) { ia.connectedCount == 1 })
        let body = [UInt8](repeating: 1, count: 16_000)
        // Kernel buffers on loopback can hold megabytes: keep sending (bounded) until the server gives up on it.
        var sent = 0
        while server.counters.droppedSlowClients == 0, sent < 4000 {
            for _ in 0..<50 { flood.channel.write(SignalFrame.send(to: slow.publicKeyBytes, body: body), promise: nil) }
            try await flood.channel.writeAndFlush(SignalFrame.send(to: slow.publicKeyBytes, body: body)).get()
            sent += 51
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(await eventually(seconds: 5) { server.counters.droppedSlowClients == 1 }, "\(sent) frames sent")
        cb.send(.goIdle, from: b.publicKeyBase64, to: a.publicKeyBase64)
        #expect(await eventually(seconds: 5) { ia.messages.count == 1 })
        await sleeper.close()
        await flood.close()
        try await ca.stop().get()
        try await cb.stop().get()
        await server.stop()
        try await group.shutdownGracefully()
    }
}
