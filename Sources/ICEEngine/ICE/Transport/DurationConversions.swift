import NIOCore
#if canImport(Glibc)
import Glibc
#endif
import STUN

extension Duration {
    /// Whole nanoseconds (saturating), for NIO timers and wire formats.
    public var nanoseconds: Int64 {
        let (s, atto) = components
        let (ns, overflow) = s.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? Int64.max : ns &+ atto / 1_000_000_000
    }

    package var timeAmount: TimeAmount { .nanoseconds(nanoseconds) }
}

extension TransportAddress {
    /// From NIO's address, by its `sockaddr` bytes (this runs for every datagram: no text on the way).
    package init?(_ address: SocketAddress) {
        switch address {
        case .v4(let v4):
            var sin = v4.address
            let bytes = withUnsafeBytes(of: &sin.sin_addr) { Array($0) }
            self.init(ip: IPAddress(bytes: bytes)!, port: UInt16(bigEndian: sin.sin_port))
        case .v6(let v6):
            var sin6 = v6.address
            let bytes = withUnsafeBytes(of: &sin6.sin6_addr) { Array($0) }
            self.init(ip: IPAddress(bytes: bytes)!, port: UInt16(bigEndian: sin6.sin6_port))
        default:
            return nil
        }
    }

    /// NIO's address for this one, built from the bytes (this runs for every datagram sent).
    func socketAddress() throws -> SocketAddress {
        if ip.isIPv4 {
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            ip.bytes.withUnsafeBytes { raw in withUnsafeMutableBytes(of: &sin.sin_addr) { $0.copyMemory(from: raw) } }
            return SocketAddress(sin, host: "")
        }
        var sin6 = sockaddr_in6()
        sin6.sin6_family = sa_family_t(AF_INET6)
        sin6.sin6_port = port.bigEndian
        ip.bytes.withUnsafeBytes { raw in withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0.copyMemory(from: raw) } }
        return SocketAddress(sin6, host: "")
    }
}
