#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Ports on 127.0.0.1 for the demo's agents and its coturn, which are picked now and bound later by another
/// component. They come from below the kernel's ephemeral range, so that a socket bound to port 0 in between
/// (every ICE host candidate, every echo service) cannot take one first, and none is handed out twice by
/// this process.
enum LoopbackPorts {
    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    private static let handedOut = Mutex(Set<Int>())

    /// The first of `count` consecutive ports that are free now for UDP, and also for TCP when `tcp` is set,
    /// drawn from `ports` (by default those from 10000 up to the ephemeral range).
    static func block(count: Int, tcp: Bool = false, within ports: Range<Int>? = nil) throws -> Int {
        let ports = ports ?? 10000..<min(ephemeralStart, 65536)
        let bottom = ports.lowerBound, top = ports.upperBound - count
        guard top >= bottom else { throw Unavailable(description: "no room for \(count) ports in \(bottom)-\(ports.upperBound - 1)") }
        for _ in 0..<50 {
            let base = Int.random(in: bottom...top)
            let taken = handedOut.withLock { used in (base..<base + count).contains(where: used.contains) }
            if taken { continue }
            guard (base..<base + count).allSatisfy({ canBind($0, SOCK_DGRAM) && (!tcp || canBind($0, SOCK_STREAM)) }) else { continue }
            let won = handedOut.withLock { used -> Bool in
                guard !(base..<base + count).contains(where: used.contains) else { return false }
                used.formUnion(base..<base + count)
                return true
            }
            if won { return base }
        }
        throw Unavailable(description: "no free block of \(count) ports on 127.0.0.1 in \(bottom)-\(ports.upperBound - 1)")
    }

    /// The first port of the kernel's ephemeral range (`net.ipv4.ip_local_port_range`; 32768 when unreadable).
    static var ephemeralStart: Int {
        guard let file = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r") else { return 32768 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 64)
        guard fgets(&line, Int32(line.count), file) != nil else { return 32768 }
        let text = line.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let first = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int($0) }
        return first.map { $0 > 1024 ? $0 : 32768 } ?? 32768
    }

    private static func canBind(_ port: Int, _ kind: __socket_type) -> Bool {
        let fd = socket(AF_INET, Int32(kind.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
