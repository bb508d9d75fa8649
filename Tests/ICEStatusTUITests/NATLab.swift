import Foundation

/// A small internet on one machine, made of network namespaces: a public segment (a bridge in `inet`) with a
/// server host (`srv`, 203.0.113.10: coturn and the signal server), and sites, each a LAN (10.0.N.0/24) behind
/// its own NAT router whose public address is 203.0.113.N+1. Every address lives inside these namespaces.
/// Everything is deleted when the lab is released; labs left by a killed test run are swept at the next start.
final class NATLab {
    /// NAT behaviours (RFC 4787 terms).
    enum NAT: String {
        /// Endpoint-independent mapping and filtering: anyone may send to the mapped port.
        case fullCone = "full cone"
        /// Endpoint-independent mapping, address-and-port-dependent filtering.
        case portRestricted = "port-restricted cone"
        /// Address-and-port-dependent mapping: a new public port per destination.
        case symmetric
        /// No UDP through at all (TCP is NATed as usual).
        case udpBlocked = "UDP blocked"
        /// Nothing out but TCP to port 5349 (TURN over TLS) and to the lab's `allowedTCPPorts` (the signal server).
        case tlsOnly = "TCP to 5349 only"
    }

    /// TCP ports a `tlsOnly` site may still reach besides 5349.
    var allowedTCPPorts: [Int] = []

    struct Site {
        var index: Int
        var router: String
        var publicIP: String
        var hosts: [String]
        var hostIPs: [String]
        var nat: NAT
    }

    static let serverIP = "203.0.113.10"
    /// The server host's second address, for RFC 5780 (added by the scenarios that need it).
    static let serverIP2 = "203.0.113.11"
    let id: String
    let inet: String
    let server: String
    private(set) var sites: [String: Site] = [:]
    /// In creation order; released (and so deleted) in reverse.
    private var namespaces: [NetworkNamespace] = []
    private static let counter = LockedCounter()

    init() throws {
        Self.sweepLeftovers()
        id = "isl\(getpid())x\(Self.counter.next())"
        inet = "\(id)-inet"
        server = "\(id)-srv"
        try add(inet)
        // The public segment's "upstream" is 203.0.113.1, where everything for elsewhere (a private address
        // behind another NAT, say) is dropped silently, as on the internet: a server with no route at all would
        // get ENETUNREACH instead, which is not what real servers see (coturn gives up on the socket).
        try sh(inet, "ip link add br0 type bridge && ip addr add 203.0.113.1/24 dev br0 && ip link set br0 up && sysctl -qw net.ipv4.ip_forward=0")
        try add(server)
        try link(server, "eth0", to: inet, "srv", bridge: "br0")
        try sh(server, "ip addr add \(Self.serverIP)/24 dev eth0 && ip link set eth0 up && ip route add default via 203.0.113.1")
    }

    /// Adds a site with `hosts` hosts behind a NAT; returns the hosts' namespaces.
    @discardableResult
    func addSite(_ name: String, nat: NAT, hosts: Int = 1) throws -> [String] {
        let index = sites.count + 1
        let router = "\(id)-nat\(name)"
        let publicIP = "203.0.113.\(index + 1)"
        try add(router)
        try link(router, "wan", to: inet, "w\(name)", bridge: "br0")
        try sh(router, """
            ip addr add \(publicIP)/24 dev wan && ip link set wan up && ip route add default via 203.0.113.1 && \
            ip link add lan0 type bridge && ip addr add 10.0.\(index).1/24 dev lan0 && ip link set lan0 up && \
            sysctl -qw net.ipv4.ip_forward=1
            """)
        var names: [String] = [], ips: [String] = []
        for h in 1...hosts {
            let host = "\(id)-\(name)\(h)"
            let ip = "10.0.\(index).\(h + 1)"
            try add(host)
            try link(host, "eth0", to: router, "h\(h)", bridge: "lan0")
            try sh(host, "ip addr add \(ip)/24 dev eth0 && ip link set eth0 up && ip route add default via 10.0.\(index).1")
            names.append(host)
            ips.append(ip)
        }
        sites[name] = Site(index: index, router: router, publicIP: publicIP, hosts: names, hostIPs: ips, nat: nat)
        try apply(nat, to: name)
        return names
    }

