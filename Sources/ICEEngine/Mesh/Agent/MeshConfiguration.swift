import NIOCore
import STUN
import ICE
import Signal

/// One remote peer of a mesh agent.
public struct MeshPeerConfiguration: Sendable {
    public var name: String
    /// The remote's public key, base64.
    public var publicKey: String
    /// Local applications send datagrams for this peer to `listenHost:localPort`.
    public var localPort: Int
    /// Where datagrams from the remote are delivered when no local application has sent from an address yet
    /// (for example a WireGuard listen port), or nil to deliver only to the last local sender.
    public var service: SocketAddress?

    public init(name: String, publicKey: String, localPort: Int, service: SocketAddress?) {
        self.name = name
        self.publicKey = publicKey
        self.localPort = localPort
        self.service = service
    }
}

/// Everything a ``MeshAgent`` needs.
public struct MeshConfiguration: Sendable {
    public var key: PeerKey
    public var name: String
    /// The signal servers (nodes of one cluster), tried in this order; the first is where the agent starts.
    public var signalServers: [(host: String, port: Int)]
    /// The first signal server.
    public var signalHost: String { signalServers[0].host }
    public var signalPort: Int { signalServers[0].port }
    public var ice: ICEAgentConfiguration
    /// Lazy connections: peers stay Idle until traffic (or the remote's offer) arrives.
    public var lazy: Bool
    /// A lazy peer with no traffic for this long goes Idle (NetBird: 15 min).
    public var inactivityThreshold: Duration
    /// Where the peers' local ports listen (loopback by default).
    public var listenHost: String
    public var peers: [MeshPeerConfiguration]
    /// Datagrams kept per peer while its connection is being made; older ones are dropped beyond this.
    public var pendingLimit = 256
    /// How often the host addresses are checked for a change (NetBird's network monitor).
    public var networkCheckInterval: Duration = .seconds(5)
    /// A fixed UDP port for every host candidate (`ice.port`), shared by all sessions; nil: ephemeral ports.
    public var icePort: Int?

    public init(key: PeerKey, name: String, signalHost: String, signalPort: Int, ice: ICEAgentConfiguration,
                lazy: Bool, inactivityThreshold: Duration, listenHost: String = "127.0.0.1",
                peers: [MeshPeerConfiguration]) {
        self.key = key
        self.name = name
        self.signalServers = [(signalHost, signalPort)]
        self.ice = ice
        self.lazy = lazy
        self.inactivityThreshold = inactivityThreshold
        self.listenHost = listenHost
        self.peers = peers
    }
}
