import Foundation
import ICETestSupport
import NIOCore
import Synchronization
import Testing
@testable import STUN
@testable import ICE
@testable import Signal
@testable import Mesh

/// Our TURN client against a real coturn on loopback.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct TURNClientTests {
    final class Received: Sendable {
        let items = Mutex<[(TransportAddress, [UInt8])]>([])
        func add(_ from: TransportAddress, _ data: [UInt8]) { items.withLock { $0.append((from, data)) } }
        func wait(count: Int, seconds: Double = 3) async -> [(TransportAddress, [UInt8])] {
            for _ in 0..<Int(seconds * 50) {
                let now = items.withLock { $0 }
                if now.count >= count { return now }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return items.withLock { $0 }
        }
    }

    /// Watches a counter that a timer raises every `period` seconds (from `offset` at the start) until it
    /// reaches `target`, checking at each look that it is never ahead of the time that has really passed: a
    /// loaded machine may wake the test late, never the timer early. Fails the watch after 15 s.
    static func watch(every period: Double, until target: Int, offset: Int = 0,
                      _ count: () -> Int) async throws -> (reached: Bool, early: [String]) {
        let start = ContinuousClock.now
        var early: [String] = []
        while count() < target, ContinuousClock.now - start < .seconds(15) {
            try await Task.sleep(for: .milliseconds(50))
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            if count() > offset + Int((seconds + 0.1) / period) { early.append("\(count()) after \(elapsed)") }
        }
        return (count() >= target, early)
    }

    @Test func theAllocationIsRefreshedOnItsOwnBeforeItExpires() async throws {
        // coturn grants at least 10 minutes, so the client is told to refresh 597 s early: every 3 s.
        let coturn = try await Coturn()
        defer { coturn.stop() }
        let received = Received()
        let client = coturn.client { received.add($0, $1) }
        client.refreshLeadSeconds = 597
        let allocation = try await client.allocate(localAddress: IPAddress("127.0.0.1")!, lifetimeSeconds: 600).get()
        #expect(allocation.lifetimeSeconds == 600)
        let peer = try UDPProbe()
        try await client.createPermission(peer: peer.address.ip).get()
        let watch = try await Self.watch(every: 3, until: 2) { client.refreshes }
        #expect(watch.reached && watch.early.isEmpty, "\(client.refreshes) refreshes; early: \(watch.early)")
        // The server accepted them: the allocation still relays both ways.
        peer.send(Array("still relayed".utf8), to: allocation.relayed)
        #expect(await received.wait(count: 1).first?.1 == Array("still relayed".utf8))
        client.send(Array("and back".utf8), to: peer.address)
        #expect(peer.receiveOne(timeout: 2)?.0 == Array("and back".utf8))
        _ = try await client.close().get()
    }

    @Test func permissionsAndChannelsAreRenewedOnTheirOwn() async throws {
        // Renewal every 2 s instead of 4 and 9 minutes: the timers fire, coturn accepts every renewal, and the
        // permission and the channel still carry data afterwards.
        let coturn = try await Coturn()
        defer { coturn.stop() }
        let received = Received()
        let client = coturn.client { received.add($0, $1) }
        client.permissionRefreshInterval = .seconds(2)
        client.channelRefreshInterval = .seconds(2)
        let allocation = try await client.allocate(localAddress: IPAddress("127.0.0.1")!).get()
        let viaPermission = try UDPProbe(), viaChannel = try UDPProbe()
        try await client.createPermission(peer: viaPermission.address.ip).get()
        let channel = try await client.bindChannel(peer: viaChannel.address).get()
        // 1 + renewals at 2 s and 4 s (each renewal is scheduled after the previous one's answer).
        let permissions = try await Self.watch(every: 2, until: 3, offset: 1) { client.permissionsInstalled }
        let bindings = try await Self.watch(every: 2, until: 3, offset: 1) { client.channelsBound }
        #expect(permissions.reached && permissions.early.isEmpty && bindings.reached && bindings.early.isEmpty,
                "\(client.permissionsInstalled) permissions, \(client.channelsBound) bindings; early: \(permissions.early + bindings.early)")
        viaPermission.send(Array("permission kept".utf8), to: allocation.relayed)
        viaChannel.send(Array("channel kept".utf8), to: allocation.relayed)
        let got = await received.wait(count: 2)
        #expect(Set(got.map { String(decoding: $0.1, as: UTF8.self) }) == ["permission kept", "channel kept"])
        // Renewing a binding keeps its number.
        #expect(try await client.bindChannel(peer: viaChannel.address).get() == channel)
        _ = try await client.close().get()
    }

    @Test func allocatePermissionChannelDataBothWaysRefreshAndDelete() async throws {
        let coturn = try await Coturn()
        defer { coturn.stop() }
        let received = Received()
        let client = coturn.client { received.add($0, $1) }
        let allocation = try await client.allocate(localAddress: IPAddress("127.0.0.1")!, lifetimeSeconds: 300).get()
        #expect(allocation.relayed.ip == IPAddress("127.0.0.1"))
        #expect(allocation.relayed.port != coturn.address.port)
        #expect(allocation.mapped == client.localAddress)
        // Below the default of 10 minutes the server grants the default (RFC 8656 §7.2).
        #expect(allocation.lifetimeSeconds == 600)

        let peer = try UDPProbe()
        // Without a permission the relay drops what the peer sends.
        peer.send(Array("too early".utf8), to: allocation.relayed)
        #expect(await received.wait(count: 1, seconds: 0.5).isEmpty)

        // Permission, then Data indications in and Send indications out.
        try await client.createPermission(peer: peer.address.ip).get()
        peer.send(Array("hello via data indication".utf8), to: allocation.relayed)
        let first = await received.wait(count: 1)
        #expect(first.count == 1 && first.first?.0 == peer.address && first.first?.1 == Array("hello via data indication".utf8))
        client.send(Array("hello via send indication".utf8), to: peer.address)
        let out1 = try #require(peer.receiveOne(timeout: 2))
        #expect(out1.0 == Array("hello via send indication".utf8) && out1.1 == allocation.relayed)

        // A channel: ChannelData both ways.
        let number = try await client.bindChannel(peer: peer.address).get()
        #expect(ChannelData.validChannels.contains(number))
        client.send(Array("over the channel".utf8), to: peer.address)
        let out2 = try #require(peer.receiveOne(timeout: 2))
        #expect(out2.0 == Array("over the channel".utf8) && out2.1 == allocation.relayed)
        peer.send(Array("back over the channel".utf8), to: allocation.relayed)
        let second = await received.wait(count: 2)
        #expect(second.count == 2 && second.last?.0 == peer.address && second.last?.1 == Array("back over the channel".utf8))

        // Refresh keeps it; close deletes it (the relay forwards nothing afterwards).
        #expect(try await client.refresh(lifetimeSeconds: 900).get() == 900)
        #expect(client.refreshes == 1)
        try await client.close().get()
        peer.send(Array("after delete".utf8), to: allocation.relayed)
        #expect(await received.wait(count: 3, seconds: 0.5).count == 2)
    }

    @Test func wrongPasswordIsAClearError() async throws {
        let coturn = try await Coturn()
        defer { coturn.stop() }
        let client = TURNClient(server: coturn.address, username: Coturn.user, password: "not-the-password",
                                eventLoop: AgentFactory.group.next()) { _, _ in }
        await #expect(throws: TURNError.unauthorized(server: coturn.address.description, realm: Coturn.realm)) {
            try await client.allocate(localAddress: IPAddress("127.0.0.1")!).get()
        }
        let message = TURNError.unauthorized(server: coturn.address.description, realm: Coturn.realm).description
        #expect(message.contains("refused the credentials") && message.contains("icestat.test"))
        try await client.close().get()
    }

    @Test func deadServerTimesOut() async throws {
        let silent = try UDPProbe()
        let client = TURNClient(server: silent.address, username: "u", password: "p", eventLoop: AgentFactory.group.next()) { _, _ in }
        await #expect(throws: TURNError.timedOut("Allocate request")) {
            try await client.allocate(localAddress: IPAddress("127.0.0.1")!).get()
        }
        // 7 transmissions with backoff, then the error; nothing more.
        #expect(silent.receiveAll(timeout: 0.2).count == 7)
        try await client.close().get()
    }

    @Test func channelDataCodec() {
        let encoded = ChannelData.encode(channel: 0x4001, data: [1, 2, 3])
        #expect(encoded == [0x40, 0x01, 0x00, 0x03, 1, 2, 3])
        #expect(ChannelData.decode(encoded)?.channel == 0x4001)
        #expect(ChannelData.decode(encoded + [0])?.data == [1, 2, 3]) // UDP padding accepted
        #expect(ChannelData.decode([0x40, 0x01, 0x00, 0x09, 1]) == nil) // length past the end
        #expect(ChannelData.decode([0x30, 0x01, 0x00, 0x00]) == nil) // not a client channel
        #expect(ChannelData.looksLikeChannelData(encoded) && !ChannelData.looksLikeChannelData([0, 1, 0, 0]))
    }
}
