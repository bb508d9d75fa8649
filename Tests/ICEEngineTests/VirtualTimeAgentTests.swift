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

    /// A lone agent on 127.0.0.1 with remote candidates at addresses where nothing listens.
    private func loneAgent(on loop: EmbeddedEventLoop, _ network: InMemoryNetwork,
                           _ configure: (inout ICEAgentConfiguration) -> Void) -> (ICEAgent, EventLog) {
        var config = ICEAgentConfiguration.loopback()
        config.hostNetwork = network.host("127.0.0.1")
        configure(&config)
        let log = EventLog()
        let a = ICEAgent(role: .controlling, configuration: config, eventLoop: loop) { log.append($0) }
        _ = a.gather()
        loop.run()
        a.setRemoteCredentials(ICECredentials.random())
        return (a, log)
    }

    @Test func pairsStartFrozenAndOnePerFoundationIsChecked() throws {
        let loop = EmbeddedEventLoop()
        let network = InMemoryNetwork()
        // Ta of 10 s: only the first paced check goes out while time stands still.
        let (a, _) = loneAgent(on: loop, network) { $0.checkInterval = .seconds(10) }
        let silent = ["127.0.0.2:5000", "127.0.0.2:5001", "127.0.0.2:5002"].map { TransportAddress($0)! }
        // Two remote candidates share foundation "one", a third has its own.
        a.addRemoteCandidate(Candidate(foundation: "one", priority: 300, address: silent[0], type: .host))
        a.addRemoteCandidate(Candidate(foundation: "one", priority: 200, address: silent[1], type: .host))
        a.addRemoteCandidate(Candidate(foundation: "two", priority: 100, address: silent[2], type: .host))
        loop.run()
        let states = Dictionary(uniqueKeysWithValues: a.checklistOnLoop.map { ($0.remote.address, $0.state) })
        #expect(states[silent[0]] == .inProgress) // the best pair, checked first
        #expect(states[silent[1]] == .frozen) // same foundation: waits for the first one's fate
        #expect(states[silent[2]] == .waiting) // its own foundation: next in line
        #expect(network.datagrams.map(\.to) == [silent[0]])
        _ = a.close()
        loop.run()
    }

    @Test func anUnreachablePeerFailsOnceItsOnlyPairHasFailed() throws {
        let loop = EmbeddedEventLoop()
        let network = InMemoryNetwork()
        let (a, log) = loneAgent(on: loop, network) {
            $0.retransmission = STUNRetransmission(initialRTO: .milliseconds(100), maxRetransmissions: 2)
        }
        let silent = TransportAddress("127.0.0.2:5000")!
        a.addRemoteCandidate(Candidate(foundation: "1", priority: 100, address: silent, type: .host))
        a.setRemoteEndOfCandidates()
        loop.run()
        // The check goes out at 0, again at 100 and 300 ms, and gives up at 700 ms; the next tick fails the agent.
        loop.advanceTime(by: .milliseconds(699))
        #expect(log.states == [.checking])
        loop.advanceTime(by: .milliseconds(1 + 50))
        #expect(log.states == [.checking, .failed])
        // Three transmissions (one plus two retransmissions) went to the silent peer, nothing more.
        loop.advanceTime(by: .seconds(5))
        #expect(network.datagrams.filter { $0.to == silent }.count == 3)
        _ = a.close()
        loop.run()
    }
}
