import Foundation
import ICETestSupport
import NIOCore
import Testing
@testable import STUN
@testable import ICE
@testable import Signal
@testable import Mesh

@Suite(.serialized, .timeLimit(.minutes(1)))
struct ICEAgentTests {
    @Test func twoAgentsConnectOverLoopback() async throws {
        let (a, logA) = AgentFactory.make(.controlling) { $0.consentInterval = .milliseconds(200) }
        let (b, logB) = AgentFactory.make(.controlled) { $0.consentInterval = .milliseconds(200) }
        try await AgentFactory.exchange(a, b)
        #expect(await logA.wait(seconds: 5) { $0.states.last == .connected && $0.roundTrips.count >= 2 })
        #expect(await logB.wait(seconds: 5) { $0.states.last == .connected })
        #expect(logA.states == [.checking, .connected])
        let pairA = try #require(logA.selected)
        let pairB = try #require(logB.selected)
        #expect(pairA.local.type == .host && pairA.remote.type == .host)
        #expect(pairA.local.address == pairB.remote.address)
        #expect(pairA.remote.address == pairB.local.address)
        #expect(pairA.local.address.ip == IPAddress("127.0.0.1"))
        #expect(logA.roundTrips.allSatisfy { $0 > .zero && $0 < .seconds(1) })
        #expect(try await a.candidatePairs().get().first { $0.nominated }?.state == .succeeded)
        _ = try await (a.close().get(), b.close().get())
        #expect(logA.states.last == .closed)
    }

    @Test(.enabled(if: HostCandidateFilter.loopbackIPv6Available)) func twoAgentsConnectOverIPv6Loopback() async throws {
        func v6(_ c: inout ICEAgentConfiguration) {
            c.hostFilter = .loopback(ipv6: true)
            c.hostFilter.includeIPv4 = false
        }
        let (a, logA) = AgentFactory.make(.controlling, configure: v6)
        let (b, logB) = AgentFactory.make(.controlled, configure: v6)
        try await AgentFactory.exchange(a, b)
        #expect(await logA.wait(seconds: 5) { $0.states.last == .connected && !$0.roundTrips.isEmpty })
        #expect(await logB.wait(seconds: 5) { $0.states.last == .connected })
        #expect(logA.selected?.local.address.ip == IPAddress("::1") && logA.selected?.remote.address.ip == IPAddress("::1"))
        #expect(logA.selected?.local.sdpString.contains(" ::1 ") == true)
        _ = try await (a.close().get(), b.close().get())
    }

    @Test func anAgentWithNoCandidatePairFailsAfterTheCheckingTimeout() async throws {
        // No local address passes the filter, so no pair can ever form.
        let (agent, log) = AgentFactory.make(.controlling) {
            $0.hostFilter.addresses = [IPAddress("192.0.2.1")!]
            $0.checkingTimeout = .milliseconds(300)
        }
        #expect(try await agent.gather().get().isEmpty)
        agent.setRemoteCredentials(ICECredentials(ufrag: "abcdefgh", pwd: "abcdefghijklmnopqrstuvwx"))
        #expect(await log.wait(seconds: 3) { $0.states.contains(.failed) })
        #expect(log.states == [.failed])
        _ = try await agent.close().get()
    }

    @Test func trickleInAnyOrder() async throws {
        let (a, logA) = AgentFactory.make(.controlling)
        let (b, logB) = AgentFactory.make(.controlled)
        try await AgentFactory.exchange(a, b, candidatesFirst: true)
        #expect(await logA.wait(seconds: 5) { $0.states.last == .connected })
        #expect(await logB.wait(seconds: 5) { $0.states.last == .connected })
        _ = try await (a.close().get(), b.close().get())
    }

    @Test func credentialsLateOnOneSideYieldPeerReflexiveThenHost() async throws {
        // B learns A's candidates late: A's checks reach it first (a peer-reflexive remote), then signalling
        // names the candidate and the pair shows it as host.
        let (a, logA) = AgentFactory.make(.controlling)
        let (b, logB) = AgentFactory.make(.controlled)
        let ca = try await a.gather().get()
        let cb = try await b.gather().get()
        a.setRemoteCredentials(b.localCredentials)
        b.setRemoteCredentials(a.localCredentials)
        cb.forEach(a.addRemoteCandidate)
        #expect(await logB.wait(seconds: 5) { $0.states.last == .connected })
        #expect(logB.selected?.remote.type == .peerReflexive)
        ca.forEach(b.addRemoteCandidate)
        #expect(await logB.wait(seconds: 2) { $0.selected?.remote.type == .host })
        #expect(await logA.wait(seconds: 2) { $0.states.last == .connected })
        _ = try await (a.close().get(), b.close().get())
    }

