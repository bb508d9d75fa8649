import STUN

/// How a NAT maps an internal address to external ones (RFC 4787 §4.1, tested as RFC 5780 §4.3 says).
public enum NATMapping: String, Sendable, Hashable, CaseIterable {
    /// One mapping for every destination: what a cone NAT does (and no NAT at all).
    case endpointIndependent = "endpoint-independent"
    /// A new mapping for every destination address.
    case addressDependent = "address-dependent"
    /// A new mapping for every destination address and port: a symmetric NAT.
    case addressAndPortDependent = "address-and-port-dependent"
    case notTested = "not-tested"
}

/// Which outside senders a NAT lets through to a mapping (RFC 4787 §5, tested as RFC 5780 §4.4 says).
public enum NATFiltering: String, Sendable, Hashable, CaseIterable {
    /// Anyone may send to the mapping (full cone).
    case endpointIndependent = "endpoint-independent"
    /// Only addresses the host has sent to (restricted cone).
    case addressDependent = "address-dependent"
    /// Only the address and port the host has sent to (port-restricted cone).
    case addressAndPortDependent = "address-and-port-dependent"
    case notTested = "not-tested"
}

/// The usual one-word name of a NAT's behaviour, and what it means for a direct path.
public enum NATVerdict: String, Sendable, Hashable, CaseIterable {
    case fullCone = "full-cone"
    case restrictedCone = "restricted-cone"
    case portRestrictedCone = "port-restricted-cone"
    case symmetric
    case udpBlocked = "udp-blocked"
    case unknown

    /// From the RFC 5780 results. A mapping that depends on the destination is symmetric whatever the
    /// filtering; a cone needs the filtering to be told apart.
    public init(udp: Bool, mapping: NATMapping, filtering: NATFiltering, mappingVariesByDestination: Bool?) {
        guard udp else { self = .udpBlocked; return }
        switch (mapping, filtering) {
        case (.addressDependent, _), (.addressAndPortDependent, _): self = .symmetric
        case (.endpointIndependent, .endpointIndependent): self = .fullCone
        case (.endpointIndependent, .addressDependent): self = .restrictedCone
        case (.endpointIndependent, .addressAndPortDependent): self = .portRestrictedCone
        case (.notTested, _) where mappingVariesByDestination == true: self = .symmetric
        default: self = .unknown
        }
    }

    /// "full cone", "symmetric NAT", ... as a sentence would say it.
    public var words: String {
        switch self {
        case .fullCone: "full-cone NAT"
        case .restrictedCone: "restricted-cone NAT"
        case .portRestrictedCone: "port-restricted-cone NAT"
        case .symmetric: "symmetric NAT"
        case .udpBlocked: "network that blocks UDP"
        case .unknown: "NAT of unknown kind"
        }
    }

    /// What the verdict means for direct (peer-to-peer) connections.
    public var meaning: String {
        switch self {
        case .fullCone: "direct connections work with any peer that can send UDP"
        case .restrictedCone: "direct connections work with most peers (holes are punched per address)"
        case .portRestrictedCone: "direct connections work unless the peer is behind a symmetric NAT"
        case .symmetric: "direct connections work only with peers behind a full-cone or restricted-cone NAT (or a port forward); others need a relay"
        case .udpBlocked: "no direct connection and no UDP relay: only a relay over TCP or TLS can work"
        case .unknown: "not enough answers to tell; direct connections may or may not work"
        }
    }

    /// Whether two peers with these verdicts cannot hole-punch a direct path (without a port forward): the
    /// symmetric side's per-destination port is reachable only through a cone that filters no ports.
    public static func directPathImpossible(_ a: NATVerdict, _ b: NATVerdict) -> Bool {
        func hard(_ symmetric: NATVerdict, _ other: NATVerdict) -> Bool {
            symmetric == .symmetric && (other == .symmetric || other == .portRestrictedCone)
        }
        return hard(a, b) || hard(b, a)
    }
}
