import Foundation
import STUN

/// A plain UDP socket on 127.0.0.1 for sending hand-made packets and collecting what comes back: the one
/// UDP test socket of every test target (an application in front of a mesh port, a service behind one, a
/// silent peer, a forger of STUN).
package final class UDPProbe {
    package let fd: Int32
    package let address: TransportAddress

    /// Bound to 127.0.0.1:`port` (0: any free port).
    package init(port: UInt16 = 0) throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        self.fd = fd
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = port.bigEndian
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        address = TransportAddress(ip: IPAddress("127.0.0.1")!, port: UInt16(bigEndian: addr.sin_port))
    }

    package func send(_ bytes: [UInt8], to target: TransportAddress) {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr(target.ip.description)
        addr.sin_port = target.port.bigEndian
        _ = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    /// Every datagram that arrives until `timeout` seconds pass with nothing new.
    package func receiveAll(timeout: Double) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        while true {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, Int32(timeout * 1000)) > 0 else { return out }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 { out.append(Array(buffer[0..<n])) }
        }
    }

    /// One datagram and its sender, or nil after `timeout` seconds.
    package func receiveOne(timeout: Double) -> ([UInt8], TransportAddress)? {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, Int32(timeout * 1000)) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 2048)
        var from = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let n = withUnsafeMutablePointer(to: &from) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &len) }
        }
        guard n > 0 else { return nil }
        let ip = IPAddress(bytes: withUnsafeBytes(of: from.sin_addr) { Array($0) })!
        return (Array(buffer[0..<n]), TransportAddress(ip: ip, port: UInt16(bigEndian: from.sin_port)))
    }

    deinit { close(fd) }
}

/// Text datagrams between loopback ports, as the mesh tests write them.
extension UDPProbe {
    /// Bound to 127.0.0.1:`port` (0: any free port).
    package convenience init(port: Int) throws { try self.init(port: UInt16(port)) }

    /// The port it is bound to.
    package var port: Int { Int(address.port) }

    /// Sends `text` to 127.0.0.1:`port`.
    package func send(_ text: String, to port: Int) {
        send(Array(text.utf8), to: TransportAddress(ip: IPAddress("127.0.0.1")!, port: UInt16(port)))
    }

    /// The next datagram within `seconds`, as text, with its source port.
    package func receive(seconds: Double) -> (String, Int)? {
        receiveOne(timeout: seconds).map { (String(decoding: $0.0, as: UTF8.self), Int($0.1.port)) }
    }
}