    @Test func roleConflictIsResolved() async throws {
        let (a, logA) = AgentFactory.make(.controlling)
        let (b, logB) = AgentFactory.make(.controlling)
        try await AgentFactory.exchange(a, b)
        #expect(await logA.wait(seconds: 5) { $0.states.last == .connected })
        #expect(await logB.wait(seconds: 5) { $0.states.last == .connected })
        let roles = try await [a.eventLoop.submit { a.role }.get(), b.eventLoop.submit { b.role }.get()]
        #expect(Set(roles) == [.controlling, .controlled])
        // The larger tie-breaker keeps the controlling role (RFC 8445 §7.3.1.1).
        let winner = a.tieBreaker > b.tieBreaker ? roles[0] : roles[1]
        #expect(winner == .controlling)
        _ = try await (a.close().get(), b.close().get())
    }

    @Test func consentLossDisconnectsAndRecoveryReconnects() async throws {
        func configure(_ c: inout ICEAgentConfiguration) {
            c.consentInterval = .milliseconds(200)
            c.disconnectedTimeout = .milliseconds(800)
            c.failedTimeout = .seconds(6)
        }
        let (a, logA) = AgentFactory.make(.controlling, configure: configure)
        let (b, logB) = AgentFactory.make(.controlled, configure: configure)
        let ca = try await a.gather().get()
        let cb = try await b.gather().get()
        // A reaches B only through a forwarder the test can cut; B answers through it as peer-reflexive.
        let path = try UDPForwarder(to: try #require(cb.first).address)
        defer { path.stop() }
        a.setRemoteCredentials(b.localCredentials)
        b.setRemoteCredentials(a.localCredentials)
        a.addRemoteCandidate(Candidate(foundation: "fwd", priority: cb[0].priority, address: path.frontAddress, type: .host))
        #expect(await logA.wait(seconds: 5) { $0.states.last == .connected })
        #expect(await logB.wait(seconds: 5) { $0.states.last == .connected })
        #expect(logA.selected?.remote.address == path.frontAddress)
        #expect(logB.selected?.remote.type == .peerReflexive)
        // The forwarder acts as a NAT: each side learns the address the other saw as a local peer-reflexive
        // candidate, based on its host socket.
        #expect(logA.selected?.local.type == .peerReflexive && logA.selected?.local.relatedAddress == ca.first?.address)
        #expect(logB.selected?.local.type == .peerReflexive && logB.selected?.local.address == path.frontAddress)
        path.cut()
        #expect(await logA.wait(seconds: 3) { $0.states.last == .disconnected })
        #expect(await logB.wait(seconds: 3) { $0.states.last == .disconnected })
        path.restore()
        #expect(await logA.wait(seconds: 3) { $0.states.last == .connected })
        #expect(await logB.wait(seconds: 3) { $0.states.last == .connected })
        #expect(logA.states == [.checking, .connected, .disconnected, .connected])
        // Cut for good: past the failed timeout the agent fails.
        path.cut()
        #expect(await logA.wait(seconds: 9) { $0.states.last == .failed })
        #expect(logA.states.suffix(2) == [.disconnected, .failed])
        _ = try await (a.close().get(), b.close().get())
    }

    @Test func onlyAuthenticatedChecksAreAnswered() async throws {
        let (a, _) = AgentFactory.make(.controlled)
        let target = try #require(try await a.gather().get().first).address
        let probe = try UDPProbe()
        let creds = a.localCredentials
        func request(user: String, password: String?, fingerprint: Bool = true) -> [UInt8] {
            var b = STUNMessageBuilder(type: .bindingRequest)
            b.append(.username, string: user)
            b.append(.priority, uint32: 12345)
            b.append(.iceControlling, uint64: 1)
            if let password { b.appendMessageIntegrity(key: Array(password.utf8)) }
            if fingerprint { b.appendFingerprint() }
            return b.encoded
        }
        // Wrong password, no integrity, wrong ufrag, garbage: all dropped without an answer.
        probe.send(request(user: "\(creds.ufrag):x", password: "wrong-password-0123456789"), to: target)
        probe.send(request(user: "\(creds.ufrag):x", password: nil), to: target)
        probe.send(request(user: "nope:x", password: creds.pwd), to: target)
        probe.send(Array(repeating: 0, count: 64), to: target)
        var tampered = request(user: "\(creds.ufrag):x", password: creds.pwd)
        tampered[tampered.count - 1] ^= 1 // fingerprint broken
        probe.send(tampered, to: target)
        #expect(probe.receiveAll(timeout: 0.3).isEmpty)
        #expect(try await a.eventLoop.submit { a.droppedDatagrams }.get() == 5) // each one counted as dropped
        // A valid check gets one response, no larger than the request, with the right mapped address.
        let valid = request(user: "\(creds.ufrag):x", password: creds.pwd)
        probe.send(valid, to: target)
        let responses = probe.receiveAll(timeout: 0.5)
        #expect(responses.count == 1)
        let response = try STUNMessage(decoding: try #require(responses.first))
        #expect(response.type == .bindingSuccess)
        #expect(response.xorAddress() == probe.address)
        #expect(response.verifyMessageIntegrity(key: Array(creds.pwd.utf8)))
        #expect(response.hasValidFingerprint)
        #expect(response.raw.count <= valid.count)
        _ = try await a.close().get()
    }
}
