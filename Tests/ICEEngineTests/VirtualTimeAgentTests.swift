import ICETestSupport
import NIOCore
import NIOEmbedded
import Testing
@testable import ICE
@testable import STUN

/// ICE agents over the in-memory network, on an `EmbeddedEventLoop`: time moves only when the test moves it,
/// so schedules are asserted to the millisecond and nothing sleeps. The hosts have loopback addresses, so the
/// agents' loopback-only remote filter stays on; no datagram leaves the process.
@Suite struct VirtualTimeAgentTests {
    private func agent(_ role: ICERole, _ host: some HostNetwork, on loop: EmbeddedEventLoop) -> (ICEAgent, EventLog) {
        var config = ICEAgentConfiguration.loopback()
        config.hostNetwork = host
        let log = EventLog()
        return (ICEAgent(role: role, configuration: config, eventLoop: loop) { log.append($0) }, log)
    }

    /// Two agents that have gathered and told each other their credentials and candidates.
    private func pair(on loop: EmbeddedEventLoop, _ network: InMemoryNetwork) -> (a: ICEAgent, logA: EventLog, b: ICEAgent, logB: EventLog) {
        let (a, logA) = agent(.controlling, network.host("127.0.0.1"), on: loop)
        let (b, logB) = agent(.controlled, network.host("127.0.0.2"), on: loop)
        _ = a.gather()
        _ = b.gather()
        loop.run()
        a.setRemoteCredentials(b.localCredentials)
        b.setRemoteCredentials(a.localCredentials)
        logA.localCandidates.forEach(b.addRemoteCandidate)
        logB.localCandidates.forEach(a.addRemoteCandidate)
        loop.run()
        return (a, logA, b, logB)
    }

    private func requests(_ network: InMemoryNetwork, from: String) -> Int {
        network.datagrams.filter { d in
            d.from.ip == IPAddress(from) && (try? STUNMessage(decoding: d.bytes))?.type == .bindingRequest
        }.count
    }

    @Test func twoAgentsConnectOverTheInMemoryNetwork() throws {
        let loop = EmbeddedEventLoop()
        let network = InMemoryNetwork()
        let (a, logA, b, logB) = pair(on: loop, network)
        loop.advanceTime(by: .seconds(1))
        #expect(logA.states.last == .connected)
        #expect(logB.states.last == .connected)
        #expect(logA.selected?.local.address.description == "127.0.0.1:40000")
        #expect(logA.selected?.remote.address.description == "127.0.0.2:40001")
        #expect(logB.selected?.remote.address.description == "127.0.0.1:40000")
        #expect(network.datagrams.allSatisfy { $0.delivered })
        _ = a.close()
        _ = b.close()
        loop.run()
        #expect(logA.states.last == .closed)
    }

    /// RFC 8489 §6.2.1 as the agent runs it: seven checks 250, 500, 1000 and 1600 ms apart, then the pair
    /// fails at the end of the last wait, to the millisecond.
    @Test func aCheckThatIsNeverAnsweredIsSentSevenTimesThenItsPairFails() throws {
        let loop = EmbeddedEventLoop()
        let network = InMemoryNetwork()
        network.cut("127.0.0.1", "127.0.0.2")
        let (a, _, b, _) = pair(on: loop, network)
        // Virtual milliseconds since the candidates were exchanged at which each check went out.
        var sentAt = Array(repeating: 0, count: requests(network, from: "127.0.0.1"))
        var failedAt: Int?
        for ms in 1...10_000 {
            loop.advanceTime(by: .milliseconds(1))
            while sentAt.count < requests(network, from: "127.0.0.1") { sentAt.append(ms) }
            if failedAt == nil, a.checklistOnLoop.first?.state == .failed { failedAt = ms }
        }
        let gaps = zip(sentAt.dropFirst(), sentAt).map { $0 - $1 }
        #expect(gaps == [250, 500, 1000, 1600, 1600, 1600])
        #expect(failedAt.map { $0 - sentAt[0] } == 8150)
        #expect(a.checklistOnLoop.first?.requestsSent == 7)
        #expect(network.datagrams.allSatisfy { !$0.delivered })
        _ = a.close()
        _ = b.close()
        loop.run()
    }
}
