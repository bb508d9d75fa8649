import Foundation
import ICETestSupport
import NIOCore
import Synchronization
import Testing
@testable import STUN
@testable import ICE
@testable import Signal
@testable import Mesh

/// TURN over TCP and TLS (RFC 8656 §3.1, §12.5) against a real coturn on loopback, with a CA and certificate
/// the test makes with openssl.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct TURNStreamTests {
    static let certificates = Result { try TestCertificates(names: ["127.0.0.1", "turn.test"]) }

    @Test(arguments: [TURNTransport.tcp, .tls])
    func allocatesRelaysBothWaysThroughAChannelRefreshesAndDeletes(_ transport: TURNTransport) async throws {
        let certs = try Self.certificates.get()
        let coturn = try await Coturn(certificates: certs)
        defer { coturn.stop() }
        let received = TURNClientTests.Received()
        let client = TURNClient(server: coturn.server(transport, caFile: certs.caFile), eventLoop: AgentFactory.group.next(),
                                onData: { received.add($0, $1) })
        let allocation = try await client.allocate(localAddress: IPAddress("127.0.0.1")!).get()
        #expect(allocation.relayed.ip == IPAddress("127.0.0.1"))
        let peer = try UDPProbe()
        _ = try await client.bindChannel(peer: peer.address).get()
        // Odd lengths: ChannelData over the stream is padded to 4 bytes each way.
        peer.send(Array("peer to client".utf8), to: allocation.relayed)
        let got = await received.wait(count: 1)
        #expect(got.first?.0 == peer.address && got.first?.1 == Array("peer to client".utf8))
        client.send(Array("client to peer, 27 bytes..".utf8), to: peer.address)
        #expect(peer.receiveOne(timeout: 2)?.0 == Array("client to peer, 27 bytes..".utf8))
        #expect(try await client.refresh().get() == 600)
        _ = try await client.close().get()
        let log = coturn.logText
        #expect(log.contains("CHANNEL_BIND processed, success") && log.contains("REFRESH processed, success"), "\(log.suffix(2000))")
        #expect(log.contains(transport == .tls ? "TLS/TCP" : "TCP"))
    }

    @Test func aCertificateForAnotherNameIsRefusedNamingTheServer() async throws {
        // A certificate for turn.test only (an IP address in it would match the connected address whatever the name).
        let certs = try TestCertificates(names: ["turn.test"])
        let coturn = try await Coturn(certificates: certs)
        defer { coturn.stop() }
        // The right name (sent as SNI) verifies; another does not, nor does the bare address.
        let right = TURNClient(server: coturn.server(.tls, caFile: certs.caFile, host: "turn.test"), eventLoop: AgentFactory.group.next(),
                               onData: { _, _ in })
        _ = try await right.allocate(localAddress: IPAddress("127.0.0.1")!).get()
        _ = try await right.close().get()
        let bare = TURNClient(server: coturn.server(.tls, caFile: certs.caFile), eventLoop: AgentFactory.group.next(), onData: { _, _ in })
        await #expect(throws: TURNError.self) { _ = try await bare.allocate(localAddress: IPAddress("127.0.0.1")!).get() }
        _ = try? await bare.close().get()
        let server = coturn.server(.tls, caFile: certs.caFile, host: "wrong.test")
        let client = TURNClient(server: server, eventLoop: AgentFactory.group.next(), onData: { _, _ in })
        do {
            _ = try await client.allocate(localAddress: IPAddress("127.0.0.1")!).get()
            Issue.record("allocated through a certificate for another name")
        } catch {
            #expect("\(error)".hasPrefix("TURN server \(server.url): TLS: the certificate does not name this server"), "\(error)")
        }
        _ = try? await client.close().get()
    }

    @Test func aCertificateFromAnUntrustedCAIsRefused() async throws {
        let certs = try Self.certificates.get()
        let coturn = try await Coturn(certificates: certs)
        defer { coturn.stop() }
        let server = coturn.server(.tls, caFile: certs.otherCAFile)
        let client = TURNClient(server: server, eventLoop: AgentFactory.group.next(), onData: { _, _ in })
        do {
            _ = try await client.allocate(localAddress: IPAddress("127.0.0.1")!).get()
            Issue.record("allocated through an untrusted certificate")
        } catch {
            #expect("\(error)".hasPrefix("TURN server \(server.url): TLS handshake failed (certificate not trusted, or refused)"), "\(error)")
        }
        _ = try? await client.close().get()
    }

    @Test func aKilledConnectionIsNoticedAtOnce() async throws {
        let coturn = try await Coturn()
        defer { coturn.stop() }
        // A TCP forwarder between the client and coturn, which the test kills.
        let port = Int.random(in: 48000...49000)
        let ready = NSTemporaryDirectory() + "icestat-forwarder-\(UUID().uuidString.prefix(8))"
        defer { unlink(ready) }
        let forwarder = try TestProcess(["python3", "-c", """
            import socket, threading
            l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(("127.0.0.1", \(port))); l.listen(1)
            print("ready", flush=True)
            c, _ = l.accept(); u = socket.create_connection(("127.0.0.1", \(coturn.address.port)))
            def pump(a, b):
                while (d := a.recv(65536)): b.sendall(d)
            threading.Thread(target=pump, args=(u, c), daemon=True).start(); pump(c, u)
            """], stdout: ready)
        let listening = await eventually(seconds: 10, every: .milliseconds(10)) {
            ((try? String(contentsOfFile: ready, encoding: .utf8)) ?? "").contains("ready")
        }
        #expect(listening)
        let lost = Mutex<(String, ContinuousClock.Instant)?>(nil)
        var server = coturn.server(.tcp)
        server.address = TransportAddress(ip: IPAddress("127.0.0.1")!, port: UInt16(port))
        let client = TURNClient(server: server, eventLoop: AgentFactory.group.next(), onData: { _, _ in },
                                onConnectionLost: { reason in lost.withLock { $0 = (reason, .now) } })
        _ = try await client.allocate(localAddress: IPAddress("127.0.0.1")!).get()
        let killedAt = ContinuousClock.now
        forwarder.kill()
        for _ in 0..<100 where lost.withLock({ $0 == nil }) { try await Task.sleep(for: .milliseconds(10)) }
        let noticed = lost.withLock { $0 }
        #expect(noticed != nil)
        if let (reason, at) = noticed {
            #expect(at - killedAt < .milliseconds(500), "noticed after \(at - killedAt)")
            #expect(reason == "connection closed by the server" || reason.contains("reset"), "\(reason)")
        }
        // The allocation went with it: sending or refreshing fails rather than hangs.
        await #expect(throws: TURNError.self) { _ = try await client.refresh().get() }
        _ = try? await client.close().get()
    }
}
