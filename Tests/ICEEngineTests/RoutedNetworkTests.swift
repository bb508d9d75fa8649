import NIOCore
import Testing
@testable import STUN
@testable import ICE
@testable import Signal
@testable import Mesh

/// Remote candidates inside a network routed through the mesh are never paired (NetBird's candidateViaRoutes).
@Suite(.serialized)
struct RoutedNetworkTests {
    @Test func aRemoteCandidateInsideARoutedNetworkIsIgnoredWhileTheOthersConnect() async throws {
        guard HostCandidateFilter.loopbackIPv6Available else {
            print("skipped: ::1 is not configured here")
            return
        }
        let (a, logA) = AgentFactory.make(.controlling) {
            $0.hostFilter = .loopback(ipv6: true)
            $0.routedNetworks = [IPNetwork("::1/128")!]
        }
        let (b, logB) = AgentFactory.make(.controlled) { $0.hostFilter = .loopback(ipv6: true) }
        try await AgentFactory.exchange(a, b)
        #expect(await logA.wait(seconds: 5) { $0.states.last == .connected })
        #expect(await logB.wait(seconds: 5) { $0.states.last == .connected })
        let ignored = logA.all.compactMap { e -> (Candidate, IPNetwork)? in
            if case .remoteCandidateIgnored(let c, let n) = e { (c, n) } else { nil }
        }
        #expect(ignored.count == 1)
        #expect(ignored.first?.0.address.ip == IPAddress("::1"))
        #expect(ignored.first?.1.description == "::1/128")
        // Not a pair on either side: a's checklist never names b's ::1, and b's checks from ::1 went unanswered.
        let pairsA = try await a.candidatePairs().get()
        #expect(!pairsA.isEmpty && pairsA.allSatisfy { $0.remote.address.ip.isIPv4 })
        #expect(logA.selected?.remote.address.ip == IPAddress("127.0.0.1"))
        let pairsB = try await b.candidatePairs().get()
        #expect(pairsB.filter { $0.remote.address.ip.isIPv6 }.allSatisfy { $0.state != .succeeded })
        _ = try await (a.close().get(), b.close().get())
    }
}
