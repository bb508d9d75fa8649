import Testing
@testable import STUN
@testable import ICE
@testable import Signal
@testable import Mesh

struct CandidateTests {
    @Test func priorityFollowsRFC8445() {
        #expect(Candidate.priority(type: .host, localPreference: 65535) == 2_130_706_431)
        #expect(Candidate.priority(type: .peerReflexive, localPreference: 1) == 0x6E00_01FF)
        #expect(Candidate.priority(type: .serverReflexive, localPreference: 65535) == 1_694_498_815)
        #expect(Candidate.priority(type: .relayed, localPreference: 65535) == 16_777_215)
    }

    @Test func pairPriorityFollowsRFC8445() {
        #expect(CandidatePair.priority(controlling: 10, controlled: 20) == (10 << 32) + 40)
        #expect(CandidatePair.priority(controlling: 20, controlled: 10) == (10 << 32) + 40 + 1)
    }

    @Test func foundationGroupsByTypeAndBase() {
        let a = Candidate.foundation(type: .host, base: IPAddress("10.0.0.1")!)
        #expect(a == Candidate.foundation(type: .host, base: IPAddress("10.0.0.1")!))
        #expect(a != Candidate.foundation(type: .host, base: IPAddress("10.0.0.2")!))
        #expect(a != Candidate.foundation(type: .serverReflexive, base: IPAddress("10.0.0.1")!))
    }

    @Test func sdpStringRoundTrips() throws {
        let c = Candidate(foundation: "1234", priority: 1_694_498_815, address: TransportAddress("203.0.113.7:61000")!,
                          type: .serverReflexive, relatedAddress: TransportAddress("192.168.1.4:50000")!)
        #expect(c.sdpString == "candidate:1234 1 udp 1694498815 203.0.113.7 61000 typ srflx raddr 192.168.1.4 rport 50000")
        #expect(try Candidate(sdp: c.sdpString) == c)
        let v6 = Candidate(foundation: "9", priority: 2_130_706_431, address: TransportAddress("[::1]:5000")!, type: .host)
        #expect(try Candidate(sdp: "a=" + v6.sdpString + " generation 0 network-id 1") == v6)
    }

    @Test func foreignCandidateStringsParse() throws {
        // As aioice and browsers write them.
        let c = try Candidate(sdp: "candidate:0ba0a8a2b9e7a6c2 1 UDP 2122260223 192.168.1.10 54321 typ host")
        #expect(c.type == .host)
        #expect(c.address == TransportAddress("192.168.1.10:54321"))
        #expect(c.priority == 2_122_260_223)
    }

    @Test func badCandidateStringsAreErrors() {
        #expect(throws: CandidateParseError.unsupportedTransport("tcp")) {
            try Candidate(sdp: "candidate:1 1 tcp 1 1.2.3.4 5 typ host")
        }
        #expect(throws: CandidateParseError.badField("address", "1.2.3")) {
            try Candidate(sdp: "candidate:1 1 udp 1 1.2.3 5 typ host")
        }
        #expect(throws: CandidateParseError.badField("typ", "magic")) {
            try Candidate(sdp: "candidate:1 1 udp 1 1.2.3.4 5 typ magic")
        }
        #expect(throws: CandidateParseError.badField("port", "70000")) {
            try Candidate(sdp: "candidate:1 1 udp 1 1.2.3.4 70000 typ host")
        }
        #expect(throws: (any Error).self) { try Candidate(sdp: "candidate:1 1 udp") }
    }

    @Test func credentialsAreRandomAndLongEnough() {
        let a = ICECredentials.random(), b = ICECredentials.random()
        #expect(a != b)
        #expect(a.ufrag.count == 8) // 48 bits ≥ 24
        #expect(a.pwd.count == 24) // 144 bits ≥ 128
    }

    @Test func hostFilter() {
        let f = HostCandidateFilter.default
        #expect(f.allows(interface: "eth0", address: IPAddress("192.168.1.2")!))
        #expect(!f.allows(interface: "lo", address: IPAddress("127.0.0.1")!))
        #expect(!f.allows(interface: "wt0", address: IPAddress("100.64.0.1")!))
        #expect(!f.allows(interface: "veth0", address: IPAddress("192.168.77.1")!))
        // An interface or address the operator names is used even where the default exclusions would skip it.
        let named = HostCandidateFilter(addresses: [IPAddress("192.168.77.1")!])
        #expect(named.allows(interface: "veth0", address: IPAddress("192.168.77.1")!))
        #expect(HostCandidateFilter(interfaces: ["veth0"]).allows(interface: "veth0", address: IPAddress("192.168.77.1")!))
        #expect(!HostCandidateFilter(interfaces: ["veth0"]).allows(interface: "veth1", address: IPAddress("192.168.77.1")!))
        #expect(!f.allows(interface: "eth0", address: IPAddress("fe80::1")!))
        let lo = HostCandidateFilter.loopback()
        #expect(lo.allows(interface: "lo", address: IPAddress("127.0.0.1")!))
        #expect(!lo.allows(interface: "eth0", address: IPAddress("192.168.1.2")!))
    }
}
