import ICETestSupport
import NIOCore
import Testing
@testable import STUN
@testable import ICE
@testable import Signal
@testable import Mesh

/// Sessions that share one fixed host port (`ice.port`) through a ``UDPPortMux``.
@Suite(.serialized)
struct UDPPortMuxTests {
    static func freePort() throws -> Int {
        let probe = try UDPProbe()
        return Int(probe.address.port) // closed when the probe goes: the port is free again
    }

    static func data(_ log: EventLog) -> [String] {
        log.all.compactMap { if case .data(let b) = $0 { String(buffer: b) } else { nil } }
    }

    @Test func sessionsOnOneFixedPortEachReachTheirOwnRemote() async throws {
        let port = try Self.freePort()
        let mux = UDPPortMux(port: port, group: AgentFactory.group)
        try await mux.bind([IPAddress("127.0.0.1")!]).get()
        func shared(_ c: inout ICEAgentConfiguration) {
            c.hostPort = port
            c.portMux = mux
        }
        let (a1, logA1) = AgentFactory.make(.controlling, configure: shared)
        let (a2, logA2) = AgentFactory.make(.controlled, configure: shared)
        let (b1, logB1) = AgentFactory.make(.controlled)
        let (b2, logB2) = AgentFactory.make(.controlling)
        try await AgentFactory.exchange(a1, b1)
        try await AgentFactory.exchange(a2, b2)
        for log in [logA1, logA2, logB1, logB2] {
            #expect(await log.wait(seconds: 5) { $0.states.last == .connected })
        }
        // Both local sessions sit on the one port.
        #expect(logA1.localCandidates.map(\.address.port) == [UInt16(port)])
        #expect(logA2.localCandidates.map(\.address.port) == [UInt16(port)])
        #expect(logA1.selected?.local.address.port == UInt16(port) && logA2.selected?.local.address.port == UInt16(port))

        // Data goes to the session it belongs to, both ways.
        a1.send(Array("to b1".utf8))
        a2.send(Array("to b2".utf8))
        b1.send(Array("from b1".utf8))
        b2.send(Array("from b2".utf8))
        #expect(await logB1.wait(seconds: 3) { Self.data($0) == ["to b1"] })
        #expect(await logB2.wait(seconds: 3) { Self.data($0) == ["to b2"] })
        #expect(await logA1.wait(seconds: 3) { Self.data($0) == ["from b1"] })
        #expect(await logA2.wait(seconds: 3) { Self.data($0) == ["from b2"] })

        // A session that closes leaves the port to the others; a new session on it connects (an ICE restart).
        _ = try await a1.close().get()
        let (a3, logA3) = AgentFactory.make(.controlling, configure: shared)
        let (b3, logB3) = AgentFactory.make(.controlled)
        try await AgentFactory.exchange(a3, b3)
        #expect(await logA3.wait(seconds: 5) { $0.states.last == .connected })
        #expect(await logB3.wait(seconds: 5) { $0.states.last == .connected })
        b2.send(Array("still b2".utf8))
        #expect(await logA2.wait(seconds: 3) { Self.data($0) == ["from b2", "still b2"] })
        #expect(logA2.states.last == .connected)
        _ = try await (a2.close().get(), a3.close().get(), b1.close().get(), b2.close().get(), b3.close().get())
        try await mux.close().get()
    }

    @Test func aFixedPortInUseIsAClearError() async throws {
        let holder = try UDPProbe()
        let mux = UDPPortMux(port: Int(holder.address.port), group: AgentFactory.group)
        do {
            try await mux.bind([IPAddress("127.0.0.1")!]).get()
            Issue.record("bound a port that is in use")
        } catch {
            #expect("\(error)".hasPrefix("cannot bind UDP 127.0.0.1:\(holder.address.port): "), "\(error)")
        }
        try await mux.close().get()
    }

    @Test func datagramsForNoSessionAreDroppedAndCounted() async throws {
        let port = try Self.freePort()
        let mux = UDPPortMux(port: port, group: AgentFactory.group)
        try await mux.bind([IPAddress("127.0.0.1")!]).get()
        let stranger = try UDPProbe()
        let target = TransportAddress(ip: IPAddress("127.0.0.1")!, port: UInt16(port))
        stranger.send(Array("not stun".utf8), to: target)
        var request = STUNMessageBuilder(type: .bindingRequest)
        request.append(.username, string: "nobody:here")
        request.appendFingerprint()
        stranger.send(request.encoded, to: target)
        var waited = 0
        while mux.droppedDatagrams < 2, waited < 100 {
            try await Task.sleep(for: .milliseconds(20))
            waited += 1
        }
        #expect(mux.droppedDatagrams == 2)
        #expect(stranger.receiveAll(timeout: 0.2).isEmpty) // nothing answers for a session that is not there
        try await mux.close().get()
    }
}
