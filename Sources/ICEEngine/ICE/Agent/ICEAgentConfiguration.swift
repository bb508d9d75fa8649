import STUN

/// Timers and limits of an ``ICEAgent``.
public struct ICEAgentConfiguration: Sendable {
    /// Which local addresses become host candidates.
    public var hostFilter: HostCandidateFilter = .default
    /// Remote addresses the agent may send to; others are ignored (tests and the demo allow loopback only).
    public var remoteAddressFilter: @Sendable (IPAddress) -> Bool = { _ in true }
    /// Ta: the pacing of ordinary and triggered checks (RFC 8445 §14.2).
    public var checkInterval: Duration = .milliseconds(50)
    /// When a check is sent again and when its pair fails; gathering's Binding requests keep the same
    /// waits with no count (the gathering timeout ends them).
    public var retransmission: STUNRetransmission = .connectivityCheck
    /// How long the controlling agent waits after the first valid pair for a better one before nominating.
    public var nominationDelay: Duration = .milliseconds(200)
    /// Mean interval of consent checks on the selected pair (RFC 7675: 5 s, randomised ±20 %).
    public var consentInterval: Duration = .seconds(5)
    /// Without a consent response for this long, the agent is Disconnected (NetBird: 6 s).
    public var disconnectedTimeout: Duration = .seconds(6)
    /// Without a consent response for this long, the agent is Failed (NetBird: 12 s in all).
    public var failedTimeout: Duration = .seconds(12)
    /// Checking for this long without a selected pair fails the agent.
    public var checkingTimeout: Duration = .seconds(25)
    /// Upper bound on candidate pairs (RFC 8445 §6.1.2.5).
    public var maxPairs = 100
    /// STUN servers for server-reflexive candidates (`stun:` URLs already resolved to addresses).
    public var stunServers: [TransportAddress] = []
    /// TURN servers for relayed candidates.
    public var turnServers: [TURNServer] = []
    /// Offer and use only relayed candidates (host sockets are not opened).
    public var relayOnly = false
    /// Before nominating a relayed pair, wait this long for a direct one to work (NetBird waits about 2 s).
    public var relayNominationDelay: Duration = .seconds(2)
    /// How long gathering may wait for STUN and TURN servers; a dead server costs at most this, never the connection.
    public var gatheringTimeout: Duration = .seconds(3)
    /// SOFTWARE attribute in requests, or nil to omit it.
    public var software: String? = nil
    /// Networks routed through the mesh itself (NetBird's `candidateViaRoutes`): a remote candidate inside one
    /// would be reached through the tunnel it is meant to carry, so it is ignored, and checks from such an
    /// address are not answered. Default routes (/0) are never used for this.
    public var routedNetworks: [IPNetwork] = []
    /// Binds the host candidates to this fixed port (for a router's port forward) instead of an ephemeral one.
    /// Set together with `portMux`, which owns the shared sockets.
    public var hostPort: Int?
    /// The shared sockets of a fixed `hostPort`, owned by the agent's creator; nil: one socket per session.
    public var portMux: UDPPortMux?
    /// Kernel send and receive buffer asked for each data socket (host sockets, TURN over UDP); 0 keeps the
    /// system's default.
    public var socketBufferBytes = UDPSocketTuning.defaultBufferBytes
    /// Where host candidates come from; nil: the machine's interfaces and real UDP sockets. Tests set an
    /// in-memory network here.
    package var hostNetwork: (any HostNetwork)?

    /// The routed network that contains `ip`, if any (skipping default routes).
    public func routedNetwork(containing ip: IPAddress) -> IPNetwork? {
        routedNetworks.first { !$0.isDefaultRoute && $0.contains(ip) }
    }

    public init() {}

    /// Settings for loopback use (the demo and tests): loopback candidates and peers only.
    public static func loopback() -> ICEAgentConfiguration {
        var c = ICEAgentConfiguration()
        c.hostFilter = .loopback()
        c.remoteAddressFilter = { $0.isLoopback }
        return c
    }
}

/// A TURN server, how to reach it, and its long-term credentials.
public struct TURNServer: Sendable, Hashable {
    public var address: TransportAddress
    public var username: String
    public var password: String
    public var transport: TURNTransport
    /// The host as written in the URL: the TLS server name (SNI and certificate check) unless it is an IP
    /// address, which the certificate must then name.
    public var host: String
    /// PEM file of the certificate authorities a TLS server's certificate must chain to; nil: the system's.
    public var caFile: String?

    public init(address: TransportAddress, username: String, password: String, transport: TURNTransport = .udp,
                host: String? = nil, caFile: String? = nil) {
        self.address = address
        self.username = username
        self.password = password
        self.transport = transport
        self.host = host ?? address.ip.description
        self.caFile = caFile
    }

    /// `turn:HOST:PORT` (UDP), `turn:HOST:PORT?transport=tcp` or `turns:HOST:PORT`, for status and logs.
    public var url: String {
        let hostPort = address.description
        switch transport {
        case .udp: return "turn:\(hostPort)"
        case .tcp: return "turn:\(hostPort)?transport=tcp"
        case .tls: return "turns:\(hostPort)"
        }
    }
}
