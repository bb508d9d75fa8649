import STUN

/// What `icestat netcheck` (and the agent, in the background) found out about this host's network.
public struct NATCheckReport: Sendable, Hashable {
    /// One STUN server's basic Binding test (RFC 5780 §4.3 test I).
    public struct Server: Sendable, Hashable {
        /// As configured (`stun:HOST:PORT`).
        public var url: String
        public var address: TransportAddress
        /// Where the server saw us.
        public var mapped: TransportAddress?
        public var roundTrip: Duration?
        /// OTHER-ADDRESS: present when the server supports RFC 5780.
        public var otherAddress: TransportAddress?
        /// Why it gave no usable answer.
        public var error: String?

        public init(url: String, address: TransportAddress) {
            self.url = url
            self.address = address
        }
    }

    /// One TURN server: reached, credentials accepted, an allocation made and released.
    public struct TURNServer: Sendable, Hashable {
        public var url: String
        public var transport: String
        public var reachable: Bool
        public var credentialsAccepted: Bool?
        public var allocated: Bool
        public var released: Bool
        public var relayedAddress: TransportAddress?
        /// A Binding request to the server and its answer.
        public var roundTrip: Duration?
        /// From the first Allocate request to the allocation (the 401 challenge and the authenticated request).
        public var allocationTime: Duration?
        public var error: String?

        public init(url: String, transport: String) {
            self.url = url
            self.transport = transport
            reachable = false
            allocated = false
            released = false
        }
    }

    /// The mapping's lifetime, bracketed by the idle times tried (`--lifetime`).
    public struct Lifetime: Sendable, Hashable {
        /// The longest idle time after which the mapping still held.
        public var atLeast: Duration?
        /// The shortest idle time after which it was gone; nil if it outlived every wait.
        public var lessThan: Duration?
    }

    public var servers: [Server] = []
    public var turnServers: [TURNServer] = []
    /// Some STUN server answered over UDP.
    public var udp = false
    public var publicIPv4: IPAddress?
    public var publicIPv6: IPAddress?
    /// The mapped address is one of this host's own: no NAT in the way.
    public var behindNAT: Bool?
    public var mapping: NATMapping = .notTested
    public var filtering: NATFiltering = .notTested
    /// Whether two servers saw different mapped ports or addresses (Tailscale's test), when two answered.
    public var mappingVariesByDestination: Bool?
    /// The mapped port equals the local port.
    public var portPreserved: Bool?
    /// The server whose OTHER-ADDRESS drove the RFC 5780 tests.
    public var rfc5780Server: String?
    public var lifetime: Lifetime?
    /// The tests that could not be run, and why.
    public var notTested: [String] = []

    public init() {}

    public var verdict: NATVerdict {
        NATVerdict(udp: udp, mapping: mapping, filtering: filtering, mappingVariesByDestination: mappingVariesByDestination)
    }

    /// Whether anything answered at all (the command's exit status).
    public var anyAnswer: Bool { udp || turnServers.contains { $0.reachable } }
}
