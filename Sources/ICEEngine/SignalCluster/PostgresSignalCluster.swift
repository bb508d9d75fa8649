import Logging
import NIOCore
import Synchronization
import Signal

/// Several `icestat signal` nodes sharing presence and routing through PostgreSQL (`--cluster URL`).
///
/// Each node keeps one database connection. It registers itself in `icestat_nodes` and refreshes its heartbeat;
/// it records its agents in `icestat_presence` and announces each arrival and departure on the shared
/// `icestat_presence` channel, which every node listens to, so each node knows where every agent is. A sealed
/// body for an agent on another node goes as a NOTIFY on that node's own channel, batched with others when busy.
/// The database sees keys, node ids and ciphertext, never a message's content.
///
/// Faults: a node whose heartbeat is older than the node timeout is declared dead by the first node that sees
/// it (its agents' presence is removed and every node tells their watchers they went offline). Without the
/// database a node keeps serving its own agents, refuses cross-node deliveries with the reason, reconnects
/// with backoff (0.5 s doubling to 5 s) and re-syncs presence when the database is back. Every message that
/// cannot be delivered is counted by reason and logged.
public final class PostgresSignalCluster: SignalBackplane, Sendable {
    /// How one node joins the cluster.
    public struct Configuration: Sendable {
        public var database: ClusterDatabaseURL
        /// This node's id (``ClusterNodeID``).
        public var nodeID: String
        /// The address agents reach this node at, recorded for operators.
        public var advertisedAddress: String
        /// A node whose heartbeat is older than this is dead.
        public var nodeTimeout: Duration = .seconds(10)
        /// How often this node refreshes its heartbeat and looks for dead nodes: a fifth of the node timeout.
        public var heartbeatInterval: Duration { max(nodeTimeout / 5, .milliseconds(100)) }

        public init(database: ClusterDatabaseURL, nodeID: String, advertisedAddress: String) {
            self.database = database
            self.nodeID = nodeID
            self.advertisedAddress = advertisedAddress
        }
    }

    struct State {
        weak var node: (any SignalLocalNode)?
        /// Where each agent registered on another node is: key → node id.
        var elsewhere: [[UInt8]: String] = [:]
        var available = false
        var databaseState = "connecting"
        /// When the current database session became usable; dead nodes are declared only after a full timeout.
        var usableSince: ContinuousClock.Instant?
        /// When the current session last completed a heartbeat round (or joined): the watchdog's reference.
        var lastHeartbeat: ContinuousClock.Instant?
        var pendingPresence: [[UInt8]: Bool] = [:]
        /// Presence notices heard while a join reads where the others are (nil outside a join): they may be newer
        /// than the rows it reads, so they are applied again on top of them.
        var joinJournal: [ClusterNotice]?
        var pendingMessages: [String: [String]] = [:]
        var wake: AsyncStream<Void>.Continuation?
        var nodes: [SignalClusterStatus.Node] = []
        var forwarded = 0, notifications = 0, received = 0, refused = 0, reconnects = 0, deadDeclared = 0
        var dropped: [String: Int] = [:]
        var stopped = false
        var task: Task<Void, Never>?
    }

    public let configuration: Configuration
    let state = Mutex(State())
    let logger: Logger
    let eventLoop: EventLoop

