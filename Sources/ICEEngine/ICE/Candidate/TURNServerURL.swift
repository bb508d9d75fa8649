import STUN

/// A `turn:HOST[:PORT][?transport=udp|tcp]` or `turns:HOST[:PORT][?transport=tcp]` URL (RFC 7065).
public enum TURNServerURL {
    /// Parses and resolves; default ports 3478 (turn:) and 5349 (turns:).
    public static func parse(_ url: String) throws(STUNServerURL.Failure) -> (address: TransportAddress, host: String, transport: TURNTransport) {
        let secure = url.hasPrefix("turns:")
        guard secure || url.hasPrefix("turn:") else { throw .notTURN(url) }
        let parts = url.dropFirst(secure ? 6 : 5).split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var transport: TURNTransport = secure ? .tls : .udp
        if parts.count == 2 {
            switch parts[1] {
            case "transport=udp" where !secure: transport = .udp
            case "transport=tcp": transport = secure ? .tls : .tcp
            default: throw .badTransport(url)
            }
        }
        let hostPart = String(parts[0])
        var host = hostPart
        let hasPort = hostPart.hasPrefix("[") ? hostPart.contains("]:") : hostPart.contains(":")
        if let colon = hostPart.lastIndex(of: ":"), hasPort { host = String(hostPart[..<colon]) }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let address = try STUNServerURL.resolve("stun:" + (hasPort ? hostPart : hostPart + ":\(secure ? 5349 : 3478)"))
        return (address, host, transport)
    }
}
