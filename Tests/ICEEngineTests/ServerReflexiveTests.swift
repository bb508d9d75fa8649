import Foundation
import ICETestSupport
import NIOCore
import Testing
@testable import STUN
@testable import ICE
@testable import Signal
@testable import Mesh

extension EventLog {
    var stunResults: [(server: TransportAddress, mapped: TransportAddress?)] {
        all.compactMap { if case .stunServerResult(let s, let m) = $0 { (s, m) } else { nil } }
    }

    var gatheringCompleted: Bool {
        all.contains { if case .gatheringComplete = $0 { true } else { false } }
    }
}

@Suite(.serialized, .timeLimit(.minutes(1)))
struct ServerReflexiveTests {
    /// A STUN server on loopback that answers every Binding request with a fixed "NAT mapping".
    final class FakeSTUNServer: @unchecked Sendable {
        let socket: UDPProbe
        let mapped: TransportAddress
        private var thread: Thread?
        private let stopFlag = NSLock()
        private var stopped = false
        var address: TransportAddress { socket.address }

        init(mapped: TransportAddress) throws {
            socket = try UDPProbe()
            self.mapped = mapped
            thread = Thread { [unowned self] in
                while !self.isStopped {
                    guard let (bytes, from) = self.socket.receiveOne(timeout: 0.1),
                          let request = try? STUNMessage(decoding: bytes), request.type == .bindingRequest else { continue }
                    var response = STUNMessageBuilder(type: .bindingSuccess, transactionID: request.transactionID)
                    response.appendXORAddress(.xorMappedAddress, self.mapped)
                    response.appendFingerprint()
                    _ = from
                    self.socket.send(response.encoded, to: from)
                }
            }
            thread?.start()
        }

        var isStopped: Bool { stopFlag.lock(); defer { stopFlag.unlock() }; return stopped }
        func stop() { stopFlag.lock(); stopped = true; stopFlag.unlock(); Thread.sleep(forTimeInterval: 0.15) }
    }

    @Test func mappedAddressBecomesAServerReflexiveCandidate() async throws {
        let nat = TransportAddress("127.0.0.99:40000")!
        let server = try FakeSTUNServer(mapped: nat)
        defer { server.stop() }
        let (agent, log) = AgentFactory.make(.controlling) { $0.stunServers = [server.address] }
        let hosts = try await agent.gather().get()
        #expect(await log.wait(seconds: 3) { $0.gatheringCompleted })
        let srflx = log.localCandidates.filter { $0.type == .serverReflexive }
        // The mapped address, and (its port differs from the base's) NetBird's extra one with the base port.
        #expect(srflx.count == 2)
        #expect(srflx.last?.address == TransportAddress(ip: nat.ip, port: hosts[0].address.port))
        #expect(srflx.last?.relatedAddress == hosts.first?.address)
        #expect(srflx.last.map { $0.priority < srflx[0].priority } == true)
        #expect(srflx.first?.address == nat)
        #expect(srflx.first?.relatedAddress == hosts.first?.address)
        #expect(srflx.first?.priority == Candidate.priority(type: .serverReflexive, localPreference: UInt16((hosts[0].priority >> 8) & 0xFFFF)))
        #expect(log.stunResults.count == 1 && log.stunResults.first?.mapped == nat)
        // Gathering is complete only after the reflexive candidate.
        let order = log.all.map { e -> String in
            switch e {
            case .localCandidate(let c): c.type.rawValue
            case .gatheringComplete: "complete"
            default: "other"
            }
        }.filter { $0 != "other" }
        #expect(order == ["host", "srflx", "srflx", "complete"])
        _ = try await agent.close().get()
    }

    @Test func deadSTUNServerCostsOnlyTheGatheringTimeout() async throws {
        let dead = try UDPProbe() // bound, never answers
        let (a, logA) = AgentFactory.make(.controlling) {
            $0.stunServers = [dead.address]
            $0.gatheringTimeout = .seconds(6)
        }
        let (b, logB) = AgentFactory.make(.controlled)
        let start = ContinuousClock.now
        try await AgentFactory.exchange(a, b)
        #expect(await logA.wait(seconds: 10) { $0.gatheringCompleted })
        let elapsed = ContinuousClock.now - start
        #expect(await logB.wait(seconds: 5) { $0.states.last == .connected })
        // The connection did not wait for the dead server: Connected came before gathering gave up on it.
        let order = logA.all.compactMap { e -> String? in
            switch e {
            case .stateChanged(.connected): "connected"
            case .gatheringComplete: "complete"
            default: nil
            }
        }
        #expect(order == ["connected", "complete"])
        #expect(elapsed >= .milliseconds(5900))
        #expect(logA.stunResults.count == 1 && logA.stunResults.first?.mapped == nil)
        // Retransmitted with backoff (250 ms doubling to 1.6 s) and stopped at the deadline: a handful, no more.
        let sent = dead.receiveAll(timeout: 0.1).count
        #expect(sent >= 3 && sent <= 7)
        _ = try await (a.close().get(), b.close().get())
    }

    @Test func bindingThroughCoturn() async throws {
        let coturn = try await Coturn()
        defer { coturn.stop() }
        let server = coturn.address
        let (agent, log) = AgentFactory.make(.controlling) { $0.stunServers = [server] }
        let hosts = try await agent.gather().get()
        #expect(await log.wait(seconds: 4) { $0.gatheringCompleted })
        // On loopback there is no NAT: coturn maps us to our own address, a redundant srflx that is pruned.
        #expect(log.stunResults.count == 1)
        #expect(log.stunResults.first?.mapped == hosts.first?.address)
        #expect(!log.localCandidates.contains { $0.type == .serverReflexive })
        _ = try await agent.close().get()
    }

    @Test func stunURLs() throws {
        #expect(try STUNServerURL.resolve("stun:127.0.0.1:3478") == TransportAddress("127.0.0.1:3478"))
        #expect(try STUNServerURL.resolve("stun:127.0.0.1") == TransportAddress("127.0.0.1:3478"))
        #expect(try STUNServerURL.resolve("stun:[::1]:5349") == TransportAddress("[::1]:5349"))
        #expect(try STUNServerURL.resolve("stun:localhost:3478").port == 3478)
        #expect(throws: STUNServerURL.Failure.notSTUN("turn:1.2.3.4")) { try STUNServerURL.resolve("turn:1.2.3.4") }
        #expect(throws: STUNServerURL.Failure.badPort("stun:1.2.3.4:99999")) { try STUNServerURL.resolve("stun:1.2.3.4:99999") }
    }
}
