/// What joins one signal node to others, so that an agent registered on one node reaches agents on any node.
///
/// Without one, a ``SignalServer`` is a single node in memory. With one (for example the PostgreSQL cluster of
/// `icestat signal --cluster`), the server tells it every local registration and departure, asks it where a key
/// that is not registered here is, and hands it sealed bodies for such keys. The backplane calls back through
/// the ``SignalLocalNode`` it is attached to. Bodies stay sealed end to end: a backplane sees routing keys and
/// ciphertext only.
public protocol SignalBackplane: AnyObject, Sendable {
    /// Called once, when the server starts, before any agent registers.
    func attach(_ node: any SignalLocalNode)
    /// `key` registered on this node (`online`), or its last connection here ended.
    func localPresenceChanged(_ key: [UInt8], online: Bool)
    /// Whether `key` is registered on another node, as far as this node knows.
    func isOnlineElsewhere(_ key: [UInt8]) -> Bool
    /// Passes a sealed body on to the node where `receiver` is registered.
    func forward(_ body: [UInt8], from sender: [UInt8], to receiver: [UInt8]) -> SignalForwardResult
    /// What the backplane reports about itself and the other nodes, for `icestat signal --status`.
    func status() async -> SignalClusterStatus
    /// Leaves the cluster: this node's agents are withdrawn at once rather than after the node timeout.
    func stop() async
}

/// The outcome of ``SignalBackplane/forward(_:from:to:)``.
public enum SignalForwardResult: Sendable, Hashable {
    /// On its way to the receiver's node.
    case forwarded
    /// The receiver is registered nowhere.
    case notOnline
    /// The receiver is elsewhere but the body cannot go there; the reason is told to the sender.
    case refused(String)
}

/// The side of a signal node that a ``SignalBackplane`` calls.
public protocol SignalLocalNode: AnyObject, Sendable {
    /// The keys registered on this node now.
    func registeredKeys() -> [[UInt8]]
    /// A sealed body from another node for `receiver`; false (counted and logged) when it is no longer here.
    @discardableResult
    func deliverFromCluster(_ body: [UInt8], from sender: [UInt8], to receiver: [UInt8]) -> Bool
    /// `key` came online on another node (replacing a connection of it here, as a reconnect does), or went
    /// away there. Watchers here are told, unless the key is still registered here.
    func remotePresenceChanged(_ key: [UInt8], online: Bool, node: String)
}

/// A backplane's report of itself, for `icestat signal --status`.
public struct SignalClusterStatus: Sendable, Hashable, Codable {
    /// One node of the cluster as the database sees it.
    public struct Node: Sendable, Hashable, Codable {
        public var id: String
        public var address: String
        public var peers: Int
        public var heartbeatAgeMillis: Int
        public init(id: String, address: String, peers: Int, heartbeatAgeMillis: Int) {
            self.id = id
            self.address = address
            self.peers = peers
            self.heartbeatAgeMillis = heartbeatAgeMillis
        }
    }

    public var nodeID: String
    /// "connected", or why the database is not usable now.
    public var database: String
    public var databaseAvailable: Bool
    /// Agents registered on other nodes, as this node knows them.
    public var peersElsewhere: Int
    public var nodes: [Node]
    /// Sealed bodies sent to other nodes, and the notifications that carried them.
    public var forwarded: Int
    public var notifications: Int
    /// Bodies that arrived from other nodes and were delivered here.
    public var receivedFromCluster: Int
    /// Bodies refused to their sender (database away, too big to cross nodes).
    public var refused: Int
    /// Bodies lost on the way, by reason.
    public var dropped: [String: Int]
    public var reconnects: Int
    public var deadNodesDeclared: Int

    public init(nodeID: String, database: String, databaseAvailable: Bool, peersElsewhere: Int, nodes: [Node],
                forwarded: Int, notifications: Int, receivedFromCluster: Int, refused: Int, dropped: [String: Int],
                reconnects: Int, deadNodesDeclared: Int) {
        self.nodeID = nodeID
        self.database = database
        self.databaseAvailable = databaseAvailable
        self.peersElsewhere = peersElsewhere
        self.nodes = nodes
        self.forwarded = forwarded
        self.notifications = notifications
        self.receivedFromCluster = receivedFromCluster
        self.refused = refused
        self.dropped = dropped
        self.reconnects = reconnects
        self.deadNodesDeclared = deadNodesDeclared
    }
}
