#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import STUN

/// A `stun:HOST[:PORT]` URL (RFC 7064), resolved to an address.
public enum STUNServerURL {
    public enum Failure: Error, CustomStringConvertible, Equatable {
        case notSTUN(String)
        case notTURN(String)
        case badTransport(String)
        case badPort(String)
        case unresolved(String)

        public var description: String {
            switch self {
            case .notSTUN(let s): "'\(s)' is not a stun: URL (expected stun:HOST[:PORT])"
            case .notTURN(let s): "'\(s)' is not a TURN URL (expected turn:HOST[:PORT][?transport=udp|tcp] or turns:HOST[:PORT])"
            case .badTransport(let s): "'\(s)' names a transport other than udp or tcp (turns: is TLS over TCP)"
            case .badPort(let s): "'\(s)' has a bad port"
            case .unresolved(let s): "cannot resolve '\(s)'"
            }
        }
    }

    /// Parses and resolves; the default port is 3478.
    public static func resolve(_ url: String) throws(Failure) -> TransportAddress {
        guard url.hasPrefix("stun:") else { throw .notSTUN(url) }
        var rest = Substring(url.dropFirst(5))
        var port: UInt16 = 3478
        var host: Substring
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw .notSTUN(url) }
            host = rest[rest.index(after: rest.startIndex)..<close]
            rest = rest[rest.index(after: close)...]
            if rest.hasPrefix(":") {
                guard let p = UInt16(rest.dropFirst()), p > 0 else { throw .badPort(url) }
                port = p
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            guard let p = UInt16(rest[rest.index(after: colon)...]), p > 0 else { throw .badPort(url) }
            port = p
        } else {
            host = rest
        }
        guard !host.isEmpty else { throw .notSTUN(url) }
        if let ip = IPAddress(host) { return TransportAddress(ip: ip, port: port) }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(String(host), nil, &hints, &result) == 0, let first = result else { throw .unresolved(String(host)) }
        defer { freeaddrinfo(result) }
        var buffer = [CChar](repeating: 0, count: 64)
        let family = first.pointee.ai_family
        let ok: Bool
        if family == AF_INET {
            ok = first.pointee.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                var a = sin.pointee.sin_addr
                return inet_ntop(AF_INET, &a, &buffer, socklen_t(buffer.count)) != nil
            }
        } else {
            ok = first.pointee.ai_addr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin in
                var a = sin.pointee.sin6_addr
                return inet_ntop(AF_INET6, &a, &buffer, socklen_t(buffer.count)) != nil
            }
        }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard ok, let ip = IPAddress(text) else { throw .unresolved(String(host)) }
        return TransportAddress(ip: ip, port: port)
    }
}
