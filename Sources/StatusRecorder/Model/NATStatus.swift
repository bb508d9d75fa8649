/// What the agent's netcheck found about its own network (RFC 5780 terms, as `icestat netcheck --json` words them).
public struct NATStatus: Sendable, Hashable {
    /// `full-cone`, `restricted-cone`, `port-restricted-cone`, `symmetric`, `udp-blocked` or `unknown`.
    public var verdict: String
    /// `endpoint-independent`, `address-dependent`, `address-and-port-dependent` or `not-tested`.
    public var mapping: String
    public var filtering: String
    public var publicIPv4: String?
    public var publicIPv6: String?
    /// When the check finished.
    public var checkedAtMillis: Int64

    public init(verdict: String, mapping: String, filtering: String, publicIPv4: String? = nil, publicIPv6: String? = nil,
                checkedAtMillis: Int64) {
        self.verdict = verdict
        self.mapping = mapping
        self.filtering = filtering
        self.publicIPv4 = publicIPv4
        self.publicIPv6 = publicIPv6
        self.checkedAtMillis = checkedAtMillis
    }

    /// "full cone", "port-restricted cone", "symmetric", "UDP blocked", "unknown".
    public var verdictWords: String {
        switch verdict {
        case "full-cone": "full cone"
        case "restricted-cone": "restricted cone"
        case "port-restricted-cone": "port-restricted cone"
        case "udp-blocked": "UDP blocked"
        default: verdict
        }
    }
}
