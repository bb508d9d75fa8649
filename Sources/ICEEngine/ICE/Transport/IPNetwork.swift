import STUN

/// An IP prefix in CIDR notation (`10.100.0.0/16`, `fd00::/8`), for matching addresses against routed networks.
public struct IPNetwork: Hashable, Sendable, CustomStringConvertible {
    /// The network address, with the host bits cleared.
    public let address: IPAddress
    /// Leading bits that make the prefix: 0...32 for IPv4, 0...128 for IPv6.
    public let prefixLength: Int

    /// Parses `ADDRESS/LENGTH`; a bare address is a host route (/32 or /128). Host bits set in the address
    /// are cleared, as `ip route` does.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let ip = IPAddress(parts[0]) else { return nil }
        let maxLength = ip.bytes.count * 8
        var length = maxLength
        if parts.count == 2 {
            guard let n = Int(parts[1]), (0...maxLength).contains(n) else { return nil }
            length = n
        }
        self.init(address: ip, prefixLength: length)
    }

    /// The network of `address` with `prefixLength` leading bits (clamped to the address family).
    public init(address: IPAddress, prefixLength: Int) {
        let length = max(0, min(prefixLength, address.bytes.count * 8))
        var bytes = address.bytes
        for i in bytes.indices {
            let kept = max(0, min(8, length - i * 8))
            bytes[i] &= kept == 8 ? 0xFF : ~(0xFF >> UInt8(kept))
        }
        self.address = IPAddress(bytes: bytes)!
        self.prefixLength = length
    }

    /// A default route (`0.0.0.0/0`, `::/0`): it matches everything.
    public var isDefaultRoute: Bool { prefixLength == 0 }

    /// Whether `ip` lies inside this network (never across address families).
    public func contains(_ ip: IPAddress) -> Bool {
        guard ip.bytes.count == address.bytes.count else { return false }
        var remaining = prefixLength
        for i in ip.bytes.indices where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
            if ip.bytes[i] & mask != address.bytes[i] { return false }
            remaining -= 8
        }
        return true
    }

    public var description: String { "\(address)/\(prefixLength)" }
}
