@testable import ICEStatusTUI
import Foundation
import Testing

/// The ports the demo and its coturn pick now and bind later: below the kernel's ephemeral range (so that no
/// socket bound to port 0 meanwhile takes one), free when picked, and never handed out twice.
@Suite("Loopback ports")
struct LoopbackPortsTests {
    @Test func blocksAreBelowTheEphemeralRangeFreeAndNeverHandedOutTwice() throws {
        let start = LoopbackPorts.ephemeralStart
        let range = try String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)
        #expect(range.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } == start)
        // A port held now is never handed out: from a window of two ports, the other one comes (once).
        let held = try UDPHolder()
        let window = held.port - 1..<held.port + 1
        #expect(try LoopbackPorts.block(count: 1, within: window) == held.port - 1)
        #expect(throws: LoopbackPorts.Unavailable.self) { try LoopbackPorts.block(count: 1, within: window) }
        let base = try LoopbackPorts.block(count: 401, tcp: true)
        #expect(base >= 10000 && base + 401 <= start)
        // Blocks drawn from 10000-19999 (the held port is above them): never the same port twice.
        var seen = Set<Int>()
        for _ in 0..<40 {
            let base = try LoopbackPorts.block(count: 5, tcp: true, within: 10000..<20000)
            #expect(base >= 10000 && base + 5 <= 20000)
            let ports = Set(base..<base + 5)
            #expect(seen.isDisjoint(with: ports), "port handed out twice")
            seen.formUnion(ports)
        }
    }

    @Test func aBlockTooLargeForTheRoomBelowIsRefused() {
        #expect(throws: LoopbackPorts.Unavailable.self) { try LoopbackPorts.block(count: 60000) }
    }
}

/// A UDP socket on 127.0.0.1 at a port below the ephemeral range, held until deinit.
private final class UDPHolder {
    let fd: Int32
    let port: Int

    init() throws {
        for candidate in stride(from: 20001, to: 30000, by: 97) where Self.canBind(candidate - 1) {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            let bound = Self.bind(fd, candidate) == 0
            if bound {
                self.fd = fd
                port = candidate
                return
            }
            close(fd)
        }
        throw CocoaError(.fileReadUnknown)
    }

    deinit { close(fd) }

    private static func canBind(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        return bind(fd, port) == 0
    }

    private static func bind(_ fd: Int32, _ port: Int) -> Int32 {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }
}
