import Testing
@testable import STUN
@testable import ICE
@testable import Signal
@testable import Mesh

struct IPNetworkTests {
    @Test func parsesAndNormalises() {
        #expect(IPNetwork("10.100.0.0/16")?.description == "10.100.0.0/16")
        // Host bits are cleared, as `ip route` does; a bare address is a host route.
        #expect(IPNetwork("10.100.7.9/16")?.description == "10.100.0.0/16")
        #expect(IPNetwork("192.0.2.7")?.description == "192.0.2.7/32")
        #expect(IPNetwork("fd00:1:2::9/48")?.description == "fd00:1:2::/48")
        #expect(IPNetwork("::1")?.prefixLength == 128)
        #expect(IPNetwork("10.0.0.0/12")?.description == "10.0.0.0/12")
        for bad in ["10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0/8", "nonsense", "10.0.0.0/", "/8", "10.0.0.0/8/1"] {
            #expect(IPNetwork(bad) == nil, "\(bad)")
        }
    }

    @Test func matchesAtThePrefixEdges() {
        let v4 = IPNetwork("10.100.0.0/16")!
        #expect(v4.contains(IPAddress("10.100.0.0")!))
        #expect(v4.contains(IPAddress("10.100.255.255")!))
        #expect(!v4.contains(IPAddress("10.99.255.255")!))
        #expect(!v4.contains(IPAddress("10.101.0.0")!))
        // A prefix that ends inside a byte.
        let odd = IPNetwork("172.16.0.0/12")!
        #expect(odd.contains(IPAddress("172.31.255.255")!))
        #expect(!odd.contains(IPAddress("172.32.0.0")!))
        #expect(!odd.contains(IPAddress("172.15.255.255")!))
        let v6 = IPNetwork("fd00:abcd::/33")!
        #expect(v6.contains(IPAddress("fd00:abcd:7fff:ffff::1")!))
        #expect(!v6.contains(IPAddress("fd00:abcd:8000::")!))
        // Never across families: ::ffff:10.100.0.1 is an IPv6 address.
        #expect(!v4.contains(IPAddress("::ffff:10.100.0.1")!))
        #expect(!IPNetwork("::/0")!.contains(IPAddress("10.0.0.1")!))
        #expect(IPNetwork("192.0.2.7/32")!.contains(IPAddress("192.0.2.7")!))
        #expect(!IPNetwork("192.0.2.7/32")!.contains(IPAddress("192.0.2.6")!))
    }

    @Test func defaultRoutesAreNeverUsedToIgnoreCandidates() {
        var config = ICEAgentConfiguration()
        config.routedNetworks = [IPNetwork("0.0.0.0/0")!, IPNetwork("::/0")!, IPNetwork("10.100.0.0/16")!]
        #expect(IPNetwork("0.0.0.0/0")!.isDefaultRoute)
        #expect(config.routedNetwork(containing: IPAddress("192.0.2.1")!) == nil)
        #expect(config.routedNetwork(containing: IPAddress("2001:db8::1")!) == nil)
        #expect(config.routedNetwork(containing: IPAddress("10.100.3.4")!)?.description == "10.100.0.0/16")
    }
}
