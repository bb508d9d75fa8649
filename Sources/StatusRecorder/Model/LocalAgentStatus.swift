/// The status of one server the agent uses (signal, STUN or TURN).
public struct ServerStatus: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable { case signal, stun, turn }
    public var kind: Kind
    public var address: String
    public var available: Bool
    public var error: String?

    public init(kind: Kind, address: String, available: Bool, error: String? = nil) {
        self.kind = kind
        self.address = address
        self.available = available
        self.error = error
    }
}

/// The local agent's own status.
public struct LocalAgentStatus: Sendable, Hashable {
    public var publicKey: String
    public var name: String
    public var startedAtMillis: Int64
    public var lazyConnections: Bool
    public var servers: [ServerStatus]
    /// Why the last config reload was refused (the agent runs on with the config it had), or nil.
    public var configError: String?
    /// The NAT verdict of the latest netcheck (nil until one has run, or with no STUN server).
    public var nat: NATStatus?

    public init(publicKey: String = "", name: String = "", startedAtMillis: Int64 = 0,
                lazyConnections: Bool = false, servers: [ServerStatus] = []) {
        self.publicKey = publicKey
        self.name = name
        self.startedAtMillis = startedAtMillis
        self.lazyConnections = lazyConnections
        self.servers = servers
    }

    /// The signal server, if one is configured.
    public var signal: ServerStatus? { servers.first { $0.kind == .signal } }
}
