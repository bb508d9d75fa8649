import STUN

/// Errors in a `candidate:` attribute string.
public enum CandidateParseError: Error, Sendable, Hashable, CustomStringConvertible {
    case missingField(String)
    case badField(String, String)
    case unsupportedTransport(String)

    public var description: String {
        switch self {
        case .missingField(let f): "candidate: missing \(f)"
        case .badField(let f, let v): "candidate: bad \(f) '\(v)'"
        case .unsupportedTransport(let t): "candidate: unsupported transport '\(t)'"
        }
    }
}

extension Candidate {
    /// The RFC 8839 §5.1 form: `candidate:<foundation> <component> udp <priority> <ip> <port> typ <type> [raddr <ip> rport <port>]`.
    public var sdpString: String {
        var s = "candidate:\(foundation) \(component) udp \(priority) \(address.ip) \(address.port) typ \(type.rawValue)"
        if let related = relatedAddress {
            s += " raddr \(related.ip) rport \(related.port)"
        }
        return s
    }

    /// Parses the RFC 8839 form, with or without the `a=` and `candidate:` prefixes. Extension
    /// attributes (`generation 0`, `ufrag …`, `network-id …`) are accepted and ignored.
    public init(sdp text: String) throws(CandidateParseError) {
        var line = Substring(text.trimmingCharactersInWhitespace())
        if line.hasPrefix("a=") { line = line.dropFirst(2) }
        if line.hasPrefix("candidate:") { line = line.dropFirst("candidate:".count) }
        let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count >= 8 else { throw .missingField(fields.count < 6 ? "address" : "typ") }
        let foundation = fields[0]
        guard !foundation.isEmpty, foundation.count <= 32 else { throw .badField("foundation", foundation) }
        guard let component = UInt16(fields[1]), component >= 1, component <= 256 else { throw .badField("component", fields[1]) }
        guard fields[2].lowercased() == "udp" else { throw .unsupportedTransport(fields[2]) }
        guard let priority = UInt32(fields[3]), priority > 0 else { throw .badField("priority", fields[3]) }
        guard let ip = IPAddress(fields[4]) else { throw .badField("address", fields[4]) }
        guard let port = UInt16(fields[5]) else { throw .badField("port", fields[5]) }
        guard fields[6] == "typ" else { throw .missingField("typ") }
        guard let type = CandidateType(rawValue: fields[7]) else { throw .badField("typ", fields[7]) }
        var relatedIP: IPAddress?
        var relatedPort: UInt16?
        var i = 8
        while i + 1 < fields.count {
            switch fields[i] {
            case "raddr":
                guard let r = IPAddress(fields[i + 1]) else { throw .badField("raddr", fields[i + 1]) }
                relatedIP = r
            case "rport":
                guard let r = UInt16(fields[i + 1]) else { throw .badField("rport", fields[i + 1]) }
                relatedPort = r
            default: break
            }
            i += 2
        }
        var related: TransportAddress?
        if let relatedIP, let relatedPort { related = TransportAddress(ip: relatedIP, port: relatedPort) }
        self.init(foundation: foundation, component: component, priority: priority,
                  address: TransportAddress(ip: ip, port: port), type: type, relatedAddress: related)
    }
}

extension StringProtocol {
    func trimmingCharactersInWhitespace() -> Substring {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return s
    }
}
