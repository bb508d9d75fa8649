import STUN

/// Chooses which local interfaces and addresses may become host candidates.
public struct HostCandidateFilter: Sendable {
    /// If set, only these interface names are used.
    public var interfaces: Set<String>?
    /// Interfaces whose names start with one of these are skipped (tunnels and virtual bridges, as NetBird does),
    /// unless `interfaces` or `addresses` names them: what the operator lists is meant.
    public var excludedInterfacePrefixes: [String]
    /// If set, only these addresses are used.
    public var addresses: Set<IPAddress>?
    public var includeLoopback: Bool
    public var includeIPv4: Bool
    public var includeIPv6: Bool

    public init(interfaces: Set<String>? = nil,
                excludedInterfacePrefixes: [String] = HostCandidateFilter.defaultExcludedPrefixes,
                addresses: Set<IPAddress>? = nil, includeLoopback: Bool = false,
                includeIPv4: Bool = true, includeIPv6: Bool = true) {
        self.interfaces = interfaces
        self.excludedInterfacePrefixes = excludedInterfacePrefixes
        self.addresses = addresses
        self.includeLoopback = includeLoopback
        self.includeIPv4 = includeIPv4
        self.includeIPv6 = includeIPv6
    }

    public static let defaultExcludedPrefixes = ["wt", "utun", "wg", "ts", "tailscale", "zt", "docker", "veth", "br-", "virbr", "tun", "tap"]

    /// Real interfaces, tunnels and loopback excluded.
    public static let `default` = HostCandidateFilter()

    /// Loopback only (127.0.0.1 and, if `ipv6`, ::1): what the demo and the tests use.
    public static func loopback(ipv6: Bool = false) -> HostCandidateFilter {
        var addresses: Set<IPAddress> = [IPAddress("127.0.0.1")!]
        if ipv6 { addresses.insert(IPAddress("::1")!) }
        return HostCandidateFilter(excludedInterfacePrefixes: [], addresses: addresses, includeLoopback: true, includeIPv6: ipv6)
    }

    /// Whether ::1 is configured here (some containers run without IPv6).
    public static var loopbackIPv6Available: Bool {
        ((try? HostAddressGatherer.addresses(filter: .loopback(ipv6: true))) ?? []).contains { $0.address.isIPv6 }
    }

    public func allows(interface name: String, address: IPAddress) -> Bool {
        if let interfaces, !interfaces.contains(name) { return false }
        let named = interfaces?.contains(name) == true || addresses?.contains(address) == true
        if !named, excludedInterfacePrefixes.contains(where: { name.hasPrefix($0) }) { return false }
        if let addresses, !addresses.contains(address) { return false }
        if address.isLoopback && !includeLoopback { return false }
        if address.isIPv4 && !includeIPv4 { return false }
        if address.isIPv6 && (!includeIPv6 || address.isLinkLocalIPv6) { return false }
        return true
    }
}