    /// Replaces a site's NAT rules.
    func apply(_ nat: NAT, to name: String) throws {
        guard var site = sites[name] else { return }
        // Unsolicited datagrams to the router die in INPUT, as behind a home router's firewall: they leave no
        // conntrack entry that would clash with (and so re-port) a mapping a host makes a moment later.
        var rules = ["iptables -t nat -F", "iptables -F FORWARD", "iptables -F INPUT", "iptables -P FORWARD ACCEPT",
                     "iptables -A INPUT -i wan -p udp -m conntrack --ctstate NEW -j DROP",
                     "iptables -t nat -A POSTROUTING -o wan -p tcp -j SNAT --to-source \(site.publicIP)"]
        switch nat {
        case .fullCone:
            // Port-preserving mapping, and any datagram to the public address forwarded to the (one) host.
            rules += ["iptables -t nat -A POSTROUTING -o wan -p udp -j SNAT --to-source \(site.publicIP)",
                      "iptables -t nat -A PREROUTING -i wan -p udp -j DNAT --to-destination \(site.hostIPs[0])"]
        case .portRestricted:
            // Port-preserving mapping; only replies to what a host sent come back in (conntrack).
            rules += ["iptables -t nat -A POSTROUTING -o wan -p udp -j SNAT --to-source \(site.publicIP)"]
        case .symmetric:
            // A random public port for every new destination.
            rules += ["iptables -t nat -A POSTROUTING -o wan -p udp -j SNAT --to-source \(site.publicIP) --random-fully"]
        case .udpBlocked:
            rules += ["iptables -A FORWARD -p udp -j DROP"]
        case .tlsOnly:
            rules += ["iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
                      "iptables -A FORWARD -i lan0 -p tcp --dport 5349 -j ACCEPT"]
                + allowedTCPPorts.map { "iptables -A FORWARD -i lan0 -p tcp --dport \($0) -j ACCEPT" }
                + ["iptables -A FORWARD -i lan0 -j DROP"]
        }
        rules.append("conntrack -F 2>/dev/null || true")
        try sh(site.router, rules.joined(separator: " && "))
        site.nat = nat
        sites[name] = site
    }

    /// Forwards UDP `port` on a site's public address to its first host, the same port (a router's port
    /// forward), whatever the site's NAT does with outgoing traffic.
    func forward(_ name: String, udpPort port: Int) throws {
        let site = sites[name]!
        try sh(site.router, "iptables -t nat -I PREROUTING -i wan -p udp --dport \(port) -j DNAT --to-destination \(site.hostIPs[0]):\(port)")
    }

    /// Drops everything a site's router forwards to or from another site's public address: the direct path
    /// between them is cut while the path to the server stays up.
    func cut(_ name: String, from other: String) throws {
        let peer = sites[other]!.publicIP
        try sh(sites[name]!.router, "iptables -I FORWARD -s \(peer) -j DROP && iptables -I FORWARD -d \(peer) -j DROP")
    }

    func restore(_ name: String, from other: String) throws {
        let peer = sites[other]!.publicIP
        try sh(sites[name]!.router, "iptables -D FORWARD -s \(peer) -j DROP && iptables -D FORWARD -d \(peer) -j DROP")
    }

    /// argv run inside a namespace.
    func wrap(_ namespace: String, _ argv: [String]) -> [String] { self.namespace(namespace).wrap(argv) }

    /// Runs a shell command inside a namespace; throws with its stderr when it fails.
    @discardableResult
    func sh(_ namespace: String, _ command: String) throws -> String { try self.namespace(namespace).sh(command) }

    /// One of the lab's namespaces, by name.
    func namespace(_ name: String) -> NetworkNamespace { namespaces.first { $0.name == name }! }

    /// The namespaces' view, for a failing scenario: addresses, routes and NAT rules.
    func describe() -> String {
        namespaces.map { ns in
            let addresses = (try? ns.sh("ip -br addr")) ?? ""
            let nat = (try? ns.sh("iptables -t nat -S; iptables -S FORWARD")) ?? ""
            return "== \(ns.name) ==\n\(addresses)\(nat.contains("SNAT") || nat.contains("DROP") ? nat : "")"
        }.joined(separator: "\n")
    }

    deinit {
        while !namespaces.isEmpty { namespaces.removeLast() }
    }

    // MARK: Building

    private func add(_ namespace: String) throws {
        namespaces.append(try NetworkNamespace(name: namespace))
    }

    /// A veth pair: `inner` in `namespace`, `outer` in `peerNamespace` attached to its bridge.
    private func link(_ namespace: String, _ inner: String, to peerNamespace: String, _ outer: String, bridge: String) throws {
        try sh(namespace, "ip link add \(inner) type veth peer name \(outer) netns \(peerNamespace)")
        try sh(peerNamespace, "ip link set \(outer) master \(bridge) && ip link set \(outer) up")
    }

    /// Deletes labs whose test process is gone (a run that was killed before it could clean up).
    private static func sweepLeftovers() {
        guard let list = try? Harness.run("ip", ["netns", "list"], timeout: 5).stdout else { return }
        for line in list.split(separator: "\n") {
            let name = String(line.split(separator: " ").first ?? "")
            guard name.hasPrefix("isl"), let x = name.firstIndex(of: "x"),
                  let pid = pid_t(name[name.index(name.startIndex, offsetBy: 3)..<x]) else { continue }
            if pid != getpid(), kill(pid, 0) != 0 { NetworkNamespace.delete(named: name) }
        }
    }
}

final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
}