    public init(configuration: Configuration, eventLoop: EventLoop, logger: Logger = Logger(label: "icestat.signal.cluster")) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.logger = logger
    }

    var nodeID: String { configuration.nodeID }

    // MARK: SignalBackplane

    public func attach(_ node: any SignalLocalNode) {
        let task = Task { await self.run() }
        state.withLock {
            $0.node = node
            $0.task = task
        }
    }

    public func localPresenceChanged(_ key: [UInt8], online: Bool) {
        let wake = state.withLock { s -> AsyncStream<Void>.Continuation? in
            s.pendingPresence[key] = online
            // Here now, so no longer where another node had it (that node's death must not withdraw it).
            if online { s.elsewhere[key] = nil }
            return s.wake
        }
        wake?.yield()
    }

    public func isOnlineElsewhere(_ key: [UInt8]) -> Bool {
        state.withLock { $0.elsewhere[key] != nil }
    }

    public func forward(_ body: [UInt8], from sender: [UInt8], to receiver: [UInt8]) -> SignalForwardResult {
        let line = ClusterNotice.message(from: sender, to: receiver, body: body).line
        let result = state.withLock { s -> (SignalForwardResult, AsyncStream<Void>.Continuation?) in
            guard let node = s.elsewhere[receiver] else { return (.notOnline, nil) }
            guard s.available, let wake = s.wake else {
                s.refused += 1
                return (.refused("the cluster database is unavailable (\(s.databaseState)); messages to agents on other nodes are refused until it is back"), nil)
            }
            guard line.utf8.count <= ClusterNotice.payloadLimit else {
                s.refused += 1
                return (.refused("a sealed message of \(body.count) bytes is too big to cross nodes (PostgreSQL NOTIFY carries at most 8000 bytes)"), nil)
            }
            s.pendingMessages[node, default: []].append(line)
            s.forwarded += 1
            return (.forwarded, wake)
        }
        result.1?.yield()
        return result.0
    }

    public func status() async -> SignalClusterStatus {
        state.withLock { s in
            SignalClusterStatus(
                nodeID: nodeID, database: s.available ? "connected to \(configuration.database)" : s.databaseState,
                databaseAvailable: s.available, peersElsewhere: s.elsewhere.count, nodes: s.nodes,
                forwarded: s.forwarded, notifications: s.notifications, receivedFromCluster: s.received,
                refused: s.refused, dropped: s.dropped, reconnects: s.reconnects, deadNodesDeclared: s.deadDeclared)
        }
    }

    public func stop() async {
        let (task, wake) = state.withLock { s -> (Task<Void, Never>?, AsyncStream<Void>.Continuation?) in
            s.stopped = true
            return (s.task, s.wake)
        }
        wake?.finish()
        task?.cancel()
        await task?.value
    }

    // MARK: Notices from other nodes

    /// A payload on this node's own channel: sealed bodies for agents here.
    func handleMessages(_ payload: String) {
        let (notices, skipped) = ClusterNotice.parse(payload)
        if skipped > 0 { drop(skipped, "malformed line from another node") }
        guard let node = state.withLock({ $0.node }) else { return }
        for case .message(let from, let to, let body) in notices {
            if node.deliverFromCluster(body, from: from, to: to) {
                state.withLock { $0.received += 1 }
            } else {
                drop(1, "receiver no longer on this node")
            }
        }
    }

    /// A payload on the presence channel.
    func handlePresence(_ payload: String) -> Bool {
        var resync = false
        for notice in ClusterNotice.parse(payload).notices {
            switch notice {
            case .online(let node, let key) where node != nodeID:
                state.withLock { s in
                    s.joinJournal?.append(notice)
                    Self.apply(notice, to: &s.elsewhere)
                }
                state.withLock { $0.node }?.remotePresenceChanged(key, online: true, node: node)
            case .offline(let node, let key) where node != nodeID:
                let gone = state.withLock { s -> Bool in
                    s.joinJournal?.append(notice)
                    let here = s.elsewhere[key] == node
                    Self.apply(notice, to: &s.elsewhere)
                    return here
                }
                if gone { state.withLock { $0.node }?.remotePresenceChanged(key, online: false, node: node) }
            case .dead(let node) where node == nodeID:
                logger.warning("cluster: this node was declared dead by another (missed heartbeats); registering again")
                resync = true
            case .dead(let node):
                // Journaled before it is applied: a join that ends in between replays it, and applying it twice
                // changes nothing.
                state.withLock { $0.joinJournal?.append(notice) }
                nodeGone(node)
            default:
                break
            }
        }
        return resync
    }

    /// Withdraws every agent of a dead node and tells watchers here.
    func nodeGone(_ node: String) {
        let (keys, known) = state.withLock { s -> ([[UInt8]], Bool) in
            let keys = s.elsewhere.filter { $0.value == node }.map(\.key)
            for key in keys { s.elsewhere[key] = nil }
            let known = s.nodes.contains { $0.id == node }
            s.nodes.removeAll { $0.id == node }
            return (keys, known)
        }
        // The node that declared it dead also hears its own notice: said once.
        guard known || !keys.isEmpty else { return }
        logger.warning("cluster: node \(node) is gone; its \(keys.count) agent(s) are offline until they register elsewhere")
        let local = state.withLock { $0.node }
        for key in keys { local?.remotePresenceChanged(key, online: false, node: node) }
    }

    /// Starts a join: presence notices are journaled from here until ``replaceElsewhere(with:)``.
    func beginJoin() {
        state.withLock { $0.joinJournal = [] }
    }

    /// Replaces the whole map of agents elsewhere with the rows a join read, and the notices heard since it began
    /// on top of them, then tells watchers of every difference. Without the notices, an agent that another node
    /// announced while the rows were read (a node re-joining at the same moment) would be taken back offline.
    func replaceElsewhere(with rows: [[UInt8]: String]) {
        let (old, fresh) = state.withLock { s -> ([[UInt8]: String], [[UInt8]: String]) in
            var fresh = rows
            for notice in s.joinJournal ?? [] { Self.apply(notice, to: &fresh) }
            s.joinJournal = nil
            defer { s.elsewhere = fresh }
            return (s.elsewhere, fresh)
        }
        let local = state.withLock { $0.node }
        for (key, node) in old where fresh[key] == nil { local?.remotePresenceChanged(key, online: false, node: node) }
        for (key, node) in fresh where old[key] != node { local?.remotePresenceChanged(key, online: true, node: node) }
    }

    /// A presence notice's effect on a map of agents elsewhere.
    static func apply(_ notice: ClusterNotice, to elsewhere: inout [[UInt8]: String]) {
        switch notice {
        case .online(let node, let key): elsewhere[key] = node
        case .offline(let node, let key): if elsewhere[key] == node { elsewhere[key] = nil }
        case .dead(let node): elsewhere = elsewhere.filter { $0.value != node }
        case .message: break
        }
    }

    func drop(_ count: Int, _ reason: String) {
        state.withLock { $0.dropped[reason, default: 0] += count }
        logger.warning("cluster: dropped \(count) message(s): \(reason)")
    }
}
